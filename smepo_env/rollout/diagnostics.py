"""Diagnostics of guided episodes: did the policy find the answer, or copy it from the guidance?

SMEPO's claim is that a visible expert trace teaches copying (the answer is in the prompt, so
the policy writes it down without searching), and that masking the reward-relevant spans
prevents it. The **copy rate** measures that directly on training episodes:

    copy rate = (guided episodes that earned reward although no environment observation of the
                 episode contained a gold answer) / (guided episodes)

An *environment observation* is every message the environment added after the prompt (tool
outputs such as ``<information>`` passages, and format-error notices); *contained* is
normalized, word-boundary exact match of any gold answer
(:func:`smepo_env.masking.normalize.contains_answer`, the equality the reward uses). So an
episode counts as a copy when it answered correctly and no search it made (or could have made
and read) showed the answer: the answer can only have come from the prompt, or from a lucky
guess. For an env whose tools never print answers (math without tools), every correct guided
episode counts, so the figure is meaningful for retrieval-style tools, where an honest answer
needs evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from smepo_env.masking.normalize import contains_answer


def observation_texts(messages: Sequence[Mapping[str, Any]]) -> list[str]:
    """The environment's messages after the prompt (the first user message), in order."""
    users = [str(m.get("content", "")) for m in messages if m.get("role") == "user"]
    return users[1:]


def answer_in_observations(messages: Sequence[Mapping[str, Any]], answers: Sequence[str]) -> bool:
    """Whether any environment observation of an episode contains one of ``answers``."""
    return any(contains_answer(text, answers) for text in observation_texts(messages))


def answered_without_evidence(
    reward: float, messages: Sequence[Mapping[str, Any]], answers: Sequence[str]
) -> bool:
    """Whether an episode earned reward although no observation showed a gold answer."""
    return reward > 0.0 and not answer_in_observations(messages, answers)


def copy_rate(
    rewards: Sequence[float],
    messages: Sequence[Sequence[Mapping[str, Any]]],
    answers: Sequence[Sequence[str]],
    guided: Sequence[bool],
) -> float | None:
    """The copy rate of a batch of episodes (see the module docstring); ``None`` when none is guided.

    Args:
        rewards: each episode's terminal reward.
        messages: each episode's chat messages (the env's ``info["messages"]``).
        answers: each episode's gold answers.
        guided: whether each episode's prompt carried the expert trace.

    Raises:
        ValueError: the sequences differ in length.
    """
    if not len(rewards) == len(messages) == len(answers) == len(guided):
        raise ValueError(
            f"rewards, messages, answers and guided differ in length: "
            f"{len(rewards)}, {len(messages)}, {len(answers)}, {len(guided)}"
        )
    copied = [
        answered_without_evidence(r, m, a)
        for r, m, a, g in zip(rewards, messages, answers, guided, strict=True)
        if g
    ]
    return sum(copied) / len(copied) if copied else None
