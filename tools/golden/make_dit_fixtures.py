#!/usr/bin/env python3
"""Generate golden parity fixtures for the HunyuanVideo DiT from the real diffusers code.

For every config in CONFIGS this builds `diffusers.HunyuanVideoTransformer3DModel(**cfg)` on the
CPU in float32, re-initialises every parameter with deterministic random values (no parameter is
left at zero / one), and writes into tests/fixtures/dit/<name>/:

  config.json, diffusion_pytorch_model.safetensors   (model.save_pretrained, safetensors)
  inputs.safetensors    hidden_states, timestep, encoder_hidden_states, encoder_attention_mask,
                        pooled_projections, [guidance]
  outputs.safetensors   sample, temb, rope_cos, rope_sin, refiner_out,
                        block0_hidden_states, block0_encoder_hidden_states
  meta.json             versions, seed, config name, shapes, sanity-check results

Sanity checks (the script exits non-zero if one fails):
  * sample is finite; max |sample| printed;
  * from_pretrained(<dir>) reproduces `sample` bit-exactly;
  * a second run of the in-memory model reproduces `sample` bit-exactly;
  * changing encoder_hidden_states at padded (mask == 0) positions does not change `sample`.

Usage: tools/golden/make_dit_fixtures.sh   (or: .venv/bin/python make_dit_fixtures.py [--out DIR])
"""

import argparse
import json
import math
import os
import sys
from pathlib import Path

import torch
import diffusers
import safetensors
from diffusers import HunyuanVideoTransformer3DModel
from safetensors.torch import save_file

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "tests" / "fixtures" / "dit"

CONFIGS = {
    "guided_padded": dict(
        seed=1234,
        cfg=dict(
            in_channels=4,
            out_channels=4,
            num_attention_heads=2,
            attention_head_dim=12,
            num_layers=2,
            num_single_layers=2,
            num_refiner_layers=2,
            mlp_ratio=2.0,
            patch_size=2,
            patch_size_t=1,
            qk_norm="rms_norm",
            guidance_embeds=True,
            text_embed_dim=16,
            pooled_projection_dim=8,
            rope_theta=256.0,
            rope_axes_dim=(4, 4, 4),
        ),
        hidden_shape=(2, 4, 3, 8, 8),
        text_len=7,
        mask=[[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0]],
        timestep=[250.0, 731.0],
        guidance=[4500.0, 3000.0],
    ),
    "unguided_refiner1": dict(
        seed=5678,
        cfg=dict(
            in_channels=4,
            out_channels=4,
            num_attention_heads=2,
            attention_head_dim=8,
            num_layers=1,
            num_single_layers=2,
            num_refiner_layers=1,
            mlp_ratio=3.0,
            patch_size=1,
            patch_size_t=1,
            qk_norm="rms_norm",
            guidance_embeds=False,
            text_embed_dim=12,
            pooled_projection_dim=6,
            rope_theta=256.0,
            rope_axes_dim=(2, 2, 4),
        ),
        hidden_shape=(1, 4, 2, 4, 6),
        text_len=5,
        mask=[[1, 1, 1, 0, 0]],
        timestep=[731.0],
        guidance=None,
    ),
}

# Weight init: Linear/Conv weights ~ N(0, (WEIGHT_GAIN / sqrt(fan_in))^2) so activations stay O(1);
# biases ~ N(0, BIAS_STD^2); norm weights ~ 1 + N(0, NORM_STD^2); norm biases ~ N(0, NORM_STD^2).
WEIGHT_GAIN = 0.8
BIAS_STD = 0.1
NORM_STD = 0.1


