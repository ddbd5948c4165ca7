"""Model turns through TRL's own vLLM helper (``trainer.vllm_generation``), for GPU runs.

With ``--use_vllm`` TRL builds ``trainer.vllm_generation`` (colocate: an in-process engine
sharing the GPU; server: a client of ``trl vllm-serve``) and syncs the policy's weights into
it before each step's rollout. Each turn of a multi-turn episode is one call of its
``generate`` on the running token sequences (prompt, earlier turns, observations), with
``num_generations=1`` because the step's prompts are already repeated. Stop strings are
passed through ``generation_kwargs`` (``stop``, ``include_stop_str_in_output``), which the
trainer sets when vLLM is on. The per-turn token budget is set on the helper for the call.

This path needs a CUDA machine with ``vllm`` installed; it is not exercised on CPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from smepo_env.protocol import STOP_STRINGS
from smepo_env.rollout.generation import GeneratedTurn, cut_at_stop

VLLM_STOP_KWARGS = {"stop": list(STOP_STRINGS), "include_stop_str_in_output": True}
"""``generation_kwargs`` that make vLLM end a turn after a protocol closing tag."""


class TrainerVLLMGenerator:
    """A :class:`~smepo_env.rollout.generation.TurnGenerator` over ``trainer.vllm_generation``."""

    def __init__(self, trainer: Any) -> None:
        self.trainer = trainer
        self.helper = trainer.vllm_generation
        tokenizer = trainer.processing_class
        self.tokenizer = tokenizer
        self.stop_token_ids = {*trainer.eos_token_ids, tokenizer.pad_token_id}

    def generate_turns(self, sequences: Sequence[Sequence[int]], max_new_tokens: int) -> list[GeneratedTurn]:
        """One turn per sequence; every process must call this the same number of times."""
        saved = self.helper.max_completion_length
        self.helper.max_completion_length = max_new_tokens
        try:
            _, completion_ids, logprobs, _ = self.helper.generate(
                prompts=[list(s) for s in sequences], images=None, num_generations=1
            )
        finally:
            self.helper.max_completion_length = saved
        turns = []
        for i, ids in enumerate(completion_ids):
            kept, reason = cut_at_stop(ids, self.tokenizer, self.stop_token_ids)
            token_logprobs = [lp[0] for lp in logprobs[i]][: len(kept)] if logprobs is not None else None
            turns.append(GeneratedTurn(kept, token_logprobs, reason))
        return turns
