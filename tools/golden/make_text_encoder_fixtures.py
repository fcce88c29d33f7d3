#!/usr/bin/env python3
"""Generate golden parity fixtures for the HunyuanVideo text encoders from transformers.

Writes tests/fixtures/text_encoders/tiny/:

  text_encoder/, tokenizer/, text_encoder_2/, tokenizer_2/   the tiny models and tokenizers of
                        tiny_text_models.save_tiny_text_encoders (Llama with GQA, CLIP)
  cases.json            prompts, template, crop_start, lengths, versions, llama3 rope check
  cases.safetensors     for the prompts in cases.json, all computed by transformers in f32 on
                        the CPU:
    llama_ids, llama_mask                 i64 [B, LLAMA_LEN] no template, max_length LLAMA_LEN
    llama_hidden_skip{0,1,2}              f32 [B, LLAMA_LEN, 16] hidden_states[-(skip+1)]
    llama_tpl_ids, llama_tpl_mask         i64 [B, crop_start + LLAMA_LEN] with the video template
    llama_tpl_hidden_skip{0,1,2}          f32 [B, crop_start + LLAMA_LEN, 16] (not cropped)
    clip_ids, clip_mask                   i64 [B, 77]
    clip_last_hidden_state, clip_pooler_output               no attention mask (diffusers)
    clip_masked_last_hidden_state, clip_masked_pooler_output with the attention mask (official)
  tokenizer_2_slow/, clip_vocab_cases.json   tokenizer_2 as a slow-CLIPTokenizer folder (no
                        tokenizer.json) and transformers' ids/masks for it
                        (make_clip_vocab_fixture.py)

crop_start is the number of tokens of the template's prefix (BOS + everything before `{}`) with
this tokenizer (95 with the real Llama-3 tokenizer). Sanity checks (exits non-zero on failure):
hidden_states[0] equals the token embeddings; a second generation into another folder gives
byte-identical files (determinism); the long prompt is truncated by both tokenizers.

Usage: tools/golden/make_text_encoder_fixtures.sh   (or: .venv/bin/python
make_text_encoder_fixtures.py [--out DIR])
"""

import argparse
import filecmp
import json
import sys
import tempfile
from pathlib import Path

import safetensors
import tokenizers
import torch
import transformers
from safetensors.torch import save_file
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tiny_text_models import HUNYUAN_VIDEO_TEMPLATE, save_tiny_text_encoders  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "tests" / "fixtures" / "text_encoders" / "tiny"
SEED = 0
LLAMA_LEN = 16
CLIP_LEN = 77
PROMPTS = [
    "dance monkey",
    "",
    "Ünïcödé café, 日本語のテキスト 🐒 — naïve «quotes» and\ttabs\nnewlines",
    "A cat walks on the grass, realistic style.",
    # Long enough to be truncated by both tokenizers (Llama at LLAMA_LEN + crop_start, CLIP at 77).
    " ".join(
        ["A very long prompt about a panda eating bamboo in a misty forest at dawn,"] * 12
    ),
]


def llama3_inv_freq():
    """inv_freq of transformers' `llama3` rope scaling for a Llama-3.1-like config with head
    dim 8 (checks the Rust port of the scaling rule)."""
    cfg = transformers.LlamaConfig(
        hidden_size=32,
        num_attention_heads=4,
        max_position_embeddings=131072,
        rope_parameters={
            "rope_type": "llama3",
            "rope_theta": 500000.0,
            "factor": 8.0,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 8192,
        },
    )
    inv_freq, scaling = ROPE_INIT_FUNCTIONS["llama3"](cfg, "cpu")
    return {
        "rope_parameters": cfg.rope_parameters,
        "head_dim": 8,
        "inv_freq": [float(x) for x in inv_freq],
        "attention_scaling": float(scaling),
    }


