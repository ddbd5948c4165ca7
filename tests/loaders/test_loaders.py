"""Loaders of GSM8K, MATH-500, MBPP, HumanEval and SMEPO parquet, on small local fixtures.

The fixtures under ``tests/fixtures/`` are problems written for these tests in each benchmark's
schema; SMEPO parquet files are written by the tests with pyarrow. Nothing reaches the Hub: the
download path is checked by replacing the one function that would call it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from smepo_env import loaders
from smepo_env.envs.math_env import MathEnv
from smepo_env.envs.python_exec import PythonExecEnv
from smepo_env.errors import TaskFormatError
from smepo_env.loaders import (
    load_gsm8k,
    load_humaneval,
    load_math500,
    load_mbpp,
    load_smepo_parquet,
    read_rows,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SANDBOX = {"timeout_s": 2.0}


def _final_reward(env, task, action: str) -> tuple[float, dict]:
    env.reset(options={"task": task})
    _, reward, terminated, _, info = env.step(action)
    assert terminated
    return reward, info


def test_gsm8k_answer_trace_and_reward():
    tasks = load_gsm8k(path=FIXTURES / "gsm8k_sample.jsonl")
    assert [t.answers for t in tasks] == [("31",), ("1250",)]
    assert tasks[0].id == "gsm8k-test-00000" and tasks[0].question_type == "gsm8k"
    assert "<<" not in tasks[0].expert_trace and "36 - 5 = 31" in tasks[0].expert_trace
    env = MathEnv(tasks=tasks)
    for task in tasks:
        assert _final_reward(env, task, task.expert_trace)[0] == 1.0
    assert _final_reward(env, tasks[1], "<answer>\\$1,250</answer>")[0] == 1.0
    assert _final_reward(env, tasks[1], "<answer>125</answer>")[0] == 0.0


def test_math500_fields_and_symbolic_answers():
    tasks = load_math500(path=FIXTURES / "math500_sample.jsonl")
    assert [t.question_type for t in tasks] == ["Prealgebra", "Algebra"]
    assert tasks[1].metadata["level"] == 3 and tasks[1].id == "test/algebra/own-2.json"
    env = MathEnv(tasks=tasks)
    assert _final_reward(env, tasks[0], "<answer>5/6</answer>")[0] == 1.0
    assert _final_reward(env, tasks[1], "<answer>\\boxed{(-\\infty, 2]}</answer>")[0] == 1.0
    assert _final_reward(env, tasks[1], "<answer>(-\\infty, 2)</answer>")[0] == 0.0
    assert _final_reward(env, tasks[0], tasks[0].expert_trace)[0] == 1.0


@pytest.mark.parametrize(
    ("config", "name"), [("full", "mbpp_full_sample.jsonl"), ("sanitized", "mbpp_sanitized_sample.jsonl")]
)
def test_mbpp_hidden_tests_run_in_the_code_env(config, name):
    tasks = load_mbpp(path=FIXTURES / name, config=config)
    task = tasks[-1]
    assert task.metadata["tests"][0] in task.question and task.metadata["entry_point"] in task.question
    reward, info = _final_reward(PythonExecEnv(tasks=tasks, sandbox=SANDBOX), task, task.expert_trace)
    assert reward == 1.0 and info["tests_total"] == len(task.metadata["tests"])


def test_mbpp_setup_code_and_entry_point_from_wrapped_asserts():
    task = load_mbpp(path=FIXTURES / "mbpp_full_sample.jsonl")[1]
    assert task.metadata["entry_point"] == "hypotenuse" and task.metadata["test_setup"] == "import math"
    reward, _ = _final_reward(
        PythonExecEnv(tasks=[task], sandbox=SANDBOX),
        task,
        "<answer>def hypotenuse(a, b):\n    return (a * a + b * b) ** 0.5</answer>",
    )
    assert reward == 1.0


def test_humaneval_prompt_helpers_are_available_to_the_submission():
    tasks = load_humaneval(path=FIXTURES / "humaneval_sample.jsonl")
    env = PythonExecEnv(tasks=tasks, sandbox=SANDBOX)
    assert tasks[1].metadata["entry_point"] == "count_vowels" and "def is_vowel" in tasks[1].question
    # only the target function, using the prompt's helper:
    reward, info = _final_reward(
        env, tasks[1], "<answer>def count_vowels(s):\n    return sum(map(is_vowel, s))</answer>"
    )
    assert reward == 1.0 and info["tests_total"] == 1
    assert _final_reward(env, tasks[0], tasks[0].expert_trace)[0] == 1.0
    assert _final_reward(env, tasks[0], "<answer>def double_all(nums):\n    return nums</answer>")[0] == 0.0


def _write_parquet(path: Path, rows: list[dict]) -> Path:
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def test_smepo_math_parquet_raw_and_training_rows(tmp_path):
    raw = _write_parquet(
        tmp_path / "math.parquet",
        [
            {
                "question": "What is 2 + 3?",
                "reward_model": {"style": "rule", "ground_truth": "5"},
                "teacher_ds": "2 + 3 = 5, so the answer is \\boxed{5}.",
            },
            {
                "question": "Half of 9?",
                "reward_model": {"style": "rule", "ground_truth": "\\frac{9}{2}"},
                "teacher_ds": "9/2",
            },
        ],
    )
    tasks = load_smepo_parquet(raw, domain="math")
    assert [t.answers for t in tasks] == [("5",), ("\\frac{9}{2}",)]
    assert tasks[0].expert_trace.startswith("2 + 3 = 5") and tasks[0].question_type == "smepo-math"
    assert _final_reward(MathEnv(tasks=tasks), tasks[1], "<answer>4.5</answer>")[0] == 1.0
    processed = _write_parquet(
        tmp_path / "train.parquet",
        [
            {
                "data_source": "smepo-math",
                "ability": "math",
                "prompt": [
                    {"role": "system", "content": "Solve."},
                    {"role": "user", "content": "What is 7 * 6?"},
                ],
                "reward_model": {"style": "rule", "ground_truth": "42"},
                "extra_info": {"index": 0, "teacher_ds": "7 * 6 = 42"},
            }
        ],
    )
    (task,) = load_smepo_parquet(processed)
    assert (task.question, task.answers, task.expert_trace) == ("What is 7 * 6?", ("42",), "7 * 6 = 42")


def test_smepo_code_parquet_call_based_and_stdio(tmp_path):
    call_based = {"fn_name": "triple", "inputs": [[1], [4]], "outputs": [3, 12]}
    stdio = {"inputs": ["2 3\n", "10 1\n"], "outputs": ["5\n", "11\n"]}
    path = _write_parquet(
        tmp_path / "code.parquet",
        [
            {
                "question": "Write triple(x).",
                "reward_model": {"style": "rule", "ground_truth": json.dumps(call_based)},
                "teacher_ds": "```python\ndef triple(x):\n    return 3 * x\n```",
            },
            {
                "question": "Print the sum of two integers.",
                "reward_model": {"style": "rule", "ground_truth": json.dumps(stdio)},
                "teacher_ds": "Read and add.",
            },
        ],
    )
    first, second = load_smepo_parquet(path, domain="code")
    assert first.metadata["entry_point"] == "triple" and len(first.metadata["tests"]) == 2
    assert second.metadata["stdio_tests"][1] == {"input": "10 1\n", "output": "11\n"}
    env = PythonExecEnv(tasks=[first, second], sandbox=SANDBOX)
    assert _final_reward(env, first, "<answer>" + first.expert_trace + "</answer>")[0] == 1.0
    assert (
        _final_reward(
            env, first, "<answer>class Solution:\n    def triple(self, x):\n        return 3 * x</answer>"
        )[0]
        == 1.0
    )
    assert _final_reward(env, second, "<answer>print(sum(map(int, input().split())))</answer>")[0] == 1.0


def test_hub_is_used_only_without_a_path(monkeypatch):
    calls = []
    monkeypatch.setattr(
        loaders.rows,
        "hub_rows",
        lambda repo, config, split: (
            calls.append((repo, config, split)) or [{"question": "1 + 1?", "answer": "1 + 1 = 2\n#### 2"}]
        ),
    )
    assert load_gsm8k(split="train")[0].answers == ("2",)
    load_gsm8k(path=FIXTURES / "gsm8k_sample.jsonl")
    assert calls == [("openai/gsm8k", "main", "train")]


def test_bad_input_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_gsm8k(path=tmp_path / "nowhere.jsonl")
    (tmp_path / "rows.csv").write_text("a,b\n")
    with pytest.raises(ValueError, match=r"\.csv"):
        read_rows(tmp_path / "rows.csv")
    (tmp_path / "bad.jsonl").write_text('{"question": "q"}\n')
    with pytest.raises(TaskFormatError, match="row 0 has no 'answer'"):
        load_gsm8k(path=tmp_path / "bad.jsonl")
    with pytest.raises(ValueError, match="domain"):
        load_smepo_parquet(tmp_path / "bad.jsonl", domain="chess")
    with pytest.raises(TaskFormatError, match="ground_truth"):
        load_smepo_parquet(tmp_path / "bad.jsonl")
    with pytest.raises(ValueError, match="limit"):
        load_gsm8k(path=FIXTURES / "gsm8k_sample.jsonl", limit=0)
    assert len(load_gsm8k(path=FIXTURES / "gsm8k_sample.jsonl", limit=1)) == 1
    with pytest.raises(ValueError, match="config"):
        load_mbpp(path=FIXTURES / "mbpp_full_sample.jsonl", config="tiny")


def test_smepo_parquet_search_rows(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from smepo_env.loaders import load_smepo_parquet

    rows = [
        {
            "question": "Where was Ada born?",
            "reward_model": {"style": "rule", "ground_truth": {"target": ["Veldra", "veldra city"]}},
            "teacher_ds": "<search>Ada born</search>\n<answer>Veldra</answer>",
        },
        {
            "question": "Capital of Kessen?",
            "reward_model": {"style": "rule", "ground_truth": {"target": ["Dorvik"]}},
            "teacher_ds": "<answer>Dorvik</answer>",
        },
    ]
    path = tmp_path / "search.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    tasks = load_smepo_parquet(path, domain="search")
    assert [t.answers for t in tasks] == [("Veldra", "veldra city"), ("Dorvik",)]
    assert tasks[0].expert_trace.endswith("<answer>Veldra</answer>")
