"""Hybrid retrieval: BM25 and dense rankings merged by reciprocal-rank fusion (RRF).

Each component retrieves its own top ``depth`` passages; a passage's fused score is
``sum(1 / (rrf_k + rank))`` over the rankings it appears in (rank 1 is the best), so a passage
both retrievers like rises above one only a single retriever found. ``rrf_k = 60`` is the value
of Cormack et al. (2009); larger values flatten the weight of the top ranks. Lexical search finds
rare names and exact strings, dense search finds paraphrases; fused, they cover both.

:class:`HybridRetriever` builds a bm25s and a dense index over one corpus (an index directory
keeps them in ``bm25/`` and ``dense/`` beside the shared passages);
:meth:`HybridRetriever.from_retrievers` combines any two or more existing retrievers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from retrieval_index.base import Passage, Retriever, SearchHit, check_k
from retrieval_index.bm25 import BM25sRetriever
from retrieval_index.dense import DenseRetriever

DEFAULT_RRF_K = 60
DEFAULT_DEPTH = 20
CONFIG_FILE = "hybrid.json"


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[SearchHit]], k: int, rrf_k: float = DEFAULT_RRF_K
) -> list[SearchHit]:
    """Fuse ranked hit lists by reciprocal rank; passages are identified by id.

    Args:
        rankings: one best-first hit list per retriever.
        k: hits to return.
        rrf_k: the fusion constant (non-negative).

    Returns:
        The top ``k`` passages by fused score, best first; ties keep first-seen order.
    """
    if rrf_k < 0:
        raise ValueError(f"rrf_k must be non-negative, got {rrf_k!r}")
    fused: dict[str, float] = {}
    passages: dict[str, Passage] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            passages.setdefault(hit.passage.id, hit.passage)
            fused[hit.passage.id] = fused.get(hit.passage.id, 0.0) + 1.0 / (rrf_k + rank)
    best = sorted(fused, key=lambda passage_id: -fused[passage_id])[:k]
    return [SearchHit(passages[passage_id], fused[passage_id]) for passage_id in best]


class HybridRetriever(Retriever):
    """BM25 (bm25s) plus dense retrieval, fused with RRF.

    Args:
        passages: the corpus.
        rrf_k: the fusion constant.
        depth: hits each component retrieves before fusion (at least the requested k).
        **dense_options: passed to :class:`~retrieval_index.dense.DenseRetriever`
            (``encoder``, ``index_type``...).
    """

    name = "hybrid"

    def __init__(
        self,
        passages: Sequence[Passage],
        *,
        rrf_k: float = DEFAULT_RRF_K,
        depth: int = DEFAULT_DEPTH,
        **dense_options: Any,
    ) -> None:
        passages = list(passages)
        self._setup([BM25sRetriever(passages), DenseRetriever(passages, **dense_options)], rrf_k, depth)
        self.passages = passages

    def _setup(self, components: list[Retriever], rrf_k: float, depth: int) -> None:
        if len(components) < 2:
            raise ValueError(f"a hybrid retriever needs at least two retrievers, got {len(components)}")
        if rrf_k < 0:
            raise ValueError(f"rrf_k must be non-negative, got {rrf_k!r}")
        self.components = components
        self.source_dir: Path | None = None
        self.rrf_k = float(rrf_k)
        self.depth = check_k(depth)

    @classmethod
    def from_retrievers(
        cls, *retrievers: Retriever, rrf_k: float = DEFAULT_RRF_K, depth: int = DEFAULT_DEPTH
    ) -> HybridRetriever:
        """Fuse existing retrievers (e.g. a BM25 and a dense index loaded from disk)."""
        self = cls.__new__(cls)
        self._setup(list(retrievers), rrf_k, depth)
        self.passages = getattr(retrievers[0], "passages", [])
        return self

    def __len__(self) -> int:
        return max(len(component) for component in self.components)

    def batch_search(self, queries: Sequence[str], k: int) -> list[list[SearchHit]]:
        check_k(k)
        depth = max(k, self.depth)
        per_component = [component.batch_search(queries, depth) for component in self.components]
        return [
            reciprocal_rank_fusion([rankings[i] for rankings in per_component], k, self.rrf_k)
            for i in range(len(queries))
        ]

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        """Pickle as the index directory it was loaded from (faiss indexes do not pickle).

        Unpickling loads that directory with :func:`~retrieval_index.store.load_shared_index`.
        """
        if self.source_dir is None:
            raise TypeError(
                "a hybrid index built in memory cannot be pickled; build it into a directory "
                "(retrieval_index.store.build_index) and load that"
            )
        from retrieval_index.store import load_shared_index

        return (load_shared_index, (str(self.source_dir),))

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Save both component indexes into ``bm25/`` and ``dense/`` and the fusion settings."""
        bm25, dense = self.components[:2]
        if not (isinstance(bm25, BM25sRetriever) and isinstance(dense, DenseRetriever)):
            raise TypeError("only a hybrid built from passages (bm25s + dense) can be saved")
        for sub, component in (("bm25", bm25), ("dense", dense)):
            (Path(directory) / sub).mkdir()
            component.save(Path(directory) / sub)
        Path(directory, CONFIG_FILE).write_text(json.dumps({"rrf_k": self.rrf_k, "depth": self.depth}))

    @classmethod
    def load(cls, directory: str | os.PathLike[str], passages: Sequence[Passage]) -> HybridRetriever:
        """Open a hybrid index directory written by :meth:`save`."""
        config = json.loads(Path(directory, CONFIG_FILE).read_text())
        bm25 = BM25sRetriever.load(Path(directory) / "bm25", passages)
        dense = DenseRetriever.load(Path(directory) / "dense", passages)
        self = cls.from_retrievers(bm25, dense, rrf_k=config["rrf_k"], depth=config["depth"])
        self.passages = passages
        self.source_dir = Path(directory)
        return self
