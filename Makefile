# hyv — the two entry points on a fresh Debian machine:
#   make demo   builds hyv and runs the main job
#   make test   builds and runs every test, plus format and lint checks
# Both install what they need first (`make deps`).

CARGO      ?= cargo
HYV        := target/release/hyv
OUT        ?= out
RUST_MIN   := 1.95

# Debian packages: a C toolchain, clang for bindgen (ffmpeg-sys-next), and FFmpeg's
# libraries and command-line tools (video I/O; the tests make clips with ffmpeg and count
# frames with ffprobe), and python3-venv for the NVRTC venv of the CUDA PTX tests.
FFMPEG_LIBS  := libavcodec libavformat libavutil libswscale libswresample libavfilter libavdevice
APT_PACKAGES := build-essential pkg-config clang libclang-dev python3-venv ffmpeg libavcodec-dev \
  libavformat-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev libavdevice-dev

.PHONY: deps build demo test fmt-check lint unit clean-out

# System packages the build needs. Rust itself must be rustup's $(RUST_MIN) or newer:
# Debian's packaged rustc is too old for the pinned crates.
deps:
	@command -v $(CARGO) >/dev/null || { echo "hyv: cargo not found; install Rust $(RUST_MIN)+ with rustup"; exit 1; }
	@$(CARGO) --version
	@if ! command -v cc >/dev/null || ! command -v clang >/dev/null || ! command -v ffmpeg >/dev/null \
	    || ! python3 -c 'import venv, ensurepip' 2>/dev/null \
	    || ! command -v ffprobe >/dev/null || ! pkg-config --exists $(FFMPEG_LIBS) 2>/dev/null; then \
	  echo "installing $(APT_PACKAGES)"; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $(APT_PACKAGES); \
	fi

build: deps
	$(CARGO) build --release --locked

# The main job until sampling lands: the example models in eager and graph mode, the
# eager-vs-graph comparison, numbered per-pass graph dumps and the dump formats, the 13B
# DiT's statistics (traced without weights), a DiT forward on the shipped fixture, and the
# VAE path on the CPU backend: a test clip made with ffmpeg, reconstructed (untiled and
# tiled) with the small diffusers-fixture VAE (random weights: the plumbing is real, the
# picture is not), scored with PSNR/SSIM, its latents cached, and the released VAE's
# planned memory with and without tiling.
VAE_FIXTURE := tests/fixtures/vae/small_untiled
# The demo's text-to-video model: the tiny pipeline fixture (a diffusers-layout folder with
# random weights, made by tools/golden/make_pipeline_fixtures.sh), so no download is needed.
DEMO_MODEL := tests/fixtures/pipeline/tiny/model
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
	@mkdir -p $(OUT)/videos
	ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=96x64:rate=24 -frames:v 20 \
	  -c:v libx264 -pix_fmt yuv420p $(OUT)/videos/testsrc2.mp4
	$(HYV) vae reconstruct --video-path $(OUT)/videos/testsrc2.mp4 --rec-path $(OUT)/rec/testsrc2.mp4 \
	  --height 64 --width 64 --num-frames 17 --vae $(VAE_FIXTURE) --backend cpu
	$(HYV) vae reconstruct --video-path $(OUT)/videos/testsrc2.mp4 --rec-path $(OUT)/rec-tiled/testsrc2.mp4 \
	  --height 64 --width 64 --num-frames 17 --vae $(VAE_FIXTURE) --backend cpu --tiling --tile-size 32 \
	  --tile-stride 24 --tile-frames 8 --tile-frame-stride 4
	ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
	  -of csv=p=0 $(OUT)/rec/testsrc2.mp4
	$(HYV) eval --real-dir $(OUT)/videos --gen-dir $(OUT)/rec --metric psnr,ssim --height 64 --width 64
	$(HYV) vae cache --input-video-dir $(OUT)/videos --latent-cache-dir $(OUT)/latents \
	  --height 64 --width 64 --vae $(VAE_FIXTURE) --backend cpu
	$(HYV) text-encode --model-dir $(DEMO_MODEL) --prompt "a cat walks on the grass" \
	  --output-path $(OUT)/text-embeds
	$(HYV) sample --model-dir $(DEMO_MODEL) --prompt "a cat walks on the grass" \
	  --height 64 --width 96 --video-length 17 --infer-steps 6 --seed 42 --flow-shift 5 \
	  --enable-teacache --teacache-thresh 0.2 --save-latents --save-path $(OUT)/samples
	$(HYV) sample --model-dir $(DEMO_MODEL) --text-embed-path \
	  $(OUT)/text-embeds/a-cat-walks-on-the-grass.safetensors \
	  --height 64 --width 96 --video-length 17 --infer-steps 6 --seed 42 --flow-shift 5 \
	  --mode eager --save-path $(OUT)/samples-eager
	ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
	  -of csv=p=0 $(OUT)/samples/*.mp4
	$(HYV) dump --component vae-decode --model hunyuan-video --height 720 --width 1280 --frames 129 --stats
	$(HYV) dump --component vae-decode --model hunyuan-video --height 720 --width 1280 --frames 129 --stats --tiling
	@echo "graph dumps written under $(OUT)/graphs; DOT and RON dumps in $(OUT)/; videos in $(OUT)/rec* and $(OUT)/samples*"

fmt-check: deps
	$(CARGO) fmt --all -- --check

lint: deps
	$(CARGO) clippy --release --locked --workspace --all-targets -- -D warnings

# The CUDA backend's PTX tests need NVRTC: tools/cuda/nvrtc.sh installs it from PyPI into
# a venv under target/ (python3-venv, see APT_PACKAGES) and prints its library folder;
# HYV_REQUIRE_NVRTC=1 turns a missing NVRTC into a test failure instead of a skip.
unit: deps
	NVRTC_LIB="$$(tools/cuda/nvrtc.sh)" && \
	  LD_LIBRARY_PATH="$$NVRTC_LIB$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH}" HYV_REQUIRE_NVRTC=1 \
	  $(CARGO) test --release --locked --workspace

test: fmt-check lint unit
