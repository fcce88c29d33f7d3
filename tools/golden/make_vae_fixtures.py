#!/usr/bin/env python3
"""Generate golden parity fixtures for the HunyuanVideo causal 3D VAE from the real diffusers code.

For every case in CASES this builds `diffusers.AutoencoderKLHunyuanVideo(**cfg)` on the CPU in
float32, re-initialises every parameter with deterministic random values (no parameter is left at
its default zero / one), and writes into tests/fixtures/vae/<case>/:

  config.json, diffusion_pytorch_model.safetensors   (vae.save_pretrained, safetensors; encoder
                                                      AND decoder keys, like a real checkpoint)
  inputs.safetensors    sample [B,3,T,H,W] (uniform in [-1, 1]), latent [B,latent,T_l,H_l,W_l]
                        (standard normal: what `vae.decode` takes, i.e. already / scaling_factor)
  outputs.safetensors   untiled cases: moments, latent_mean, latent_std, decoded
                        tiled case:    moments_tiled, decoded_tiled, moments_untiled, decoded_untiled
  meta.json             versions, seed, config, shapes, tiling parameters, sanity-check results

Untiled cases run with `use_tiling = use_framewise_encoding = use_framewise_decoding = False`, so
`vae._encode` is exactly `quant_conv(encoder(x))` and `vae.decode(z)` is `decoder(post_quant_conv(z))`.

Sanity checks (the script exits non-zero if one fails):
  * every output finite, shapes as the frame/space mapping predicts;
  * a second run of the in-memory model is bit-exact;
  * `encode(x).latent_dist.parameters` equals `_encode(x)`; mean/std equal the chunk + clamp + exp;
  * from_pretrained(<dir>) has an identical state dict and (weights copied to aligned storage)
    reproduces every output bit-exactly;
  * the mid-block attention of diffusers (dense scores + additive -inf frame-causal mask) equals
    attention computed frame by frame over the key prefix of frames <= the query frame (the form
    hyv uses) to float rounding, and the encoder output of the first latent frame depends on later
    input frames only through the GroupNorm statistics (it changes when they change);
  * tiled case: the tiled outputs differ from the untiled ones (tiling really happened; with tiles
    this small the difference is O(1): each tile has its own GroupNorm statistics).

Usage: tools/golden/make_vae_fixtures.sh   (or: .venv/bin/python make_vae_fixtures.py [--out DIR])
"""

import argparse
import json
import math
import os
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
import diffusers
import safetensors
from diffusers import AutoencoderKLHunyuanVideo
from diffusers.models.autoencoders.autoencoder_kl_hunyuan_video import prepare_causal_attention_mask
from safetensors.torch import save_file

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "tests" / "fixtures" / "vae"

DOWN = ("HunyuanVideoDownBlock3D",) * 4
UP = ("HunyuanVideoUpBlock3D",) * 4

# diffusers' tiny test config (reference/hunyuanvideo_spec.md §7.2).
TINY = dict(
    in_channels=3,
    out_channels=3,
    latent_channels=4,
    down_block_types=DOWN,
    up_block_types=UP,
    block_out_channels=(8, 8, 8, 8),
    layers_per_block=1,
    act_fn="silu",
    norm_num_groups=4,
    scaling_factor=0.476986,
    spatial_compression_ratio=8,
    temporal_compression_ratio=4,
    mid_block_add_attention=True,
)

# Channel changes (conv_shortcut: encoder down_blocks.3 8->16, decoder up_blocks.1 16->8), 2 and 4
# channels per norm group, 2 resnets per down block and 3 per up block.
SMALL = dict(TINY, block_out_channels=(8, 8, 8, 16), layers_per_block=2, norm_num_groups=4)

# Tiling parameters of the tiled case (diffusers attribute names, sample pixels / frames).
TILING = dict(
    tile_sample_min_height=32,
    tile_sample_min_width=32,
    tile_sample_min_num_frames=8,
    tile_sample_stride_height=24,
    tile_sample_stride_width=24,
    tile_sample_stride_num_frames=4,
)

