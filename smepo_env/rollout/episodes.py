"""Multi-turn episodes as one assistant completion with the environment's text spliced in as tokens.

Search-R1 style: the prompt is the chat template's user message (the env's reset
observation, guidance included) followed by the assistant header. The model generates until
a stop string; the decoded turn goes to ``env.step``; the observation text is tokenized *on
its own* and its ids are appended to the running sequence with ``env_mask`` 0, and the model
continues from there. Model ids are kept exactly as generated and observation ids exactly as
tokenized, so ``completion_ids`` is the literal sequence the model was conditioned on (no
re-tokenization of the transcript, no drift) and ``env_mask`` is 1 on every model token and 0
on every environment token.

An episode ends when the env terminates or truncates (``max_turns``), when the model emits
its end-of-sequence token, or when the completion budget would be exceeded (the observation
that does not fit is not appended). The reward is the env's terminal reward (0 otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from smepo_env.rollout.generation import TurnGenerator


@dataclass
class Episode:
    """One finished episode.

    Attributes:
        prompt_ids: chat-templated prompt ids (ends with the assistant header).
        completion_ids: model turns and observations, in order.
        env_mask: 1 for model tokens, 0 for environment tokens (same length as completion_ids).
        logprobs: sampling log-probs per completion id (NaN-able ``None`` on env tokens), or None.
        reward: the env's terminal reward, 0.0 if the episode did not terminate.
        info: the env's last ``info``.
        prompt: the prompt text (the env's reset observation).
        actions: each model turn as decoded text.
        end_reason: ``"terminated"``, ``"truncated"``, ``"eos"`` or ``"budget"``.
    """

    prompt_ids: list[int]
    completion_ids: list[int] = field(default_factory=list)
    env_mask: list[int] = field(default_factory=list)
    logprobs: list[float | None] | None = None
    reward: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    prompt: str = ""
    actions: list[str] = field(default_factory=list)
    end_reason: str = ""

    @property
    def num_turns(self) -> int:
        """Model turns taken."""
        return len(self.actions)

    @property
    def tool_calls(self) -> dict[str, int]:
        """Tool calls made, counted per tool (``{"search": 2}``)."""
        return {str(tool): int(n) for tool, n in dict(self.info.get("tool_calls", {})).items()}

    def transcript(self, tokenizer: Any) -> str:
        """The completion as text (decoded from the ids, special tokens dropped)."""
        return tokenizer.decode(self.completion_ids, skip_special_tokens=True)


def chat_prompt_ids(tokenizer: Any, prompt: str) -> list[int]:
    """The prompt as one user message, chat-templated, with the assistant header appended."""
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
    )
    return list(tokenizer.encode(text, add_special_tokens=False))


def run_episodes(
    generator: TurnGenerator,
    tokenizer: Any,
    envs: Sequence[Any],
    reset_options: Sequence[Mapping[str, Any] | None],
    *,
    max_completion_tokens: int = 512,
    max_turn_tokens: int = 128,
    seeds: Sequence[int | None] | None = None,
    keep_going: Any = None,
    end_token_id: int | None = None,
) -> list[Episode]:
    """Play one episode in each env, batching every model turn across the active episodes.

    Args:
        generator: the generation backend (see :mod:`smepo_env.rollout.generation`).
        tokenizer: the policy's tokenizer.
        envs: one env per episode (``gym.make`` results).
        reset_options: ``options`` for each env's ``reset`` (e.g. ``{"task_id": ...}``).
        max_completion_tokens: the budget for model and observation tokens together.
        max_turn_tokens: the most tokens one model turn may generate.
        seeds: optional ``reset`` seed per env.
        keep_going: optional ``callable(n_active) -> bool`` consulted before each turn; a
            distributed caller uses it to keep every process making the same number of
            (collective) generation calls. Default: continue while any episode is active.
        end_token_id: when given, appended (``env_mask`` 0, never trained) to episodes the env
            terminated, so trainers that read "ends with EOS" as "finished" (TRL's
            ``mask_truncated_completions``, its clipped-ratio metric) see them as finished.

    Returns:
        The episodes, in the order of ``envs``.
    """
    if len(envs) != len(reset_options):
        raise ValueError(f"got {len(envs)} envs but {len(reset_options)} reset options")
    if max_completion_tokens < 1 or max_turn_tokens < 1:
        raise ValueError(
            f"max_completion_tokens and max_turn_tokens must be >= 1, "
            f"got {max_completion_tokens}, {max_turn_tokens}"
        )
    seeds = list(seeds) if seeds is not None else [None] * len(envs)
    episodes = []
    for env, options, seed in zip(envs, reset_options, seeds, strict=True):
        prompt, info = env.reset(seed=seed, options=dict(options) if options else None)
        episodes.append(Episode(prompt_ids=chat_prompt_ids(tokenizer, prompt), prompt=prompt, info=info))
    active = list(range(len(episodes)))
    while keep_going(len(active)) if keep_going is not None else active:
        budgets = [max_completion_tokens - len(episodes[i].completion_ids) for i in active]
        turn_tokens = min(max_turn_tokens, max(budgets, default=1))
        turns = generator.generate_turns(
            [episodes[i].prompt_ids + episodes[i].completion_ids for i in active], turn_tokens
        )
        still_active = []
        for i, turn, budget in zip(active, turns, budgets, strict=True):
            episode = episodes[i]
            if len(turn.token_ids) > budget:  # the batch ran longer than this episode's budget allows
                turn.token_ids, turn.stop_reason = turn.token_ids[:budget], "length"
                turn.logprobs = turn.logprobs[:budget] if turn.logprobs is not None else None
            _append(episode, turn.token_ids, 1, turn.logprobs)
            action = tokenizer.decode(turn.token_ids, skip_special_tokens=True)
            episode.actions.append(action)
            observation, reward, terminated, truncated, info = envs[i].step(action)
            episode.info = info
            if terminated or truncated:
                episode.reward = float(reward)
                episode.end_reason = "terminated" if terminated else "truncated"
                if terminated and end_token_id is not None:
                    _append(episode, [end_token_id], 0, None)
                continue
            if turn.stop_reason == "eos":
                episode.end_reason = "eos"
                continue
            observation_ids = list(tokenizer.encode(observation, add_special_tokens=False))
            if len(episode.completion_ids) + len(observation_ids) >= max_completion_tokens:
                episode.end_reason = "budget"
                continue
            _append(episode, observation_ids, 0, None)
            still_active.append(i)
        active = still_active
    return episodes


def _append(episode: Episode, ids: Sequence[int], mask: int, logprobs: Sequence[float] | None) -> None:
    episode.completion_ids += ids
    episode.env_mask += [mask] * len(ids)
    if logprobs is not None or episode.logprobs is not None:
        if episode.logprobs is None:
            episode.logprobs = [None] * (len(episode.completion_ids) - len(ids))
        episode.logprobs += list(logprobs) if logprobs is not None else [None] * len(ids)
