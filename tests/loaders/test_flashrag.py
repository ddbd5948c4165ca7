"""FlashRAG rows (JSONL and parquet) of the seven QA sets become search tasks with every alias."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from smepo_env import loaders
from smepo_env.errors import TaskFormatError
from smepo_env.loaders import FLASHRAG_SPLITS, load_flashrag

FLASHRAG = Path(__file__).resolve().parents[1] / "fixtures" / "flashrag"
FILES = {
    "nq": "test",
    "triviaqa": "dev",
    "popqa": "test",
    "hotpotqa": "dev",
    "2wikimultihopqa": "dev",
    "musique": "dev",
    "bamboogle": "test",
}


def _rows(name: str) -> list[dict]:
    path = FLASHRAG / name / f"{FILES[name]}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("name", sorted(FILES))
def test_each_dataset_loads_with_ids_aliases_and_types(name):
    rows = _rows(name)
    tasks = load_flashrag(name, path=FLASHRAG / name / f"{FILES[name]}.jsonl")
    assert [t.id for t in tasks] == [f"{name}-{row['id']}" for row in rows]
    assert [t.question for t in tasks] == [row["question"].strip() for row in rows]
    assert [list(t.answers) for t in tasks] == [row["golden_answers"] for row in rows]  # every alias
    assert {t.benchmark for t in tasks} == {name}
    expected_types = {
        "hotpotqa": ["comparison", "bridge", "bridge"],
        "2wikimultihopqa": ["compositional", "comparison", "inference"],
        "musique": ["2-hop", "3-hop", "2-hop"],
    }.get(name, [name] * len(rows))
    assert [t.question_type for t in tasks] == expected_types
    sources = [(t.metadata["dataset"], t.metadata["source_id"]) for t in tasks]
    assert sources == [(name, row["id"]) for row in rows]


@pytest.mark.parametrize("name", ["hotpotqa", "2wikimultihopqa", "musique"])
def test_parquet_written_by_datasets_reads_like_the_jsonl(name):
    from_jsonl = {t.id: t for t in load_flashrag(path=FLASHRAG / name / "dev.jsonl")}
    from_parquet = load_flashrag(path=FLASHRAG / name / "dev.parquet")
    assert from_parquet, "the parquet fixture is empty"
    for task in from_parquet:  # the parquet holds the columnar rows only (see build_parquet.py)
        assert task.to_dict() == from_jsonl[task.id].to_dict()


def test_nested_metadata_copies_are_unwrapped():
    raw = _rows("musique")[0]
    assert "metadata" in raw["metadata"] and "question_decomposition" not in raw["metadata"]
    task = load_flashrag("musique", path=FLASHRAG / "musique" / "dev.jsonl")[0]
    assert task.question_type == "2-hop"
    assert [hop["answer"] for hop in task.metadata["flashrag"]["question_decomposition"]] == [
        "Steve Hillage",
        "Miquette Giraudy",
    ]


def test_dataset_is_inferred_from_folder_data_source_or_metadata(tmp_path):
    for name in ("hotpotqa", "2wikimultihopqa", "musique"):
        assert {t.benchmark for t in load_flashrag(path=FLASHRAG / name / "dev.jsonl")} == {name}
    # no telling folder: the metadata's shape decides
    for name in ("hotpotqa", "2wikimultihopqa", "musique"):
        copy = tmp_path / f"{name}-copy.jsonl"
        shutil.copy(FLASHRAG / name / "dev.jsonl", copy)
        assert {t.benchmark for t in load_flashrag(path=copy)} == {name}
    plain = tmp_path / "mixed.jsonl"
    plain.write_text(json.dumps({"id": "q1", "question": "Who?", "golden_answers": ["Ann"]}) + "\n")
    assert load_flashrag(path=plain)[0].benchmark == "flashrag"
    plain.write_text(
        json.dumps({"id": "q1", "question": "Who?", "golden_answers": ["Ann"], "data_source": "nq"}) + "\n"
    )
    assert load_flashrag(path=plain)[0].id == "nq-q1"


def test_the_hub_is_read_only_without_a_path(monkeypatch):
    calls = []

    def hub(repository, config, split):
        calls.append((repository, config, split))
        return _rows("hotpotqa")

    monkeypatch.setattr(loaders.rows, "hub_rows", hub)
    assert len(load_flashrag("hotpotqa", split="dev")) == 3
    load_flashrag("popqa")  # its only split, test, is the default
    load_flashrag("nq")  # dev where there is one
    load_flashrag("hotpotqa", path=FLASHRAG / "hotpotqa" / "dev.jsonl")
    assert calls == [
        ("RUC-NLPIR/FlashRAG_datasets", "hotpotqa", "dev"),
        ("RUC-NLPIR/FlashRAG_datasets", "popqa", "test"),
        ("RUC-NLPIR/FlashRAG_datasets", "nq", "dev"),
    ]
    assert set(FLASHRAG_SPLITS) == set(FILES)


def test_bad_names_and_rows_are_named_in_the_error(tmp_path):
    with pytest.raises(ValueError, match="Did you mean 'hotpotqa'"):
        load_flashrag("hotpot", split="dev")
    with pytest.raises(ValueError, match=r"split of popqa must be one of \['test'\], got 'dev'"):
        load_flashrag("popqa", split="dev")
    with pytest.raises(ValueError, match="dataset name"):
        load_flashrag()
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "question": "Who?", "golden_answers": []}) + "\n")
    with pytest.raises(TaskFormatError, match="row 0: 'golden_answers' must be a non-empty list"):
        load_flashrag("nq", path=bad)
    bad.write_text(json.dumps({"id": "x", "question": "  "}) + "\n")
    with pytest.raises(TaskFormatError, match="row 0 has no 'question'"):
        load_flashrag("nq", path=bad)
    bad.write_text(json.dumps({"id": "x", "question": "Who?"}) + "\n")
    with pytest.raises(TaskFormatError, match="no 'golden_answers'"):
        load_flashrag("nq", path=bad)
