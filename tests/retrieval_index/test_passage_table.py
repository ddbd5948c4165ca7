"""PassageTable: passages read from disk on demand, identical to reading the corpus."""

from __future__ import annotations

import pickle
import threading

import pytest

from retrieval_index.base import Passage
from retrieval_index.corpus import read_corpus, write_corpus
from retrieval_index.passage_table import OFFSETS_SUFFIX, PassageTable, line_offsets


@pytest.fixture()
def corpus(tmp_path):
    passages = [Passage(f"id-{i}", f"Title {i} ü", (f"text {i} " * (i % 5 + 1)).strip()) for i in range(257)]
    path = tmp_path / "passages.jsonl"
    write_corpus(passages, path)
    return path, passages


def test_table_matches_the_corpus(corpus):
    path, passages = corpus
    table = PassageTable(path)
    assert len(table) == len(passages)
    assert list(table) == passages == list(read_corpus(path))
    assert table[0] == passages[0] and table[-1] == passages[-1] and table[10:13] == passages[10:13]
    assert table.by_id("id-42") == passages[42] and table.by_id("missing") is None
    with pytest.raises(IndexError, match="out of range"):
        table[len(passages)]


def test_offsets_are_cached_and_refreshed_when_the_file_changes(corpus):
    path, passages = corpus
    PassageTable(path)
    cache = path.with_name(path.name + OFFSETS_SUFFIX)
    assert cache.is_file()
    write_corpus(passages[:5], path)
    assert len(PassageTable(path)) == 5


def test_blank_lines_and_missing_final_newline(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "a", "contents": "\\"A\\"\\nx"}\n\n{"id": "b", "contents": "\\"B\\"\\ny"}')
    table = PassageTable(path)
    assert [p.id for p in table] == ["a", "b"]
    assert len(line_offsets(path)) == 3


def test_threads_share_a_table_and_it_pickles(corpus):
    path, passages = corpus
    table = PassageTable(path)
    errors = []

    def read_all():
        try:
            assert [table[i] for i in range(0, len(passages), 3)] == passages[::3]
        except AssertionError as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=read_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert list(pickle.loads(pickle.dumps(table))) == passages
