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


def test_micro_batch_trimming_is_opt_in(monkeypatch):
    calls = []
    monkeypatch.setattr(memory, "release_freed_memory", lambda: calls.append("trim") or True)
    memory.ReleaseFreedMemoryCallback().on_substep_end(None, None, None)
    assert calls == []  # GRPO's default: once per optimizer step
    callback = memory.ReleaseFreedMemoryCallback(every_micro_batch=True)
    callback.on_substep_end(None, None, None)
    callback.on_step_end(None, None, None)
    assert calls == ["trim", "trim"]


def test_transformers_calls_the_hook_between_accumulated_micro_batches(tiny_model_dir, tmp_path, monkeypatch):
    """Two optimizer steps of 2 accumulated micro-batches: one substep end per step (the last
    micro-batch of a step ends in on_step_end), so 2 substep trims and 2 step trims."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    calls = []
    monkeypatch.setattr(memory, "release_freed_memory", lambda: calls.append("trim") or True)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    rows = [{"text": f"Marin Okafor was born in town number {i}."} for i in range(8)]
    config = SFTConfig(
        output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=2, gradient_accumulation_steps=2,
        use_cpu=True, report_to="none", save_strategy="no", disable_tqdm=True, logging_steps=100,
    )  # fmt: skip
    trainer = SFTTrainer(
        model=AutoModelForCausalLM.from_pretrained(tiny_model_dir),
        args=config,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        callbacks=[memory.ReleaseFreedMemoryCallback(every_micro_batch=True)],
    )
    trainer.train()
    assert calls == ["trim"] * 4
