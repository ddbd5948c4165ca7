"""Numeric precision and CPU threads: bf16 where the processor has it, float32 where it does not.

``--precision auto`` (the default) picks bfloat16 for generation on CUDA GPUs that support it
and on CPUs whose flags show native bf16 arithmetic (``amx_bf16`` or ``avx512_bf16`` in
``/proc/cpuinfo``; oneDNN then runs bf16 matrix products in hardware), and float32 elsewhere;
``--precision fp32`` forces float32 everywhere, ``--precision bf16`` forces bfloat16. On the
project's 2-core machines (AVX512-BF16 with or without AMX) bf16 generation is 2.4-3.6x
float32 (``bench/bench_rollouts.py``).

Training keeps float32 master weights either way; with bf16 selected it runs the forward and
backward passes under bf16 autocast (TRL's ``bf16=True``), which is mixed precision, not
bf16 weights: small updates are not rounded away.

Threads: :func:`default_cpu_threads` is every usable core. A GRPO step on a CPU is mostly the
optimization (forward and backward over the step's episodes), which is matrix work that uses
every core: on the 2-core machine a step of 16 two-hop episodes took 71-85 s with two threads
against 126-141 s with one (vLLM rollouts, the guidance comparison's first run). Generation
alone gains little from a second thread there, and on a machine busy with other work one
thread can be faster: ``--cpu_threads N`` lowers it (``--cpu_threads 1`` on a shared 2-core
machine).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PRECISIONS: tuple[str, ...] = ("auto", "bf16", "fp32")
"""Values of ``--precision``."""

BF16_CPU_FLAGS: tuple[str, ...] = ("amx_bf16", "avx512_bf16")
"""CPU flags (as ``/proc/cpuinfo`` spells them) that mean bf16 arithmetic in hardware."""


def cpu_flags(cpuinfo: str | os.PathLike[str] = "/proc/cpuinfo") -> frozenset[str]:
    """The flags of the first processor listed in ``cpuinfo`` (empty when the file is absent)."""
    path = Path(cpuinfo)
    if not path.is_file():
        return frozenset()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def cpu_has_bf16(cpuinfo: str | os.PathLike[str] = "/proc/cpuinfo") -> bool:
    """Whether the CPU does bf16 arithmetic natively (AMX-BF16 or AVX512-BF16).

    Read from ``/proc/cpuinfo``; where that file does not exist (macOS, Windows), torch's own
    check of the same instructions is asked instead.
    """
    flags = cpu_flags(cpuinfo)
    if flags:
        return any(flag in flags for flag in BF16_CPU_FLAGS)
    import torch

    check = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    return bool(check()) if check is not None else False


def resolve_precision(precision: str, device: str = "cpu", *, cpu_bf16: bool | None = None) -> Any:
    """The torch dtype that ``precision`` means on ``device``.

    Args:
        precision: ``"auto"``, ``"bf16"`` or ``"fp32"``.
        device: ``"cpu"`` or a CUDA device string.
        cpu_bf16: whether the CPU has native bf16 (default: :func:`cpu_has_bf16`).

    Returns:
        ``torch.bfloat16`` or ``torch.float32``.

    Raises:
        ValueError: an unknown ``precision`` (the message names the valid values).
    """
    import torch

    if precision not in PRECISIONS:
        raise ValueError(f"--precision must be one of {list(PRECISIONS)}, got {precision!r}")
    if precision == "fp32":
        return torch.float32
    if precision == "bf16":
        return torch.bfloat16
    if str(device).startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    has_bf16 = cpu_has_bf16() if cpu_bf16 is None else cpu_bf16
    return torch.bfloat16 if has_bf16 else torch.float32


def dtype_name(dtype: Any) -> str:
    """``"bf16"``, ``"fp32"`` or torch's own name, for logs."""
    import torch

    return {torch.bfloat16: "bf16", torch.float32: "fp32", torch.float16: "fp16"}.get(dtype, str(dtype))


def default_cpu_threads(cpu_count: int | None = None) -> int:
    """Every usable core, at least one (see the module docstring for why)."""
    if cpu_count is None:
        cpu_count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cpu_count or 1)


def configure_cpu_threads(threads: int = 0) -> int:
    """Set torch's intra-op threads (and the OpenMP count vLLM's CPU engine reads) for this process.

    Args:
        threads: the thread count; 0 means :func:`default_cpu_threads`.

    Returns:
        The count set.

    Raises:
        ValueError: a negative count.
    """
    if threads < 0:
        raise ValueError(f"--cpu_threads must be >= 0 (0: every core), got {threads!r}")
    import torch

    count = threads or default_cpu_threads()
    os.environ["OMP_NUM_THREADS"] = str(count)
    torch.set_num_threads(count)
    return count
