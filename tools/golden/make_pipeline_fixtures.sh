#!/usr/bin/env bash
# Regenerate tests/fixtures/pipeline/tiny/ (the whole-pipeline parity fixture and the demo
# model folder) from the real diffusers HunyuanVideoPipeline. Creates tools/golden/.venv
# (pinned requirements, including transformers for the text encoders) if missing.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt" \
    -r "$HERE/text_encoder_requirements.txt"
exec "$VENV/bin/python" "$HERE/make_pipeline_fixtures.py" "$@"
