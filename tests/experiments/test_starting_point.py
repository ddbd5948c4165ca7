"""The starting-point measurement: greedy and sampled success per guidance mode, before RL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from smepo_env.experiments.starting_point import summarize_mode
from smepo_env.rollout.episodes import Episode

REPO = Path(__file__).resolve().parents[2]


def _episode(reward, observations=(), searches=0):
    messages = [{"role": "user", "content": "prompt"}]
    for text in observations:
        messages += [
            {"role": "assistant", "content": "<search>q</search>"},
            {"role": "user", "content": text},
        ]
    info = {"messages": messages, "tool_calls": {"search": searches} if searches else {}}
    return Episode(prompt_ids=[1], reward=reward, info=info)


def test_summary_counts_groups_with_a_success_and_all_equal_groups():
    answers = ("Trais",)
    greedy = [
        (_episode(1.0, ["Doc 1 born in Trais"], 1), answers),
        (_episode(1.0), answers),
        (_episode(0.0), answers),
    ]
    sampled = [(_episode(r), answers) for r in (0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0)]  # groups of 3
    row = summarize_mode("masked", greedy, sampled, 3)
    assert row["greedy_success"] == pytest.approx(2 / 3) and row["greedy_searches"] == pytest.approx(1 / 3)
    assert row["greedy_copy_rate"] == pytest.approx(1 / 3)  # the second answered right without evidence
    assert row["sampled_success"] == pytest.approx(4 / 9)
    assert row["groups_with_success"] == pytest.approx(2 / 3)
    assert row["groups_all_equal"] == pytest.approx(2 / 3)  # (0,0,0) and (1,1,1) carry no signal
    plain = summarize_mode("none", greedy, [], 0)
    assert "greedy_copy_rate" not in plain and "sampled_success" not in plain


def test_starting_point_refuses_the_evaluation_split(tmp_path):
    command = [
        sys.executable,
        str(REPO / "agents" / "compare_guidance.py"),
        "--starting_point",
        "--start_split",
        "test",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 2 and "another split than 'test'" in result.stderr


@pytest.mark.slow
def test_starting_point_command_writes_each_mode(tiny_model_dir, tmp_path):
    command = [
        sys.executable, str(REPO / "agents" / "compare_guidance.py"), "--starting_point", "--no_warm_start",
        "--model", str(tiny_model_dir), "--output_dir", str(tmp_path),
        "--arms", "none", "masked", "masked-anneal", "--start_questions", "2", "--start_group_size", "2",
        "--max_turn_tokens", "8", "--max_completion_length", "60",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads((tmp_path / "starting_point.json").read_text())
    assert record["split"] == "dev" and record["question_types"] == ["two-hop", "three-hop"]
    assert [row["mode"] for row in record["modes"]] == ["none", "masked"]
    assert all(row["n_questions"] == 2 and row["group_size"] == 2 for row in record["modes"])