CASES = {
    "tiny_untiled": dict(seed=2024, cfg=TINY, sample_shape=(2, 3, 9, 16, 16), latent_shape=(2, 4, 3, 2, 2), tiled=False),
    "small_untiled": dict(seed=2025, cfg=SMALL, sample_shape=(1, 3, 9, 32, 32), latent_shape=(1, 4, 3, 4, 4), tiled=False),
    "tiny_tiled": dict(seed=2026, cfg=TINY, sample_shape=(1, 3, 17, 48, 48), latent_shape=(1, 4, 5, 6, 6), tiled=True),
}

# Weight init: Conv3d/Linear weights ~ N(0, (WEIGHT_GAIN / sqrt(fan_in))^2); their biases ~ N(0, BIAS_STD^2);
# GroupNorm weights ~ 1 + N(0, NORM_STD^2), GroupNorm biases ~ N(0, NORM_STD^2).
WEIGHT_GAIN = 0.8
BIAS_STD = 0.1
NORM_STD = 0.1


def reinit_(model: torch.nn.Module, gen: torch.Generator) -> None:
    done = set()
    for mname, mod in model.named_modules():
        own = dict(mod.named_parameters(recurse=False))
        for pname, p in own.items():
            full = f"{mname}.{pname}" if mname else pname
            with torch.no_grad():
                if isinstance(mod, torch.nn.GroupNorm):
                    base = 1.0 if pname == "weight" else 0.0
                    p.copy_(base + NORM_STD * torch.randn(p.shape, generator=gen))
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
    missing = {n for n, _ in model.named_parameters()} - done
    if missing:
        raise RuntimeError(f"parameters not re-initialised: {sorted(missing)}")
    if list(model.buffers()):
        raise RuntimeError("unexpected buffers")


def set_plain(vae) -> None:
    """No spatial tiling, no framewise (temporal) tiling, no slicing: the plain untiled path."""
    vae.use_tiling = False
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    vae.use_slicing = False


def encode_decode(vae, sample, latent):
    with torch.no_grad():
        moments = vae._encode(sample)
        decoded = vae.decode(latent).sample
    return moments, decoded


def untiled_outputs(vae, inputs) -> dict:
    set_plain(vae)
    moments, decoded = encode_decode(vae, inputs["sample"], inputs["latent"])
    with torch.no_grad():
        dist = vae.encode(inputs["sample"]).latent_dist
    out = {"moments": moments, "latent_mean": dist.mean, "latent_std": dist.std, "decoded": decoded}
    return {k: v.detach().contiguous().clone() for k, v in out.items()}


def tiled_outputs(vae, inputs) -> dict:
    set_plain(vae)
    vae.enable_tiling(**TILING)
    vae.use_framewise_encoding = True
    vae.use_framewise_decoding = True
    moments_t, decoded_t = encode_decode(vae, inputs["sample"], inputs["latent"])
    set_plain(vae)
    moments_u, decoded_u = encode_decode(vae, inputs["sample"], inputs["latent"])
    out = {"moments_tiled": moments_t, "decoded_tiled": decoded_t,
           "moments_untiled": moments_u, "decoded_untiled": decoded_u}
    return {k: v.detach().contiguous().clone() for k, v in out.items()}


def attention_equivalence(vae, sample) -> float:
    """max |diffusers masked attention - per-frame prefix attention| on the encoder's mid block."""
    cap = {}
    attn = vae.encoder.mid_block.attentions[0]
    h = attn.register_forward_pre_hook(lambda _m, args, kwargs: cap.update(x=args[0], mask=kwargs["attention_mask"]),
                                       with_kwargs=True)
    set_plain(vae)
    try:
        with torch.no_grad():
            vae._encode(sample)
    finally:
        h.remove()
    x = cap["x"]  # [B, T*H*W, C]
    b, s, c = x.shape
    with torch.no_grad():
        want = attn(x, attention_mask=cap["mask"])
        hs = attn.group_norm(x.transpose(1, 2)).transpose(1, 2)
        q, k, v = (m(hs).unsqueeze(1) for m in (attn.to_q, attn.to_k, attn.to_v))
        mask = cap["mask"][0]
        # Row 0 (a frame-0 query) sees exactly the tokens of frame 0.
        per_frame = int((mask[0] == 0).sum())
        frames = s // per_frame
        assert torch.equal(mask, prepare_causal_attention_mask(frames, per_frame, x.dtype, x.device))
        parts = [F.scaled_dot_product_attention(q[:, :, f * per_frame:(f + 1) * per_frame],
                                                k[:, :, :(f + 1) * per_frame], v[:, :, :(f + 1) * per_frame])
                 for f in range(frames)]
        got = attn.to_out[0](torch.cat(parts, dim=2).squeeze(1)) + x
    return float((got - want).abs().max())


