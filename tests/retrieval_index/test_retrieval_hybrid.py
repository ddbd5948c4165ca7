"""Hybrid retrieval: reciprocal-rank fusion by hand, and BM25 + dense fused over the test corpus."""

from __future__ import annotations

import pickle

import pytest

from retrieval_index.base import Retriever, SearchHit
from retrieval_index.hybrid import HybridRetriever, reciprocal_rank_fusion
from retrieval_index.resolve import resolve_retriever
from retrieval_index.store import build_index
from tests.markers import require_dense
from tests.retrieval_index.corpus_fixture import PASSAGES, QUERIES, OverlapRetriever, top_ids

QUESTIONS = [query for query, _ in QUERIES]
GOLD = [gold for _, gold in QUERIES]
A, B, C = PASSAGES[:3]


def hits(*passages) -> list[SearchHit]:
    return [SearchHit(passage, 100.0 - rank) for rank, passage in enumerate(passages)]


def test_fusion_sums_reciprocal_ranks():
    fused = reciprocal_rank_fusion([hits(A, B, C), hits(C, A)], k=3, rrf_k=60)
    assert [hit.passage.id for hit in fused] == [A.id, C.id, B.id]
    assert [hit.score for hit in fused] == pytest.approx([1 / 61 + 1 / 62, 1 / 63 + 1 / 61, 1 / 62])


def test_fusion_truncates_and_breaks_ties_by_first_seen():
    fused = reciprocal_rank_fusion([hits(A, B), hits(B, A)], k=1, rrf_k=0)
    assert [hit.passage.id for hit in fused] == [A.id]
    assert reciprocal_rank_fusion([[], []], k=3) == []
    with pytest.raises(ValueError, match="rrf_k must be non-negative"):
        reciprocal_rank_fusion([hits(A)], k=1, rrf_k=-1)


class Reversed(Retriever):
    """Ranks every passage in reverse corpus order, whatever the query."""

    def batch_search(self, queries, k):
        return [hits(*reversed(PASSAGES))[:k] for _ in queries]

    def __len__(self) -> int:
        return len(PASSAGES)


def test_from_retrievers_fuses_any_retrievers():
    overlap = OverlapRetriever(PASSAGES)
    hybrid = HybridRetriever.from_retrievers(overlap, Reversed(), rrf_k=60, depth=5)
    (fused,) = hybrid.batch_search(["highest mountain Everest"], 3)
    # only Everest shares words with the query; the reversed ranking starts at the corpus's end
    assert [hit.passage.id for hit in fused] == ["everest", PASSAGES[-1].id, PASSAGES[-2].id]
    assert [hit.score for hit in fused] == pytest.approx([1 / 61, 1 / 61, 1 / 62])
    assert len(hybrid) == len(PASSAGES)
    with pytest.raises(ValueError, match="at least two retrievers"):
        HybridRetriever.from_retrievers(overlap)


@pytest.mark.slow
@require_dense
def test_bm25_plus_dense_ranks_the_gold_passage_first_and_round_trips(tmp_path):
    out = build_index(PASSAGES, tmp_path / "hybrid", backend="hybrid", index_type="flat")
    assert {"bm25", "dense"} <= {path.name for path in out.iterdir()}
    loaded = resolve_retriever("hybrid", index=out)
    assert isinstance(loaded, HybridRetriever)
    assert top_ids(loaded.batch_search(QUESTIONS, 3)) == GOLD
    in_memory = HybridRetriever(PASSAGES)
    assert top_ids(in_memory.batch_search(QUESTIONS, 3)) == GOLD
    assert pickle.loads(pickle.dumps(loaded)) is loaded
    with pytest.raises(TypeError, match="a hybrid index built in memory cannot be pickled"):
        pickle.dumps(in_memory)
