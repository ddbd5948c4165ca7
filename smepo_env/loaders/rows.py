"""Reading benchmark rows: a local ``.jsonl`` / ``.json`` / ``.parquet`` file, or a hub split on request.

Every loader of :mod:`smepo_env.loaders` reads its rows through :func:`benchmark_rows`: a local
file when ``path`` is given, otherwise the Hugging Face Hub through ``datasets`` (network; only
when the user calls a loader without a path). Parquet rows come back as plain Python values
(lists and dicts, never numpy arrays), so every loader reads JSONL and parquet rows alike.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from smepo_env.errors import TaskFormatError

ROW_FILE_SUFFIXES: tuple[str, ...] = (".jsonl", ".json", ".parquet")
"""The local file types every loader reads."""


def read_rows(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Rows of a local ``.jsonl``, ``.json`` (a list of objects) or ``.parquet`` file.

    Raises:
        FileNotFoundError: no such file.
        ValueError: another extension, or a line that is not a JSON object.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"benchmark file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    if suffix == ".json":
        rows = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(rows, list):
            raise ValueError(f"{path}: expected a JSON list of objects, got {type(rows).__name__}")
        return rows
    if suffix == ".jsonl":
        rows = []
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as error:
                        raise ValueError(f"{path}:{number}: invalid JSON ({error.msg})") from None
        return rows
    raise ValueError(
        f"unsupported file type {suffix!r} for {path}; expected one of {', '.join(ROW_FILE_SUFFIXES)}"
    )


def hub_rows(repository: str, config: str | None, split: str) -> list[dict[str, Any]]:
    """Download a benchmark split from the Hugging Face Hub (network; only on a user's request)."""
    import datasets

    return list(datasets.load_dataset(repository, config, split=split))


def check_limit(limit: int | None) -> None:
    """Raise a ``ValueError`` unless ``limit`` is ``None`` or a positive integer."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive integer or None, got {limit!r}")


def benchmark_rows(
    path: str | os.PathLike[str] | None, repository: str, config: str | None, split: str, limit: int | None
) -> list[dict[str, Any]]:
    """The rows of a local file when ``path`` is given, else of a hub split; at most ``limit`` rows."""
    check_limit(limit)
    rows = read_rows(path) if path is not None else hub_rows(repository, config, split)
    return rows[:limit] if limit is not None else rows


def required_field(row: Mapping[str, Any], name: str, index: int, source: str) -> Any:
    """``row[name]``, or a :class:`TaskFormatError` naming the row and its fields."""
    if name not in row or row[name] is None:
        raise TaskFormatError(f"{source} row {index} has no {name!r} field; its fields are {sorted(row)}")
    return row[name]
