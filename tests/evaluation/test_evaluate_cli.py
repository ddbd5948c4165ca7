"""agents/evaluate.py end to end: a table on stdout, results and trajectories on disk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_evaluate_script_writes_table_results_and_trajectories(tmp_path, fictional_benchmark):
    command = [
        sys.executable,
        str(REPO / "agents" / "evaluate.py"),
        "--policy",
        "oracle",
        "--policy",
        "no-search",
        "--benchmark",
        "fictional-world",
        "--split",
        "dev",
        "--limit",
        "12",
        "--output_dir",
        str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "fictional-world / dev (12 questions)" in result.stdout
    assert any(
        line.startswith("oracle") and " all " in line and "1.000" in line
        for line in result.stdout.splitlines()
    )
    summary = json.loads((tmp_path / "fictional-world-dev" / "results.json").read_text())
    assert summary["results"]["oracle"]["all"]["exact_match"] == 1.0
    assert summary["results"]["oracle"]["all"]["success"] == 1.0
    assert summary["results"]["oracle"]["all"]["tool_calls/search"] >= 1.0
    assert summary["results"]["oracle"]["all"]["n"] == 12
    trajectories = (tmp_path / "fictional-world-dev" / "trajectories-oracle.jsonl").read_text().splitlines()
    assert len(trajectories) == 12
    first = json.loads(trajectories[0])
    assert first["reward"] == 1.0 and "<information>" in first["transcript"] and first["task_id"]


def test_evaluate_script_plays_a_local_model_directory(tmp_path, tiny_model_dir):
    command = [
        sys.executable, str(REPO / "agents" / "evaluate.py"), "--policy", str(tiny_model_dir),
        "--benchmark", "fictional-world", "--split", "dev", "--limit", "3", "--max_turns", "2",
        "--max_new_tokens", "8", "--batch_size", "3", "--output_dir", str(tmp_path),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    label = tiny_model_dir.name
    assert any(line.startswith(label) and " all " in line for line in result.stdout.splitlines())
    summary = json.loads((tmp_path / "fictional-world-dev" / "results.json").read_text())
    row = summary["results"][label]["all"]
    assert row["n"] == 3 and 0.0 <= row["success"] <= 1.0
    records = [
        json.loads(line) for line in (tmp_path / "fictional-world-dev" / f"trajectories-{label}.jsonl").open()
    ]
    assert len(records) == 3
    for record in records:
        assert record["transcript"].startswith("Answer the question below.")
        assert record["turns"] >= 1 and isinstance(record["correct"], bool) and record["answers"]
    assert row["success"] == sum(r["correct"] for r in records) / 3
    assert ("exact_match" in row) == any("exact_match" in r for r in records)  # EM once an answer was scored


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--policy", "oracel"], "unknown policy 'oracel'"),
        (["--benchmark", "fictional"], "got 'fictional'. Did you mean 'fictional-world'"),
        (["--limit", "0"], "--limit must be a positive integer"),
    ],
)
def test_bad_arguments_are_named(tmp_path, args, message):
    from smepo_env.evaluation.cli import build_parser, evaluate

    parsed = build_parser().parse_args([*args, "--output_dir", str(tmp_path)])
    with pytest.raises((SystemExit, ValueError), match=message):
        evaluate(parsed)
