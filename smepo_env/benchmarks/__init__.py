"""Bundled benchmarks: generated offline, deterministic, versioned, cached on disk.

``load_benchmark(name)`` returns a :class:`BundledBenchmark`, building it on first use (see
:mod:`~smepo_env.benchmarks.cache`). The layout follows the domains:

* ``search/``: ``fictional_world``, ``world_facts`` (multi-hop questions over a generated
  corpus), with the question plans, the searching expert and the corpus/index build they share;
* ``math/``: ``math_word`` (word problems with worked solutions) and its templates;
* ``code/``: ``code_functions`` (function-writing tasks with hidden tests) and its templates.

Shared by all: the catalogue of names (:mod:`~smepo_env.benchmarks.catalog`), the cache
(:mod:`~smepo_env.benchmarks.cache`), the split-drawing quota loop
(:mod:`~smepo_env.benchmarks.split_quotas`) and the plumbing that lets a scripted expert play
each task in its domain's real environment (:mod:`~smepo_env.benchmarks.expert_play`).

Imports run one way: the environments import this package (for their default tasks); this
package never imports :mod:`smepo_env.envs`. The expert gets its environment from gymnasium's
registry by the domain's id (:data:`smepo_env.ENV_ID_BY_DOMAIN`).
"""

from __future__ import annotations

from smepo_env.benchmarks.cache import BundledBenchmark, corpus_index_dir, load_benchmark
from smepo_env.benchmarks.catalog import BENCHMARKS, benchmark_module
from smepo_env.files import cache_dir  # re-exported: it lived here before smepo_env.files

__all__ = [
    "BENCHMARKS",
    "BundledBenchmark",
    "benchmark_module",
    "cache_dir",
    "corpus_index_dir",
    "load_benchmark",
]
