"""A "distractor setting" corpus built from the QA datasets' own paragraphs, for offline runs.

Users without the 21M-passage Wikipedia corpus can still play real questions: HotpotQA and
2WikiMultihopQA rows carry about ten paragraphs each (``context``: the supporting ones and
distractors), MuSiQue rows twenty (``paragraphs``; FlashRAG's copy keeps only each hop's
``support_paragraph``). :func:`distractor_corpus_rows` pools them over all the questions of a
file, deduplicated (same title and text, compared case- and space-insensitively), so every
question is answered from a corpus that also holds every other question's paragraphs.

The corpus is written in the Search-R1 / FlashRAG format, ``{"id", "contents":
"\\"Title\\"\\ntext"}``, with ids equal to row numbers (``"0"``, ``"1"``, ...), which Search-R1's
own server needs; ``gym.make("smepo/SearchQA-v0", tasks=FILE, corpus=CORPUS)`` builds its
in-process BM25 index once and caches it. Command line::

    python -m smepo_env.loaders distractor-corpus musique/dev.jsonl --out musique-corpus.jsonl
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from smepo_env.errors import TaskFormatError
from smepo_env.files import atomic_file
from smepo_env.loaders.multihop import Paragraph, context_paragraphs
from smepo_env.tasks import Task


@dataclass(frozen=True)
class DistractorCorpusStats:
    """What a corpus build found.

    Attributes:
        questions: tasks read.
        questions_with_paragraphs: tasks that carried at least one paragraph.
        paragraphs: paragraphs read over all tasks.
        passages: passages written after deduplication.
    """

    questions: int
    questions_with_paragraphs: int
    paragraphs: int
    passages: int


def task_paragraphs(task: Task) -> list[Paragraph]:
    """The paragraphs a FlashRAG task carries (``metadata["flashrag"]``), ``[]`` without any."""
    metadata = task.metadata.get("flashrag")
    return context_paragraphs(metadata) if isinstance(metadata, Mapping) else []


def _key(paragraph: Paragraph) -> tuple[str, str]:
    return (" ".join(paragraph.title.split()).casefold(), " ".join(paragraph.text.split()).casefold())


def distractor_corpus_rows(tasks: Iterable[Task]) -> tuple[list[dict[str, str]], DistractorCorpusStats]:
    """Corpus rows (ids = row numbers) from the tasks' paragraphs, deduplicated, in first-seen order.

    Raises:
        TaskFormatError: no task carries any paragraph (NQ, TriviaQA, PopQA and Bamboogle rows
            have none: use the Wikipedia corpus for those).
    """
    seen: dict[tuple[str, str], Paragraph] = {}
    questions = with_paragraphs = paragraphs = 0
    for task in tasks:
        questions += 1
        found = task_paragraphs(task)
        with_paragraphs += bool(found)
        paragraphs += len(found)
        for paragraph in found:
            seen.setdefault(_key(paragraph), paragraph)
    if not seen:
        raise TaskFormatError(
            f"none of the {questions} tasks carries paragraphs (HotpotQA/2Wiki 'context', MuSiQue "
            "'paragraphs' or 'support_paragraph' in their FlashRAG metadata); a distractor-setting "
            "corpus cannot be built from them"
        )
    rows = [
        {"id": str(number), "contents": f'"{paragraph.title}"\n{paragraph.text}'}
        for number, paragraph in enumerate(seen.values())
    ]
    return rows, DistractorCorpusStats(questions, with_paragraphs, paragraphs, len(rows))


def build_distractor_corpus(
    tasks: Iterable[Task] | str | os.PathLike[str], out: str | os.PathLike[str]
) -> DistractorCorpusStats:
    """Write the distractor-setting corpus of ``tasks`` (a task list or any task file) to ``out``,
    atomically (a killed build leaves no partial file)."""
    if isinstance(tasks, str | os.PathLike):
        from smepo_env.loaders.task_files import load_task_file

        tasks = load_task_file(tasks)
    rows, stats = distractor_corpus_rows(tasks)
    with atomic_file(out) as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return stats
