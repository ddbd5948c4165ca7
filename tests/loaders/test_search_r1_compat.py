"""Search-R1 compatibility: its processed parquet as tasks, its passage rendering, its topk reading."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pyarrow.parquet as pq
import pytest

import smepo_env  # noqa: F401  (registers the ids)
from smepo_env.errors import TaskFormatError
from smepo_env.loaders import load_flashrag, load_search_r1_parquet
from tests.markers import require_server

FLASHRAG = Path(__file__).resolve().parents[1] / "fixtures" / "flashrag"
SEARCH_R1 = FLASHRAG / "search_r1" / "train.parquet"


def search_r1_passages2string(retrieval_result: list[dict]) -> str:
    """Search-R1's own rendering (search_r1/llm_agent/generation.py, ``_passages2string``), transcribed
    as the reference this test holds our ``passage_format="search-r1"`` to."""
    reference = ""
    for index, item in enumerate(retrieval_result):
        content = item["document"]["contents"]
        title = content.split("\n")[0]
        text = "\n".join(content.split("\n")[1:])
        reference += f"Doc {index + 1}(Title: {title}) {text}\n"
    return reference


def test_processed_parquet_reads_back_into_the_flashrag_tasks():
    table = pq.read_table(SEARCH_R1)
    assert {"data_source", "prompt", "ability", "reward_model", "extra_info"} <= set(table.column_names)
    tasks = load_search_r1_parquet(SEARCH_R1)
    flashrag = {
        t.id: t
        for name, split in (("nq", "test"), ("hotpotqa", "dev"))
        for t in load_flashrag(path=FLASHRAG / name / f"{split}.jsonl")
    }
    assert [t.id for t in tasks] == list(flashrag)  # same ids: traces keyed by id apply to both
    for task in tasks:
        source = flashrag[task.id]
        assert task.answers == source.answers and task.question_type == source.question_type
        # Search-R1 appends "?" and the row's question column is what we take
        assert task.question == (source.question if source.question.endswith("?") else source.question + "?")
        assert task.metadata["ability"] == "fact-reasoning"
    assert load_search_r1_parquet(SEARCH_R1, limit=2)[1].id == "nq-test_1"


def test_question_comes_from_the_prompt_only_when_the_row_has_none(tmp_path):
    table = pq.read_table(SEARCH_R1).drop_columns(["question", "id"])
    path = tmp_path / "no-question.parquet"
    pq.write_table(table, path)
    tasks = load_search_r1_parquet(path)
    assert tasks[0].question == "who got the first nobel prize in physics?"
    assert tasks[0].id == "nq-train_0"  # from extra_info split and index
    assert tasks[3].question_type == "bridge"  # the metadata column still tells the type
    broken = tmp_path / "broken.parquet"
    rows = table.to_pylist()[:1]
    rows[0]["prompt"] = [{"role": "user", "content": "no question marker here"}]
    import pyarrow as pa

    pq.write_table(pa.Table.from_pylist(rows), broken)
    with pytest.raises(TaskFormatError, match="Search-R1 row 0 has no question"):
        load_search_r1_parquet(broken)


def test_search_r1_passage_format_matches_its_own_rendering(tmp_path):
    from retrieval_index.protocol import encode_result
    from smepo_env.loaders import build_distractor_corpus

    corpus = tmp_path / "corpus.jsonl"
    build_distractor_corpus(FLASHRAG / "hotpotqa" / "dev.jsonl", corpus)
    ours = gym.make("smepo/SearchQA-v0", tasks=str(FLASHRAG / "hotpotqa" / "dev.jsonl"), corpus=str(corpus))
    theirs = gym.make(
        "smepo/SearchQA-v0",
        tasks=str(FLASHRAG / "hotpotqa" / "dev.jsonl"),
        corpus=str(corpus),
        passage_format="search-r1",
    )
    query = "Kiss and Tell Corliss Archer"
    ours.reset(seed=0)
    theirs.reset(seed=0)
    plain, *_ = ours.step(f"<search>{query}</search>")
    exact, *_ = theirs.step(f"<search>{query}</search>")
    hits = theirs.unwrapped.search_tool.retriever.search(query, 3)
    result = encode_result([hits], return_scores=True)["result"][0]  # the server's answer, Search-R1's shape
    assert exact == f"\n\n<information>{search_r1_passages2string(result).strip()}</information>\n\n"
    assert 'Doc 1(Title: "' in exact and "Doc 1(Title: " in plain and 'Doc 1(Title: "' not in plain
    with pytest.raises(ValueError, match="Did you mean 'search-r1'"):
        gym.make("smepo/SearchQA-v0", passage_format="searchr1")


@require_server
def test_missing_null_or_zero_topk_means_the_default_as_in_search_r1():
    from retrieval_index.server import RequestError, ServerLimits, parse_request

    limits = ServerLimits(default_topk=7, max_topk=20)
    for body in (
        b'{"queries": ["a"]}',
        b'{"queries": ["a"], "topk": null}',
        b'{"queries": ["a"], "topk": 0}',
    ):
        assert parse_request(body, limits) == (["a"], 7, False)
    assert parse_request(b'{"queries": ["a"], "topk": 5}', limits)[1] == 5
    with pytest.raises(RequestError, match="got -1"):
        parse_request(b'{"queries": ["a"], "topk": -1}', limits)
