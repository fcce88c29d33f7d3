#!/usr/bin/env bash
# Regenerates hyv-media's OpenCV reference data (see make_media_fixtures.py). Uses the
# git-ignored tools/golden/.venv shared with make_dit_fixtures.sh (same numpy pin) and
# installs media_requirements.txt into it.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/media_requirements.txt"
exec "$VENV/bin/python" "$HERE/make_media_fixtures.py" "$@"
