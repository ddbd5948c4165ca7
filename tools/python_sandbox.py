"""Sandbox for model-written Python: the ``<python>`` tool and the hidden-test runner.

Model-written code is hostile input. Each run gets a fresh process tree, started by a small
launcher (:mod:`tools.sandbox_launcher`), with:

* limits: wall clock (enforced by the launcher, with the parent as backstop), CPU seconds,
  address space, file size, processes (RLIMIT_NPROC), no core dumps, 256 open files;
* its own empty work directory (``HOME`` and ``TMPDIR`` too), removed afterwards;
* a scrubbed environment: nothing of the parent's environment is passed on;
* bounded output: the head of stdout and the tail of stderr, ``max_output_bytes`` each; a
  program that writes 64 times that is stopped;
* clean-up of every process it started, background ones included, before ``run`` returns.

Isolation levels (``SandboxConfig.isolation``; ``"auto"`` takes the strongest that works,
found once per process by running a probe program at each level):

``namespace``
    New pid, mount, network and IPC namespaces (plus a user namespace when the caller is not
    root). The whole file system is read-only and nosuid except the work directory and a
    private tmpfs on ``/tmp`` and ``/dev/shm``; ``/root`` and ``/home`` are replaced by
    empty directories (the interpreter's prefix is bound back when it lives there); ``/proc``
    shows only the sandbox. The network namespace has only a loopback that is down, so every
    connection fails. When the run ends, the kernel kills whatever is left in the pid
    namespace. As root the program also runs as a private uid, so RLIMIT_NPROC holds.
``user``
    Root only, without namespaces: the program runs as a private uid (one per concurrent
    run, see ``uid_base``), so it cannot write root's files or signal other processes, and
    every process of that uid is killed afterwards. The network stays reachable. Needs the
    interpreter to be readable by that uid (not the case with pyenv under ``/root``).
``none``
    Same uid as the caller; limits, process group, and a child-subreaper sweep only. Root
    ignores RLIMIT_NPROC and can undo anything, so this level does not contain hostile code.

Cgroups are not used (often read-only or absent in containers); a run can therefore use at
most ``max_processes`` x ``memory_mb`` of memory. No external tool (bubblewrap, nsjail) is
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
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from tools.sandbox_config import (
    ISOLATION_LEVELS,
    ExecutionResult,
    SandboxConfig,
    SandboxUnavailableError,
)
from tools.sandbox_host import UidSlots, interpreter_layout, make_work_dir, remove_tree
from tools.sandbox_process import RawRun, run_launcher

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tools.sandbox_tests import TestReport

__all__ = [
    "ExecutionResult",
    "PythonSandbox",
    "SandboxConfig",
    "SandboxUnavailableError",
    "available_isolation_levels",
    "format_result",
]

LAUNCHER_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox_launcher.py")
_PROBE_TOKEN = "smepo-sandbox-probe-ok"
_probe_lock = threading.Lock()
_probe_results: dict[str, str] = {}  # level -> "" when it works, else why it does not
_uid_slots: dict[tuple[int, int], UidSlots] = {}


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
        tests: str | Sequence[str],
        *,
        setup: str = "",
        per_test_timeout_s: float | None = None,
    ) -> TestReport:
        """Run a solution against hidden tests; see :func:`tools.sandbox_tests.run_tests`."""
        from tools.sandbox_tests import run_tests

        return run_tests(self, code, tests, setup=setup, per_test_timeout_s=per_test_timeout_s)

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
        with self._private_uid(as_root) as uid:
            try:
                work_dir = make_work_dir(config.work_root, uid)
            except OSError as error:
                return _sandbox_error(level, f"cannot create a work directory: {error}"), b""
            try:
                for name, text in files.items():
                    path = os.path.join(work_dir, name)
                    with open(path, "w", encoding="utf-8", errors="surrogateescape") as handle:
                        handle.write(text)
                    if uid is not None:
                        os.chown(path, uid, uid)
                raw = run_launcher(
                    self._launcher_argv(level, work_dir, uid, timeout_s, program),
                    env=_program_env(work_dir),
                    cwd=work_dir,
                    stdin_data=stdin,
                    timeout_s=timeout_s,
                    max_output_bytes=config.max_output_bytes,
                    with_report=with_report,
                )
                if uid is not None and (raw.killed_by_parent or not raw.status_lines):
                    _sweep_uid(uid)
            finally:
                remove_tree(work_dir)
        return _interpret(raw, level, config, timeout_s), raw.report

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
            "tmpfs_mb": str(config.max_file_mb),
            "cpu": str(config.cpu_limit_s),
            "as": str(config.memory_mb << 20),
            "fsize": str(config.max_file_mb << 20),
            "nofile": "256",
        }
        if level != "none":
            options["nproc"] = str(config.max_processes)
        if uid is not None:
            options["uid"] = str(uid)
        argv = [layout.executable, "-I", "-S", LAUNCHER_PATH, level]
        argv += [f"{key}={value}" for key, value in options.items()]
        if level == "namespace":
            argv += [f"hide={path}" for path in layout.hidden_dirs]
            argv += [f"expose={path}" for path in layout.exposed_paths]
        return [*argv, "--", layout.executable, "-S", "-s", "-u", *program]


def _program_env(work_dir: str) -> dict[str, str]:
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


def _sweep_uid(uid: int) -> None:
    """Kill every process of a private uid (used when the launcher did not finish its job)."""
    layout = interpreter_layout()
    argv = [layout.executable, "-I", "-S", LAUNCHER_PATH, "sweep", "status_fd=2", f"uid={uid}", "--"]
    with contextlib.suppress(OSError, ValueError):
        import subprocess

        subprocess.run(argv, env={}, stdin=subprocess.DEVNULL, capture_output=True, timeout=10, check=False)


def _sandbox_error(level: str, text: str) -> ExecutionResult:
    return ExecutionResult("", "", None, False, False, level, 0.0, "sandbox", text)


_SIGNAL_KINDS = {signal.SIGXCPU: "cpu_time", signal.SIGXFSZ: "file_size"}


def _interpret(raw: RawRun, level: str, config: SandboxConfig, timeout_s: float) -> ExecutionResult:
    """Turn the launcher's status lines and the captured output into an :class:`ExecutionResult`."""
    stdout = raw.stdout.decode("utf-8", "replace")
    stderr = raw.stderr.decode("utf-8", "replace")
    outcome = {line.partition(" ")[0]: line.partition(" ")[2] for line in raw.status_lines}
    exit_code: int | None = None
    kind, text = "", ""
    if "exit" in outcome:
        exit_code = int(outcome["exit"])
    elif "signal" in outcome:
        exit_code = -int(outcome["signal"])
    timed_out = exit_code is None and ("timeout" in outcome or raw.killed_by_parent)
    if raw.output_stopped:
        exit_code, kind = None, "output_limit"
        text = f"Output limit exceeded: stopped after {raw.stdout_total + raw.stderr_total} bytes"
    elif "error" in outcome:
        kind, text = "sandbox", f"Sandbox error: {outcome['error']}"
    elif timed_out:
        kind, text = "timeout", f"Timed out after {timeout_s:g} s"
    elif exit_code is None:
        kind, text = "sandbox", f"Sandbox error: launcher ended with status {raw.launcher_returncode}"
    elif exit_code < 0:
        number = -exit_code
        kind = _SIGNAL_KINDS.get(number, "signal")  # type: ignore[call-overload]
        text = _describe_signal(number, config)
    elif exit_code != 0:
        last_line = stderr.rstrip().rpartition("\n")[2]
        if "MemoryError" in last_line:
            kind, text = "memory", f"Memory limit exceeded ({config.memory_mb} MB)"
        else:
            kind, text = "exit", f"Exit code {exit_code}"
    truncated = raw.stdout_total > len(raw.stdout) or raw.stderr_total > len(raw.stderr)
    return ExecutionResult(
        stdout=stdout,
        stderr=stderr,
        exit_code=exit_code,
        timed_out=timed_out,
        truncated=truncated,
        isolation=level,
        duration_s=raw.duration_s,
        error_kind=kind,  # type: ignore[arg-type]
        error=text,
        stdout_bytes=raw.stdout_total,
        stderr_bytes=raw.stderr_total,
    )


