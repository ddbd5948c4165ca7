"""Configuration and result types of the Python sandbox (see :mod:`tools.python_sandbox`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from smepo_env.errors import check_choice

IsolationLevel = Literal["namespace", "user", "none"]
ISOLATION_LEVELS: tuple[IsolationLevel, ...] = ("namespace", "user", "none")
"""Isolation levels from strongest to weakest; ``"auto"`` picks the first that works here."""

ErrorKind = Literal[
    "", "exit", "signal", "timeout", "memory", "cpu_time", "file_size", "output_limit", "sandbox"
]


@dataclass(frozen=True)
class SandboxConfig:
    """Limits and isolation of one sandbox; cheap, immutable and picklable.

    Attributes:
        timeout_s: wall-clock limit of one run, in seconds.
        cpu_s: CPU-time limit per process, in seconds; ``None`` means ``ceil(timeout_s)``.
        memory_mb: address-space limit per process, in MiB.
        max_output_bytes: bytes of stdout (head) and of stderr (tail) kept for the result; a
            program that writes more than 64 times this in total is stopped.
        max_file_mb: largest file the program may write, in MiB (RLIMIT_FSIZE).
        disk_mb: in namespace isolation, the bytes all of a run's writes may take in total,
            in MiB: the work directory, ``/tmp`` and ``/dev/shm`` share one tmpfs of this size.
        max_files: in namespace isolation, the most files and directories that tmpfs holds.
        max_processes: process/thread limit (RLIMIT_NPROC) of the run's user; not enforced
            at isolation ``"none"`` (root ignores it there).
        isolation: ``"auto"`` (strongest available), ``"namespace"``, ``"user"`` or ``"none"``.
            An explicit level that this machine cannot provide makes ``run`` raise
            :class:`SandboxUnavailableError`.
        uid_base: when the caller is root, each concurrent run gets its own uid from
            ``uid_base .. uid_base + uid_slots - 1`` (the ``isolate`` judge uses 60000 too).
        uid_slots: how many private uids (so how many concurrent runs) root may use.
        work_root: directory in which per-run work directories are created; ``None`` means
            the system temporary directory.
        fork_server: start launchers from a warm fork server (one per process) instead of
            a fresh interpreter each run; the program itself is a fresh process either way.
    """

    timeout_s: float = 5.0
    cpu_s: float | None = None
    memory_mb: int = 512
    max_output_bytes: int = 16_384
    max_file_mb: int = 32
    disk_mb: int = 64
    max_files: int = 4096
    max_processes: int = 16
    isolation: str = "auto"
    uid_base: int = 60_000
    uid_slots: int = 256
    work_root: str | None = None
    fork_server: bool = True

    def __post_init__(self) -> None:
        if not self.timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, got {self.timeout_s!r}")
        if self.cpu_s is not None and not self.cpu_s > 0:
            raise ValueError(f"cpu_s must be > 0 or None, got {self.cpu_s!r}")
        minimums = (
            ("memory_mb", 32),
            ("max_output_bytes", 64),
            ("max_file_mb", 1),
            ("disk_mb", 1),
            ("max_files", 16),
        )
        for name, minimum in minimums:
            if getattr(self, name) < minimum:
                raise ValueError(f"{name} must be >= {minimum}, got {getattr(self, name)!r}")
        if self.max_processes < 1:
            raise ValueError(f"max_processes must be >= 1, got {self.max_processes!r}")
        if self.uid_slots < 1:
            raise ValueError(f"uid_slots must be >= 1, got {self.uid_slots!r}")
        if not 0 < self.uid_base < 2**31 - self.uid_slots:
            raise ValueError(f"uid_base must be a uid in 1 .. 2**31 - uid_slots, got {self.uid_base!r}")
        choices = ("auto", *ISOLATION_LEVELS)
        check_choice("isolation", self.isolation, choices)

    @property
    def cpu_limit_s(self) -> int:
        """The CPU-time limit in whole seconds, as RLIMIT_CPU takes it."""
        return max(1, math.ceil(self.cpu_s if self.cpu_s is not None else self.timeout_s))


@dataclass(frozen=True)
class ExecutionResult:
    """What one sandboxed run produced.

    Attributes:
        stdout: the first ``max_output_bytes`` of stdout, decoded as UTF-8 with replacement.
        stderr: the last ``max_output_bytes`` of stderr, decoded the same way.
        exit_code: the program's exit status; negative for "killed by that signal"; ``None``
            when it did not finish (timeout, output limit, sandbox error).
        timed_out: the wall-clock limit ended the run.
        truncated: some stdout or stderr was left out.
        isolation: the isolation level the run had (``"namespace"``, ``"user"``, ``"none"``).
        duration_s: wall-clock seconds of the run, start-up and clean-up included.
        error_kind: ``""`` for a clean exit 0, else one of ``exit``, ``signal``, ``timeout``,
            ``memory``, ``cpu_time``, ``file_size``, ``output_limit``, ``sandbox``.
        error: one line describing ``error_kind`` (``""`` when there is none).
        stdout_bytes: bytes the program wrote to stdout in total.
        stderr_bytes: bytes the program wrote to stderr in total.
        stdout_truncated: the end of stdout was left out.
        stderr_truncated: the start of stderr was left out.
        memory_guard: how memory outside ``RLIMIT_AS`` was capped: ``"seccomp"`` (the calls
            that hold unaccounted memory were denied, :mod:`tools.sandbox_seccomp`) or ``""``
            when the program did not start.
    """

    stdout: str
    stderr: str
    exit_code: int | None
    timed_out: bool
    truncated: bool
    isolation: str
    duration_s: float
    error_kind: ErrorKind = ""
    error: str = ""
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    memory_guard: str = ""

    @property
    def isolation_summary(self) -> str:
        """``level+memory_guard`` (``"namespace+seccomp"``), the ``isolation`` of an env's info."""
        return f"{self.isolation}+{self.memory_guard}" if self.memory_guard else self.isolation

    @property
    def ok(self) -> bool:
        """True when the program finished by itself with exit status 0."""
        return self.exit_code == 0 and not self.timed_out and self.error_kind == ""