def generate(name: str, spec: dict, out_root: Path) -> bool:
    seed = spec["seed"]
    cfg = dict(spec["cfg"])
    out_dir = out_root / name
    out_dir.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(seed)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    vae = AutoencoderKLHunyuanVideo(**cfg).eval()
    assert all(p.dtype == torch.float32 for p in vae.parameters())
    reinit_(vae, gen)
    inputs = {
        "sample": torch.rand(spec["sample_shape"], generator=gen, dtype=torch.float32) * 2.0 - 1.0,
        "latent": torch.randn(spec["latent_shape"], generator=gen, dtype=torch.float32),
    }
    run = tiled_outputs if spec["tiled"] else untiled_outputs
    outputs = run(vae, inputs)

    # ---- shape facts
    B, _, T, H, W = spec["sample_shape"]
    lat = cfg["latent_channels"]
    sr, tr = cfg["spatial_compression_ratio"], cfg["temporal_compression_ratio"]
    enc_shape = (B, 2 * lat, (T - 1) // tr + 1, H // sr, W // sr)
    Bl, _, Tl, Hl, Wl = spec["latent_shape"]
    dec_shape = (Bl, cfg["out_channels"], (Tl - 1) * tr + 1, Hl * sr, Wl * sr)
    for k, v in outputs.items():
        want = dec_shape if k.startswith("decoded") else enc_shape
        if k in ("latent_mean", "latent_std"):
            want = (B, lat) + enc_shape[2:]
        assert tuple(v.shape) == want, (k, tuple(v.shape), want)

    checks = {}
    for k, v in outputs.items():
        if not torch.isfinite(v).all():
            raise RuntimeError(f"[{name}] non-finite values in {k}")
    checks["all_finite"] = True
    checks["max_abs"] = {k: float(v.abs().max()) for k, v in outputs.items()}
    checks["std"] = {k: float(v.std()) for k, v in outputs.items()}

    # ---- rerun determinism
    again = run(vae, inputs)
    checks["rerun_bit_exact"] = all(torch.equal(again[k], outputs[k]) for k in outputs)

    ok = checks["rerun_bit_exact"]
    if spec["tiled"]:
        diffs = {
            "moments": float((outputs["moments_tiled"] - outputs["moments_untiled"]).abs().max()),
            "decoded": float((outputs["decoded_tiled"] - outputs["decoded_untiled"]).abs().max()),
        }
        checks["tiled_vs_untiled_max_abs_diff"] = diffs
        ok &= all(d > 1e-4 for d in diffs.values())
    else:
        m = outputs["moments"]
        mean, logvar = torch.chunk(m, 2, dim=1)
        std = torch.exp(0.5 * torch.clamp(logvar, -30.0, 20.0))
        checks["posterior_matches_chunk_clamp_exp"] = bool(
            torch.equal(mean, outputs["latent_mean"]) and torch.equal(std, outputs["latent_std"]))
        checks["logvar_range"] = [float(logvar.min()), float(logvar.max())]
        checks["attention_frame_prefix_max_abs_diff"] = attention_equivalence(vae, inputs["sample"])
        # Latent frame 0 sees only input frame 0 through the convolutions and attention, but GroupNorm
        # pools statistics over all frames: changing the last input frame still changes it.
        pert = inputs["sample"].clone()
        pert[:, :, -1] = -pert[:, :, -1]
        set_plain(vae)
        with torch.no_grad():
            m2 = vae._encode(pert)
        checks["first_latent_frame_change_from_last_input_frame"] = float((m2[:, :, 0] - m[:, :, 0]).abs().max())
        ok &= checks["posterior_matches_chunk_clamp_exp"]
        ok &= checks["attention_frame_prefix_max_abs_diff"] <= 1e-5
        ok &= checks["first_latent_frame_change_from_last_input_frame"] > 0.0

    # ---- save model, then reload and compare
    vae.save_pretrained(out_dir, safe_serialization=True)
    save_file({k: v.contiguous() for k, v in inputs.items()}, str(out_dir / "inputs.safetensors"))
    save_file(outputs, str(out_dir / "outputs.safetensors"))

    reloaded = AutoencoderKLHunyuanVideo.from_pretrained(out_dir, torch_dtype=torch.float32,
                                                         low_cpu_mem_usage=False).eval()
    sd0, sd1 = vae.state_dict(), reloaded.state_dict()
    checks["reload_state_dict_equal"] = sd0.keys() == sd1.keys() and all(torch.equal(sd0[k], sd1[k]) for k in sd0)
    with torch.no_grad():
        for prm in reloaded.parameters():
            prm.data = prm.data.clone()  # aligned storage: CPU kernels take the same path
    re = run(reloaded, inputs)
    checks["reload_outputs_bit_exact"] = all(torch.equal(re[k], outputs[k]) for k in outputs)
    ok &= checks["reload_state_dict_equal"] and checks["reload_outputs_bit_exact"]

    params = dict(vae.named_parameters())
    meta = {
        "case": name,
        "seed": seed,
        "torch_version": torch.__version__,
        "diffusers_version": diffusers.__version__,
        "safetensors_version": safetensors.__version__,
        "python_version": sys.version.split()[0],
        "dtype": "float32",
        "device": "cpu",
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()},
        "init": {
            "conv_linear_weight_std": f"{WEIGHT_GAIN}/sqrt(fan_in)",
            "conv_linear_bias_std": BIAS_STD,
            "group_norm_weight": f"1 + N(0, {NORM_STD}^2)",
            "group_norm_bias_std": NORM_STD,
        },
        "parameters": {
            "encoder_and_quant_conv": sum(p.numel() for n, p in params.items()
                                          if n.startswith(("encoder.", "quant_conv."))),
            "decoder_and_post_quant_conv": sum(p.numel() for n, p in params.items()
                                               if n.startswith(("decoder.", "post_quant_conv."))),
            "tensors": len(params),
        },
        "inputs": {k: list(v.shape) for k, v in inputs.items()},
        "outputs": {k: list(v.shape) for k, v in outputs.items()},
        "how": ("tiled: vae.enable_tiling(**tiling) with use_framewise_encoding/decoding True, "
                "moments_tiled = vae._encode(sample), decoded_tiled = vae.decode(latent).sample; "
                "*_untiled: same inputs with use_tiling/use_framewise_* False"
                if spec["tiled"] else
                "use_tiling/use_framewise_encoding/use_framewise_decoding False; moments = vae._encode(sample) "
                "(= quant_conv(encoder(sample))); latent_mean/latent_std = vae.encode(sample).latent_dist.mean/.std; "
                "decoded = vae.decode(latent).sample (= decoder(post_quant_conv(latent)))"),
        "checks": checks,
    }
    if spec["tiled"]:
        meta["tiling"] = dict(TILING, use_tiling=True, use_framewise_encoding=True, use_framewise_decoding=True)
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")

    print(f"[{name}] outputs: " + ", ".join(f"{k}{tuple(v.shape)} max|.|={checks['max_abs'][k]:.4g}"
                                            for k, v in outputs.items()))
    print(f"[{name}] checks: " + json.dumps({k: v for k, v in checks.items() if k not in ("max_abs", "std")}))
    print(f"[{name}] {'OK' if ok else 'FAILED'}")
    return bool(ok)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--only", nargs="*", default=None, help="case names to generate")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    print(f"torch {torch.__version__}, diffusers {diffusers.__version__}, safetensors {safetensors.__version__}")

    all_ok = True
    for name, spec in CASES.items():
        if args.only and name not in args.only:
            continue
        all_ok &= generate(name, spec, args.out)
    print("ALL CHECKS PASSED" if all_ok else "SOME CHECKS FAILED")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
