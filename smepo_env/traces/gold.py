"""Expert traces without a teacher: the gold decompositions of MuSiQue, 2Wiki and HotpotQA, played.

A :class:`GoldPlan` is a question's gold route (:func:`smepo_env.loaders.multihop.gold_hops`)
written as the expert's actions: per hop a short reasoning line that names what the previous
search found (the bridge answer) and one ``<search>`` (the sub-question with earlier answers
substituted; on a retry, the hop's supporting title), then the final ``<think>`` naming the
last finding and ``<answer>``. The plan is played in the environment like any policy (the
teacher :class:`~smepo_env.traces.teachers.GoldTeacher`), so the trace holds the real retrieved
passages. :func:`check_gold_episode` keeps a trace only when each hop's search really returned
its answer at the env's top-k (the hop's answer, the gold answer on the last hop, or the
supporting title where the dataset names no answer) and says why otherwise.

Critical spans (:meth:`GoldPlan.critical_spans`): the hop answers (``bridge`` or ``value``) and
the gold answer (``answer``), so the masking audit runs on real questions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from smepo_env.loaders.multihop import GoldHop, gold_hops
from smepo_env.masking.normalize import contains_answer
from smepo_env.protocol import parse_action, parse_passages
from smepo_env.tasks import Task

QUERY_VARIANTS: tuple[str, ...] = ("sub-question", "title")
"""What attempt ``k`` searches per hop: the sub-question (attempt 0), the supporting title (1+)."""


@dataclass(frozen=True)
class GoldPlan:
    """A question's gold route as actions.

    Attributes:
        hops: the hops, in order.
        answer: the answer written at the end (the first gold answer).
    """

    hops: tuple[GoldHop, ...]
    answer: str

    def query(self, hop: GoldHop, attempt: int = 0) -> str:
        """The hop's search on ``attempt``: the sub-question first, its supporting title after."""
        return hop.titles[0] if attempt > 0 and hop.titles else hop.query

    def actions(self, attempt: int = 0) -> list[str]:
        """The expert's turns: one ``<think>…</think>\\n<search>…</search>`` per hop, then the answer."""
        actions = []
        for number, hop in enumerate(self.hops):
            lead = "First" if number == 0 else f"{_finding(self.hops[number - 1])} Next"
            think = f"{lead} I search for {hop.query}."
            actions.append(f"<think>{think}</think>\n<search>{self.query(hop, attempt)}</search>")
        last = f"{_finding(self.hops[-1])} " if self.hops else ""
        actions.append(
            f"<think>{last}So the answer is {self.answer}.</think>\n<answer>{self.answer}</answer>"
        )
        return actions

    def critical_spans(self) -> list[dict[str, str]]:
        """Hop answers (``bridge`` / ``value``) and the gold answer (``answer``), each once."""
        spans: list[dict[str, str]] = []
        seen: set[str] = set()
        for hop in self.hops:
            if (
                hop.answer
                and hop.answer.casefold() not in seen
                and hop.answer.casefold() != self.answer.casefold()
            ):
                spans.append({"text": hop.answer, "kind": "value" if hop.kind == "value" else "bridge"})
                seen.add(hop.answer.casefold())
        spans.append({"text": self.answer, "kind": "answer"})
        return spans


def _finding(hop: GoldHop) -> str:
    """The reasoning line after a hop's search: what it found (the bridge answer, by name)."""
    if hop.answer and hop.query in hop.titles:
        return f"The passage on {hop.query} names {hop.answer}."
    if hop.answer and " of " in hop.query and not hop.query.endswith("?"):
        return f"The passages say the {hop.query} is {hop.answer}."
    if hop.answer:
        return f"The passages answer {hop.query!r} with {hop.answer}."
    title = hop.titles[0] if hop.titles else hop.query
    return (
        f"The passage on {title} has the answer."
        if hop.kind == "answer"
        else f"The passages describe {title}."
    )


def gold_plan(task: Task) -> GoldPlan | None:
    """The gold plan of a FlashRAG task, or ``None`` when its dataset carries no gold route."""
    metadata = task.metadata.get("flashrag")
    if not isinstance(metadata, Mapping):
        return None
    hops = gold_hops(str(task.metadata.get("dataset") or task.benchmark), task.question, metadata)
    if not hops:
        return None
    return GoldPlan(tuple(hops), task.answers[0])


def check_gold_episode(
    plan: GoldPlan, answers: Sequence[str], messages: Sequence[Mapping[str, str]], top_k: int | None = None
) -> str | None:
    """Why a played gold episode cannot be kept, or ``None`` when each hop's search returned its answer.

    Args:
        plan: the plan played.
        answers: the task's gold answers (accepted on the last hop besides the hop's own answer).
        messages: the episode's chat (``info["messages"]``): prompt, then action / observation pairs.
        top_k: the env's passages per search, for the message.
    """
    observations = [m["content"] for m in messages[2::2] if m.get("role") == "user"]
    queries = [parse_action(m["content"]).content for m in messages[1::2] if m.get("role") == "assistant"]
    at_k = f" at top-{top_k}" if top_k else ""
    for number, hop in enumerate(plan.hops, start=1):
        if number > len(observations):
            return f"hop {number}: the episode ended before its search"
        passages = parse_passages(observations[number - 1])
        query = queries[number - 1] if number <= len(queries) else hop.query
        observation = "\n".join(f"{title}. {text}" for title, text in passages)  # read without the tags
        if hop.answer:
            expected = [hop.answer, *answers] if hop.kind == "answer" else [hop.answer]
            if not contains_answer(observation, expected):
                return f"hop {number} ({query!r}): {hop.answer!r} is not in the passages{at_k}"
        elif hop.kind == "answer" and not contains_answer(observation, answers):
            return f"hop {number} ({query!r}): the answer {answers[0]!r} is not in the passages{at_k}"
        elif not hop.answer and hop.kind != "answer":
            titles = {title.casefold() for title, _ in passages}
            if not any(title.casefold() in titles for title in hop.titles):
                return f"hop {number} ({query!r}): no passage titled {hop.titles[0]!r}{at_k}"
    return None


def with_gold_actions(tasks: Sequence[Task], attempt: int = 0) -> list[Task]:
    """The tasks with their gold plan's actions in ``metadata["expert_actions"]`` (what the
    evaluation ``oracle`` policy replays) and its critical spans; tasks without a route unchanged."""
    result = []
    for task in tasks:
        plan = gold_plan(task)
        if plan is None:
            result.append(task)
            continue
        metadata = {**task.metadata, "expert_actions": plan.actions(attempt)}
        result.append(replace(task, metadata=metadata, critical_spans=tuple(plan.critical_spans())))
    return result
