"""Generation backends for multi-turn episodes: one model turn for a batch of token sequences.

A backend takes the running token sequences of the active episodes (prompt plus completion
so far) and returns each one's next turn as token ids *exactly as generated*, cut right after
the first stop string (``</search>``, ``</python>``, ``</answer>``) or end-of-sequence token.
The episode runner never re-tokenizes model text, so these ids are what the loss sees.

* :class:`TransformersGenerator`: plain ``model.generate``, the episodes of a step batched
  together (left padding), for CPU and single-GPU runs without vLLM. With ``dtype`` it
  generates from a copy of the model cast to that dtype (bf16 on CPUs that have it, see
  :mod:`smepo_env.models.precision`), made when the generator is built: a generator built
  after an optimizer step therefore samples from the updated weights. On a CPU its decode steps
  use :mod:`smepo_env.rollout.decode_attention` (1.7x faster generation in bf16).
* :class:`TrainerVLLMGenerator` (in :mod:`smepo_env.training.vllm_backend`) goes through
  TRL's own vLLM helper inside a GRPO run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from smepo_env.protocol import STOP_STRINGS

StopReason = Literal["stop", "eos", "length"]


@dataclass
class GeneratedTurn:
    """One model turn.

    Attributes:
        token_ids: the generated ids, cut after the stop string or the EOS token.
        logprobs: the sampling log-probability of each id (vLLM), or ``None``.
        stop_reason: ``"stop"`` (a stop string), ``"eos"`` or ``"length"`` (token budget).
    """

    token_ids: list[int]
    logprobs: list[float] | None
    stop_reason: StopReason


class TurnGenerator(Protocol):
    """What the episode runner needs from a generation backend."""

    def generate_turns(self, sequences: Sequence[Sequence[int]], max_new_tokens: int) -> list[GeneratedTurn]:
        """Generate the next turn of every sequence (all calls of a step may be collective)."""
        ...


def cut_at_stop(
    token_ids: Sequence[int],
    tokenizer: Any,
    stop_token_ids: set[int],
    stop_strings: Sequence[str] = STOP_STRINGS,
) -> tuple[list[int], StopReason]:
    """Cut raw generated ids after the first stop string or EOS/pad token.

    Batched ``generate`` fills finished rows with the pad token (often the EOS token too), so
    the ids are first cut at the first EOS/pad; a stop string before it wins (the row stopped
    on the string and the rest is padding); otherwise a real EOS is kept as the last id.

    Args:
        token_ids: ids as returned by the backend for this turn.
        tokenizer: decodes ids to find the stop strings.
        stop_token_ids: EOS ids and the pad id.
        stop_strings: the strings that end a turn.

    Returns:
        The ids to keep and why the turn ended.
    """
    ids = [int(t) for t in token_ids]
    end = next((i for i, t in enumerate(ids) if t in stop_token_ids), None)
    head = ids if end is None else ids[:end]
    text = tokenizer.decode(head, skip_special_tokens=False)
    if any(s in text for s in stop_strings):
        for k in range(1, len(head) + 1):
            if any(s in tokenizer.decode(head[:k], skip_special_tokens=False) for s in stop_strings):
                return head[:k], "stop"
    if end is not None:
        return ids[: end + 1], "eos"
    return ids, "length"


class TransformersGenerator:
    """Batched ``model.generate`` with stop strings; sampling or greedy.

    Args:
        model: a causal LM (already on its device).
        tokenizer: its tokenizer (needs a pad token).
        temperature: sampling temperature; 0 means greedy.
        top_p: nucleus sampling threshold.
        batch_size: most sequences per ``generate`` call (bounds memory).
        stop_strings: strings that end a turn.
        dtype: generate from a copy of ``model`` with its parameters cast to this torch dtype
            (``None`` or the model's own dtype: generate from ``model`` itself).
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        temperature: float = 1.0,
        top_p: float = 1.0,
        batch_size: int = 16,
        stop_strings: Sequence[str] = STOP_STRINGS,
        dtype: Any = None,
    ) -> None:
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
        if tokenizer.pad_token_id is None:
            raise ValueError("the tokenizer has no pad token; set tokenizer.pad_token first")
        self.source_model = model
        self.model = cast_copy(model, dtype) if dtype is not None and dtype != _model_dtype(model) else model
        self.tokenizer = tokenizer
        self.temperature = temperature
        self.top_p = top_p
        self.batch_size = batch_size
        self.stop_strings = tuple(stop_strings)
        eos = model.generation_config.eos_token_id if model.generation_config.eos_token_id is not None else []
        eos_ids = set(eos if isinstance(eos, list) else [eos])
        eos_ids.add(tokenizer.eos_token_id)
        self.eos_token_ids = sorted(i for i in eos_ids if i is not None)
        self.stop_token_ids = {*self.eos_token_ids, tokenizer.pad_token_id}

    def generate_turns(self, sequences: Sequence[Sequence[int]], max_new_tokens: int) -> list[GeneratedTurn]:
        """Generate one turn for each sequence, ``batch_size`` sequences per call."""
        turns: list[GeneratedTurn] = []
        for start in range(0, len(sequences), self.batch_size):
            turns += self._generate_batch(sequences[start : start + self.batch_size], max_new_tokens)
        return turns

    def _generate_batch(self, sequences: Sequence[Sequence[int]], max_new_tokens: int) -> list[GeneratedTurn]:
        import torch

        if not sequences:
            return []
        device = next(self.model.parameters()).device
        width = max(len(s) for s in sequences)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(s)) + list(s) for s in sequences], device=device)
        attention = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in sequences], device=device)
        sampling = self.temperature > 0
        options: dict[str, Any] = {"do_sample": sampling, "max_new_tokens": max_new_tokens}
        if sampling:
            options.update(temperature=self.temperature, top_p=self.top_p, top_k=0)
        from smepo_env.rollout.decode_attention import cpu_decode_attention

        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad(), cpu_decode_attention(self.model):
                output = self.model.generate(
                    input_ids=input_ids,
                    attention_mask=attention,
                    stop_strings=list(self.stop_strings),
                    tokenizer=self.tokenizer,
                    pad_token_id=pad,
                    eos_token_id=self.eos_token_ids,
                    **options,
                )
        finally:
            self.model.train(was_training)
        turns = []
        for row in output[:, width:].tolist():
            ids, reason = cut_at_stop(row, self.tokenizer, self.stop_token_ids, self.stop_strings)
            turns.append(GeneratedTurn(ids, None, reason))
        return turns


