"""Sandbox for model-written Python: the ``<python>`` tool and the hidden-test runner.

Model-written code is hostile input. Each run gets a fresh process tree, started by a small
launcher (:mod:`tools.sandbox_launcher`), with:

* limits: wall clock (enforced by the launcher, with the parent as backstop), CPU seconds,
  address space, file size, processes (RLIMIT_NPROC), no core dumps, 256 open files;
* its own empty work directory (``HOME`` and ``TMPDIR`` too), removed afterwards (and swept
  at the next start if the parent was killed);
* a scrubbed environment: nothing of the parent's environment is passed on;
* bounded output: the head of stdout and the tail of stderr, ``max_output_bytes`` each; a
  program that writes 64 times that is stopped;
* clean-up of every process it started, background ones included, before ``run`` returns.

Isolation levels (``SandboxConfig.isolation``; ``"auto"`` takes the strongest that works,
found once per process by running a probe program at each level):

``namespace``
    New pid, mount, network and IPC namespaces (plus a user namespace when the caller is not
    root). The program's root is an empty tmpfs with read-only binds of the interpreter's
    prefix, the system's libraries and a few device nodes only
    (:attr:`tools.sandbox_host.InterpreterLayout.visible_paths`); this project's packages are
    masked. The work directory, ``/tmp`` and ``/dev/shm`` share one tmpfs of ``disk_mb`` MiB
    and ``max_files`` inodes; ``/proc`` shows only the sandbox. The network namespace has only
    a loopback that is down, so every connection fails and no host socket is reachable. When
    the run ends, the kernel kills whatever is left in the pid namespace. As root the program
    also runs as a private uid, so RLIMIT_NPROC holds.
``user``
    Root only, without namespaces: the program runs as a private uid (one per concurrent
    run, see ``uid_base``), so it cannot write root's files or signal other processes, and
    every process of that uid is killed afterwards. The network stays reachable. Needs the
    interpreter to be readable by that uid (not the case with pyenv under ``/root``).
``none``
    Same uid as the caller; limits, process group, and a child-subreaper sweep only (if the
    program kills its launcher, the parent kills the program's process group). Root ignores
    RLIMIT_NPROC and can undo anything, so this level does not contain hostile code.

Start-up: launchers are forked from a warm fork server (:mod:`tools.sandbox_forkserver`,
one per parent process) instead of starting an interpreter each run; the program itself is
always a freshly ``exec``'d interpreter, so no state is shared between runs. Set
``SandboxConfig.fork_server=False`` to start each launcher with ``subprocess.Popen``.

Every level runs the program under a seccomp filter (:mod:`tools.sandbox_seccomp`) that
denies the calls holding memory outside ``RLIMIT_AS`` (``memfd_create``, SysV shared memory,
keyrings, new namespaces, ...); results report it (``memory_guard``, ``isolation_summary``).
Cgroups are not used (cgroup v2's memory controller is often absent or not delegated in
containers); a run can therefore use at most ``max_processes`` x ``memory_mb`` of memory plus
its tmpfs. No external tool (bubblewrap, nsjail) is
needed: the launcher makes the system calls itself. The program runs as
``python -S -s -u main.py`` with the site-packages directories on ``PYTHONPATH``.

Thread safety: a :class:`PythonSandbox` holds only its frozen config, so it is cheap to make,
to copy and to pickle; any number of threads and processes may run code at the same time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from smepo_env.errors import SandboxUnavailableError
from tools.sandbox_config import ISOLATION_LEVELS, ExecutionResult, SandboxConfig
from tools.sandbox_host import (
    UidSlots,
    fork_server,
    interpreter_layout,
    launcher_command,
    make_work_dir,
    program_env,
    remove_tree,
    sweep_uid,
)
from tools.sandbox_outcome import format_result, interpret_run, sandbox_error_result
from tools.sandbox_process import RawRun, run_launcher
from tools.sandbox_test_plan import StdioTest
from tools.sandbox_tests import STARTUP_ALLOWANCE_S, TestReport, harness_source, judge_tests, prepare_tests

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "ExecutionResult",
    "PythonSandbox",
    "SandboxConfig",
    "SandboxUnavailableError",
    "StdioTest",
    "TestReport",
    "available_isolation_levels",
    "format_result",
]

NAMESPACE_WORK_DIR = "/tmp/sandbox"
"""Where the work directory appears inside namespace isolation (the same path every run)."""
_PROBE_TOKEN = "smepo-sandbox-probe-ok"
_probe_lock = threading.Lock()
_probe_results: dict[str, str] = {}  # level -> "" when it works, else why it does not
_uid_slots: dict[tuple[int, int], UidSlots] = {}


def _reset_lock_in_child() -> None:
    global _probe_lock
    _probe_lock = threading.Lock()  # another thread may have held it at the fork


os.register_at_fork(after_in_child=_reset_lock_in_child)


class PythonSandbox:
    """Runs untrusted Python code under the limits and isolation of a :class:`SandboxConfig`."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        """Make a sandbox; nothing is started or probed until the first run."""
        self.config = config or SandboxConfig()

    def __repr__(self) -> str:
        return f"PythonSandbox({self.config!r})"

    @property
    def isolation(self) -> str:
        """The isolation level runs get (probes the machine on first use).

        Raises:
            SandboxUnavailableError: an explicit level is unavailable, or none works at all.
        """
        return resolve_isolation(self.config.isolation)

    def run(self, code: str, stdin: str | None = None) -> ExecutionResult:
        """Run ``code`` as the script ``main.py`` in a fresh sandbox and return what it did.

        Args:
            code: Python source; any text is accepted (a syntax error is the program's output).
            stdin: text fed to the program's standard input; ``None`` gives it an empty one.

        Raises:
            SandboxUnavailableError: only for a configuration this machine cannot honour.
        """
        return self._execute(
            self.isolation,
            program=["main.py"],
            files={"main.py": code},
            stdin=None if stdin is None else stdin.encode("utf-8", "surrogateescape"),
            timeout_s=self.config.timeout_s,
        )[0]

    def run_tests(
        self,
        code: str,
        tests: str | Sequence[str | StdioTest],
        *,
        setup: str = "",
        per_test_timeout_s: float | None = None,
    ) -> TestReport:
        """Run a solution against hidden tests; each test in its own process in the sandbox.

        The sandbox only computes the values the tests need from the solution; every
        comparison with an expected value is made here (see :mod:`tools.sandbox_tests`).

        Args:
            code: the solution's source; any text (a syntax error fails every test).
            tests: assert-style test code (each top-level ``assert`` one test), or a sequence
                of tests, each a test source or a :class:`tools.sandbox_test_plan.StdioTest`.
            setup: code run before every source test (after the solution).
            per_test_timeout_s: wall-clock limit per test; ``None`` means the config's timeout.

        Raises:
            ValueError: ``tests`` is empty or not valid Python, or the timeout is not positive.
            SandboxUnavailableError: only for a configuration this machine cannot honour.
        """
        per_test = per_test_timeout_s if per_test_timeout_s is not None else self.config.timeout_s
        if not per_test > 0:
            raise ValueError(f"per_test_timeout_s must be > 0, got {per_test_timeout_s!r}")
        plans, payload = prepare_tests(code, tests, setup)
        execution, report = self._execute(
            self.isolation,
            program=["-c", harness_source(), "{report_fd}", f"{per_test:g}"],
            files={},
            stdin=payload,
            timeout_s=per_test * len(plans) + STARTUP_ALLOWANCE_S,
            with_report=True,
        )
        return judge_tests(plans, report, execution)

    def _execute(
        self,
        level: str,
        *,
        program: list[str],
        files: dict[str, str],
        stdin: bytes | None,
        timeout_s: float,
        with_report: bool = False,
    ) -> tuple[ExecutionResult, bytes]:
        """Run ``python -S -s -u *program`` in a new work dir holding ``files``.

        ``program`` may use ``{report_fd}`` for the write end of a report pipe (with
        ``with_report``); returns the result and the bytes read from that pipe.
        """
        config = self.config
        as_root = os.geteuid() == 0 and level != "none"
        with contextlib.ExitStack() as stack:
            try:
                uid = stack.enter_context(self._private_uid(as_root))
                work_dir = make_work_dir(config.work_root, uid)
            except (OSError, RuntimeError) as error:  # no free uid, no work directory
                return sandbox_error_result(level, f"cannot prepare the sandbox: {error}"), b""
            try:
                for name, text in files.items():
                    path = os.path.join(work_dir, name)
                    with open(path, "w", encoding="utf-8", errors="surrogateescape") as handle:
                        handle.write(text)
                    if uid is not None:
                        os.chown(path, uid, uid)
                raw = run_launcher(
                    launcher_command(),
                    self._launcher_argv(level, work_dir, uid, timeout_s, program),
                    env=program_env(NAMESPACE_WORK_DIR if level == "namespace" else work_dir),
                    cwd=work_dir,
                    stdin_data=stdin,
                    timeout_s=timeout_s,
                    max_output_bytes=config.max_output_bytes,
                    with_report=with_report,
                    fork_server=fork_server() if config.fork_server else None,
                )
            except OSError as error:
                return sandbox_error_result(level, f"cannot start the sandbox: {error}"), b""
            else:
                _clean_up_after_launcher(raw, level, uid)
            finally:
                remove_tree(work_dir)
        return interpret_run(raw, level, config, timeout_s), raw.report

    @contextlib.contextmanager
    def _private_uid(self, as_root: bool) -> Iterator[int | None]:
        if not as_root:
            yield None
            return
        key = (self.config.uid_base, self.config.uid_slots)
        slots = _uid_slots.setdefault(key, UidSlots(*key))
        with slots.hold(wait_s=max(10.0, self.config.timeout_s)) as uid:
            yield uid

    def _launcher_argv(
        self, level: str, work_dir: str, uid: int | None, timeout_s: float, program: list[str]
    ) -> list[str]:
        config, layout = self.config, interpreter_layout()
        options = {
            "status_fd": "{status_fd}",
            "timeout": f"{timeout_s:.3f}",
            "workdir": work_dir,
            "mountpoint": NAMESPACE_WORK_DIR,
            "disk_mb": str(config.disk_mb),
            "inodes": str(config.max_files),
            "seccomp": "1",
            "cpu": str(config.cpu_limit_s),
            "as": str(config.memory_mb << 20),
            "fsize": str(config.max_file_mb << 20),
            "nofile": "256",
        }
        if level != "none":
            options["nproc"] = str(config.max_processes)
        if uid is not None:
            options["uid"] = str(uid)
        argv = [level]
        argv += [f"{key}={value}" for key, value in options.items()]
        if level == "namespace":
            argv += [f"bind={path}" for path in layout.visible_paths]
            argv += [f"mask={path}" for path in layout.masked_paths]
        return [*argv, "--", layout.executable, "-S", "-s", "-u", *program]


def _clean_up_after_launcher(raw: RawRun, level: str, uid: int | None) -> None:
    """Kill what a launcher that died early (or was killed) could not clean up itself.

    In namespace isolation there is nothing to do: the pid namespace died with its init.
    """
    outcome = {line.partition(" ")[0]: line.partition(" ")[2] for line in raw.status_lines}
    finished = not raw.killed_by_parent and bool(outcome.keys() & {"exit", "signal", "timeout", "stopped"})
    if finished or level == "namespace":
        return
    if uid is not None:
        sweep_uid(uid)
    elif outcome.get("pid", "").isdigit():
        group = int(outcome["pid"])
        with contextlib.suppress(OSError):
            os.killpg(group, signal.SIGKILL)
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:  # until the orphans are really gone
                os.killpg(group, 0)
                time.sleep(0.005)


def _probe(level: str) -> str:
    """Run a tiny program at ``level``; return ``""`` when it works, else the reason."""
    if level == "user" and os.geteuid() != 0:
        return "switching to a private uid needs root"
    if not shutil.which(interpreter_layout().executable):
        return f"interpreter {interpreter_layout().executable!r} is not executable"
    sandbox = PythonSandbox(SandboxConfig(isolation=level, timeout_s=20.0))
    result, _ = sandbox._execute(
        level, program=["main.py"], files={"main.py": f"print({_PROBE_TOKEN!r})"}, stdin=None, timeout_s=20.0
    )
    if result.ok and result.stdout.strip() == _PROBE_TOKEN:
        return ""
    return result.error or result.stderr.strip()[-300:] or f"exit code {result.exit_code}"


def _probe_once(level: str) -> str:
    with _probe_lock:
        if level not in _probe_results:
            _probe_results[level] = _probe(level)
        return _probe_results[level]


def available_isolation_levels() -> tuple[str, ...]:
    """The isolation levels that work on this machine, strongest first (probed once)."""
    return tuple(level for level in ISOLATION_LEVELS if not _probe_once(level))


def resolve_isolation(requested: str) -> str:
    """The level a run with ``requested`` isolation gets here.

    Raises:
        SandboxUnavailableError: ``requested`` is an unavailable level, or no level works.
    """
    if requested != "auto":
        reason = _probe_once(requested)
        if reason:
            raise SandboxUnavailableError(
                f"isolation {requested!r} is not available on this machine ({reason}); "
                f"available: {available_isolation_levels()}"
            )
        return requested
    for level in ISOLATION_LEVELS:
        if not _probe_once(level):
            return level
    reasons = {level: _probe_results.get(level, "") for level in ISOLATION_LEVELS}
    raise SandboxUnavailableError(f"no isolation level works on this machine: {reasons}")
