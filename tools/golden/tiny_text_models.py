"""Tiny, deterministic HunyuanVideo text encoders and tokenizers built offline.

`save_tiny_text_encoders(root, seed)` writes a model folder laid out like the Hugging Face
diffusers HunyuanVideo repository, with tiny models:

  root/text_encoder/    transformers LlamaModel (hidden 16, intermediate 37, 4 heads, 2 KV
                        heads (GQA), 2 layers, vocab 1000, silu), config.json + model.safetensors
  root/tokenizer/       a Llama-3-style byte-level BPE: `<|begin_of_text|>` prepended by the
                        post-processor, `<|end_of_text|>`, `<|start_header_id|>`,
                        `<|end_header_id|>`, `<|eot_id|>` and a `<pad>` pad token
  root/text_encoder_2/  transformers CLIPTextModel (hidden 8, intermediate 37, 4 heads,
                        2 layers, quick_gelu)
  root/tokenizer_2/     a CLIP-style BPE (NFC + whitespace collapse + lowercase, `</w>` word
                        suffix, `<|startoftext|> ... <|endoftext|>` added by the post-processor,
                        padded with `<|endoftext|>`)

No network is needed: the tokenizers' BPE merges are learnt (deterministically) from a fixed
corpus (the HunyuanVideo prompt template and some prompts), and the models are initialised
from `torch.manual_seed(seed)`. Both tokenizers are saved as `PreTrainedTokenizerFast` with
right padding, so `AutoTokenizer.from_pretrained(dir)` loads them as they are.

The whole-pipeline fixture imports this module: keep `save_tiny_text_encoders` stable.
"""

from pathlib import Path

import torch
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
from tokenizers import processors
from transformers import (
    AutoTokenizer,
    CLIPTextConfig,
    CLIPTextModel,
    LlamaConfig,
    LlamaModel,
    PreTrainedTokenizerFast,
)

# HunyuanVideo's video prompt template (reference/hunyuanvideo_spec.md §3.1).
HUNYUAN_VIDEO_TEMPLATE = (
    "<|start_header_id|>system<|end_header_id|>\n\nDescribe the video by detailing the "
    "following aspects: 1. The main content and theme of the video.2. The color, shape, size, "
    "texture, quantity, text, and spatial relationships of the objects.3. Actions, events, "
    "behaviors temporal relationships, physical movement changes of the objects.4. background "
    "environment, light, style and atmosphere.5. camera angles, movements, and transitions "
    "used in the video:<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n{}<|eot_id|>"
)

# The fixed training corpus of both tokenizers.
CORPUS = [
    HUNYUAN_VIDEO_TEMPLATE.replace("{}", ""),
    "dance monkey",
    "A cat walks on the grass, realistic style.",
    "A panda eating bamboo in a misty forest, cinematic lighting, slow camera pan.",
    "An astronaut rides a horse across the surface of the moon, 4k, highly detailed.",
    "Close-up of raindrops falling on a window at night, city lights blurred behind.",
    "A red sports car drifting around a corner on a mountain road at sunset.",
    "Two dogs playing fetch on a sunny beach while waves crash in the background.",
    "Time-lapse of clouds moving over snowy peaks; the sky turns orange, then purple.",
    "A chef slices vegetables quickly in a busy kitchen, steam rising from the pots.",
    "Children fly colorful kites in a green park on a windy spring afternoon.",
]

LLAMA_SPECIALS = [
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
    "<pad>",
]
# Llama-3's pre-tokenizer split pattern.
LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# CLIP's pre-tokenizer split pattern.
CLIP_SPLIT = (
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"
)
LLAMA_VOCAB = 1000
CLIP_VOCAB = 1000


def _train_bpe(tok: Tokenizer, vocab_size: int, suffix: str = ""):
    """A small deterministic byte-level BPE trainer (the `tokenizers` trainer breaks ties
    between equally frequent pairs in hash order, so its output changes from run to run).

    Words are the corpus after `tok`'s normaliser and pre-tokeniser; the initial vocabulary is
    the 256 byte-level characters (and, with a `suffix`, each of them with the suffix, so no
    byte is ever unknown); then the most frequent adjacent pair is merged, ties broken by the
    smallest pair, until `vocab_size` entries. Returns `(vocab, merges)`."""
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {c: i for i, c in enumerate(alphabet)}
    if suffix:
        for c in alphabet:
            vocab[c + suffix] = len(vocab)
    counts = {}
    for text in CORPUS:
        if tok.normalizer is not None:
            text = tok.normalizer.normalize_str(text)
        for word, _ in tok.pre_tokenizer.pre_tokenize_str(text):
            counts[word] = counts.get(word, 0) + 1
    words = []
    for word, count in sorted(counts.items()):
        symbols = list(word)
        symbols[-1] += suffix
        words.append((symbols, count))
    merges = []
    while len(vocab) < vocab_size:
        pairs = {}
        for symbols, count in words:
            for pair in zip(symbols, symbols[1:]):
                pairs[pair] = pairs.get(pair, 0) + count
        if not pairs:
            break
        best = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merged = best[0] + best[1]
        merges.append(best)
        vocab.setdefault(merged, len(vocab))
        for symbols, _ in words:
            i = 0
            while i + 1 < len(symbols):
                if (symbols[i], symbols[i + 1]) == best:
                    symbols[i : i + 2] = [merged]
                i += 1
    return vocab, merges