def _model_dtype(model: Any) -> Any:
    return next(model.parameters()).dtype


def cast_copy(model: Any, dtype: Any) -> Any:
    """A frozen copy of ``model`` for generation with its parameters cast to ``dtype``.

    Buffers keep their dtype (rotary frequencies stay float32, as ``from_pretrained(dtype=...)``
    leaves them); tied parameters stay tied. Parameters are cast one at a time, so the peak is
    the copy, not a second full-precision model.

    The copy runs its class's own ``forward``: forwards patched onto the instance are dropped.
    Inside a trainer the policy carries two: accelerate's mixed-precision wrapper (autocast) and
    TRL's fused LM head (``trl.trainer.utils.add_fused_lm_head``, TRL 1.16), which closes over
    the *original* model's forward. Copied along, the latter made the "bf16 copy" run the float32
    policy under autocast, recasting every weight at every decode step (in-trainer bf16 rollouts
    were slower than fp32).
    """
    import copy

    import torch

    memo: dict[int, Any] = {}
    for parameter in model.parameters():
        memo[id(parameter)] = torch.nn.Parameter(parameter.detach().to(dtype, copy=True), requires_grad=False)
    clone = copy.deepcopy(model, memo)
    for module in clone.modules():
        module.__dict__.pop("forward", None)
        module.__dict__.pop("_original_forward", None)  # accelerate keeps the unwrapped one here
    clone.eval()
    return clone
