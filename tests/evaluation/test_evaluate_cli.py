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
    assert summary["results"]["oracle"]["all"]["n"] == 12
    trajectories = (tmp_path / "fictional-world-dev" / "trajectories-oracle.jsonl").read_text().splitlines()
    assert len(trajectories) == 12
    first = json.loads(trajectories[0])
    assert first["reward"] == 1.0 and "<information>" in first["transcript"] and first["task_id"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--policy", "oracel"], "unknown policy 'oracel'"),
        (["--benchmark", "fictional"], "unknown benchmark 'fictional'"),
        (["--limit", "0"], "--limit must be a positive integer"),
    ],
)
def test_bad_arguments_are_named(tmp_path, args, message):
    from smepo_env.evaluation.cli import build_parser, evaluate

    parsed = build_parser().parse_args([*args, "--output_dir", str(tmp_path)])
    with pytest.raises((SystemExit, ValueError), match=message):
        evaluate(parsed)
