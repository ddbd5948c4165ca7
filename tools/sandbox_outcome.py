"""Outcome of a sandboxed run: the launcher's report turned into a result, and the model's view.

:func:`interpret_run` decides exit code, timeout and error kind from the launcher's status
lines (which the program cannot write) and the captured output; :func:`format_result` is the
text the model sees.
"""

from __future__ import annotations

import signal

from tools.sandbox_config import ExecutionResult, SandboxConfig
from tools.sandbox_process import RawRun


def sandbox_error_result(level: str, text: str) -> ExecutionResult:
    """A result for a run the sandbox could not start (the program never ran)."""
    return ExecutionResult("", "", None, False, False, level, 0.0, "sandbox", text)


_SIGNAL_KINDS = {signal.SIGXCPU: "cpu_time", signal.SIGXFSZ: "file_size"}


def interpret_run(raw: RawRun, level: str, config: SandboxConfig, timeout_s: float) -> ExecutionResult:
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
        kind, text = "sandbox", "Sandbox error: the launcher ended without reporting an outcome"
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
    stdout_cut, stderr_cut = raw.stdout_total > len(raw.stdout), raw.stderr_total > len(raw.stderr)
    return ExecutionResult(
        stdout=stdout,
        stderr=stderr,
        exit_code=exit_code,
        timed_out=timed_out,
        truncated=stdout_cut or stderr_cut,
        isolation=level,
        duration_s=raw.duration_s,
        error_kind=kind,  # type: ignore[arg-type]
        error=text,
        stdout_bytes=raw.stdout_total,
        stderr_bytes=raw.stderr_total,
        stdout_truncated=stdout_cut,
        stderr_truncated=stderr_cut,
        memory_guard=outcome.get("guard", ""),
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
    detail = {"SIGSEGV": " (segmentation fault)", "SIGKILL": " (CPU time or memory exhausted)"}.get(name, "")
    return f"Killed by {name}{detail}"


def format_result(result: ExecutionResult) -> str:
    """The text the model sees for a run: the body of its ``<output>…</output>`` observation.

    Stdout comes first, then stderr (its tail), then one line for an abnormal end, e.g.
    ``[Timed out after 5 s]``. Cut-off output is marked where it was cut.
    """
    parts: list[str] = []
    if result.stdout:
        parts.append(result.stdout.rstrip("\n"))
        if result.stdout_truncated:
            parts.append(f"[... stdout truncated: {result.stdout_bytes} bytes in total]")
    if result.stderr:
        if result.stderr_truncated:
            parts.append(f"[... stderr truncated: showing its end of {result.stderr_bytes} bytes]")
        parts.append(result.stderr.rstrip("\n"))
    if result.error_kind and not (result.error_kind == "exit" and result.stderr.strip()):
        parts.append(f"[{result.error}]")
    return "\n".join(parts) if parts else "(no output)"
