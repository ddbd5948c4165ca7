"""Host-side facts and resources of the Python sandbox.

The interpreter layout and the launcher command, the program's environment, private uids,
work directories and this process's fork server.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import functools
import importlib.util
import os
import py_compile
import random
import shutil
import site
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from tools.sandbox_forkserver import ForkServer

TOOLS_DIR = os.path.dirname(os.path.abspath(__file__))
LAUNCHER_PATH = os.path.join(TOOLS_DIR, "sandbox_launcher.py")


@dataclass(frozen=True)
class InterpreterLayout:
    """Where the interpreter lives and what namespace isolation shows of the host.

    Attributes:
        executable: the interpreter that runs launcher and program (this process's own).
        site_dirs: site-packages directories put on the program's ``PYTHONPATH`` (the
            program runs with ``-S``, so ``.pth`` files are not processed).
        visible_paths: the only host paths a namespace-isolated program sees, read-only: the
            system's libraries (:data:`SYSTEM_PATHS`) and the interpreter's prefixes, its
            standard library and site-packages.
        masked_paths: directories inside ``visible_paths`` covered by an empty directory:
            this project's own packages, whose benchmark generators could rebuild hidden
            tests.
    """

    executable: str
    site_dirs: tuple[str, ...]
    visible_paths: tuple[str, ...]
    masked_paths: tuple[str, ...]


def _outermost(paths: set[str]) -> tuple[str, ...]:
    """Drop every path that lies inside another one of ``paths``."""
    ordered = sorted(paths, key=len)
    kept: list[str] = []
    for path in ordered:
        if not any(path == outer or path.startswith(outer + "/") for outer in kept):
            kept.append(path)
    return tuple(sorted(kept))


SYSTEM_PATHS: tuple[str, ...] = (
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib64",
    "/lib32",
    "/libx32",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
)
"""Host paths every namespace-isolated run sees (shared libraries the interpreter loads)."""
OWN_PACKAGES: tuple[str, ...] = ("smepo_env", "tools", "retrieval_index")
"""This project's packages, hidden from the sandbox when installed into a site directory."""


@functools.cache
def interpreter_layout() -> InterpreterLayout:
    """Compute (once per process) the interpreter layout of this machine."""
    site_dirs = tuple(path for path in site.getsitepackages() if os.path.isdir(path))
    needed = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *site_dirs}
    needed.add(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))))
    real_needed = {os.path.realpath(path) for path in needed if os.path.exists(path)}
    system = {path for path in SYSTEM_PATHS if os.path.lexists(path)}
    # Symlinked system paths (/bin -> usr/bin) are recreated as links, not followed.
    visible = tuple(
        sorted(set(_outermost(real_needed | {p for p in system if not os.path.islink(p)})) | system)
    )
    masked = tuple(
        os.path.join(site_dir, package)
        for site_dir in site_dirs
        for package in OWN_PACKAGES
        if os.path.isdir(os.path.join(site_dir, package))
    )
    return InterpreterLayout(sys.executable, site_dirs, visible, masked)


class UidSlots:
    """Private uids for concurrent runs, allocated across processes with ``flock``'d lock files.

    A slot is held for the whole run, so two runs never share a uid: each gets its own
    RLIMIT_NPROC budget and a clean-up that kills "every process of this uid" hits only it.
    """

    def __init__(self, base: int, count: int) -> None:
        """Use uids ``base .. base + count - 1``."""
        self.base = base
        self.count = count
        self.lock_dir = os.path.join(tempfile.gettempdir(), f"smepo-sandbox-uids-{os.geteuid()}")

    def _ensure_lock_dir(self) -> None:
        with contextlib.suppress(FileExistsError):
            os.mkdir(self.lock_dir, 0o700)
        info = os.lstat(self.lock_dir)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
            raise RuntimeError(f"uid lock directory {self.lock_dir!r} is not a private directory of ours")

    @contextlib.contextmanager
    def hold(self, wait_s: float) -> Iterator[int]:
        """Hold a free uid until the block ends; wait up to ``wait_s`` for one to free up.

        Raises:
            TimeoutError: every slot stayed busy for ``wait_s`` seconds.
        """
        self._ensure_lock_dir()
        deadline = time.monotonic() + wait_s
        while True:
            start = random.randrange(self.count)
            for offset in range(self.count):
                slot = (start + offset) % self.count
                path = os.path.join(self.lock_dir, f"{self.base + slot}.lock")
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                try:
                    yield self.base + slot
                finally:
                    os.close(fd)
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"all {self.count} sandbox uids stayed busy for {wait_s:g} s")
            time.sleep(0.01)


WORK_DIR_PREFIX = "smepo-sandbox-"
_swept_roots: set[tuple[int, str]] = set()


