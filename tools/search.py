"""The search tool an agent calls with ``<search>query</search>``.

:class:`SearchTool` wraps any :class:`retrieval_index.base.Retriever` and renders hits the way
Search-R1 does, ``Doc i(Title: …) text`` one per line, inside ``<information>``. A failing
backend (a remote server that is down, a timeout) never raises out of the tool: the model
gets an observation saying the search failed, and ``info`` records the error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from retrieval_index.base import Retriever, SearchHit, check_k
from smepo_env.errors import check_choice
from smepo_env.protocol import PASSAGE_FORMATS, render_passages


@dataclass
class SearchResult:
    """What one search call produced.

    Attributes:
        text: the observation body (the part inside ``<information>``).
        hits: the retrieved hits, best first (empty on error).
        latency_s: wall time of the retrieval call.
        error: the backend's error message, or ``""``.
    """

    text: str
    hits: list[SearchHit] = field(default_factory=list)
    latency_s: float = 0.0
    error: str = ""


def format_hits(hits: list[SearchHit], passage_format: str = "smepo") -> str:
    """Render hits as one ``Doc i(Title: t) text`` line each (see :data:`PASSAGE_FORMATS`)."""
    return render_passages([(hit.passage.title, hit.passage.text) for hit in hits], passage_format)


class SearchTool:
    """Top-k retrieval rendered for the model.

    Args:
        retriever: the backend.
        top_k: passages returned per search.
        passage_format: how passages are written, one of :data:`PASSAGE_FORMATS`.
    """

    def __init__(self, retriever: Retriever, top_k: int = 3, passage_format: str = "smepo") -> None:
        self.retriever = retriever
        self.top_k = check_k(top_k)
        self.passage_format = check_choice("passage_format", passage_format, PASSAGE_FORMATS)

    def __call__(self, query: str) -> SearchResult:
        """Search for ``query``; failures come back as a result with ``error`` set."""
        started = time.perf_counter()
        try:
            hits = self.retriever.search(query, self.top_k)
        except Exception as error:  # any backend failure becomes an observation, never a crash
            latency = time.perf_counter() - started
            message = f"{type(error).__name__}: {error}"
            return SearchResult(
                text="Search is unavailable right now; try again or answer with what you know.",
                latency_s=latency,
                error=message[:500],
            )
        return SearchResult(
            text=format_hits(hits, self.passage_format), hits=hits, latency_s=time.perf_counter() - started
        )
