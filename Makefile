# hyv — the two entry points on a fresh Debian machine:
#   make demo   builds hyv and runs the main job
#   make test   builds and runs every test, plus format and lint checks
# Both install what they need first (`make deps`).

CARGO      ?= cargo
HYV        := target/release/hyv
OUT        ?= out
RUST_MIN   := 1.95

.PHONY: deps build demo test fmt-check lint unit clean-out

# System packages the build needs. Rust itself must be rustup's $(RUST_MIN) or newer:
# Debian's packaged rustc is too old for the pinned crates.
deps:
	@command -v $(CARGO) >/dev/null || { echo "hyv: cargo not found; install Rust $(RUST_MIN)+ with rustup"; exit 1; }
	@$(CARGO) --version
	@if ! command -v cc >/dev/null || ! command -v pkg-config >/dev/null; then \
	  echo "installing build-essential and pkg-config"; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends build-essential pkg-config; \
	fi

build: deps
	$(CARGO) build --release --locked

# The main job until sampling lands: the example models in eager and graph mode, the
# eager-vs-graph comparison, numbered per-pass graph dumps and the dump formats, the 13B
# DiT's statistics (traced without weights) and a DiT forward on the shipped fixture.
demo: build
	@mkdir -p $(OUT)
	$(HYV) --version
	$(HYV) run --example mlp --mode both --dump-graphs $(OUT)/graphs/mlp
	$(HYV) run --example attention --mode both --passes --dump-graphs $(OUT)/graphs/attention
	$(HYV) run --example attention --mode both --passes --backend reference-primitives --dump-graphs $(OUT)/graphs/attention-primitives
	$(HYV) dump --example attention --stats
	$(HYV) dump --example mlp --format dot --out $(OUT)/mlp.dot
	$(HYV) dump --example mlp --format ron --out $(OUT)/mlp.ron
	$(HYV) dump --model hunyuan-video-13b --height 544 --width 960 --frames 129 --stats
	$(HYV) forward --component transformer --weights tests/fixtures/dit/guided_padded \
	  --inputs tests/fixtures/dit/guided_padded/inputs.safetensors \
	  --out $(OUT)/dit_sample.safetensors --mode graph --dump-graphs $(OUT)/graphs/dit
	@echo "graph dumps written under $(OUT)/graphs; DOT and RON dumps in $(OUT)/"

fmt-check: deps
	$(CARGO) fmt --all -- --check

lint: deps
	$(CARGO) clippy --release --locked --workspace --all-targets -- -D warnings

unit: deps
	$(CARGO) test --release --locked --workspace

test: fmt-check lint unit
