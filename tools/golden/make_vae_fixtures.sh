#!/usr/bin/env bash
# Regenerate tests/fixtures/vae/* from the real diffusers AutoencoderKLHunyuanVideo
# (pinned environment: see venv.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
golden_run requirements.txt -- make_vae_fixtures.py "$@"
