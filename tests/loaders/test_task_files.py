"""``tasks=`` takes any task file; the format is told from the rows, unknown ones are named."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import smepo_env  # noqa: F401  (registers the ids)
from smepo_env.errors import TaskFormatError
from smepo_env.loaders import TASK_FILE_FORMATS, detect_task_format, load_task_file

FLASHRAG = Path(__file__).resolve().parents[1] / "fixtures" / "flashrag"


def _smepo_parquet(path: Path, truth, trace: str = "<answer>x</answer>") -> Path:
    rows = [{"question": "Q?", "reward_model": {"style": "rule", "ground_truth": truth}, "teacher_ds": trace}]
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


@pytest.mark.parametrize(
    ("relative", "kind", "first_id"),
    [
        ("hotpotqa/dev.jsonl", "flashrag", "hotpotqa-5a8b57f25542995d1e6f1371"),
        ("musique/dev.parquet", "flashrag", "musique-2hop__460946_294723"),
        ("search_r1/train.parquet", "search-r1", "nq-test_0"),
    ],
)
def test_community_files_are_detected(relative, kind, first_id):
    from smepo_env.loaders import read_rows

    path = FLASHRAG / relative
    assert detect_task_format(read_rows(path)[0]) == kind
    assert load_task_file(path)[0].id == first_id


def test_own_task_rows_and_smepo_rows_are_detected(tmp_path):
    own = tmp_path / "own.jsonl"
    own.write_text(json.dumps({"id": "a", "question": "Who?", "answers": ["Ann", "Anne"]}) + "\n")
    assert load_task_file(own)[0].answers == ("Ann", "Anne")
    own_parquet = tmp_path / "own.parquet"
    pq.write_table(pa.Table.from_pylist([{"id": "b", "question": "Who?", "answer": "Bo"}]), own_parquet)
    assert load_task_file(own_parquet)[0].answers == ("Bo",)
    search = load_task_file(_smepo_parquet(tmp_path / "s.parquet", {"target": ["Paris", "Paree"]}))[0]
    assert search.answers == ("Paris", "Paree") and search.expert_trace == "<answer>x</answer>"
    math = load_task_file(_smepo_parquet(tmp_path / "m.parquet", "42"))[0]
    assert math.answers == ("42",)
    code = load_task_file(
        _smepo_parquet(tmp_path / "c.parquet", json.dumps({"inputs": ["1"], "outputs": ["2"]}))
    )
    assert code[0].metadata["stdio_tests"] == [{"input": "1", "output": "2"}]


def test_unknown_empty_and_missing_files_name_the_file_and_the_formats(tmp_path):
    odd = tmp_path / "odd.jsonl"
    odd.write_text(json.dumps({"prompt": "hi", "label": 1}) + "\n")
    with pytest.raises(TaskFormatError) as error:
        load_task_file(odd)
    message = str(error.value)
    assert str(odd) in message and "['label', 'prompt']" in message
    assert all(description in message for description in TASK_FILE_FORMATS.values())
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(TaskFormatError, match="holds no rows"):
        load_task_file(empty)
    csv = tmp_path / "rows.csv"
    csv.write_text("question,answer\n")
    with pytest.raises(TaskFormatError, match="FlashRAG rows"):
        load_task_file(csv)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_task_file(tmp_path / "nowhere.jsonl")
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps({"id": "a", "question": "Who?", "answers": ["A"]}) + "\n{oops\n")
    with pytest.raises(TaskFormatError, match=r"broken\.jsonl:2"):
        load_task_file(broken)


def test_env_plays_a_flashrag_file_directly(tmp_path):
    from smepo_env.loaders import build_distractor_corpus

    tasks_file = FLASHRAG / "hotpotqa" / "dev.jsonl"
    corpus = tmp_path / "corpus.jsonl"
    build_distractor_corpus(tasks_file, corpus)
    env = gym.make("smepo/SearchQA-v0", tasks=str(tasks_file), corpus=str(corpus))
    prompt, info = env.reset(options={"task_id": "hotpotqa-5a8c7595554299585d9e36b6"})
    assert "Corliss Archer" in prompt and info["question_type"] == "bridge"
    observation, *_ = env.step("<search>Kiss and Tell (1945 film)</search>")
    assert "Shirley Temple" in observation
    _, reward, terminated, _, info = env.step("<answer>chief of protocol</answer>")
    assert terminated and reward == 1.0
    with pytest.raises(TaskFormatError, match="cannot tell the format"):
        odd = tmp_path / "odd.jsonl"
        odd.write_text(json.dumps({"text": "hello"}) + "\n")
        gym.make("smepo/SearchQA-v0", tasks=str(odd), corpus=str(corpus))


def test_every_env_takes_a_task_file(tmp_path):
    math_file = _smepo_parquet(tmp_path / "math.parquet", "12", trace="<answer>\\boxed{12}</answer>")
    env = gym.make("smepo/Math-v0", tasks=str(math_file))
    env.reset(seed=0)
    _, reward, terminated, _, _ = env.step("<answer>\\boxed{12}</answer>")
    assert terminated and reward == 1.0
