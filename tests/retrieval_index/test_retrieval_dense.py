"""Dense retrieval with the bundled MiniLM: ranking, index types, persistence, streaming resumable builds."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from retrieval_index import dense_build
from retrieval_index.dense import DenseConfig, DenseRetriever, default_nlist, factory_string
from retrieval_index.dense_build import build_dense_index, default_work_dir
from retrieval_index.encoder import E5_PASSAGE_PREFIX, E5_QUERY_PREFIX, SentenceEncoder
from retrieval_index.encoder import default_prefixes as prefixes_for
from retrieval_index.store import build_index, load_index, load_shared_index, read_meta
from smepo_env.errors import EncoderNotFoundError
from tests.markers import require_dense
from tests.retrieval_index.corpus_fixture import PASSAGES, QUERIES, top_ids, write_jsonl

pytestmark = require_dense

QUESTIONS = [query for query, _ in QUERIES]
GOLD = [gold for _, gold in QUERIES]


@pytest.fixture(scope="module")
def flat() -> DenseRetriever:
    return DenseRetriever(PASSAGES)


def test_flat_index_ranks_the_gold_passage_first(flat):
    assert top_ids(flat.batch_search(QUESTIONS, 3)) == GOLD
    assert [flat.search(query, 1)[0].passage.id for query in QUESTIONS] == GOLD
    assert len(flat) == len(PASSAGES) and flat.index.ntotal == len(PASSAGES)


def test_scores_are_cosine_similarities(flat):
    vectors = flat.encoder.encode_passages(PASSAGES)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    query_vector = flat.encoder.encode_queries([QUESTIONS[0]])[0]
    hits = flat.search(QUESTIONS[0], 5)
    expected = sorted((float(vectors[i] @ query_vector) for i in range(len(PASSAGES))), reverse=True)[:5]
    np.testing.assert_allclose([hit.score for hit in hits], expected, rtol=1e-4, atol=1e-5)
    assert all(-1.0 <= hit.score <= 1.0 + 1e-6 for hit in hits)


def test_empty_queries_and_large_k(flat):
    results = flat.batch_search(["", "   ", QUESTIONS[1]], 100)
    assert results[0] == [] and results[1] == []
    assert len(results[2]) == len(PASSAGES) and results[2][0].passage.id == GOLD[1]
    with pytest.raises(ValueError, match="positive integer"):
        flat.search("x", 0)


@pytest.mark.parametrize("index_type", ["hnsw", "ivf", "ivfpq"])
def test_approximate_index_types_find_the_gold_passage(index_type):
    retriever = DenseRetriever(PASSAGES, index_type=index_type, nprobe=4, pq_m=16)
    assert top_ids(retriever.batch_search(QUESTIONS, 3)) == GOLD


def test_factory_strings_and_nlist():
    dimension = 384
    assert factory_string(DenseConfig(), 10_000, dimension) == "Flat"
    assert factory_string(DenseConfig(index_type="hnsw", hnsw_m=16), 10_000, dimension) == "HNSW16"
    assert factory_string(DenseConfig(index_type="ivf"), 1_000_000, dimension) == "IVF4000,Flat"
    assert factory_string(DenseConfig(index_type="ivfpq"), 1_000_000, dimension) == "IVF4000,PQ48x8"
    assert factory_string(DenseConfig(index_type="IVF256,SQ8"), 50, dimension) == "IVF256,SQ8"
    assert default_nlist(21_000_000) == 18330 and default_nlist(100) == 2 and default_nlist(5) == 1
    with pytest.raises(ValueError, match="pq_m=7 must divide"):
        factory_string(DenseConfig(index_type="ivfpq", pq_m=7), 1000, dimension)


def test_unknown_option_is_named():
    with pytest.raises(ValueError, match=r"unknown dense index option\(s\) \['n_probe'\]"):
        DenseConfig.from_options({"n_probe": 3})


def test_e5_prefixes_are_automatic_for_e5_names_and_explicit_otherwise():
    assert prefixes_for("intfloat/e5-base-v2") == (E5_QUERY_PREFIX, E5_PASSAGE_PREFIX)
    assert prefixes_for("/models/multilingual-E5-small") == (E5_QUERY_PREFIX, E5_PASSAGE_PREFIX)
    assert prefixes_for("default") == ("", "")
    plain = SentenceEncoder()
    prefixed = SentenceEncoder(query_prefix="query: ", passage_prefix="passage: ")
    np.testing.assert_allclose(prefixed.encode_queries(["x"]), plain.encode_queries(["query: x"]), atol=1e-6)
    assert not np.allclose(prefixed.encode_queries(["x"]), plain.encode_queries(["x"]), atol=1e-3)
    assert prefixed.config()["passage_prefix"] == "passage: " and plain.config()["dimension"] == 384


def test_missing_encoder_fails_offline_with_a_clear_error():
    with pytest.raises(
        EncoderNotFoundError, match="cannot load encoder 'no-such-org/no-such-encoder' offline"
    ):
        SentenceEncoder("no-such-org/no-such-encoder")


def test_saved_index_loads_with_same_results(flat, tmp_path):
    out = build_index(PASSAGES, tmp_path / "dense", backend="dense", index_type="hnsw")
    loaded = load_index(out)
    assert isinstance(loaded, DenseRetriever)
    assert top_ids(loaded.batch_search(QUESTIONS, 3)) == GOLD
    stored = json.loads((out / "dense.json").read_text())
    assert stored["config"]["index_type"] == "hnsw" and stored["encoder"]["dimension"] == 384
    assert read_meta(out)["backend"] == "dense"


def test_loading_rejects_a_passage_count_mismatch(tmp_path):
    out = build_index(PASSAGES, tmp_path / "dense", backend="dense")
    lines = (out / "passages.jsonl").read_text().splitlines(keepends=True)
    (out / "passages.jsonl").write_text("".join(lines[:-1]))
    with pytest.raises(ValueError, match="holds 30 vectors but there are 29 passages"):
        load_index(out)


class _Killed(Exception):
    pass


def test_streaming_build_resumes_after_a_kill(tmp_path, monkeypatch):
    corpus = write_jsonl(tmp_path / "corpus.jsonl")
    out = tmp_path / "index"
    encoded: list[str] = []
    real_encode = SentenceEncoder.encode_passages

    def encode_then_die(self, passages, batch_size=64, show_progress=False):
        if len(encoded) >= 16:  # the "kill": dies on the third shard of 8
            raise _Killed
        encoded.extend(passage.id for passage in passages)
        return real_encode(self, passages, batch_size=batch_size)

    monkeypatch.setattr(SentenceEncoder, "encode_passages", encode_then_die)
    with pytest.raises(_Killed):
        build_dense_index(corpus, out, shard_size=8, show_progress=False)
    assert not out.exists()
    work = default_work_dir(out)
    assert sorted(path.name for path in work.glob("shard-*.npy")) == ["shard-00000.npy", "shard-00001.npy"]

    encoded.clear()
    monkeypatch.setattr(
        SentenceEncoder,
        "encode_passages",
        lambda self, passages, batch_size=64, **_: (
            encoded.extend(p.id for p in passages) or real_encode(self, passages, batch_size=batch_size)
        ),
    )
    build_dense_index(corpus, out, shard_size=8, show_progress=False)
    assert encoded == [passage.id for passage in PASSAGES[16:]]  # only the shards not yet on disk
    assert not work.exists()
    retriever = load_index(out)
    assert top_ids(retriever.batch_search(QUESTIONS, 3)) == GOLD
    assert read_meta(out)["num_passages"] == len(PASSAGES)


def test_streaming_build_discards_shards_of_another_build(tmp_path):
    corpus = write_jsonl(tmp_path / "corpus.jsonl")
    work = tmp_path / "work"
    fingerprint = {"corpus": "other"}
    dense_build.prepare_work_dir(work, fingerprint)
    (work / "shard-00000.npy").write_bytes(b"stale")
    build_dense_index(
        corpus, tmp_path / "index", work_dir=work, keep_work=True, shard_size=64, show_progress=False
    )
    assert json.loads((work / "fingerprint.json").read_text())["shard_size"] == 64
    assert np.load(work / "shard-00000.npy").shape == (len(PASSAGES), 384)
    with pytest.raises(ValueError, match="shard_size must be a positive integer"):
        build_dense_index(corpus, tmp_path / "other", shard_size=0)


def test_pickles_as_its_index_directory(flat, tmp_path):
    shared = load_shared_index(build_index(PASSAGES[:5], tmp_path / "dense", backend="dense"))
    assert pickle.loads(pickle.dumps(shared)) is shared
    with pytest.raises(TypeError, match="a dense index built in memory cannot be pickled"):
        pickle.dumps(flat)
