"""A tiny random chat model with a tokenizer trained locally, for tests and smoke runs.

The tokenizer is a byte-level BPE trained with ``tokenizers`` on the texts given (so any
text round-trips); the protocol tags (``<search>``, ``<answer>``, ...) are ordinary text,
never special tokens, because special tokens vanish in ``decode(skip_special_tokens=True)``.
The model is a 2-layer Qwen2 with random weights. Nothing is downloaded.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
"""ChatML, the format of SmolLM2 and Qwen2."""

SPECIAL_TOKENS = ("<|pad|>", "<|im_start|>", "<|im_end|>")


def build_tiny_model(
    directory: str | os.PathLike[str],
    texts: Iterable[str],
    *,
    vocab_size: int = 1000,
    hidden_size: int = 64,
    num_layers: int = 2,
    seed: int = 0,
    chat_template: str = CHAT_TEMPLATE,
) -> Path:
    """Train a tokenizer on ``texts``, build a tiny Qwen2 model, save both to ``directory``.

    Args:
        directory: where to save (created).
        texts: training text for the tokenizer (e.g. a benchmark's questions and passages).
        vocab_size: BPE vocabulary size, special tokens included.
        hidden_size: model width.
        num_layers: decoder layers.
        seed: torch seed for the random weights.
        chat_template: the tokenizer's chat template (default plain ChatML; pass
            ``trl.chat_template_utils.qwen2_5_chat_template`` for ChatML with tool calling).

    Returns:
        ``directory`` as a :class:`~pathlib.Path`.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, pad_token="<|pad|>", bos_token="<|im_start|>", eos_token="<|im_end|>"
    )
    tokenizer.chat_template = chat_template
    tokenizer.save_pretrained(out)

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    model = Qwen2ForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(out, safe_serialization=True)
    return out
