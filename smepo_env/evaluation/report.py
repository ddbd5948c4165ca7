"""Aggregating episode records into scores per question type, printing and saving them."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from retrieval_index.atomic import atomic_file


def summarize(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean exact match, F1 and reward per question type, plus an ``"all"`` row."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        groups[record["question_type"]].append(record)
    rows = {}
    for name, members in [*sorted(groups.items()), ("all", list(records))]:
        if not members:
            continue
        n = len(members)
        rows[name] = {
            "n": n,
            "exact_match": sum(r["exact_match"] for r in members) / n,
            "f1": sum(r["f1"] for r in members) / n,
            "reward": sum(r["reward"] for r in members) / n,
            "turns": sum(r["turns"] for r in members) / n,
        }
    return rows


def render_table(title: str, results: dict[str, dict[str, dict[str, float]]]) -> str:
    """A plain-text table: one block per policy, one row per question type."""
    lines = [title, f"{'policy':<22}{'type':<24}{'n':>6}{'EM':>8}{'F1':>8}{'turns':>7}"]
    for policy, rows in results.items():
        for qtype, row in rows.items():
            lines.append(
                f"{policy:<22}{qtype:<24}{row['n']:>6}{row['exact_match']:>8.3f}{row['f1']:>8.3f}{row['turns']:>7.2f}"
            )
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
