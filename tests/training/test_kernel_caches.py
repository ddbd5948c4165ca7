"""The CPU kernel caches are bounded unless the user bounded them first."""

from __future__ import annotations

import pytest

from smepo_env.training.kernel_caches import KERNEL_CACHE_VARIABLES, bound_cpu_kernel_caches


def test_both_caches_are_bounded_and_a_users_setting_is_kept(monkeypatch):
    for name in KERNEL_CACHE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LRU_CACHE_CAPACITY", "512")
    expected = {"ONEDNN_PRIMITIVE_CACHE_CAPACITY": "64", "LRU_CACHE_CAPACITY": "512"}
    assert bound_cpu_kernel_caches(64) == expected
    assert bound_cpu_kernel_caches(8)["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "64"  # the first setting stands


def test_a_negative_capacity_is_refused(monkeypatch):
    with pytest.raises(ValueError, match="-1"):
        bound_cpu_kernel_caches(-1)
