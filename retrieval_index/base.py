"""The retriever interface every backend implements, and the passage types it returns.

A backend (bm25s, rank-bm25, dense faiss, Lucene, a remote HTTP server) only has to
implement :meth:`Retriever.batch_search`; :meth:`Retriever.search` is derived from it.
Passages follow the Search-R1 / FlashRAG corpus format: ``{"id", "contents"}`` where the
contents' first line is the title (optionally in double quotes) and the rest is the text.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Passage:
    """One retrievable passage.

    Attributes:
        id: the corpus id, unique within a corpus.
        title: the passage's title (a Wikipedia-style page title).
        text: the passage body without the title.
    """

    id: str
    title: str
    text: str

    @property
    def contents(self) -> str:
        """The passage in Search-R1's ``contents`` form: the quoted title, a newline, the text."""
        return f'"{self.title}"\n{self.text}'

    @classmethod
    def from_contents(cls, passage_id: str, contents: str) -> Passage:
        """Build a passage from a corpus row's ``contents`` (title on the first line)."""
        title, _, text = contents.partition("\n")
        title = title.strip()
        if len(title) >= 2 and title[0] == title[-1] == '"':
            title = title[1:-1]
        return cls(id=str(passage_id), title=title, text=text.strip())

    def to_row(self) -> dict[str, str]:
        """The corpus JSONL row for this passage."""
        return {"id": self.id, "contents": self.contents}


@dataclass(frozen=True)
class SearchHit:
    """A passage returned for a query, with the backend's score (higher is better)."""

    passage: Passage
    score: float


class Retriever(abc.ABC):
    """Anything that maps queries to ranked passages."""

    name: str = "retriever"

    @abc.abstractmethod
    def batch_search(self, queries: Sequence[str], k: int) -> list[list[SearchHit]]:
        """Return the top ``k`` hits for each query, best first.

        Args:
            queries: query texts; an empty or unmatched query yields an empty or
                low-scoring list, never an exception.
            k: hits per query, at least 1.
        """

    def search(self, query: str, k: int) -> list[SearchHit]:
        """Return the top ``k`` hits for one query, best first."""
        return self.batch_search([query], k)[0]

    def __len__(self) -> int:
        """Number of passages in the index (0 when the backend cannot tell)."""
        return 0


def check_k(k: int) -> int:
    """Validate a top-k value and return it."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return k
