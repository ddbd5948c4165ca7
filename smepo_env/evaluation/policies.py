"""Scripted policies for evaluation: the expert oracle, the no-search floor, trivial heuristics.

* ``oracle``: replays the scripted expert's recorded actions (``metadata["expert_actions"]``);
  on a bundled benchmark it must score 1.0, which checks that every question is answerable
  with the default retriever.
* ``no-search`` (``no-tool``): answers at once, without any tool, with the most frequent training answer
  of the question's type: the floor a policy reaches without reading anything.
* ``first-entity``, ``last-entity``, ``frequent-entity``: search the question text once and
  answer with the first / last capitalised name of the top passage, or the most frequent one
  over all returned passages (names in the question excluded). A benchmark that measures
  search and reading keeps these far below the oracle.

A policy sees what a model sees (the prompt and the observations) plus the task record it is
evaluated on, which only the oracle and the floor use.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from smepo_env.protocol import parse_passages
from smepo_env.tasks import Task

_NAME = re.compile(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
_NOT_NAMES = {"It", "Its", "The", "Doc", "Title", "He", "She", "They", "In", "A", "An"}


class ScriptedPolicy:
    """Base class: one ``act`` per turn; ``start`` is called after every reset."""

    name = "scripted"

    def start(self, task: Task, prompt: str) -> None:
        """Begin an episode on ``task``."""
        self.task = task
        self.turn = 0

    def act(self, observation: str) -> str:
        """The next action given the last observation."""
        raise NotImplementedError


class OraclePolicy(ScriptedPolicy):
    """Replays the expert's recorded actions."""

    name = "oracle"

    def act(self, observation: str) -> str:
        actions = self.task.metadata.get("expert_actions") or []
        if self.turn >= len(actions):
            return "<answer>no expert actions recorded</answer>"
        self.turn += 1
        return str(actions[self.turn - 1])


class MajorityAnswerPolicy(ScriptedPolicy):
    """Answers immediately with the most frequent training answer of the question's type."""

    name = "no-search"

    def __init__(self, train_tasks: Sequence[Task], name: str = "no-search") -> None:
        self.name = name
        by_type: dict[str, Counter[str]] = {}
        overall: Counter[str] = Counter()
        for task in train_tasks:
            by_type.setdefault(task.question_type, Counter())[task.answers[0]] += 1
            overall[task.answers[0]] += 1
        self.by_type = {qtype: counts.most_common(1)[0][0] for qtype, counts in by_type.items()}
        self.default = overall.most_common(1)[0][0] if overall else "unknown"

    def act(self, observation: str) -> str:
        return f"<answer>{self.by_type.get(self.task.question_type, self.default)}</answer>"


def candidate_names(text: str, exclude: str = "") -> list[str]:
    """Capitalised names in ``text`` in order, without those that occur in ``exclude``."""
    names = []
    for match in _NAME.finditer(text):
        name = match.group(0).strip()
        words = name.split()
        while words and words[0] in _NOT_NAMES:
            words = words[1:]
        name = " ".join(words)
        if name and name not in exclude:
            names.append(name)
    return names


class EntityHeuristicPolicy(ScriptedPolicy):
    """Search the question once, then answer with a name picked by a trivial rule."""

    def __init__(self, rule: str) -> None:
        if rule not in ("first", "last", "frequent"):
            raise ValueError(f"rule must be 'first', 'last' or 'frequent', got {rule!r}")
        self.rule = rule
        self.name = f"{rule}-entity"

    def act(self, observation: str) -> str:
        self.turn += 1
        if self.turn == 1:
            return f"<search>{self.task.question}</search>"
        documents = parse_passages(observation)
        if not documents:
            return "<answer>unknown</answer>"
        if self.rule == "frequent":
            names = [n for _, text in documents for n in candidate_names(text, self.task.question)]
            choice = Counter(names).most_common(1)[0][0] if names else ""
        else:
            names = candidate_names(documents[0][1], self.task.question)
            choice = (names[0] if self.rule == "first" else names[-1]) if names else ""
        return f"<answer>{choice or 'unknown'}</answer>"


SCRIPTED_POLICIES = ("oracle", "no-search", "no-tool", "first-entity", "last-entity", "frequent-entity")
"""``no-tool`` is ``no-search`` under the name the math and code benchmarks use."""


def make_scripted_policy(name: str, train_tasks: Sequence[Task]) -> ScriptedPolicy:
    """Build a scripted policy by name (see :data:`SCRIPTED_POLICIES`)."""
    if name == "oracle":
        return OraclePolicy()
    if name in ("no-search", "no-tool"):
        return MajorityAnswerPolicy(train_tasks, name=name)
    if name.endswith("-entity"):
        return EntityHeuristicPolicy(name.removesuffix("-entity"))
    raise ValueError(f"unknown scripted policy {name!r}; expected one of {list(SCRIPTED_POLICIES)}")
