#!/usr/bin/env python3
"""Time the HunyuanVideo DiT (or one of its blocks) in PyTorch on the CPU, with the same
configuration, shapes, warm-up and iterations as `hyv bench`, using diffusers'
implementation: `HunyuanVideoTransformer3DModel` for a whole preset, or with `--block`
one `HunyuanVideoTransformerBlock` (double) / `HunyuanVideoSingleTransformerBlock` (single).

The presets and the default inputs mirror hyv's (models/src/hunyuan_video/config.rs), and
the block inputs are what the model hands its blocks: hidden_states [B, N, D],
encoder_hidden_states [B, L, D], temb [B, D] and the rotary tables [N, head_dim], with no
attention mask (every key valid), as `hyv bench --block` feeds them.

Columns as in `hyv bench`: `ops` and `launches` are the aten ops one forward dispatches
(eager PyTorch runs one kernel per aten op); GFLOP/s uses `--flops` when given (the
compare script passes hyv's count, so both sides divide the same work) and otherwise
torch's FlopCounterMode count, which is printed either way as a cross-check.

Usage:
  python benches/torch/bench_dit_cpu.py --model small --threads 2 --iters 5 [--json out.json]
  python benches/torch/bench_dit_cpu.py --model small --block double --threads 2
Environment: benches/torch/requirements.txt (torch 2.15.0, diffusers 0.42.1).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import torch
import diffusers
from diffusers import HunyuanVideoTransformer3DModel
from diffusers.models.transformers.transformer_hunyuan_video import (
    HunyuanVideoRotaryPosEmbed,
    HunyuanVideoSingleTransformerBlock,
    HunyuanVideoTransformerBlock,
)
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

# The released 13B config (diffusers' defaults), as TransformerConfig::default in hyv.
BASE = dict(
    in_channels=16,
    out_channels=16,
    num_attention_heads=24,
    attention_head_dim=128,
    num_layers=20,
    num_single_layers=40,
    num_refiner_layers=2,
    mlp_ratio=4.0,
    patch_size=2,
    patch_size_t=1,
    qk_norm="rms_norm",
    guidance_embeds=True,
    text_embed_dim=4096,
    pooled_projection_dim=768,
    rope_theta=256.0,
    rope_axes_dim=(16, 56, 56),
)

# TransformerConfig::preset and ::preset_input: config overrides, latent (F, H, W), text tokens.
PRESETS = {
    "hunyuan-video-13b": ({}, (33, 68, 120), 256),
    "tiny": (
        dict(
            in_channels=4,
            out_channels=4,
            num_attention_heads=2,
            attention_head_dim=10,
            num_layers=1,
            num_single_layers=1,
            num_refiner_layers=1,
            patch_size=1,
            patch_size_t=1,
            text_embed_dim=16,
            pooled_projection_dim=8,
            rope_axes_dim=(2, 4, 4),
        ),
        (1, 16, 16),
        12,
    ),
    "small": (
        dict(
            num_attention_heads=8,
            attention_head_dim=64,
            num_layers=2,
            num_single_layers=4,
            num_refiner_layers=2,
            text_embed_dim=512,
            pooled_projection_dim=256,
            rope_axes_dim=(16, 24, 24),
        ),
        (5, 32, 32),
        64,
    ),
}

DTYPES = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="small", help="DiT preset: " + ", ".join(PRESETS))
    p.add_argument("--block", choices=["double", "single"], help="time one block instead")
    p.add_argument("--height", type=int, help="video height in pixels (multiple of 16)")
    p.add_argument("--width", type=int, help="video width in pixels (multiple of 16)")
    p.add_argument("--frames", type=int, help="video frames (4k+1)")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--text-len", type=int, help="text tokens (default: the preset's)")
    p.add_argument("--dtype", choices=list(DTYPES), default="f32")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch.set_num_threads")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--flops", type=int, help="FLOPs per forward for GFLOP/s (default: torch's count)")
    p.add_argument("--json", help="also write the results as JSON to this file")
    args = p.parse_args()
    if args.model not in PRESETS:
        p.error(f"unknown model `{args.model}` (DiT presets: {', '.join(PRESETS)})")
    if (args.height is None) != (args.width is None):
        p.error("--height and --width go together")
    if args.iters < 1:
        p.error("--iters must be at least 1")
    return args


def latent_size(args, preset_latent):
    f, h, w = preset_latent
    if args.height is not None:
        if args.height % 16 or args.width % 16 or args.height <= 0 or args.width <= 0:
            sys.exit(f"--height {args.height} and --width {args.width} must be positive multiples of 16")
        h, w = args.height // 8, args.width // 8
    if args.frames is not None:
        if args.frames <= 0 or (args.frames - 1) % 4:
            sys.exit(f"--frames {args.frames} must be 4k+1")
        f = (args.frames - 1) // 4 + 1
    return f, h, w


def workload(args):
    """The module, its keyword inputs and a description."""
    overrides, preset_latent, preset_text = PRESETS[args.model]
    cfg = dict(BASE, **overrides)
    f, h, w = latent_size(args, preset_latent)
    text_len = args.text_len or preset_text
    b, dtype = args.batch, DTYPES[args.dtype]
    video = f"video {h * 8}×{w * 8}×{(f - 1) * 4 + 1} (latent {f}×{h}×{w}), batch {b}, {text_len} text tokens"
    g = torch.Generator().manual_seed(args.seed)

    def randn(*shape):
        return torch.randn(*shape, generator=g).to(dtype)

    heads, head_dim = cfg["num_attention_heads"], cfg["attention_head_dim"]
    if args.block is None:
        model = HunyuanVideoTransformer3DModel(**cfg)
        inputs = dict(
            hidden_states=randn(b, cfg["in_channels"], f, h, w),
            timestep=torch.full((b,), 500.0),
            encoder_hidden_states=randn(b, text_len, cfg["text_embed_dim"]),
            encoder_attention_mask=torch.ones(b, text_len),
            pooled_projections=randn(b, cfg["pooled_projection_dim"]),
        )
        if cfg["guidance_embeds"]:
            inputs["guidance"] = torch.full((b,), 6000.0)
        what = f"{args.model} transformer (diffusers HunyuanVideoTransformer3DModel), {video}"
    else:
        d = heads * head_dim
        p, pt = cfg["patch_size"], cfg["patch_size_t"]
        n = (f // pt) * (h // p) * (w // p)
        rope = HunyuanVideoRotaryPosEmbed(p, pt, list(cfg["rope_axes_dim"]), cfg["rope_theta"])
        cos, sin = rope(torch.zeros(b, cfg["in_channels"], f, h, w))
        assert cos.shape == (n, head_dim), cos.shape
        inputs = dict(
            hidden_states=randn(b, n, d),
            encoder_hidden_states=randn(b, text_len, d),
            temb=randn(b, d),
        )
        if args.block == "double":
            model = HunyuanVideoTransformerBlock(heads, head_dim, cfg["mlp_ratio"], cfg["qk_norm"])
            inputs["freqs_cis"] = (cos, sin)
            cls = "HunyuanVideoTransformerBlock"
        else:
            model = HunyuanVideoSingleTransformerBlock(heads, head_dim, cfg["mlp_ratio"], cfg["qk_norm"])
            inputs["image_rotary_emb"] = (cos, sin)
            cls = "HunyuanVideoSingleTransformerBlock"
        inputs["attention_mask"] = None
        what = f"{args.model} {args.block}-stream block (diffusers {cls}), {video}"
    # Random weights: every parameter drawn (PyTorch leaves some at zero or one).
    with torch.no_grad():
        for prm in model.parameters():
            prm.copy_(torch.randn(prm.shape, generator=g) * 0.02)
    if dtype != torch.float32:
        model = model.to(dtype)
    return model.eval(), inputs, what


def describe(name, value):
    """(name, dtype, shape) of an input, the rotary tables named as hyv names them."""
    if isinstance(value, tuple):
        return [describe(n, v)[0] for n, v in zip(("rope_cos", "rope_sin"), value)]
    if value is None:
        return []
    dt = {v: k for k, v in DTYPES.items()}.get(value.dtype, str(value.dtype))
    return [(name, dt, list(value.shape))]


class CountOps(TorchDispatchMode):
    """Counts the aten ops dispatched (one kernel each in eager PyTorch)."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += 1
        return func(*args, **(kwargs or {}))


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    model, inputs, what = workload(args)
    print(f"torch bench: {what} ({args.dtype})")
    shapes = [s for n, v in inputs.items() for s in describe(n, v)]
    for name, dt, shape in shapes:
        print(f"  input {name}: {dt}[{','.join(map(str, shape))}]")

    def forward():
        return model(**inputs)

    with torch.inference_mode():
        counter = FlopCounterMode(display=False)
        with counter:
            forward()
        torch_flops = counter.get_total_flops()
        ops = CountOps()
        with ops:
            forward()
        flops = args.flops if args.flops is not None else torch_flops
        print(
            f"  {flops / 1e9:.3f} GFLOP per forward (torch FlopCounterMode: {torch_flops / 1e9:.3f}),"
            f" {ops.count} aten ops"
        )
        params = sum(p.numel() for p in model.parameters())
        print(f"  {params} parameters, warm-up {args.warmup}, {args.iters} timed iterations")
        for _ in range(args.warmup):
            forward()
        times = []
        for _ in range(args.iters):
            start = time.perf_counter()
            forward()
            times.append((time.perf_counter() - start) * 1e3)

    median = statistics.median(times)
    row = dict(
        backend=f"torch {torch.__version__.split('+')[0]}",
        mode="eager",
        dtype=args.dtype,
        threads=torch.get_num_threads(),
        ops=ops.count,
        launches=ops.count,
        median_ms=median,
        min_ms=min(times),
        max_ms=max(times),
        gflops=flops / (median * 1e6),
        peak_mib=None,
        ratio=1.0,
        times_ms=times,
    )
    print(
        f"{'backend':<20} {'mode':<5} {'dtype':<5} {'threads':>7} {'ops':>6} {'launches':>8}"
        f" {'median ms':>10} {'min ms':>10} {'max ms':>10} {'GFLOP/s':>8} {'peak MiB':>8} {'ratio':>6}"
    )
    print(
        f"{row['backend']:<20} {row['mode']:<5} {row['dtype']:<5} {row['threads']:>7} {row['ops']:>6}"
        f" {row['launches']:>8} {median:>10.2f} {row['min_ms']:>10.2f} {row['max_ms']:>10.2f}"
        f" {row['gflops']:>8.2f} {'-':>8} {1.0:>6.2f}"
    )
    if args.json:
        report = dict(
            tool="torch",
            torch=torch.__version__,
            diffusers=diffusers.__version__,
            model=args.model,
            block=args.block,
            workload=what,
            dtype=args.dtype,
            warmup=args.warmup,
            iters=args.iters,
            seed=args.seed,
            flops=flops,
            torch_flops=torch_flops,
            inputs=[dict(name=n, dtype=dt, shape=s) for n, dt, s in shapes],
            rows=[row],
        )
        # Atomically, like hyv: a temporary file in the same folder, then a rename.
        folder = os.path.dirname(os.path.abspath(args.json))
        with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp") as tmp:
            json.dump(report, tmp, indent=2)
        os.replace(tmp.name, args.json)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
