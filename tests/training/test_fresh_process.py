"""call_in_fresh_process: the work runs in another process, its result and its errors come back."""

from __future__ import annotations

import os

import pytest

from smepo_env.training.fresh_process import call_in_fresh_process


def test_the_function_runs_in_another_process_and_its_result_comes_back():
    assert call_in_fresh_process(os.getpid) != os.getpid()
    assert call_in_fresh_process(divmod, 17, 5) == (3, 2)
    assert call_in_fresh_process(sorted, [3, 1, 2], reverse=True) == [3, 2, 1]


def test_the_childs_exception_is_raised_in_the_parent():
    with pytest.raises(ValueError, match="invalid literal for int"):
        call_in_fresh_process(int, "three")


def test_the_child_is_not_a_rank_of_the_parents_distributed_launch(monkeypatch):
    for name, value in (("RANK", "0"), ("WORLD_SIZE", "2"), ("MASTER_PORT", "29500")):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SMEPO_FRESH_PROCESS_TEST", "kept")
    assert call_in_fresh_process(os.getenv, "WORLD_SIZE") is None
    assert call_in_fresh_process(os.getenv, "MASTER_PORT") is None
    assert call_in_fresh_process(os.getenv, "SMEPO_FRESH_PROCESS_TEST") == "kept"
