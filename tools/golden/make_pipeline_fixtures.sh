#!/usr/bin/env bash
# Regenerate tests/fixtures/pipeline/tiny/ (the whole-pipeline parity fixture and the demo
# model folder) from the real diffusers HunyuanVideoPipeline (text-encoder requirements
# include requirements.txt).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
golden_run text_encoder_requirements.txt -- make_pipeline_fixtures.py "$@"
