"""Generic file helpers every layer may use: the cache directory, atomic writes, locks.

This module imports nothing from the project. :func:`cache_dir` is the root of smepo-env's
on-disk cache (``$SMEPO_CACHE_DIR`` or ``~/.cache/smepo_env``): generated benchmarks, built
indexes, converted models and warm starts live under it.

Atomic writes of files and directories: a killed writer never leaves a half-written result.

Files are written to a temporary sibling and moved into place with :func:`os.replace`.
Directories are built in a temporary sibling; the finished one replaces the old one with two
renames (old out of the way, new into place) and the old one is deleted afterwards. A build
killed at any point before the renames leaves the previous directory untouched.
:func:`file_lock` serializes builds of one cached artefact across processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


def cache_dir() -> Path:
    """The root of smepo-env's on-disk cache (``$SMEPO_CACHE_DIR`` or ``~/.cache/smepo_env``)."""
    return Path(os.environ.get("SMEPO_CACHE_DIR", Path.home() / ".cache" / "smepo_env"))


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], mode: str = "w") -> Iterator[TextIO]:
    """Open a temporary file next to ``path``; on success move it onto ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(descriptor, mode, encoding=None if "b" in mode else "utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty temporary directory; on success it replaces ``path``.

    On an exception (or a kill) the temporary directory is removed or left as an ignored
    ``.tmp`` sibling, and ``path`` keeps its previous contents.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp_dir = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    # mkdtemp makes the directory private (0700); a finished index or benchmark is ordinary
    # data that other users (a retrieval server under another account) must be able to read.
    os.chmod(temp_dir, 0o777 & ~_current_umask())
    try:
        yield temp_dir
    except BaseException:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    retired = None
    if target.exists():
        retired = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.rename(target, retired)
    os.rename(temp_dir, target)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)


@contextlib.contextmanager
def file_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing), so that parallel processes
    building the same cached artefact build it once: the others wait, then find it built."""
    lock_path = Path(path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
