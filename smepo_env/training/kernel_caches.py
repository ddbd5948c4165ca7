"""Bounding the CPU matrix kernels cached per input shape, which otherwise grow with every new length.

On a CPU, torch runs bf16 matrix products through oneDNN, and both oneDNN and torch's ideep layer
keep the kernels they build for each input shape in a cache (``ONEDNN_PRIMITIVE_CACHE_CAPACITY``
and ``LRU_CACHE_CAPACITY``, 1,024 entries each by default). Training on episodes means a new
sequence length at almost every micro-batch, hence new kernels for every linear layer's forward
and backward: forward and backward passes of SmolLM2-135M (top 8 layers trained, bf16 autocast)
over 40 sequences of random lengths between 450 and 650 tokens grew the resident set by 623 MiB,
and by 42 MiB when every sequence had the same length. With both caches at 64 entries the growth
stopped at 104 MiB, at the same speed (31.8 s against 32.7 s); at 16 entries it stopped at 47 MiB
but took 18% longer, since one pass needs more kernels than that; with no oneDNN cache (torch's
cache still at 1,024) it still grew by 296 MiB and took 3.5 times as long.

:func:`bound_cpu_kernel_caches` sets both variables (unless the user has) before the process runs
its first matrix product; the caches read them when they are first built, and a child process
inherits them.
"""

from __future__ import annotations

import os

KERNEL_CACHE_CAPACITY = 64
"""Kernels kept per cache: more than one forward and backward pass uses, so a pass never rebuilds."""

KERNEL_CACHE_VARIABLES: tuple[str, ...] = ("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "LRU_CACHE_CAPACITY")
"""oneDNN's primitive cache and torch's ideep cache (both read once, when first used)."""


def bound_cpu_kernel_caches(capacity: int = KERNEL_CACHE_CAPACITY) -> dict[str, str]:
    """Set each of :data:`KERNEL_CACHE_VARIABLES` to ``capacity`` unless it is already set.

    Returns:
        The value each variable has now.

    Raises:
        ValueError: a negative capacity.
    """
    if capacity < 0:
        raise ValueError(f"kernel cache capacity must be >= 0, got {capacity!r}")
    return {name: os.environ.setdefault(name, str(capacity)) for name in KERNEL_CACHE_VARIABLES}
