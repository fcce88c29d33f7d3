#!/usr/bin/env bash
# Regenerate tests/fixtures/vae/* from the real diffusers AutoencoderKLHunyuanVideo.
# Creates tools/golden/.venv (pinned requirements) if missing, then runs the generator.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt"
exec "$VENV/bin/python" "$HERE/make_vae_fixtures.py" "$@"
