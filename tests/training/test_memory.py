"""Freed heap memory goes back to the OS after each step (glibc), and nothing breaks without glibc."""

from __future__ import annotations

import sys

import pytest

from smepo_env.training import memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim is glibc's (Linux only)")
def test_freed_heap_pages_are_returned_after_a_step():
    import psutil

    process = psutil.Process()
    # Many small blocks come from the heap (large ones are mapped and unmapped directly).
    blocks = [bytearray(4096) for _ in range(60_000)]
    pin = bytearray(4096)  # allocated last: the heap's top stays in use, so free() alone trims nothing
    with_blocks = process.memory_info().rss
    del blocks
    freed = process.memory_info().rss
    assert freed > with_blocks - 50 * 2**20  # freed, but still resident
    memory.ReleaseFreedMemoryCallback().on_step_end(None, None, None)
    assert process.memory_info().rss < freed - 100 * 2**20  # most of the ~240 MB went back
    del pin


def test_without_malloc_trim_it_does_nothing(monkeypatch):
    monkeypatch.setattr(memory, "_malloc_trim", lambda: None)
    assert memory.release_freed_memory() is False
    memory.ReleaseFreedMemoryCallback().on_step_end(None, None, None)  # no error
