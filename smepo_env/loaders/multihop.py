"""The gold route and the paragraphs of a multi-hop QA row, read from its FlashRAG ``metadata``.

FlashRAG keeps each dataset's own annotation in ``metadata`` (some copies one level deeper,
``metadata.metadata``; :func:`unwrap_metadata` merges the two). Both the columnar form of the
Hugging Face copies (``{"title": [...], "sent_id": [...]}``) and the row form of the original
releases (``[[title, sent_id], ...]``) are read:

* HotpotQA: ``type`` (``bridge`` / ``comparison``), ``level``, ``supporting_facts {title,
  sent_id}`` and ``context {title, sentences}``.
* 2WikiMultihopQA: ``type`` (``compositional``, ``comparison``, ``inference``,
  ``bridge_comparison``), ``supporting_facts {title, sent_id}``, ``context {title, content}``
  and ``evidences`` (subject, relation, object triples; columnar ``{fact, relation, entity}``
  in the Hugging Face copy).
* MuSiQue: ``question_decomposition`` (each hop: ``question`` such as ``"#1 >> place of
  birth"`` or ``"Who founded #1?"``, ``answer``, ``paragraph_support_idx`` and, in FlashRAG's
  copy, the ``support_paragraph`` itself) and ``paragraphs`` (``idx``, ``title``,
  ``paragraph_text``, ``is_supporting``) where the copy keeps them.

:func:`gold_hops` turns this into one :class:`GoldHop` per hop: the search to make (the
sub-question with earlier answers substituted), alternatives (the supporting titles), and the
hop's answer where the dataset gives one. :func:`context_paragraphs` returns the paragraphs a
distractor-setting corpus is built from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_HOP_REFERENCE = re.compile(r"#(\d+)")


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of a row's context.

    Attributes:
        title: its Wikipedia title.
        text: its text (sentences joined with spaces).
        supporting: whether the dataset marks it as supporting the answer.
    """

    title: str
    text: str
    supporting: bool = False


@dataclass(frozen=True)
class GoldHop:
    """One hop of a question's gold route.

    Attributes:
        query: the search the expert makes (the sub-question with earlier answers substituted).
        answer: the hop's answer, ``""`` where the dataset gives none (HotpotQA).
        titles: titles of the paragraphs that support the hop (alternative searches, and the
            check when there is no answer).
        kind: the answer's critical-span kind: ``"bridge"`` (an entity a later hop builds on),
            ``"value"`` (a fact compared at the end) or ``"answer"`` (the last hop's answer).
    """

    query: str
    answer: str = ""
    titles: tuple[str, ...] = ()
    kind: str = "bridge"


STRUCTURED_KEYS: tuple[str, ...] = (
    "metadata",
    "supporting_facts",
    "context",
    "evidences",
    "question_decomposition",
    "paragraphs",
)
"""Metadata fields that hold structure. ``datasets`` >= 5 writes fields whose shape varies across
rows as JSON text (its ``Json`` feature), so these are decoded when they arrive as strings."""


def _decoded(value: Any) -> Any:
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def unwrap_metadata(metadata: Any) -> dict[str, Any]:
    """A row's metadata as a dict: JSON text decoded, a nested ``metadata.metadata`` merged in
    (inner keys win), structured fields stored as JSON text decoded."""
    metadata = _decoded(metadata)
    if not isinstance(metadata, Mapping):
        return {}
    merged = {k: v for k, v in metadata.items() if k != "metadata"}
    inner = _decoded(metadata.get("metadata"))
    if isinstance(inner, Mapping):
        merged.update({k: v for k, v in inner.items() if v is not None})
    return {k: _decoded(v) if k in STRUCTURED_KEYS else v for k, v in merged.items()}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else []


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _pairs(value: Any, first: str, second: str) -> list[tuple[Any, Any]]:
    """Read ``{first: [...], second: [...]}`` or ``[[a, b], ...]`` (or dicts with those keys) as pairs."""
    if isinstance(value, Mapping):
        return list(zip(_list(value.get(first)), _list(value.get(second)), strict=False))
    pairs = []
    for item in _list(value):
        if isinstance(item, Mapping):
            pairs.append((item.get(first), item.get(second)))
        elif isinstance(item, Sequence) and not isinstance(item, str) and len(item) >= 2:
            pairs.append((item[0], item[1]))
    return pairs