def _llama_tokenizer() -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
        ]
    )
    vocab, merges = _train_bpe(tok, LLAMA_VOCAB - len(LLAMA_SPECIALS))
    tok.model = models.BPE(vocab, merges)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(LLAMA_SPECIALS)
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence(
        [
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(
                single="<|begin_of_text|> $A",
                pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1",
                special_tokens=[("<|begin_of_text|>", bos)],
            ),
        ]
    )
    assert tok.get_vocab_size() <= LLAMA_VOCAB, tok.get_vocab_size()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|begin_of_text|>",
        eos_token="<|eot_id|>",
        pad_token="<pad>",
        padding_side="right",
        model_max_length=1024,
    )


def _clip_tokenizer() -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(CLIP_SPLIT), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
        ]
    )
    vocab, merges = _train_bpe(tok, CLIP_VOCAB - 2, suffix="</w>")
    # Like CLIP, the special tokens are the last two entries of the BPE vocabulary.
    for special in ["<|startoftext|>", "<|endoftext|>"]:
        vocab[special] = len(vocab)
    tok.model = models.BPE(vocab, merges, unk_token="<|endoftext|>", end_of_word_suffix="</w>")
    tok.decoder = decoders.BPEDecoder(suffix="</w>")
    tok.add_special_tokens(["<|startoftext|>", "<|endoftext|>"])
    bos, eos = tok.token_to_id("<|startoftext|>"), tok.token_to_id("<|endoftext|>")
    tok.post_processor = processors.TemplateProcessing(
        single="<|startoftext|> $A <|endoftext|>",
        pair="<|startoftext|> $A <|endoftext|> $B:1 <|endoftext|>:1",
        special_tokens=[("<|startoftext|>", bos), ("<|endoftext|>", eos)],
    )
    assert tok.get_vocab_size() <= CLIP_VOCAB, tok.get_vocab_size()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|startoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        padding_side="right",
        model_max_length=77,
    )


def _randomise(model: torch.nn.Module, seed: int) -> None:
    """Re-initialises every parameter (norm weights too) with seeded normal values so no
    parameter is left at zero or one."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in sorted(model.named_parameters()):
            p.copy_(torch.randn(p.shape, generator=g) * 0.5 + (1.0 if p.ndim == 1 else 0.0))


def save_tiny_text_encoders(root: Path, seed: int = 0, llama_layers: int = 2):
    """Writes the tiny text encoders and tokenizers under `root` (see the module docs) and
    returns `(tokenizer, text_encoder, tokenizer_2, text_encoder_2)` loaded back from disk
    (transformers objects, f32, eval mode). `llama_layers` > 2 makes HunyuanVideo's
    `hidden_states[-3]` run decoder layers (with 2 it is the embedding output)."""
    root = Path(root)
    torch.manual_seed(seed)
    llama_tok = _llama_tokenizer()
    clip_tok = _clip_tokenizer()
    llama_cfg = LlamaConfig(
        vocab_size=LLAMA_VOCAB,
        hidden_size=16,
        intermediate_size=37,
        num_hidden_layers=llama_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        hidden_act="silu",
        max_position_embeddings=512,
        rms_norm_eps=1e-5,
        rope_theta=500000.0,
        bos_token_id=llama_tok.bos_token_id,
        eos_token_id=llama_tok.eos_token_id,
        pad_token_id=llama_tok.pad_token_id,
    )
    llama = LlamaModel(llama_cfg).eval()
    _randomise(llama, seed)
    clip_cfg = CLIPTextConfig(
        vocab_size=CLIP_VOCAB,
        hidden_size=8,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=77,
        hidden_act="quick_gelu",
        layer_norm_eps=1e-5,
        bos_token_id=clip_tok.bos_token_id,
        eos_token_id=clip_tok.eos_token_id,
        pad_token_id=clip_tok.pad_token_id,
    )
    clip = CLIPTextModel(clip_cfg).eval()
    _randomise(clip, seed + 1)

    llama.save_pretrained(root / "text_encoder", safe_serialization=True)
    llama_tok.save_pretrained(root / "tokenizer")
    clip.save_pretrained(root / "text_encoder_2", safe_serialization=True)
    clip_tok.save_pretrained(root / "tokenizer_2")

    return (
        AutoTokenizer.from_pretrained(root / "tokenizer"),
        LlamaModel.from_pretrained(root / "text_encoder").eval(),
        AutoTokenizer.from_pretrained(root / "tokenizer_2"),
        CLIPTextModel.from_pretrained(root / "text_encoder_2").eval(),
    )
