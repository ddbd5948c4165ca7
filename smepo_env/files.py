"""Generic file helpers every layer may use: the cache directory, atomic writes, locks.

This module imports nothing from the project. :func:`cache_dir` is the root of smepo-env's
on-disk cache (``$SMEPO_CACHE_DIR`` or ``~/.cache/smepo_env``): generated benchmarks, built
indexes, converted models and warm starts live under it.

Atomic writes of files and directories: a killed writer never leaves a half-written result.

Files are written to a temporary sibling and moved into place with :func:`os.replace`.
Directories are built in a temporary sibling (``.NAME.PID.XXXX.tmp``); the finished one
replaces the old one in one step, ``renameat2(RENAME_EXCHANGE)``, and the old one is deleted
afterwards, so there is no moment without a directory at the path. Where the file system
cannot exchange, two renames are used (old out of the way as ``.NAME.old-PID``, new into
place) and :func:`recover_directory` (run before every build and by loaders) moves the old
one back if a build was killed between them. Staging and retired siblings left by killed
processes are removed at the start of the next build. :func:`file_lock` serializes builds of
one cached artefact across processes.
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


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one atomic step; False where the kernel or file system cannot."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    return result == 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def recover_directory(path: str | os.PathLike[str]) -> None:
    """Undo what killed builds of ``path`` left: restore a retired directory if ``path`` is
    missing, and remove staging and retired siblings whose process is gone."""
    target = Path(path)
    if not target.parent.is_dir():
        return
    for sibling in target.parent.iterdir():
        name = sibling.name
        if name.startswith(f".{target.name}.old-"):
            pid_text = name.rpartition("-")[2]
        elif name.startswith(f".{target.name}.") and name.endswith(".tmp"):
            pid_text = name[len(target.name) + 2 :].partition(".")[0]
        else:
            continue
        if not pid_text.isdigit() or _pid_alive(int(pid_text)):
            continue
        if ".old-" in name and not target.exists():
            try:
                os.rename(sibling, target)  # the build died between its two renames
                continue
            except OSError:
                pass
        shutil.rmtree(sibling, ignore_errors=True)


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty temporary directory; on success it replaces ``path`` in one step.

    On an exception the temporary directory is removed; after a kill it is left as a
    ``.tmp`` sibling that the next build removes. ``path`` keeps its previous contents until
    the swap.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_directory(target)
    temp_dir = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
    )
    # mkdtemp makes the directory private (0700); a finished index or benchmark is ordinary
    # data that other users (a retrieval server under another account) must be able to read.
    os.chmod(temp_dir, 0o777 & ~_current_umask())
    try:
        yield temp_dir
    except BaseException:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    if target.exists() and _exchange(temp_dir, target):
        shutil.rmtree(temp_dir, ignore_errors=True)  # now holds the previous directory
        return
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
