#!/usr/bin/env python3
"""Generate the whole-pipeline parity fixture (and the demo model) from diffusers' real
`HunyuanVideoPipeline`: tiny text encoders + DiT + VAE, random weights, CPU, float32.

Writes tests/fixtures/pipeline/tiny/:

  model/          a model folder laid out like the Hugging Face diffusers HunyuanVideo repo
                  (`pipe.save_pretrained`: model_index.json, transformer/, vae/, scheduler/,
                  text_encoder/, tokenizer/, text_encoder_2/, tokenizer_2/) — `hyv sample
                  --model-dir` reads it as is, and `make demo` samples from it
  cases.json      per case: prompt, negative prompt, sizes, steps, guidance, template
  <case>.safetensors
                  latents        the initial latents handed to the pipeline (f32)
                  final_latents  the denoised latents (output_type="latent")
                  video          the decoded video, [B, F, C, H, W] in [0, 1] (output_type="pt")
                  prompt_embeds, prompt_attention_mask, pooled_prompt_embeds (the encoded prompt)
  meta.json       versions and seeds

The text encoders and tokenizers come from tools/golden/tiny_text_models.py (built locally; no
network); the Llama has 4 layers, so the skip-2 hidden state HunyuanVideo uses runs 2 of them. DiT and VAE parameters are re-initialised like the DiT and VAE fixtures (diffusers
zero-initialises some output layers, which would make the check blind).

Usage: tools/golden/make_pipeline_fixtures.sh
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

import diffusers
import torch
import transformers
from diffusers import (
    AutoencoderKLHunyuanVideo,
    FlowMatchEulerDiscreteScheduler,
    HunyuanVideoPipeline,
    HunyuanVideoTransformer3DModel,
)
from safetensors.torch import save_file

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_dit_fixtures  # noqa: E402  (reinit_ for the DiT)
import make_vae_fixtures  # noqa: E402  (reinit_ for the VAE)
from tiny_text_models import save_tiny_text_encoders  # noqa: E402

REPO_ROOT = HERE.parents[1]
DEFAULT_OUT = REPO_ROOT / "tests" / "fixtures" / "pipeline" / "tiny"

SEED = 2024

# The DiT of diffusers' pipeline test (spec §7.3) with the text widths of the tiny encoders:
# Llama hidden 16 = text_embed_dim, CLIP hidden 8 = pooled_projection_dim.
TRANSFORMER = dict(
    in_channels=4,
    out_channels=4,
    num_attention_heads=2,
    attention_head_dim=10,
    num_layers=1,
    num_single_layers=1,
    num_refiner_layers=1,
    patch_size=1,
    patch_size_t=1,
    guidance_embeds=True,
    text_embed_dim=16,
    pooled_projection_dim=8,
    rope_axes_dim=(2, 4, 4),
)

# The VAE of diffusers' pipeline test (spec §7.2).
VAE = dict(
    in_channels=3,
    out_channels=3,
    latent_channels=4,
    down_block_types=("HunyuanVideoDownBlock3D",) * 4,
    up_block_types=("HunyuanVideoUpBlock3D",) * 4,
    block_out_channels=(8, 8, 8, 8),
    layers_per_block=1,
    act_fn="silu",
    norm_num_groups=4,
    scaling_factor=0.476986,
    spatial_compression_ratio=8,
    temporal_compression_ratio=4,
    mid_block_add_attention=True,
)

# Cases: no template (as diffusers' own pipeline test), and the HunyuanVideo template with
# true CFG and a negative prompt. At most 4 latent frames, so diffusers decodes without
# framewise tiling (hyv's `sample` decodes untiled unless --vae-tiling).
CASES = {
    "plain": dict(
        prompt="dance monkey",
        negative_prompt=None,
        height=16,
        width=16,
        num_frames=9,
        steps=3,
        guidance_scale=4.5,
        true_cfg_scale=1.0,
        flow_shift=7.0,
        template="{}",
        crop_start=0,
        max_sequence_length=16,
    ),
    "cfg_template": dict(
        prompt="A cat walks on the grass, realistic style.",
        negative_prompt="low quality, blurry",
        height=32,
        width=48,
        num_frames=13,
        steps=2,
        guidance_scale=6.0,
        true_cfg_scale=3.0,
        flow_shift=5.0,
        template=None,  # filled with the tokenizer's HunyuanVideo video template below
        crop_start=None,
        max_sequence_length=24,
    ),
}


def hunyuan_template() -> tuple:
    from diffusers.pipelines.hunyuan_video.pipeline_hunyuan_video import DEFAULT_PROMPT_TEMPLATE

    return DEFAULT_PROMPT_TEMPLATE["template"], DEFAULT_PROMPT_TEMPLATE["crop_start"]


def build_pipeline(model_dir: Path) -> HunyuanVideoPipeline:
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    tokenizer, text_encoder, tokenizer_2, text_encoder_2 = save_tiny_text_encoders(
        model_dir / "_text", seed=SEED, llama_layers=4
    )
    transformer = HunyuanVideoTransformer3DModel(**TRANSFORMER)
    make_dit_fixtures.reinit_(transformer, gen)
    vae = AutoencoderKLHunyuanVideo(**VAE)
    make_vae_fixtures.reinit_(vae, gen)
    scheduler = FlowMatchEulerDiscreteScheduler(shift=7.0)
    pipe = HunyuanVideoPipeline(
        text_encoder=text_encoder.float().eval(),
        tokenizer=tokenizer,
        transformer=transformer.float().eval(),
        vae=vae.float().eval(),
        scheduler=scheduler,
        text_encoder_2=text_encoder_2.float().eval(),
        tokenizer_2=tokenizer_2,
    )
    shutil.rmtree(model_dir / "_text")
    return pipe


def run_case(pipe, name: str, case: dict, out: Path) -> dict:
    gen = torch.Generator().manual_seed(SEED + len(name))
    f = (case["num_frames"] - 1) // 4 + 1
    shape = (1, TRANSFORMER["in_channels"], f, case["height"] // 8, case["width"] // 8)
    latents = torch.randn(shape, generator=gen, dtype=torch.float32)
    pipe.scheduler = FlowMatchEulerDiscreteScheduler.from_config(
        pipe.scheduler.config, shift=case["flow_shift"]
    )
    template = {"template": case["template"], "crop_start": case["crop_start"]}
    common = dict(
        prompt=case["prompt"],
        negative_prompt=case["negative_prompt"],
        height=case["height"],
        width=case["width"],
        num_frames=case["num_frames"],
        num_inference_steps=case["steps"],
        guidance_scale=case["guidance_scale"],
        true_cfg_scale=case["true_cfg_scale"],
        prompt_template=template,
        max_sequence_length=case["max_sequence_length"],
    )
    with torch.no_grad():
        embeds, pooled, mask, *_ = pipe.encode_prompt(
            prompt=case["prompt"],
            prompt_2=None,
            prompt_template=template,
            max_sequence_length=case["max_sequence_length"],
        )
        final = pipe(latents=latents.clone(), output_type="latent", **common).frames
        video = pipe(latents=latents.clone(), output_type="pt", **common).frames
    tensors = {
        "latents": latents,
        "final_latents": final.float(),
        "video": video.float(),
        "prompt_embeds": embeds.float(),
        "prompt_attention_mask": mask.to(torch.int64),
        "pooled_prompt_embeds": pooled.float(),
    }
    for k, v in tensors.items():
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise RuntimeError(f"{name}: `{k}` is not finite")
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(out / f"{name}.safetensors"))
    print(
        f"{name}: latents {list(latents.shape)} video {list(video.shape)} "
        f"video range [{video.min():.4f}, {video.max():.4f}] mask sum {int(mask.sum())}"
    )
    return {**case, "latent_shape": list(shape), "video_shape": list(video.shape)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    out: Path = args.out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    model_dir = out / "model"
    pipe = build_pipeline(model_dir)
    pipe.save_pretrained(str(model_dir), safe_serialization=True)
    template, crop_start = hunyuan_template()
    CASES["cfg_template"]["template"] = template
    CASES["cfg_template"]["crop_start"] = crop_start
    cases = {name: run_case(pipe, name, case, out) for name, case in CASES.items()}
    (out / "cases.json").write_text(json.dumps(cases, indent=2) + "\n")
    meta = dict(
        torch=torch.__version__,
        diffusers=diffusers.__version__,
        transformers=transformers.__version__,
        seed=SEED,
        transformer=TRANSFORMER,
        vae={k: list(v) if isinstance(v, tuple) else v for k, v in VAE.items()},
    )
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