def _describe_signal(number: int, config: SandboxConfig) -> str:
    if number == signal.SIGXCPU:
        return f"CPU time limit exceeded ({config.cpu_limit_s} s)"
    if number == signal.SIGXFSZ:
        return f"File size limit exceeded ({config.max_file_mb} MB)"
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    detail = {"SIGSEGV": " (segmentation fault)", "SIGKILL": " (possibly out of memory)"}.get(name, "")
    return f"Killed by {name}{detail}"


def format_result(result: ExecutionResult) -> str:
    """The text the model sees for a run: the body of its ``<output>…</output>`` observation.

    Stdout comes first, then stderr (its tail), then one line for an abnormal end, e.g.
    ``[Timed out after 5 s]``. Cut-off output is marked where it was cut.
    """
    parts: list[str] = []
    if result.stdout:
        parts.append(result.stdout.rstrip("\n"))
        if result.stdout_bytes > len(result.stdout.encode("utf-8", "replace")):
            parts.append(f"[... stdout truncated: {result.stdout_bytes} bytes in total]")
    if result.stderr:
        if result.stderr_bytes > len(result.stderr.encode("utf-8", "replace")):
            parts.append(f"[... stderr truncated: showing its end of {result.stderr_bytes} bytes]")
        parts.append(result.stderr.rstrip("\n"))
    if result.error_kind and not (result.error_kind == "exit" and result.stderr.strip()):
        parts.append(f"[{result.error}]")
    return "\n".join(parts) if parts else "(no output)"


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


if sys.platform != "linux":  # pragma: no cover - the launcher needs Linux system calls
    raise ImportError("tools.python_sandbox needs Linux")
