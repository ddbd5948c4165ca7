"""Run one piece of training work in a fresh Python process, so its memory goes when it ends.

A training run on a CPU leaves memory behind in its process that neither Python's garbage
collector nor ``malloc_trim`` hands back (measured with ``bench/profile_memory.py``):

* the main job played cold (supervised warm start, then GRPO, in one process) began its GRPO
  stage 1.0 GiB higher than with the warm start cached (2.0 against 1.0 GiB) and peaked at
  4.2 GiB against 3.3 GiB;
* the guidance comparison played its 15 runs one after another in one process, which reached
  18.8 GB maximum resident (``/usr/bin/time -v``), against 10.0 GB for one of its runs alone
  (then training a step's 16 episodes in one pass).

:func:`call_in_fresh_process` runs a function in a spawned child process (a new interpreter,
not a fork of the parent's memory) and returns its result or raises its exception; when the
child exits, everything it allocated is gone. The function and its arguments must be picklable
(module-level functions, plain data). The child's output goes to the parent's stdout and stderr.

The child is one process on its own: the variables a distributed launcher set for the parent
(:data:`DISTRIBUTED_LAUNCH_VARIABLES`, e.g. ``RANK=0 WORLD_SIZE=2`` under ``accelerate launch``)
are removed from its environment, so that its trainer cannot take itself for one rank of a group
and wait for ranks that never join. (Under ``accelerate launch --cpu`` the warm start's child ran
either way in ``tests/training/test_distributed.py``; ``torchrun``-style variables are what
transformers' ``TrainingArguments`` reads to join a group.)
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

Result = TypeVar("Result")

DISTRIBUTED_LAUNCH_VARIABLES: tuple[str, ...] = (
    "RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK", "ROLE_RANK",
    "ROLE_WORLD_SIZE", "GROUP_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_RUN_ID",
)  # fmt: skip
"""What ``torchrun``/``accelerate launch`` set to make a process one rank of several."""


def _run_as_a_single_process() -> None:
    for name in DISTRIBUTED_LAUNCH_VARIABLES:
        os.environ.pop(name, None)


def call_in_fresh_process(function: Callable[..., Result], /, *args: Any, **kwargs: Any) -> Result:
    """``function(*args, **kwargs)`` in a spawned child process; its result, or its exception.

    Raises:
        concurrent.futures.process.BrokenProcessPool: the child died without an answer (killed,
            out of memory, a crash in native code).
        Exception: whatever ``function`` raised, re-raised here with the child's traceback attached.
    """
    for stream in (sys.stdout, sys.stderr):  # the parent's buffered lines come before the child's
        stream.flush()
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn, initializer=_run_as_a_single_process) as pool:
        return pool.submit(function, *args, **kwargs).result()