def _join_sentences(sentences: Any) -> str:
    if isinstance(sentences, str):
        return _text(sentences)
    return _text(" ".join(str(s) for s in _list(sentences) if s is not None))


def supporting_titles(metadata: Mapping[str, Any]) -> list[str]:
    """Titles of ``supporting_facts`` in order, each once."""
    titles = [_text(title) for title, _ in _pairs(metadata.get("supporting_facts"), "title", "sent_id")]
    return list(dict.fromkeys(t for t in titles if t))


def evidence_triples(metadata: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """2Wiki ``evidences`` as (subject, relation, object) triples, from either layout."""
    evidences = metadata.get("evidences")
    if isinstance(evidences, Mapping):
        columns = [_list(evidences.get(key)) for key in ("fact", "relation", "entity")]
        rows: list[Any] = list(zip(*columns, strict=False))
    else:
        rows = _list(evidences)
    triples = []
    for row in rows:
        if isinstance(row, Sequence) and not isinstance(row, str) and len(row) >= 3:
            subject, relation, obj = (_text(part) for part in row[:3])
            if subject and relation and obj:
                triples.append((subject, relation, obj))
    return triples


def _musique_paragraphs(metadata: Mapping[str, Any]) -> list[Paragraph]:
    paragraphs = []
    for item in _list(metadata.get("paragraphs")):
        if isinstance(item, Mapping) and item.get("paragraph_text"):
            paragraphs.append(
                Paragraph(
                    _text(item.get("title")), _text(item["paragraph_text"]), bool(item.get("is_supporting"))
                )
            )
    if paragraphs:
        return paragraphs
    for step in _list(metadata.get("question_decomposition")):
        support = step.get("support_paragraph") if isinstance(step, Mapping) else None
        if isinstance(support, Mapping) and support.get("paragraph_text"):
            paragraphs.append(Paragraph(_text(support.get("title")), _text(support["paragraph_text"]), True))
    return paragraphs


def context_paragraphs(metadata: Mapping[str, Any]) -> list[Paragraph]:
    """Every paragraph the row carries (HotpotQA/2Wiki ``context``, MuSiQue ``paragraphs`` or its
    hops' ``support_paragraph``), supporting ones flagged; ``[]`` for rows without any."""
    context = metadata.get("context")
    if context is None:
        return _musique_paragraphs(metadata)
    if isinstance(context, Mapping):
        body_key = "sentences" if context.get("sentences") is not None else "content"
        pairs = _pairs(context, "title", body_key)
    else:
        pairs = _pairs(context, "title", "sentences")
    support = set(supporting_titles(metadata))
    paragraphs = []
    for title, sentences in pairs:
        text = _join_sentences(sentences)
        if text:
            paragraphs.append(Paragraph(_text(title), text, _text(title) in support))
    return paragraphs


def musique_hop_count(metadata: Mapping[str, Any], row_id: str = "") -> int:
    """Hops of a MuSiQue question: its decomposition's length, else the ``Nhop__`` id prefix, else 0."""
    steps = _list(metadata.get("question_decomposition"))
    if steps:
        return len(steps)
    match = re.match(r"(\d)hop", row_id)
    return int(match.group(1)) if match else 0


def _substitute(question: str, answers: Sequence[str]) -> str:
    """Replace ``#k`` with the k-th hop's answer and write ``"X >> relation"`` as ``"relation of X"``."""

    def answer_of(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return answers[index] if 0 <= index < len(answers) else match.group(0)

    text = _HOP_REFERENCE.sub(answer_of, question)
    if ">>" in text:
        subject, _, relation = text.partition(">>")
        text = f"{relation.strip()} of {subject.strip()}"
    return _text(text)


def _musique_hops(metadata: Mapping[str, Any]) -> list[GoldHop]:
    """One search per decomposition step, ``#k`` replaced by the k-th answer; the support
    paragraph's title (inline, or found by ``paragraph_support_idx``) is the alternative search."""
    titles_by_idx = {
        item.get("idx"): _text(item.get("title"))
        for item in _list(metadata.get("paragraphs"))
        if isinstance(item, Mapping)
    }
    steps = [s for s in _list(metadata.get("question_decomposition")) if isinstance(s, Mapping)]
    answers: list[str] = []
    hops = []
    for number, step in enumerate(steps, start=1):
        answer = _text(step.get("answer"))
        query = _substitute(str(step.get("question") or ""), answers)
        support = step.get("support_paragraph")
        title = _text(support.get("title")) if isinstance(support, Mapping) else ""
        title = title or titles_by_idx.get(step.get("paragraph_support_idx"), "")
        kind = "answer" if number == len(steps) else "bridge"
        hops.append(GoldHop(query, answer, (title,) if title else (), kind))
        answers.append(answer)
    return hops


def _wiki2_hops(metadata: Mapping[str, Any]) -> list[GoldHop]:
    """One search per evidence triple, ``"<relation> of <subject>"``; its object is the hop's answer:
    a bridge when a later triple starts from it, a compared value in comparison questions, else the
    answer on the last hop."""
    triples = evidence_triples(metadata)
    support = supporting_titles(metadata)
    subjects = {subject.casefold() for subject, _, _ in triples}
    comparison = metadata.get("type") in ("comparison", "bridge_comparison")
    hops = []
    for number, (subject, relation, obj) in enumerate(triples, start=1):
        titles = tuple(t for t in support if t.casefold() == subject.casefold()) or (subject,)
        if obj.casefold() in subjects:
            kind = "bridge"
        elif number == len(triples) and not comparison:
            kind = "answer"
        else:
            kind = "value"
        hops.append(GoldHop(f"{relation} of {subject}", obj, titles, kind))
    return hops


def bare_title(title: str) -> str:
    """A title without its parenthetical qualifier: ``"Kiss and Tell (1945 film)"`` -> ``"Kiss and Tell"``."""
    return _text(re.sub(r"\s*\([^()]*\)\s*$", "", title)) or _text(title)


def _hotpot_hops(question: str, metadata: Mapping[str, Any]) -> list[GoldHop]:
    """One search per supporting title. Bridge questions: the title the question names comes
    first and its paragraph names the bridge entity (the other title), whose paragraph holds the
    answer. Comparison questions: each title is looked up for the fact compared."""
    titles = supporting_titles(metadata)
    folded = question.casefold()
    ordered = sorted(titles, key=lambda t: 0 if bare_title(t).casefold() in folded else 1)
    if metadata.get("type") == "bridge" and len(ordered) == 2:
        first, second = ordered
        bridge = bare_title(second)
        return [GoldHop(first, bridge, (first,), "bridge"), GoldHop(second, "", (second,), "answer")]
    return [GoldHop(title, "", (title,), "value") for title in ordered]


def gold_hops(dataset: str, question: str, metadata: Any) -> list[GoldHop]:
    """The gold route of a row, ``[]`` when its dataset or metadata carries none.

    Args:
        dataset: a FlashRAG dataset name (``"musique"``, ``"2wikimultihopqa"``, ``"hotpotqa"``).
        question: the row's question (orders HotpotQA's supporting titles).
        metadata: the row's ``metadata`` (nested copies are unwrapped).
    """
    metadata = unwrap_metadata(metadata)
    if dataset == "musique" or metadata.get("question_decomposition"):
        return _musique_hops(metadata)
    if dataset == "2wikimultihopqa" or metadata.get("evidences"):
        return _wiki2_hops(metadata)
    if dataset == "hotpotqa":
        return _hotpot_hops(question, metadata)
    return []