def reinit_(model: torch.nn.Module, gen: torch.Generator) -> None:
    done = set()
    for mname, mod in model.named_modules():
        own = dict(mod.named_parameters(recurse=False))
        if not own:
            continue
        # nn.LayerNorm (refiner norm1/norm2, affine) and diffusers RMSNorm (attn.norm_q/norm_k/...).
        # Ada* norms own no parameters themselves (their `linear` child is an nn.Linear).
        is_norm = isinstance(mod, torch.nn.LayerNorm) or type(mod).__name__ == "RMSNorm"
        for pname, p in own.items():
            full = f"{mname}.{pname}" if mname else pname
            with torch.no_grad():
                if is_norm:
                    if pname == "weight":
                        p.copy_(1.0 + NORM_STD * torch.randn(p.shape, generator=gen))
                    else:
                        p.copy_(NORM_STD * torch.randn(p.shape, generator=gen))
                elif isinstance(mod, (torch.nn.Linear, torch.nn.Conv3d)):
                    if pname == "weight":
                        fan_in = p[0].numel()
                        p.copy_(torch.randn(p.shape, generator=gen) * (WEIGHT_GAIN / math.sqrt(fan_in)))
                    elif pname == "bias":
                        p.copy_(BIAS_STD * torch.randn(p.shape, generator=gen))
                    else:
                        raise RuntimeError(f"unexpected parameter {full}")
                else:
                    raise RuntimeError(f"unexpected parameter {full} in {type(mod).__name__}")
            done.add(full)
    all_names = {n for n, _ in model.named_parameters()}
    missing = all_names - done
    if missing:
        raise RuntimeError(f"parameters not re-initialised: {sorted(missing)}")
    # Buffers (none expected for this model) would keep their defaults.


def make_inputs(spec: dict, cfg: dict, gen: torch.Generator) -> dict:
    B = spec["hidden_shape"][0]
    L = spec["text_len"]
    inputs = {
        "hidden_states": torch.randn(spec["hidden_shape"], generator=gen, dtype=torch.float32),
        "timestep": torch.tensor(spec["timestep"], dtype=torch.float32),
        "encoder_hidden_states": torch.randn((B, L, cfg["text_embed_dim"]), generator=gen, dtype=torch.float32),
        "encoder_attention_mask": torch.tensor(spec["mask"], dtype=torch.float32),
        "pooled_projections": torch.randn((B, cfg["pooled_projection_dim"]), generator=gen, dtype=torch.float32),
    }
    if cfg["guidance_embeds"]:
        inputs["guidance"] = torch.tensor(spec["guidance"], dtype=torch.float32)
    assert inputs["timestep"].shape == (B,) and inputs["encoder_attention_mask"].shape == (B, L)
    return inputs


def run_model(model, inputs: dict) -> torch.Tensor:
    with torch.no_grad():
        return model(
            hidden_states=inputs["hidden_states"],
            timestep=inputs["timestep"],
            encoder_hidden_states=inputs["encoder_hidden_states"],
            encoder_attention_mask=inputs["encoder_attention_mask"],
            pooled_projections=inputs["pooled_projections"],
            guidance=inputs.get("guidance"),
            return_dict=False,
        )[0]


def run_with_hooks(model, inputs: dict):
    cap = {}

    def hook(name):
        def fn(_mod, _args, out):
            cap[name] = out
        return fn

    handles = [
        model.time_text_embed.register_forward_hook(hook("time_text_embed")),
        model.rope.register_forward_hook(hook("rope")),
        model.context_embedder.register_forward_hook(hook("context_embedder")),
        model.transformer_blocks[0].register_forward_hook(hook("block0")),
    ]
    try:
        sample = run_model(model, inputs)
    finally:
        for h in handles:
            h.remove()

    # time_text_embed returns (conditioning, token_replace_emb); token_replace_emb is None here.
    tte = cap["time_text_embed"]
    assert isinstance(tte, tuple) and len(tte) == 2 and tte[1] is None, type(tte)
    rope_cos, rope_sin = cap["rope"]
    b0_h, b0_e = cap["block0"]
    outputs = {
        "sample": sample,
        "temb": tte[0],
        "rope_cos": rope_cos,
        "rope_sin": rope_sin,
        "refiner_out": cap["context_embedder"],
        "block0_hidden_states": b0_h,
        "block0_encoder_hidden_states": b0_e,
    }
    return {k: v.detach().to(torch.float32).contiguous().clone() for k, v in outputs.items()}


