"""The catalogue of bundled benchmarks: each name and the module that generates it.

A benchmark module lives in the subpackage of its domain (``search/``, ``math/``, ``code/``),
is named after the benchmark, and exposes what :class:`BenchmarkModule` lists. Modules are
imported by name on first use, so asking for one benchmark never loads another's
dependencies (the world-facts data packages, the math verifier, the sandbox).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Protocol, cast

from smepo_env.errors import check_choice

BENCHMARKS: dict[str, str] = {
    "fictional-world": "smepo_env.benchmarks.search.fictional_world",
    "world-facts": "smepo_env.benchmarks.search.world_facts",
    "math-word": "smepo_env.benchmarks.math.math_word",
    "code-functions": "smepo_env.benchmarks.code.code_functions",
}
"""Benchmark name -> module. The first entry is the default of the search environment."""


class BenchmarkModule(Protocol):
    """What every benchmark module exposes."""

    GENERATOR_VERSION: int
    """Bumped whenever the generated content changes; part of the cache key."""
    DOMAIN: str
    """The domain of its tasks (one of :data:`smepo_env.vocabulary.DOMAINS`)."""

    def build(self, directory: Path, size: float = 1.0, seed: int = 0) -> dict[str, Any]:
        """Write the benchmark's files into ``directory``; returns the manifest fields."""
        ...


def benchmark_module(name: str) -> BenchmarkModule:
    """The module that builds benchmark ``name``.

    Raises:
        ValueError: unknown name; the message lists the valid ones and the closest match.
    """
    check_choice("benchmark", name, sorted(BENCHMARKS))
    return cast(BenchmarkModule, importlib.import_module(BENCHMARKS[name]))
