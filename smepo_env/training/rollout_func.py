"""The ``rollout_func`` handed to TRL's ``GRPOTrainer``: one generation = one multi-turn episode.

TRL calls it with the step's prompts (already repeated ``num_generations`` times) and the
trainer. Each prompt is mapped back to its task, a guided env is reset on that task, and all
the episodes of the step are played together by :func:`smepo_env.rollout.run_episodes`: the
model's turns through TRL's vLLM helper when ``use_vllm`` is on, else batched
``model.generate``. It returns what TRL expects: ``prompt_ids``, ``completion_ids``,
``logprobs`` (vLLM sampling log-probs, or ``None``), ``env_mask`` (0 on environment tokens;
TRL multiplies it into the loss mask) and per-episode extras that reach the reward function
as keyword arguments (``env_reward``, ``num_turns``, ``tool_calls``, ...).

Which prompts carry the guidance, and how much of the trace, is decided per task and step by a
:class:`~smepo_env.guidance.schedules.GuidanceSchedule` (``always`` by default): a guided task is
played in an env of the run's guidance mode, an unguided one in a plain env, and every finished
group is recorded back into the schedule.

Per-step episode metrics (turns, tool calls per tool, masked-token share, rollout tokens per second)
and guidance diagnostics (``guidance/guided_share``, ``guidance/shown_share``,
``guidance/guided_reward``, ``guidance/unguided_reward`` and ``guidance/copy_rate``, see
:mod:`smepo_env.rollout.diagnostics`; each only when the step has episodes it is defined on) are
appended to the trainer's metric buffers, so they are logged with TRL's own metrics (``reward``,
``frac_reward_zero_std``, ...) to every ``report_to`` target.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping, Sequence
from typing import Any

from smepo_env.evaluation.report import mean_tool_calls
from smepo_env.guidance.schedules import GuidanceDecision, GuidanceSchedule, set_shown_share
from smepo_env.rollout.diagnostics import copy_rate
from smepo_env.rollout.episodes import run_episodes
from smepo_env.rollout.generation import TransformersGenerator
from smepo_env.training.data import PromptIndex, make_env


def env_reward(completions: Sequence[Any], env_reward: Sequence[float], **_: Any) -> list[float]:
    """The reward function: the environment's terminal reward of each episode, unchanged."""
    return [float(r) for r in env_reward]


def zero_signal_rows(rewards: Sequence[float], group_size: int) -> list[bool]:
    """For each episode, whether every episode of its group earned the same reward.

    Groups are consecutive runs of ``group_size`` episodes, as TRL lays out a generation batch;
    such a group's advantages are all zero. A batch that is not whole groups marks nothing.
    """
    if group_size < 1 or len(rewards) % group_size:
        return [False] * len(rewards)
    flags: list[bool] = []
    for start in range(0, len(rewards), group_size):
        group = rewards[start : start + group_size]
        flags += [len(set(group)) == 1] * group_size
    return flags


