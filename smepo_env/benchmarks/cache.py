"""The on-disk cache of built benchmarks: build once, atomically, then load.

``load_benchmark(name)`` builds a benchmark the first time it is asked for (in a temporary
directory swapped in atomically, under a file lock so parallel processes build it once) and
loads it from the cache afterwards. The cache lives under :func:`smepo_env.files.cache_dir`
(``$SMEPO_CACHE_DIR``, default ``~/.cache/smepo_env``); each build's directory name carries
the benchmark's generator version, the pipeline version, size and seed, so a changed generator
never reads stale files.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smepo_env.benchmarks.catalog import benchmark_module
from smepo_env.files import atomic_directory, cache_dir, file_lock
from smepo_env.tasks import Task, load_tasks_jsonl

PIPELINE_VERSION = 1
"""Bumped when the build pipeline shared by all benchmarks changes what it writes."""


@dataclass(frozen=True)
class BundledBenchmark:
    """A built benchmark on disk."""

    name: str
    directory: Path
    manifest: dict[str, Any]

    @property
    def domain(self) -> str:
        """``"search"``, ``"math"`` or ``"code"``."""
        return str(self.manifest["domain"])

    @property
    def splits(self) -> tuple[str, ...]:
        """The splits this benchmark has."""
        return tuple(self.manifest["splits"])

    def tasks(self, split: str = "train") -> list[Task]:
        """The tasks of ``split`` (read once per process).

        Raises:
            ValueError: unknown split; the message lists the valid ones.
        """
        if split not in self.splits:
            raise ValueError(
                f"benchmark {self.name!r} has no split {split!r}; expected one of {list(self.splits)}"
            )
        return list(_read_tasks(self.directory / f"{split}.jsonl"))

    @property
    def corpus_path(self) -> Path:
        """The passage corpus (search benchmarks)."""
        return self.directory / "corpus.jsonl"

    def index_dir(self) -> Path:
        """The BM25 index directory of the corpus (search benchmarks)."""
        return self.directory / "index-bm25"


@functools.lru_cache(maxsize=32)
def _read_tasks(path: Path) -> tuple[Task, ...]:
    return tuple(load_tasks_jsonl(path))


@functools.lru_cache(maxsize=32)
def load_benchmark(name: str, size: float = 1.0, seed: int = 0) -> BundledBenchmark:
    """Load (building on first use) the bundled benchmark ``name``.

    Args:
        name: a key of :data:`~smepo_env.benchmarks.catalog.BENCHMARKS`.
        size: scales the benchmark (split sizes; for search benchmarks also the corpus).
        seed: the generator seed; the default is the published benchmark.

    Raises:
        ValueError: unknown ``name`` (naming the valid ones) or ``size`` not positive.
    """
    module = benchmark_module(name)
    if not size > 0:
        raise ValueError(f"size must be positive, got {size!r}")
    version = f"v{module.GENERATOR_VERSION}.{PIPELINE_VERSION}"
    directory = cache_dir() / "benchmarks" / f"{name}-{version}-size{size:g}-seed{seed}"
    if not (directory / "manifest.json").is_file():
        with file_lock(directory.with_name(directory.name + ".lock")):
            if not (directory / "manifest.json").is_file():
                with atomic_directory(directory) as staging:
                    manifest = module.build(staging, size=size, seed=seed)
                    manifest.update(name=name, version=version, size=size, seed=seed)
                    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2))
    manifest = json.loads((directory / "manifest.json").read_text())
    return BundledBenchmark(name, directory, manifest)


def corpus_index_dir(corpus: Path) -> Path:
    """A cached BM25 index of a user's JSONL corpus, rebuilt when the file changes.

    Raises:
        FileNotFoundError: ``corpus`` is not a file.
    """
    from retrieval_index.corpus import read_corpus
    from retrieval_index.store import build_index

    corpus = corpus.resolve()
    if not corpus.is_file():
        raise FileNotFoundError(f"corpus file not found: {corpus}")
    stat = corpus.stat()
    key = hashlib.sha1(f"{corpus}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    directory = cache_dir() / "corpus-indexes" / f"{corpus.stem}-{key}"
    if not (directory / "meta.json").is_file():
        with file_lock(directory.with_name(directory.name + ".lock")):
            if not (directory / "meta.json").is_file():
                build_index(read_corpus(corpus), directory, backend="bm25")
    return directory