def generate(name: str, spec: dict, out_root: Path) -> dict:
    seed = spec["seed"]
    cfg = dict(spec["cfg"])
    out_dir = out_root / name
    out_dir.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(seed)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    model = HunyuanVideoTransformer3DModel(**cfg).eval()  # default dtype is float32
    assert all(p.dtype == torch.float32 for p in model.parameters())
    reinit_(model, gen)
    inputs = make_inputs(spec, cfg, gen)

    outputs = run_with_hooks(model, inputs)
    sample = outputs["sample"]

    # ---- shape facts
    B, C, T, H, W = spec["hidden_shape"]
    p, pt = cfg["patch_size"], cfg["patch_size_t"]
    inner = cfg["num_attention_heads"] * cfg["attention_head_dim"]
    N = (T // pt) * (H // p) * (W // p)
    L = spec["text_len"]
    expect = {
        "sample": (B, cfg["out_channels"], T, H, W),
        "temb": (B, inner),
        "rope_cos": (N, cfg["attention_head_dim"]),
        "rope_sin": (N, cfg["attention_head_dim"]),
        "refiner_out": (B, L, inner),
        "block0_hidden_states": (B, N, inner),
        "block0_encoder_hidden_states": (B, L, inner),
    }
    for k, shp in expect.items():
        assert tuple(outputs[k].shape) == shp, (k, tuple(outputs[k].shape), shp)

    checks = {}
    # ---- finiteness
    for k, v in outputs.items():
        if not torch.isfinite(v).all():
            raise RuntimeError(f"[{name}] non-finite values in {k}")
    checks["all_finite"] = True
    checks["max_abs_sample"] = float(sample.abs().max())
    checks["std_sample"] = float(sample.std())
    checks["max_abs"] = {k: float(v.abs().max()) for k, v in outputs.items()}

    # ---- rerun determinism
    again = run_model(model, inputs)
    checks["rerun_bit_exact"] = bool(torch.equal(again, sample))

    # ---- save model, then reload and compare
    model.save_pretrained(out_dir, safe_serialization=True)
    save_file({k: v.contiguous() for k, v in inputs.items()}, str(out_dir / "inputs.safetensors"))
    save_file(outputs, str(out_dir / "outputs.safetensors"))

    reloaded = HunyuanVideoTransformer3DModel.from_pretrained(
        out_dir, torch_dtype=torch.float32, low_cpu_mem_usage=False).eval()
    sd0, sd1 = model.state_dict(), reloaded.state_dict()
    checks["reload_state_dict_equal"] = sd0.keys() == sd1.keys() and all(torch.equal(sd0[k], sd1[k]) for k in sd0)
    # Raw from_pretrained: parameters live in the mmap'd safetensors buffer, which is not 64-byte
    # aligned, so CPU GEMM kernels may take a different SIMD path (observed: ~1 ulp differences).
    re_sample = run_model(reloaded, inputs)
    checks["reload_raw_sample_bit_exact"] = bool(torch.equal(re_sample, sample))
    checks["reload_raw_sample_max_abs_diff"] = float((re_sample - sample).abs().max())
    # Same weights copied into freshly allocated (aligned) storage: must be bit-exact.
    with torch.no_grad():
        for prm in reloaded.parameters():
            prm.data = prm.data.clone()
    re_sample = run_model(reloaded, inputs)
    checks["reload_sample_bit_exact"] = bool(torch.equal(re_sample, sample))
    checks["reload_sample_max_abs_diff"] = float((re_sample - sample).abs().max())
    del reloaded

    # ---- padded text positions must not influence the output
    mask = inputs["encoder_attention_mask"]
    pad = mask == 0
    if pad.any():
        pert = dict(inputs)
        ehs = inputs["encoder_hidden_states"].clone()
        noise = 10.0 * torch.randn(ehs.shape, generator=gen)
        ehs[pad] = noise[pad]
        pert["encoder_hidden_states"] = ehs
        s2 = run_model(model, pert)
        checks["padding_invariance_bit_exact"] = bool(torch.equal(s2, sample))
        checks["padding_invariance_max_abs_diff"] = float((s2 - sample).abs().max())
        # control: changing a VALID position must change the output
        ctl = dict(inputs)
        ehs_c = inputs["encoder_hidden_states"].clone()
        ehs_c[0, 0] += 1.0
        ctl["encoder_hidden_states"] = ehs_c
        s3 = run_model(model, ctl)
        checks["control_valid_position_max_abs_diff"] = float((s3 - sample).abs().max())

    meta = {
        "config_name": name,
        "seed": seed,
        "torch_version": torch.__version__,
        "diffusers_version": diffusers.__version__,
        "safetensors_version": safetensors.__version__,
        "python_version": sys.version.split()[0],
        "dtype": "float32",
        "device": "cpu",
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()},
        "init": {
            "linear_conv_weight_std": f"{WEIGHT_GAIN}/sqrt(fan_in)",
            "linear_conv_bias_std": BIAS_STD,
            "norm_weight": f"1 + N(0, {NORM_STD}^2)",
            "norm_bias_std": NORM_STD,
        },
        "inputs": {k: list(v.shape) for k, v in inputs.items()},
        "outputs": {k: list(v.shape) for k, v in outputs.items()},
        "derived": {"inner_dim": inner, "num_image_tokens": N, "text_len": L,
                    "refiner_mlp_ratio": 4.0, "note": "context_embedder (token refiner) always uses mlp_ratio 4.0 in diffusers; the model mlp_ratio applies only to dual/single blocks"},
        "checks": checks,
    }
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")

    print(f"[{name}] sample {tuple(sample.shape)} max|sample|={checks['max_abs_sample']:.6g} std={checks['std_sample']:.4g} finite=True")
    print(f"[{name}] rerun bit-exact: {checks['rerun_bit_exact']}; reload state_dict equal: {checks['reload_state_dict_equal']}; "
          f"reload sample bit-exact: {checks['reload_sample_bit_exact']} (max diff {checks['reload_sample_max_abs_diff']:.3g}; "
          f"straight from mmap'd from_pretrained: bit-exact={checks['reload_raw_sample_bit_exact']}, max diff {checks['reload_raw_sample_max_abs_diff']:.3g})")
    if "padding_invariance_bit_exact" in checks:
        print(f"[{name}] padded-position perturbation: bit-exact={checks['padding_invariance_bit_exact']} "
              f"max diff={checks['padding_invariance_max_abs_diff']:.3g} "
              f"(control, valid position changed: max diff={checks['control_valid_position_max_abs_diff']:.3g})")
    print(f"[{name}] max|.|: " + ", ".join(f"{k}={v:.4g}" for k, v in checks["max_abs"].items()))

    ok = (checks["rerun_bit_exact"] and checks["reload_state_dict_equal"] and checks["reload_sample_bit_exact"]
          and checks["reload_raw_sample_max_abs_diff"] <= 1e-5 * max(1.0, checks["max_abs_sample"])
          and checks.get("padding_invariance_max_abs_diff", 0.0) == 0.0
          and checks.get("control_valid_position_max_abs_diff", 1.0) > 1e-4)
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--only", nargs="*", default=None, help="config names to generate")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    print(f"torch {torch.__version__}, diffusers {diffusers.__version__}, safetensors {safetensors.__version__}")

    all_ok = True
    for name, spec in CONFIGS.items():
        if args.only and name not in args.only:
            continue
        all_ok &= generate(name, spec, args.out)
    print("ALL CHECKS PASSED" if all_ok else "SOME CHECKS FAILED")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
