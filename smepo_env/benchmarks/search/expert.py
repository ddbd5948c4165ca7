"""The scripted search expert: plays a search environment along a question's plan, records the trace.

For every hop the expert writes its plan in ``<think>``, searches, reads the returned
``<information>`` text and checks that the hop's evidence sentence is really there before it
states the finding; after the last hop it answers. Its trace is the concatenation of its
actions and the environment's observations, exactly the text a policy's completion would
be. A plan whose evidence the retriever does not return is reported as unsupported, and the
benchmark build drops that question, so the expert scores 1.0 on every bundled question.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import gymnasium as gym

from retrieval_index.base import Retriever
from smepo_env.benchmarks.search.plans import Hop, QuestionPlan
from smepo_env.tasks import Task


@dataclass
class ExpertEpisode:
    """One played episode of the expert."""

    actions: list[str]
    trace: str
    reward: float
    supported: bool


def choose_supported_queries(
    plans: Sequence[QuestionPlan], retriever: Retriever, k: int
) -> list[QuestionPlan | None]:
    """For each plan, pick per hop the first query whose top ``k`` holds the hop's gold passage.

    Returns the plans with those queries, or ``None`` for a plan with a hop no query supports.
    """
    chosen: list[list[Hop | None]] = [[None] * len(plan.hops) for plan in plans]
    pending = [(p, h, 0) for p, plan in enumerate(plans) for h in range(len(plan.hops))]
    while pending:
        candidates = []
        for p, h, attempt in pending:
            hop = plans[p].hops[h]
            options = (hop.query, *hop.alternative_queries)
            if attempt < len(options):
                candidates.append((p, h, attempt, options[attempt]))
        if not candidates:
            break
        results = retriever.batch_search([query for *_, query in candidates], k)
        pending = []
        for (p, h, attempt, query), hits in zip(candidates, results, strict=True):
            hop = plans[p].hops[h]
            if any(hit.passage.id == hop.gold_passage_id for hit in hits):
                chosen[p][h] = dataclasses.replace(hop, query=query)
            else:
                pending.append((p, h, attempt + 1))
    supported: list[QuestionPlan | None] = []
    for plan, hops in zip(plans, chosen, strict=True):
        supported.append(
            None if any(h is None for h in hops) else dataclasses.replace(plan, hops=tuple(hops))
        )  # type: ignore[arg-type]
    return supported


def play_expert(env: gym.Env[str, str], task: Task, plan: QuestionPlan) -> ExpertEpisode:
    """Play ``plan`` in ``env`` on ``task`` and return the actions, trace and reward."""
    env.reset(options={"task": task})
    actions: list[str] = []
    pieces: list[str] = []
    previous_conclusion = ""
    for hop in plan.hops:
        think = f"{previous_conclusion} {hop.plan}".strip()
        action = f"<think>{think}</think>\n<search>{hop.query}</search>"
        observation, _, terminated, truncated, _ = env.step(action)
        actions.append(action)
        pieces += [action, observation]
        if terminated or truncated or hop.evidence not in observation:
            return ExpertEpisode(actions, "".join(pieces), 0.0, supported=False)
        previous_conclusion = hop.conclusion
    final = (
        f"<think>{previous_conclusion} {plan.final_reasoning}".strip()
        + f"</think>\n<answer>{plan.answers[0]}</answer>"
    )
    _, reward, terminated, _, _ = env.step(final)
    actions.append(final)
    pieces.append(final)
    return ExpertEpisode(actions, "".join(pieces), reward, supported=terminated and reward == 1.0)