def make_work_dir(root: str | None, owner_uid: int | None) -> str:
    """Create an empty private work directory (mode 0700), owned by ``owner_uid`` when given.

    Its name carries this process's pid (``smepo-sandbox-<pid>-<random>``); the first call per
    process and root removes the work directories of processes that no longer exist
    (:func:`sweep_stale_work_dirs`), so a killed env leaves nothing behind for long.
    """
    directory = root or tempfile.gettempdir()
    if (os.getpid(), directory) not in _swept_roots:
        _swept_roots.add((os.getpid(), directory))
        sweep_stale_work_dirs(directory)
    path = tempfile.mkdtemp(prefix=f"{WORK_DIR_PREFIX}{os.getpid()}-", dir=root)
    if owner_uid is not None:
        os.chown(path, owner_uid, owner_uid)
    return path


def sweep_stale_work_dirs(root: str) -> list[str]:
    """Remove the work directories in ``root`` whose creating process is gone; return them."""
    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(root):
            pid_text = entry.name[len(WORK_DIR_PREFIX) :].partition("-")[0]
            if not (entry.name.startswith(WORK_DIR_PREFIX) and pid_text.isdigit()):
                continue
            if not entry.is_dir(follow_symlinks=False):
                continue
            try:
                os.kill(int(pid_text), 0)
            except ProcessLookupError:
                remove_tree(entry.path)
                removed.append(entry.path)
            except OSError:
                continue  # alive under another uid
    return removed


def remove_tree(path: str) -> None:
    """Remove a work directory even when the program made parts of it unwritable."""

    def make_writable_and_retry(function, target, *_):  # type: ignore[no-untyped-def]
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(target), 0o700)
            if os.path.isdir(target) and not os.path.islink(target):
                os.chmod(target, 0o700)
        function(target)

    with contextlib.suppress(OSError):
        if sys.version_info >= (3, 12):
            shutil.rmtree(path, onexc=make_writable_and_retry)
        else:
            shutil.rmtree(path, onerror=make_writable_and_retry)
    shutil.rmtree(path, ignore_errors=True)


_fork_servers: dict[int, ForkServer | None] = {}  # keyed by pid: a forked child starts its own
_fork_server_lock = threading.Lock()


def fork_server() -> ForkServer | None:
    """This process's fork server (started on first use), or None where pidfds are missing."""
    with _fork_server_lock:
        pid = os.getpid()
        if pid not in _fork_servers:
            try:
                os.close(os.pidfd_open(pid))
            except (AttributeError, OSError):
                _fork_servers[pid] = None
            else:
                boot = (
                    f"import sys; sys.path.append({TOOLS_DIR!r}); import sandbox_forkserver; "
                    "sandbox_forkserver.serve(int(sys.argv[1]))"
                )
                _fork_servers[pid] = ForkServer([interpreter_layout().executable, "-I", "-S", "-c", boot])
        return _fork_servers[pid]


def _close_fork_server() -> None:
    server = _fork_servers.get(os.getpid())
    if server is not None:
        server.close()


def _reset_lock_in_child() -> None:
    global _fork_server_lock
    _fork_server_lock = threading.Lock()  # another thread may have held it at the fork


atexit.register(_close_fork_server)
os.register_at_fork(after_in_child=_reset_lock_in_child)


@functools.cache
def launcher_command() -> tuple[str, ...]:
    """``python -I -S -c ...`` that imports the launcher, so its cached bytecode is used.

    A script given by path would be compiled on every run (a few ms); the launcher's
    ``.pyc`` is written here once (atomically) when the directory is writable.
    """
    with contextlib.suppress(OSError, py_compile.PyCompileError):
        cached = importlib.util.cache_from_source(LAUNCHER_PATH)
        if not os.path.exists(cached) or os.path.getmtime(cached) < os.path.getmtime(LAUNCHER_PATH):
            py_compile.compile(LAUNCHER_PATH, doraise=True)
    boot = (
        f"import sys; sys.path.append({TOOLS_DIR!r}); import sandbox_launcher; "
        "sandbox_launcher.exit_fast(sandbox_launcher.main(sys.argv[1:]))"
    )
    return (interpreter_layout().executable, "-I", "-S", "-c", boot)


def program_env(work_dir: str) -> dict[str, str]:
    """The complete environment of the launcher and the program: nothing is inherited."""
    layout = interpreter_layout()
    bin_dir = os.path.dirname(layout.executable)
    return {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": work_dir,
        "TMPDIR": work_dir,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(layout.site_dirs),
        "PYTHONUTF8": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": work_dir,
        **dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1"),
    }


def sweep_uid(uid: int) -> None:
    """Kill every process of a private uid (used when the launcher did not finish its job)."""
    argv = [*launcher_command(), "sweep", "status_fd=2", f"uid={uid}", "--"]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(argv, env={}, stdin=subprocess.DEVNULL, capture_output=True, timeout=10, check=False)
