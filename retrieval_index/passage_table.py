"""Passages read from disk on demand, so a 21M-passage corpus does not live in RAM as objects.

:class:`PassageTable` is a read-only sequence of :class:`~retrieval_index.base.Passage` backed by an
index directory's ``passages.jsonl``: it keeps only the byte offset of every line (8 bytes per
passage, in a memory-mapped ``passages.offsets.npy`` written next to the file on first load) and
parses a line when a search returns it. Lookups use ``os.pread``, so threads share one table.
Wiki-18's 21M passages cost about 170 MB of offsets instead of roughly 20 GB of Python objects.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import overload

import numpy as np

from retrieval_index.base import Passage
from retrieval_index.corpus import passage_from_row

OFFSETS_SUFFIX = ".offsets.npy"
_CHUNK = 1 << 24


def line_offsets(path: Path) -> np.ndarray:
    """Start offsets of every non-empty line of ``path``, plus the file size at the end."""
    starts: list[np.ndarray] = []
    position = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            newlines = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10) + position + 1
            starts.append(newlines)
            position += len(chunk)
    candidates = np.concatenate([np.array([0], dtype=np.int64), *starts]).astype(np.int64)
    candidates = candidates[candidates < position] if position else candidates[:0]
    bounds = np.append(candidates, position)
    keep = np.diff(bounds) > 1  # drop blank lines (just "\n")
    return np.append(candidates[keep], position).astype(np.int64)


class PassageTable(Sequence[Passage]):
    """The passages of a JSONL corpus file, parsed on access.

    Args:
        path: the ``passages.jsonl`` of an index directory (or any corpus file).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._offsets = self._load_offsets()
        self._fd = os.open(self.path, os.O_RDONLY)
        self._ids: dict[str, int] | None = None

    def _load_offsets(self) -> np.ndarray:
        cache = self.path.with_name(self.path.name + OFFSETS_SUFFIX)
        stat = self.path.stat()
        if cache.is_file() and cache.stat().st_mtime_ns >= stat.st_mtime_ns:
            offsets = np.load(cache, mmap_mode="r")
            if len(offsets) and int(offsets[-1]) == stat.st_size:
                return offsets
        offsets = line_offsets(self.path)
        with contextlib.suppress(OSError):  # a read-only index directory still loads
            temp = cache.with_name(cache.name + f".{os.getpid()}.tmp")
            with temp.open("wb") as handle:
                np.save(handle, offsets)
            os.replace(temp, cache)
        return offsets

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def _read(self, index: int) -> Passage:
        start, end = int(self._offsets[index]), int(self._offsets[index + 1])
        line = os.pread(self._fd, end - start, start)
        return passage_from_row(json.loads(line), where=f"{self.path}:passage {index}")

    @overload
    def __getitem__(self, index: int) -> Passage: ...

    @overload
    def __getitem__(self, index: slice) -> list[Passage]: ...

    def __getitem__(self, index: int | slice) -> Passage | list[Passage]:
        if isinstance(index, slice):
            return [self._read(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"passage index {index} out of range for {len(self)} passages")
        return self._read(index)

    def __iter__(self) -> Iterator[Passage]:
        for index in range(len(self)):
            yield self._read(index)

    def by_id(self, passage_id: str) -> Passage | None:
        """The passage with corpus id ``passage_id`` (the id map is built on first use)."""
        if self._ids is None:
            self._ids = {passage.id: i for i, passage in enumerate(self)}
        row = self._ids.get(passage_id)
        return None if row is None else self._read(row)

    def __getstate__(self) -> dict[str, str]:
        return {"path": str(self.path)}

    def __setstate__(self, state: dict[str, str]) -> None:
        self.__init__(state["path"])  # type: ignore[misc]

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            os.close(self._fd)