class EpisodeRolloutFunction:
    """Plays a GRPO step's generations as env episodes.

    Args:
        env_id: the smepo environment id.
        env_kwargs: env constructor kwargs (split, max_turns, ...).
        expert_guidance: the guidance mode of the training prompts.
        prompt_index: maps dataset prompts to task ids.
        max_turn_tokens: the most tokens a model turn may generate.
        generation_dtype: without vLLM, generate from a copy of the policy in this torch dtype
            (bf16 on CPUs that have it), made at each step; ``None``: the policy itself.
        schedule: when prompts are guided; ``None``: ``always``, with ``env_kwargs``'s
            ``prefix_ratio`` (or the mode's default share).
    """

    def __init__(
        self,
        env_id: str,
        env_kwargs: Mapping[str, Any],
        expert_guidance: str,
        prompt_index: PromptIndex,
        max_turn_tokens: int,
        generation_dtype: Any = None,
        schedule: GuidanceSchedule | None = None,
    ) -> None:
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs)
        self.expert_guidance = expert_guidance
        self.prompt_index = prompt_index
        self.max_turn_tokens = max_turn_tokens
        self.generation_dtype = generation_dtype
        self.schedule = schedule or GuidanceSchedule(
            "always", expert_guidance, prefix_ratio=self.env_kwargs.get("prefix_ratio")
        )
        self._envs: list[Any] = []
        self._plain_envs: list[Any] = []

    def _env_pool(self, count: int) -> list[Any]:
        while len(self._envs) < count:
            self._envs.append(make_env(self.env_id, self.env_kwargs, self.expert_guidance))
        return self._envs[:count]

    def _envs_for(self, decisions: Sequence[GuidanceDecision]) -> list[Any]:
        """One env per episode: a guided env set to the decided share, or a plain one."""
        guided = iter(self._env_pool(sum(d.guided for d in decisions)))
        plain_kwargs = {k: v for k, v in self.env_kwargs.items() if k != "prefix_ratio"}
        while len(self._plain_envs) < sum(not d.guided for d in decisions):
            self._plain_envs.append(make_env(self.env_id, plain_kwargs, "none"))
        plain = iter(self._plain_envs)
        envs = []
        for decision in decisions:
            if decision.guided:
                envs.append(next(guided))
                set_shown_share(envs[-1], decision.shown_share)
            else:
                envs.append(next(plain))
        return envs

    def _play(self, trainer: Any, envs: list[Any], options: list[dict[str, Any]]) -> list[Any]:
        play = {
            "max_completion_tokens": trainer.args.max_completion_length,
            "max_turn_tokens": self.max_turn_tokens,
            "end_token_id": trainer.processing_class.eos_token_id,
        }
        # Every process makes the same number of generation calls (collective for vLLM server mode).
        keep_going = (
            _collective_keep_going(trainer.accelerator) if trainer.accelerator.num_processes > 1 else None
        )
        if getattr(trainer, "use_vllm", False):
            from smepo_env.training.vllm_backend import TrainerVLLMGenerator

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
                dtype=self.generation_dtype,
            )
            return run_episodes(
                generator, trainer.processing_class, envs, options, keep_going=keep_going, **play
            )

    def __call__(self, prompts: Sequence[Any], trainer: Any) -> dict[str, Any]:
        """Play one episode per prompt and return TRL's rollout dict."""
        started = time.perf_counter()
        task_ids = [self.prompt_index.task_id(p) for p in prompts]
        step = trainer.state.global_step
        decision_by_task = {task: self.schedule.decide(task, step) for task in dict.fromkeys(task_ids)}
        decisions = [decision_by_task[task] for task in task_ids]
        envs = self._envs_for(decisions)
        episodes = self._play(trainer, envs, [{"task_id": task} for task in task_ids])
        elapsed = time.perf_counter() - started
        for task, decision in decision_by_task.items():
            rewards = [e.reward for e, t in zip(episodes, task_ids, strict=True) if t == task]
            self.schedule.record(task, decision.guided, rewards)
        tools = {tool: 0 for env in envs for tool in env.unwrapped.tools}
        model_tokens = sum(sum(e.env_mask) for e in episodes)
        all_tokens = sum(len(e.env_mask) for e in episodes)
        metrics = {
            "episodes/turns": statistics.fmean(e.num_turns for e in episodes),
            **mean_tool_calls([{**tools, **e.tool_calls} for e in episodes], prefix="episodes/tool_calls/"),
            "episodes/answered": statistics.fmean(e.end_reason == "terminated" for e in episodes),
            "episodes/env_token_share": (all_tokens - model_tokens) / all_tokens if all_tokens else 0.0,
            "episodes/rollout_seconds": elapsed,
            "episodes/rollout_tokens_per_second": model_tokens / elapsed if elapsed > 0 else 0.0,
            **_guidance_metrics(episodes, decisions, [env.unwrapped.current_task.answers for env in envs]),
        }
        buffers = getattr(trainer, "_metrics", None)
        if buffers is not None:
            mode = "train" if trainer.model.training else "eval"
            for name, value in metrics.items():
                buffers[mode][name].append(value)
        note_zero_signal = getattr(trainer, "note_zero_signal_rows", None)
        if note_zero_signal is not None and list(getattr(trainer, "reward_funcs", ())) == [env_reward]:
            # Only the env reward scores episodes, so the rollout already knows which groups
            # carry no signal (smepo_env/training/trainer.py skips the model passes over them).
            note_zero_signal(zero_signal_rows([e.reward for e in episodes], trainer.num_generations))
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


def _guidance_metrics(
    episodes: Sequence[Any], decisions: Sequence[GuidanceDecision], answers: Sequence[Sequence[str]]
) -> dict[str, float]:
    """The step's guidance diagnostics (see the module docstring); undefined ones are left out."""
    guided = [d.guided for d in decisions]
    metrics = {"guidance/guided_share": statistics.fmean(guided)}
    guided_rewards = [e.reward for e, g in zip(episodes, guided, strict=True) if g]
    unguided_rewards = [e.reward for e, g in zip(episodes, guided, strict=True) if not g]
    if guided_rewards:
        metrics["guidance/guided_reward"] = statistics.fmean(guided_rewards)
        metrics["guidance/shown_share"] = statistics.fmean(d.shown_share for d in decisions if d.guided)
        metrics["guidance/copy_rate"] = copy_rate(
            [e.reward for e in episodes], [e.info.get("messages", []) for e in episodes], answers, guided
        )
    if unguided_rewards:
        metrics["guidance/unguided_reward"] = statistics.fmean(unguided_rewards)
    return metrics


def _collective_keep_going(accelerator: Any) -> Any:
    """A ``keep_going`` that continues while any process has an active episode (same answer everywhere)."""
    import torch

    def keep_going(n_active: int) -> bool:
        total = accelerator.reduce(torch.tensor([n_active], device=accelerator.device), reduction="sum")
        return bool(total.item() > 0)

    return keep_going
