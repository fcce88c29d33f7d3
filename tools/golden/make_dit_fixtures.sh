#!/usr/bin/env bash
# Regenerate tests/fixtures/dit/* from the real diffusers HunyuanVideoTransformer3DModel
# (pinned environment: see venv.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
golden_run requirements.txt -- make_dit_fixtures.py "$@"
