"""Reading and writing passage corpora in the Search-R1 / FlashRAG JSONL format.

One JSON object per line, ``{"id": ..., "contents": "\\"Title\\"\\ntext"}``: the title is the
first line of ``contents`` (quotes optional), the rest is the passage text. Rows may also
carry ``title`` and ``text`` fields instead of ``contents``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from retrieval_index.base import Passage
from smepo_env.errors import CorpusFormatError
from smepo_env.files import atomic_file


def passage_from_row(row: object, where: str = "row") -> Passage:
    """Turn one corpus row (a dict) into a :class:`Passage`.

    Raises:
        CorpusFormatError: the row has no ``id`` or neither ``contents`` nor ``text``.
    """
    if not isinstance(row, dict):
        raise CorpusFormatError(f"{where}: expected a JSON object, got {type(row).__name__}")
    if "id" not in row:
        raise CorpusFormatError(f"{where}: missing 'id' (keys: {sorted(row)})")
    if isinstance(row.get("contents"), str):
        return Passage.from_contents(str(row["id"]), row["contents"])
    if isinstance(row.get("text"), str):
        return Passage(id=str(row["id"]), title=str(row.get("title", "")), text=row["text"])
    raise CorpusFormatError(f"{where}: expected a 'contents' or 'text' string (keys: {sorted(row)})")


def read_corpus(path: str | os.PathLike[str]) -> Iterator[Passage]:
    """Stream the passages of a JSONL corpus file.

    Raises:
        FileNotFoundError: the file does not exist.
        CorpusFormatError: a line is not valid JSON or not a passage; the message names the line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"corpus file not found: {path}")
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise CorpusFormatError(f"{path}:{line_number}: invalid JSON ({error.msg})") from None
            yield passage_from_row(row, where=f"{path}:{line_number}")


def count_lines(path: str | os.PathLike[str]) -> int:
    """Number of non-empty lines of a file (for progress bars)."""
    with Path(path).open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def write_corpus(passages: Iterable[Passage], path: str | os.PathLike[str]) -> int:
    """Write passages as a JSONL corpus, atomically. Returns the number written."""
    count = 0
    with atomic_file(path) as handle:
        for passage in passages:
            handle.write(json.dumps(passage.to_row(), ensure_ascii=False) + "\n")
            count += 1
    return count
