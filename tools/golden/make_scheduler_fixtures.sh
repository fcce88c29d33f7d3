#!/usr/bin/env bash
# Regenerate tests/fixtures/scheduler/*.json from the real diffusers FlowMatchEulerDiscreteScheduler.
# Uses the pinned environment of make_dit_fixtures.sh: $GOLDEN_VENV if set, else tools/golden/.venv
# (created from requirements.txt if missing).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${GOLDEN_VENV:-$HERE/.venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt"
fi
exec "$VENV/bin/python" "$HERE/make_scheduler_fixtures.py" "$@"
