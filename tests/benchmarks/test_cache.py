"""The benchmark cache: built once under a versioned name, then loaded without rebuilding."""

from __future__ import annotations

import json

import pytest

from smepo_env.benchmarks import load_benchmark
from smepo_env.benchmarks.cache import PIPELINE_VERSION
from smepo_env.benchmarks.math import math_word

SIZE = 0.005  # one problem per type and level in each split: a build of a second or two


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SMEPO_CACHE_DIR", str(tmp_path))
    load_benchmark.cache_clear()
    yield tmp_path
    load_benchmark.cache_clear()


def test_a_build_lands_under_its_versioned_name_with_a_manifest(own_cache):
    bench = load_benchmark("math-word", size=SIZE, seed=7)
    version = f"v{math_word.GENERATOR_VERSION}.{PIPELINE_VERSION}"
    assert bench.directory == own_cache / "benchmarks" / f"math-word-{version}-size{SIZE:g}-seed7"
    manifest = json.loads((bench.directory / "manifest.json").read_text())
    assert manifest == bench.manifest
    assert (manifest["name"], manifest["version"], manifest["seed"], manifest["domain"]) == (
        "math-word",
        version,
        7,
        "math",
    )
    assert bench.splits == ("train", "dev", "test")
    for split in bench.splits:
        tasks = bench.tasks(split)
        assert len(tasks) == manifest["splits"][split]["questions"] == 12
        assert [t.id for t in tasks] == [f"math-word-{split}-{i:05d}" for i in range(12)]


def test_a_second_load_reads_the_cache_without_building(own_cache, monkeypatch):
    first = load_benchmark("math-word", size=SIZE)
    load_benchmark.cache_clear()

    def no_build(*args, **kwargs):
        raise AssertionError("the benchmark was built again")

    monkeypatch.setattr(math_word, "build", no_build)
    second = load_benchmark("math-word", size=SIZE)
    assert second.manifest == first.manifest and second.tasks("dev") == first.tasks("dev")


def test_bad_arguments_are_named(own_cache):
    with pytest.raises(ValueError, match="size must be positive, got 0"):
        load_benchmark("math-word", size=0)
    with pytest.raises(ValueError, match="has no split 'validation'; expected one of"):
        load_benchmark("math-word", size=SIZE).tasks("validation")
    assert not (own_cache / "benchmarks").exists() or all(
        "size0-" not in path.name for path in (own_cache / "benchmarks").iterdir()
    )
