"""resolve_retriever: backend names with index directories, URLs, instances, and clear errors."""

from __future__ import annotations

import pytest

from retrieval_index.bm25 import RankBM25Retriever
from retrieval_index.http_client import RemoteRetriever
from retrieval_index.resolve import resolve_retriever, valid_specs
from retrieval_index.store import build_index
from smepo_env.errors import IndexNotFoundError
from tests.retrieval_index.corpus_fixture import PASSAGES, QUERIES, OverlapRetriever, top_ids


@pytest.fixture(scope="module")
def rank_index(tmp_path_factory):
    return build_index(PASSAGES, tmp_path_factory.mktemp("rank") / "index", backend="rank_bm25")


def test_backend_name_with_index_loads_it_once_per_process(rank_index):
    first = resolve_retriever("rank_bm25", index=rank_index)
    assert isinstance(first, RankBM25Retriever)
    assert resolve_retriever(" RANK_BM25 ", index=str(rank_index)) is first
    questions, gold = zip(*QUERIES, strict=True)
    assert top_ids(first.batch_search(list(questions), 3)) == list(gold)


def test_index_built_with_another_backend_is_refused(rank_index):
    with pytest.raises(ValueError, match="built with backend 'rank_bm25', not 'dense'"):
        resolve_retriever("dense", index=rank_index)


def test_missing_index_directory(tmp_path):
    with pytest.raises(IndexNotFoundError, match="python -m retrieval_index build"):
        resolve_retriever("bm25", index=tmp_path / "nothing")


def test_unknown_spec_lists_the_valid_ones_and_suggests():
    with pytest.raises(ValueError, match="unknown retriever 'dnese'") as error:
        resolve_retriever("dnese", index="x")
    message = str(error.value)
    assert "Did you mean 'dense'?" in message
    for spec in ("bm25", "dense", "lucene", "hybrid", "http://host:port"):
        assert spec in message and spec in valid_specs()
    with pytest.raises(ValueError, match="must be a string or a Retriever"):
        resolve_retriever(42)


def test_url_gives_a_remote_retriever_with_options():
    remote = resolve_retriever("http://127.0.0.1:8000", timeout_s=2.5, retries=1)
    assert isinstance(remote, RemoteRetriever)
    assert (remote.endpoint, remote.timeout_s, remote.retries) == ("http://127.0.0.1:8000/retrieve", 2.5, 1)
    with pytest.raises(ValueError, match="index= applies to local backends only"):
        resolve_retriever("http://127.0.0.1:8000", index="x")


def test_retriever_instance_passes_through():
    retriever = OverlapRetriever(PASSAGES)
    assert resolve_retriever(retriever) is retriever
    with pytest.raises(ValueError, match="used as it is"):
        resolve_retriever(retriever, index="x")


def test_backend_name_with_passages_builds_in_memory(rank_index):
    retriever = resolve_retriever("rank_bm25", passages=PASSAGES[:5], k1=1.2)
    assert isinstance(retriever, RankBM25Retriever) and len(retriever) == 5
    assert retriever is not resolve_retriever("rank_bm25", index=rank_index)
    with pytest.raises(ValueError, match="needs index=DIR"):
        resolve_retriever("lucene")
    with pytest.raises(ValueError, match="keeps the options it was built with"):
        resolve_retriever("rank_bm25", index=rank_index, k1=1.2)
