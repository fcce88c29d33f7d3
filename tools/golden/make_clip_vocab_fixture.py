#!/usr/bin/env python3
"""Golden fixture for loading a CLIP tokenizer folder that has no `tokenizer.json`.

A diffusers HunyuanVideo download's `tokenizer_2/` is often saved from transformers' slow
`CLIPTokenizer`: only `vocab.json`, `merges.txt`, `special_tokens_map.json` and
`tokenizer_config.json`. This script writes such a folder for the tiny CLIP-style BPE of
tiny_text_models.py (taken from `tokenizer_2/tokenizer.json`), laid out and spelt like a
slow-tokenizer save of openai/clip-vit-large-patch14, and records what transformers'
`CLIPTokenizer.from_pretrained` of that folder gives:

  tests/fixtures/text_encoders/tiny/tokenizer_2_slow/   the four files, nothing else
  tests/fixtures/text_encoders/tiny/clip_vocab_cases.json
      prompts (the text-encoder fixture prompts first, then extra cases: mixed case, extra
      whitespace, punctuation, digits, literal special tokens), max_length 77, and
      input_ids / attention_mask (padding="max_length", truncation=True) per prompt.

make_text_encoder_fixtures.py calls `generate` after writing `tokenizer_2/` (so
tools/golden/make_text_encoder_fixtures.sh regenerates these too, inside its determinism
check); run alone (after it) with: .venv/bin/python make_clip_vocab_fixture.py [--fixtures DIR]
(also checks determinism by generating twice)
"""

import argparse
import filecmp
import json
import sys
import tempfile
from pathlib import Path

import tokenizers
import transformers
from transformers import CLIPTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_text_encoder_fixtures import CLIP_LEN, DEFAULT_OUT, PROMPTS  # noqa: E402

EXTRA_PROMPTS = [
    "  Mixed CASE   with    EXTRA\n\n whitespace\t\t and\u00a0nbsp  ",
    "Punctuation!!! (brackets) [x] {y} <z> \"quotes\" 'single' "
    "it's don't we'll ... ?!; a-b_c/d\\e",
    "Digits 4k 1080p 2024 3.14 and cafe\u0301 (combining accent)",
    "literal <|startoftext|> and <|endoftext|> and <|STARTOFTEXT|> tokens",
]
SLOW_FILES = ["vocab.json", "merges.txt", "special_tokens_map.json", "tokenizer_config.json"]
BOS = "<|startoftext|>"
EOS = "<|endoftext|>"


def _token(content: str, normalized: bool) -> dict:
    """A serialised `AddedToken` as slow tokenizers save it."""
    return {
        "content": content,
        "lstrip": False,
        "normalized": normalized,
        "rstrip": False,
        "single_word": False,
    }


def write_slow_folder(tokenizer_json: Path, out: Path):
    """The four files of a slow `CLIPTokenizer.save_pretrained`, from `tokenizer.json`'s BPE."""
    model = json.loads(tokenizer_json.read_text())["model"]
    vocab = model["vocab"]
    out.mkdir(parents=True, exist_ok=True)
    # As CLIPTokenizer.save_vocabulary wrote them.
    (out / "vocab.json").write_text(
        json.dumps(vocab, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    merges = [m.split(" ") if isinstance(m, str) else m for m in model["merges"]]
    lines = ["#version: 0.2"] + [f"{a} {b}" for a, b in merges]
    (out / "merges.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "special_tokens_map.json").write_text(
        json.dumps(
            {
                "bos_token": _token(BOS, normalized=True),
                "eos_token": _token(EOS, normalized=True),
                "pad_token": EOS,
                "unk_token": _token(EOS, normalized=True),
            },
            indent=2,
        )
        + "\n"
    )
    # Like openai/clip-vit-large-patch14's: `<|startoftext|>` normalized, `<|endoftext|>` not.
    config = {
        "add_prefix_space": False,
        "added_tokens_decoder": {
            str(vocab[BOS]): {**_token(BOS, normalized=True), "special": True},
            str(vocab[EOS]): {**_token(EOS, normalized=False), "special": True},
        },
        "bos_token": BOS,
        "clean_up_tokenization_spaces": False,
        "do_lower_case": True,
        "eos_token": EOS,
        "errors": "replace",
        "model_max_length": CLIP_LEN,
        "pad_token": EOS,
        "tokenizer_class": "CLIPTokenizer",
        "unk_token": EOS,
    }
    (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")


def generate(fixtures: Path, out: Path):
    slow = out / "tokenizer_2_slow"
    write_slow_folder(fixtures / "tokenizer_2" / "tokenizer.json", slow)
    tok = CLIPTokenizer.from_pretrained(slow)
    assert type(tok).__name__ == "CLIPTokenizer", type(tok)
    prompts = PROMPTS + EXTRA_PROMPTS
    enc = tok(prompts, padding="max_length", max_length=CLIP_LEN, truncation=True)
    assert all(len(x) == CLIP_LEN for x in enc["input_ids"])
    assert all(enc["attention_mask"][len(PROMPTS) - 1]), "the long prompt is not truncated"
    cases = {
        "generator": "tools/golden/make_clip_vocab_fixture.py",
        "versions": {
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
        },
        "max_length": CLIP_LEN,
        "num_shared_prompts": len(PROMPTS),
        "prompts": prompts,
        "input_ids": enc["input_ids"],
        "attention_mask": enc["attention_mask"],
    }
    text = json.dumps(cases, indent=1, ensure_ascii=False)
    (out / "clip_vocab_cases.json").write_text(text + "\n", encoding="utf-8")
    return tok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fixtures", type=Path, default=DEFAULT_OUT)
    ap.add_argument(
        "--dump-backend", action="store_true", help="print the backend tokenizer JSON"
    )
    args = ap.parse_args()
    tok = generate(args.fixtures, args.fixtures)
    with tempfile.TemporaryDirectory() as tmp:
        generate(args.fixtures, Path(tmp))
        a, b = args.fixtures, Path(tmp)
        for rel in ["clip_vocab_cases.json"] + [
            f"tokenizer_2_slow/{n}"
            for n in SLOW_FILES
        ]:
            if not filecmp.cmp(a / rel, b / rel, shallow=False):
                sys.exit(f"generation is not deterministic: {rel}")
    if args.dump_backend:
        backend = json.loads(tok.backend_tokenizer.to_str())
        backend["model"].pop("vocab")
        backend["model"].pop("merges")
        print(json.dumps(backend, indent=1))
    print(f"wrote {args.fixtures / 'tokenizer_2_slow'} and clip_vocab_cases.json")


if __name__ == "__main__":
    main()
