#!/usr/bin/env bash
# Regenerate tests/fixtures/text_encoders/tiny/ from the real transformers LlamaModel and
# CLIPTextModel (tiny models and tokenizers built offline by tiny_text_models.py).
# Creates tools/golden/.venv (pinned requirements) if missing, then runs the generator.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/text_encoder_requirements.txt"
exec "$VENV/bin/python" "$HERE/make_text_encoder_fixtures.py" "$@"
