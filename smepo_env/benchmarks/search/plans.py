"""Question plans: what a bundled question asks and the route the scripted expert takes.

A benchmark generator writes a :class:`QuestionPlan` per question: the question, its gold
answers, its type, and the hops. Each :class:`Hop` is one search the expert makes, the
passage that must come back for it (``gold_passage_id``), the sentence in that passage that
carries the fact (``evidence``), the value the hop finds (``finding``) and the reasoning the
expert writes after reading it. The expert (:mod:`smepo_env.benchmarks.search.expert`) plays these
hops in the environment itself, so its trace holds the real retrieved passages.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Hop:
    """One search of the expert's route.

    Attributes:
        plan: the reasoning written before the search ("First I need ...").
        query: the search query.
        gold_passage_id: the passage that must be among the top-k results.
        evidence: a substring of that passage stating the fact.
        finding: the value this hop finds (a bridge entity, an intermediate value, the answer).
        finding_kind: ``"bridge"``, ``"value"`` or ``"answer"`` (for the critical spans).
        conclusion: the reasoning written after reading the results.
        alternative_queries: fallbacks tried when ``query`` does not retrieve the passage.
    """

    plan: str
    query: str
    gold_passage_id: str
    evidence: str
    finding: str
    finding_kind: str
    conclusion: str
    alternative_queries: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuestionPlan:
    """A question, its answers, and the expert's route to them."""

    question: str
    answers: tuple[str, ...]
    question_type: str
    hops: tuple[Hop, ...]
    final_reasoning: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def critical_spans(self) -> list[dict[str, str]]:
        """The ground-truth critical spans: every hop's finding and the answer."""
        spans = []
        seen = set()
        for hop in self.hops:
            if hop.finding and hop.finding not in seen:
                spans.append({"text": hop.finding, "kind": hop.finding_kind})
                seen.add(hop.finding)
        if self.answers[0] not in seen:
            spans.append({"text": self.answers[0], "kind": "answer"})
        return spans

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)
