"""Shared test setup: one on-disk cache per test session, so bundled benchmarks build once."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Set before any smepo_env import so every benchmark and index lands in the session cache,
# never in the user's ~/.cache. A caller may point SMEPO_CACHE_DIR elsewhere to reuse builds.
# The session's own cache (up to half a GB: the converted model) is removed when pytest exits;
# before, every run left one behind in /tmp, and 57 of them filled this machine's disk.
if "SMEPO_CACHE_DIR" not in os.environ:
    os.environ["SMEPO_CACHE_DIR"] = tempfile.mkdtemp(prefix="smepo-test-cache-")
    atexit.register(shutil.rmtree, os.environ["SMEPO_CACHE_DIR"], ignore_errors=True)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


@pytest.fixture(scope="session")
def fictional_benchmark():
    """The default bundled benchmark (built on first use in the session cache)."""
    from smepo_env.benchmarks import load_benchmark

    return load_benchmark("fictional-world")


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    """The session's smepo cache directory."""
    return Path(os.environ["SMEPO_CACHE_DIR"])


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, fictional_benchmark) -> Path:
    """One tiny random Qwen2 model for the whole session, its tokenizer trained on expert traces.

    Tests that train it copy or write to their own output directories; the directory itself
    is never modified.
    """
    from smepo_env.models import build_tiny_model

    texts = [task.expert_trace for task in fictional_benchmark.tasks("dev")]
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"), texts, vocab_size=800)
