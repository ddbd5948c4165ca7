"""Aggregating episode records into scores per question type, printing and saving them.

The summary is generic over domains: ``success`` (share of episodes the env's scorer judged
correct), ``reward``, ``turns`` and mean ``tool_calls/<tool>``, plus the scorer metrics that
every record carries (EM and F1 for QA, the pass fraction for code).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from smepo_env.evaluation.records import SCORER_METRICS, EpisodeRecord
from smepo_env.files import atomic_file


def mean_tool_calls(calls: Sequence[Mapping[str, int]], prefix: str = "tool_calls/") -> dict[str, float]:
    """Mean calls per episode of every tool any episode used, keyed ``prefix + tool``."""
    tools = sorted({tool for counts in calls for tool in counts})
    n = max(len(calls), 1)
    return {f"{prefix}{tool}": sum(counts.get(tool, 0) for counts in calls) / n for tool in tools}


def summarize_records(records: Sequence[EpisodeRecord]) -> dict[str, float]:
    """One row of means: ``n``, ``success``, ``reward``, ``turns``, ``tool_calls/<tool>`` and the
    scorer metrics (``exact_match``, ``f1``, ``pass_fraction``) that the env reports."""
    n = len(records)
    if not n:
        return {"n": 0}
    row: dict[str, float] = {
        "n": n,
        "success": sum(bool(r["correct"]) for r in records) / n,
        "reward": sum(r["reward"] for r in records) / n,
        "turns": sum(r["turns"] for r in records) / n,
        **mean_tool_calls([r["tool_calls"] for r in records]),
    }
    for name in SCORER_METRICS:  # an episode that never answered scores 0 on its env's metrics
        if any(name in r for r in records):
            row[name] = sum(r.get(name, 0.0) for r in records) / n
    return row


def summarize(records: Sequence[EpisodeRecord]) -> dict[str, dict[str, float]]:
    """:func:`summarize_records` per question type, plus an ``"all"`` row."""
    groups: dict[str, list[EpisodeRecord]] = defaultdict(list)
    for record in records:
        groups[record["question_type"]].append(record)
    rows = {name: summarize_records(members) for name, members in sorted(groups.items())}
    rows["all"] = summarize_records(records)
    return rows


def render_table(title: str, results: dict[str, dict[str, dict[str, float]]]) -> str:
    """A plain-text table: one block per policy, one row per question type.

    Columns: n, success, reward, turns, then mean calls per tool (every tool any row used).
    """
    tools = sorted(
        {k for rows in results.values() for row in rows.values() for k in row if k.startswith("tool_calls/")}
    )
    width = max([22, *(len(policy) + 2 for policy in results)])
    header = f"{'policy':<{width}}{'type':<24}{'n':>6}{'success':>9}{'reward':>8}{'turns':>7}"
    header += "".join(f"{tool.removeprefix('tool_calls/'):>9}" for tool in tools)
    lines = [title, header]
    for policy, rows in results.items():
        for qtype, row in rows.items():
            line = f"{policy:<{width}}{qtype:<24}{row['n']:>6}{row['success']:>9.3f}{row['reward']:>8.3f}"
            line += f"{row['turns']:>7.2f}"
            line += "".join(f"{row.get(tool, 0.0):>9.2f}" for tool in tools)
            lines.append(line)
    return "\n".join(lines)


def save_results(
    out_dir: Path, summary: dict[str, Any], records_by_policy: dict[str, list[dict[str, Any]]]
) -> list[Path]:
    """Write ``results.json`` and one ``trajectories-<policy>.jsonl`` per policy, atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "results.json"]
    with atomic_file(paths[0]) as handle:
        json.dump(summary, handle, indent=2)
    for policy, records in records_by_policy.items():
        path = out_dir / f"trajectories-{policy.replace('/', '_')}.jsonl"
        with atomic_file(path) as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        paths.append(path)
    return paths