def generate(out: Path):
    tok, llama, tok2, clip = save_tiny_text_encoders(out, seed=SEED)
    prefix = HUNYUAN_VIDEO_TEMPLATE.split("{}")[0]
    crop_start = len(tok(prefix)["input_ids"])
    tensors = {}

    def llama_case(key, texts, max_length):
        enc = tok(
            texts,
            padding="max_length",
            max_length=max_length,
            truncation=True,
            return_tensors="pt",
        )
        tensors[f"{key}_ids"] = enc["input_ids"].to(torch.int64)
        tensors[f"{key}_mask"] = enc["attention_mask"].to(torch.int64)
        with torch.no_grad():
            out = llama(
                input_ids=enc["input_ids"],
                attention_mask=enc["attention_mask"],
                output_hidden_states=True,
            )
            hs = out.hidden_states
            assert len(hs) == llama.config.num_hidden_layers + 1, len(hs)
            emb = llama.embed_tokens(enc["input_ids"])
            assert torch.equal(hs[0], emb), "hidden_states[0] is not the embedding output"
            assert torch.equal(hs[-1], out.last_hidden_state)
        for skip in range(3):
            tensors[f"{key}_hidden_skip{skip}"] = hs[-(skip + 1)].contiguous()
        return enc

    llama_case("llama", PROMPTS, LLAMA_LEN)
    tpl = llama_case(
        "llama_tpl", [HUNYUAN_VIDEO_TEMPLATE.format(p) for p in PROMPTS], LLAMA_LEN + crop_start
    )
    assert tpl["attention_mask"][-1].all(), "the long prompt is not truncated (Llama)"

    enc2 = tok2(
        PROMPTS, padding="max_length", max_length=CLIP_LEN, truncation=True, return_tensors="pt"
    )
    assert enc2["attention_mask"][-1].all(), "the long prompt is not truncated (CLIP)"
    tensors["clip_ids"] = enc2["input_ids"].to(torch.int64)
    tensors["clip_mask"] = enc2["attention_mask"].to(torch.int64)
    with torch.no_grad():
        plain = clip(input_ids=enc2["input_ids"])
        masked = clip(input_ids=enc2["input_ids"], attention_mask=enc2["attention_mask"])
    tensors["clip_last_hidden_state"] = plain.last_hidden_state.contiguous()
    tensors["clip_pooler_output"] = plain.pooler_output.contiguous()
    tensors["clip_masked_last_hidden_state"] = masked.last_hidden_state.contiguous()
    tensors["clip_masked_pooler_output"] = masked.pooler_output.contiguous()
    save_file(tensors, str(out / "cases.safetensors"))

    meta = {
        "generator": "tools/golden/make_text_encoder_fixtures.py",
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "safetensors": safetensors.__version__,
        },
        "seed": SEED,
        "prompts": PROMPTS,
        "template": HUNYUAN_VIDEO_TEMPLATE,
        "crop_start": crop_start,
        "llama_max_length": LLAMA_LEN,
        "clip_max_length": CLIP_LEN,
        "llama3_rope": llama3_inv_freq(),
        "shapes": {k: list(v.shape) for k, v in sorted(tensors.items())},
    }
    (out / "cases.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")

    import make_clip_vocab_fixture  # imports this module: import here, not at the top

    make_clip_vocab_fixture.generate(out, out)
    return meta


def same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        print(f"differs: {a} vs {b}: {cmp.left_only} {cmp.right_only} {cmp.funny_files}")
        return False
    match, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    if mismatch or errors:
        print(f"differs: {a}: {mismatch} {errors}")
        return False
    return all(same_tree(a / d, b / d) for d in cmp.common_dirs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    meta = generate(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        if not same_tree(args.out, Path(tmp)):
            sys.exit("generation is not deterministic")
    print(f"wrote {args.out} (crop_start {meta['crop_start']})")
    for k, v in meta["shapes"].items():
        print(f"  {k}: {v}")


if __name__ == "__main__":
    main()
