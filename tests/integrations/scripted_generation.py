"""A stand-in for ``model.generate`` that plays recorded tool-calling conversations, token by token.

A tiny random model never emits a well-formed tool call, so a GRPO step with it alone would
never reach a tool. :class:`ScriptedGeneration` replaces the model's ``generate`` at the one
boundary TRL's transformers path calls: for each row of a batch it decodes the context, finds
which task and which turn it is at (the number of ``<tool_response>`` blocks so far), and
either answers with the next assistant turn of a recorded conversation, tokenized exactly as
the chat template renders it, or lets the real model generate. Everything else (TRL's
parsing of tool calls, the tool loop, our environments, the masks, the rewards, the loss and
the optimizer step) is the real thing.

Variants per task are assigned in turn to the rollouts of a group (their first turns differ,
so later turns can tell them apart); the name ``"model"`` means the model's own sampling, its
turns capped at a few dozen tokens.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

MODEL = "model"


def assistant_turn_texts(
    tokenizer: Any, messages: Sequence[Mapping[str, Any]], tools: Sequence[Any]
) -> list[str]:
    """Each assistant message of ``messages`` as the text a model writes after the generation prompt,
    up to and including the end-of-turn token."""
    turns = []
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = tokenizer.apply_chat_template(
            list(messages[:index]), tools=list(tools), tokenize=False, add_generation_prompt=True
        )
        through = tokenizer.apply_chat_template(
            list(messages[: index + 1]), tools=list(tools), tokenize=False
        )
        assert through.startswith(before), "the chat template is not prefix-preserving"
        text = through[len(before) :]
        end = text.rindex(tokenizer.eos_token) + len(tokenizer.eos_token)
        turns.append(text[:end])
    return turns


class ScriptedGeneration:
    """Replaces ``model.generate`` (see the module docstring).

    Args:
        model: the policy; its own ``generate`` serves the ``"model"`` rows.
        tokenizer: the policy's tokenizer.
        scripts: for each task, a marker text found in its prompt (the question) and the variants,
            each a name and its assistant turn texts (``None`` for the model's own sampling).
        order: the variant names in the order they are given to a task's successive rollouts.
        model_turn_tokens: the most tokens the model's own turns get (a random tiny model rarely
            stops by itself, and its long turns would only cost time).
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        scripts: Mapping[str, Mapping[str, list[str] | None]],
        order: Sequence[str],
        model_turn_tokens: int = 24,
    ) -> None:
        self.original_generate = model.generate
        self.model_config = model.generation_config
        self.model_turn_tokens = model_turn_tokens
        self.tokenizer = tokenizer
        self.scripts = {
            marker: {
                name: None if turns is None else [self._encode(t) for t in turns] for name, turns in v.items()
            }
            for marker, v in scripts.items()
        }
        self._texts = {marker: dict(variants) for marker, variants in scripts.items()}
        self._cycles = {marker: itertools.cycle(order) for marker in scripts}
        self.calls: list[list[tuple[str, str, int]]] = []
        """Per call, per row: (task marker, variant, turn index)."""

    def _encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False)

    def _row_plan(self, context: str) -> tuple[str, str, int]:
        markers = [marker for marker in self.scripts if marker in context]
        assert len(markers) == 1, f"expected one task marker in the prompt, found {markers}"
        marker = markers[0]
        turn = context.count("<tool_response>")
        if turn == 0:
            return marker, next(self._cycles[marker]), 0
        for name, texts in self._texts[marker].items():
            if texts is not None and turn < len(texts) and all(text in context for text in texts[:turn]):
                return marker, name, turn
        return marker, MODEL, turn

    def __call__(self, input_ids: Any, attention_mask: Any = None, **kwargs: Any) -> Any:
        import torch

        pad = self.tokenizer.pad_token_id
        contexts = [
            self.tokenizer.decode(row[mask.bool()] if attention_mask is not None else row)
            for row, mask in zip(
                input_ids, attention_mask if attention_mask is not None else input_ids, strict=True
            )
        ]
        plans = [self._row_plan(context) for context in contexts]
        self.calls.append(plans)
        new_tokens: list[list[int]] = [[] for _ in plans]
        model_rows = [i for i, (_, name, _) in enumerate(plans) if name == MODEL]
        for i, (marker, name, turn) in enumerate(plans):
            if name != MODEL:
                new_tokens[i] = list(self.scripts[marker][name][turn])
        if model_rows:
            rows = torch.tensor(model_rows)
            sub_mask = attention_mask[rows] if attention_mask is not None else None
            config = copy.deepcopy(kwargs.pop("generation_config", None) or self.model_config)
            config.max_new_tokens = self.model_turn_tokens
            generated = self.original_generate(
                input_ids=input_ids[rows], attention_mask=sub_mask, generation_config=config, **kwargs
            )
            for j, i in enumerate(model_rows):
                new_tokens[i] = generated[j, input_ids.shape[1] :].tolist()
        width = max(len(tokens) for tokens in new_tokens)
        continuation = torch.full((len(plans), width), pad, dtype=input_ids.dtype)
        for i, tokens in enumerate(new_tokens):
            continuation[i, : len(tokens)] = torch.tensor(tokens, dtype=input_ids.dtype)
        return torch.cat([input_ids, continuation.to(input_ids.device)], dim=1)
