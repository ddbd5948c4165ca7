"""BM25 retrieval: bm25s against the rank-bm25 reference, index directories, atomic builds."""

from __future__ import annotations

import json
import os

import pytest

from retrieval_index.base import Passage, check_k
from retrieval_index.bm25 import BM25sRetriever, RankBM25Retriever
from retrieval_index.corpus import read_corpus, write_corpus
from retrieval_index.store import build_index, load_index, load_shared_index, read_meta
from smepo_env.errors import CorpusFormatError, IndexNotFoundError

CITIES = ["Veldra", "Dorvik", "Kessen", "Lisset", "Marrow", "Ostra", "Pellin", "Quarry"]


@pytest.fixture(scope="module")
def passages():
    rows = []
    for i in range(200):
        rows.append(
            Passage(
                f"p{i}",
                f"Person {i:03d} Zed{i}",
                f"Zed{i} is a painter born in {CITIES[i % 8]} in {1900 + i}.",
            )
        )
    return rows


def test_bm25s_agrees_with_rank_bm25_on_top1(passages):
    fast, reference = BM25sRetriever(passages), RankBM25Retriever(passages)
    queries = [f"Zed{i} painter born" for i in range(0, 200, 7)] + ["Veldra painter", "born 1950"]
    fast_hits, reference_hits = fast.batch_search(queries, 3), reference.batch_search(queries, 3)
    agree = sum(f[0].passage.id == r[0].passage.id for f, r in zip(fast_hits, reference_hits, strict=True))
    assert agree / len(queries) >= 0.95
    assert fast.search("Zed42 painter", 1)[0].passage.id == "p42"


def test_empty_and_unknown_queries_return_no_hits(passages):
    retriever = BM25sRetriever(passages)
    assert retriever.batch_search(["", "   ", "qqqqzzzz", "the of and"], 3) == [[], [], [], []]
    assert retriever.batch_search([], 3) == []
    assert len(retriever.search("Zed1", 500)) <= len(passages)


@pytest.mark.parametrize("bad_k", [0, -1, 1.5, True, "3"])
def test_bad_k_is_rejected(bad_k):
    with pytest.raises(ValueError, match="k must be a positive integer"):
        check_k(bad_k)


def test_index_directory_round_trip_and_sharing(passages, tmp_path):
    build_index(passages, tmp_path / "idx", backend="bm25")
    meta = read_meta(tmp_path / "idx")
    assert meta["backend"] == "bm25" and meta["num_passages"] == len(passages)
    loaded = load_index(tmp_path / "idx")
    assert loaded.search("Zed7 painter", 1)[0].passage == passages[7]
    assert load_shared_index(tmp_path / "idx") is load_shared_index(str(tmp_path / "idx"))


def test_failed_build_leaves_previous_index_intact(passages, tmp_path):
    build_index(passages[:50], tmp_path / "idx")

    class Exploding:
        def __iter__(self):
            yield passages[0]
            raise KeyboardInterrupt  # as if the build was killed half-way

    with pytest.raises(KeyboardInterrupt):
        build_index(Exploding(), tmp_path / "idx")
    assert read_meta(tmp_path / "idx")["num_passages"] == 50
    assert [p.name for p in tmp_path.iterdir()] == ["idx"]


def test_unknown_backend_and_missing_index(passages, tmp_path):
    with pytest.raises(ValueError, match="Did you mean 'bm25'"):
        build_index(passages, tmp_path / "x", backend="bm52")
    with pytest.raises(IndexNotFoundError, match="no retrieval index"):
        load_index(tmp_path / "missing")


def test_corpus_jsonl_round_trip_and_errors(passages, tmp_path):
    path = tmp_path / "corpus.jsonl"
    assert write_corpus(passages[:3], path) == 3
    assert list(read_corpus(path)) == passages[:3]
    first = json.loads(path.read_text().splitlines()[0])
    assert first == {"id": "p0", "contents": '"Person 000 Zed0"\nZed0 is a painter born in Veldra in 1900.'}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "contents": "\\"T\\"\\nx"}\n{"contents": "no id"}\n')
    with pytest.raises(CorpusFormatError, match=r"bad.jsonl:2: missing 'id'"):
        list(read_corpus(bad))
    bad.write_text("{not json\n")
    with pytest.raises(CorpusFormatError, match="invalid JSON"):
        list(read_corpus(bad))


def test_importing_the_bm25_index_keeps_jax_from_taking_the_gpu(tmp_path):
    """bm25s runs a JAX operation at import: JAX must then allocate on demand, not take 75% of a GPU."""
    import subprocess
    import sys

    fake = tmp_path / "jax"
    fake.mkdir()
    (fake / "__init__.py").write_text("from jax import lax\n")
    record = tmp_path / "preallocate.txt"
    (fake / "lax.py").write_text(
        "import os\n"
        "def top_k(values, k):  # records what the GPU backend would read when it starts\n"
        f"    open({str(record)!r}, 'w').write(os.environ.get('XLA_PYTHON_CLIENT_PREALLOCATE', 'unset'))\n"
        "    return values[:k], list(range(k))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "XLA_PYTHON_CLIENT_PREALLOCATE"}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), *sys.path])
    subprocess.run([sys.executable, "-c", "import retrieval_index.bm25"], env=env, check=True, timeout=120)
    assert record.read_text() == "false"

    env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "true"  # a user's own choice stands
    subprocess.run([sys.executable, "-c", "import retrieval_index.bm25"], env=env, check=True, timeout=120)
    assert record.read_text() == "true"
