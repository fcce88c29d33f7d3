#!/usr/bin/env bash
# Regenerate tests/fixtures/text_encoders/tiny/ from the real transformers LlamaModel and
# CLIPTextModel (tiny models and tokenizers built offline by tiny_text_models.py).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
golden_run text_encoder_requirements.txt -- make_text_encoder_fixtures.py "$@"
