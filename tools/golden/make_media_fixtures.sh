#!/usr/bin/env bash
# Regenerates hyv-media's OpenCV reference data (see make_media_fixtures.py), in the
# pinned environment of venv.sh with media_requirements.txt (same numpy pin).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
golden_run media_requirements.txt -- make_media_fixtures.py "$@"
