"""The ``rollout_func`` handed to TRL's ``GRPOTrainer``: one generation = one multi-turn episode.

TRL calls it with the step's prompts (already repeated ``num_generations`` times) and the
trainer. Each prompt is mapped back to its task, a guided env is reset on that task, and all
the episodes of the step are played together by :func:`smepo_env.rollout.run_episodes`: the
model's turns through TRL's vLLM helper when ``use_vllm`` is on, else batched
``model.generate``. It returns what TRL expects: ``prompt_ids``, ``completion_ids``,
``logprobs`` (vLLM sampling log-probs, or ``None``), ``env_mask`` (0 on environment tokens;
TRL multiplies it into the loss mask) and per-episode extras that reach the reward function
as keyword arguments (``env_reward``, ``num_turns``, ``tool_calls``, ...).

Per-step episode metrics (turns, tool calls per tool, masked-token share, rollout tokens per second) are
appended to the trainer's metric buffers, so they are logged with TRL's own metrics to every
``report_to`` target.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping, Sequence
from typing import Any

from smepo_env.evaluation.report import mean_tool_calls
from smepo_env.rollout.episodes import run_episodes
from smepo_env.rollout.generation import TransformersGenerator
from smepo_env.training.data import PromptIndex, make_env


def env_reward(completions: Sequence[Any], env_reward: Sequence[float], **_: Any) -> list[float]:
    """The reward function: the environment's terminal reward of each episode, unchanged."""
    return [float(r) for r in env_reward]


class EpisodeRolloutFunction:
    """Plays a GRPO step's generations as env episodes.

    Args:
        env_id: the smepo environment id.
        env_kwargs: env constructor kwargs (split, max_turns, ...).
        expert_guidance: the guidance mode of the training prompts.
        prompt_index: maps dataset prompts to task ids.
        max_turn_tokens: the most tokens a model turn may generate.
    """

    def __init__(
        self,
        env_id: str,
        env_kwargs: Mapping[str, Any],
        expert_guidance: str,
        prompt_index: PromptIndex,
        max_turn_tokens: int,
    ) -> None:
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs)
        self.expert_guidance = expert_guidance
        self.prompt_index = prompt_index
        self.max_turn_tokens = max_turn_tokens
        self._envs: list[Any] = []

    def _env_pool(self, count: int) -> list[Any]:
        while len(self._envs) < count:
            self._envs.append(make_env(self.env_id, self.env_kwargs, self.expert_guidance))
        return self._envs[:count]

    def _play(self, trainer: Any, envs: list[Any], options: list[dict[str, Any]]) -> list[Any]:
        play = {
            "max_completion_tokens": trainer.args.max_completion_length,
            "max_turn_tokens": self.max_turn_tokens,
            "end_token_id": trainer.processing_class.eos_token_id,
        }
        if getattr(trainer, "use_vllm", False):
            from smepo_env.training.vllm_backend import TrainerVLLMGenerator

            keep_going = (
                _collective_keep_going(trainer.accelerator) if trainer.accelerator.num_processes > 1 else None
            )
            generator = TrainerVLLMGenerator(trainer)
            return run_episodes(
                generator, trainer.processing_class, envs, options, keep_going=keep_going, **play
            )
        from trl.models import unwrap_model_for_generation

        with unwrap_model_for_generation(trainer.model_wrapped, trainer.accelerator) as model:
            generator = TransformersGenerator(
                model,
                trainer.processing_class,
                temperature=trainer.args.temperature,
                top_p=trainer.args.top_p,
                batch_size=max(1, len(envs)),
            )
            return run_episodes(generator, trainer.processing_class, envs, options, **play)

    def __call__(self, prompts: Sequence[Any], trainer: Any) -> dict[str, Any]:
        """Play one episode per prompt and return TRL's rollout dict."""
        started = time.perf_counter()
        options = [{"task_id": self.prompt_index.task_id(p)} for p in prompts]
        episodes = self._play(trainer, self._env_pool(len(prompts)), options)
        elapsed = time.perf_counter() - started
        model_tokens = sum(sum(e.env_mask) for e in episodes)
        all_tokens = sum(len(e.env_mask) for e in episodes)
        metrics = {
            "episodes/turns": statistics.fmean(e.num_turns for e in episodes),
            **mean_tool_calls([e.tool_calls for e in episodes], prefix="episodes/tool_calls/"),
            "episodes/answered": statistics.fmean(e.end_reason == "terminated" for e in episodes),
            "episodes/env_token_share": (all_tokens - model_tokens) / all_tokens if all_tokens else 0.0,
            "episodes/rollout_seconds": elapsed,
            "episodes/rollout_tokens_per_second": model_tokens / elapsed if elapsed > 0 else 0.0,
        }
        buffers = getattr(trainer, "_metrics", None)
        if buffers is not None:
            mode = "train" if trainer.model.training else "eval"
            for name, value in metrics.items():
                buffers[mode][name].append(value)
        has_logprobs = any(e.logprobs is not None for e in episodes)
        return {
            "prompt_ids": [e.prompt_ids for e in episodes],
            "completion_ids": [e.completion_ids for e in episodes],
            "logprobs": [e.logprobs or [None] * len(e.completion_ids) for e in episodes]
            if has_logprobs
            else None,
            "env_mask": [e.env_mask for e in episodes],
            "env_reward": [e.reward for e in episodes],
            "num_turns": [e.num_turns for e in episodes],
            "tool_calls": [e.tool_calls for e in episodes],
            "end_reason": [e.end_reason for e in episodes],
        }


def _collective_keep_going(accelerator: Any) -> Any:
    """A ``keep_going`` that continues while any process has an active episode (same answer everywhere)."""
    import torch

    def keep_going(n_active: int) -> bool:
        total = accelerator.reduce(torch.tensor([n_active], device=accelerator.device), reduction="sum")
        return bool(total.item() > 0)

    return keep_going
