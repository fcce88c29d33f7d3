#!/usr/bin/env bash
# Regenerate tests/fixtures/scheduler/*.json from the real diffusers
# FlowMatchEulerDiscreteScheduler (pinned environment: see venv.sh; GOLDEN_VENV reuses another).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
golden_run requirements.txt -- make_scheduler_fixtures.py "$@"
