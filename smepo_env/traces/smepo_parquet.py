"""Expert traces written as SMEPO's released parquet schema, so they train in SMEPO's own code too.

Columns: ``question``; ``reward_model`` = ``{"style": "rule", "ground_truth": ...}`` with the
ground truth as SMEPO's readers expect it (math: the answer; search: Search-R1's ``{"target":
[aliases]}``); ``teacher_ds``, the trace as text. ``id``, ``question_type`` and ``data_source``
ride along so that :func:`smepo_env.loaders.load_smepo_parquet` gives the tasks their ids back
(and ``trace_source=`` matches by id as well as by question). Code traces are refused: SMEPO's
code ground truth is APPS-style stdin/stdout or call cases, which assert-based tasks do not carry.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from smepo_env.errors import TaskFormatError, check_choice
from smepo_env.files import atomic_file

SMEPO_WRITE_DOMAINS: tuple[str, ...] = ("search", "math")


def smepo_row(record: Mapping[str, Any], domain: str) -> dict[str, Any]:
    """One SMEPO row from a trace record (a row of ``collect_traces`` output, or a task dict).

    Raises:
        TaskFormatError: the record has no question, answers or trace (the message names it).
    """
    missing = [k for k in ("question", "answers", "expert_trace") if not record.get(k)]
    if missing:
        raise TaskFormatError(
            f"trace record {record.get('id', '?')!r} lacks {missing}; fields: {sorted(record)}"
        )
    answers = [str(a) for a in record["answers"]]
    truth: Any = {"target": answers} if domain == "search" else answers[0]
    return {
        "id": str(record.get("id") or ""),
        "data_source": str(record.get("benchmark") or f"smepo-{domain}"),
        "question": str(record["question"]),
        "question_type": str(record.get("question_type") or ""),
        "reward_model": {"style": "rule", "ground_truth": truth},
        "teacher_ds": str(record["expert_trace"]),
    }


def write_smepo_parquet(
    records: Iterable[Mapping[str, Any]], path: str | os.PathLike[str], domain: str = "search"
) -> int:
    """Write trace records as a SMEPO parquet file, atomically; returns the rows written.

    Args:
        records: rows of ``collect_traces`` output (or task dicts with an ``expert_trace``).
        path: the ``.parquet`` file.
        domain: ``"search"`` or ``"math"``.

    Raises:
        ValueError: another domain (code is refused, see the module docstring), or no records.
    """
    domain = check_choice("domain", domain, SMEPO_WRITE_DOMAINS)
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [smepo_row(record, domain) for record in records]
    if not rows:
        raise ValueError("no trace records to write")
    table = pa.Table.from_pylist(rows)
    with atomic_file(path, mode="wb") as handle:
        pq.write_table(table, handle)
    return len(rows)
