"""Index directories on disk: building them atomically, loading them, sharing them in a process.

An index directory holds ``meta.json`` (format version, backend, passage count, options),
``passages.jsonl`` (the corpus, so every backend can return whole passages) and the
backend's own files. It is built in a temporary sibling and swapped in whole (see
:mod:`smepo_env.files`), so a killed build leaves the previous index intact.
:func:`load_shared_index` loads each directory once per process; every environment
instance in the process uses the same object.
"""

from __future__ import annotations

import importlib
import json
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from retrieval_index.base import Passage, Retriever
from retrieval_index.corpus import write_corpus
from retrieval_index.passage_table import PassageTable
from smepo_env.errors import IndexNotFoundError, check_choice
from smepo_env.files import atomic_directory, recover_directory

FORMAT_NAME = "smepo-retrieval-index"
FORMAT_VERSION = 1
META_FILE = "meta.json"
PASSAGES_FILE = "passages.jsonl"

BACKENDS: dict[str, str] = {
    "bm25": "retrieval_index.bm25:BM25sRetriever",
    "rank_bm25": "retrieval_index.bm25:RankBM25Retriever",
    "dense": "retrieval_index.dense:DenseRetriever",
    "lucene": "retrieval_index.lucene:LuceneRetriever",
    "hybrid": "retrieval_index.hybrid:HybridRetriever",
}
"""Backend name -> ``module:Class``. Each class takes ``(passages, **options)`` to build and has
``save(directory)`` and ``load(directory, passages)``. Other modules add entries here."""


def backend_class(backend: str) -> type[Retriever]:
    """Resolve a backend name to its retriever class.

    Raises:
        ValueError: unknown backend; the message lists the valid ones.
    """
    check_choice("retrieval backend", backend, sorted(BACKENDS))
    module_name, _, class_name = BACKENDS[backend].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def build_index(
    passages: Iterable[Passage],
    out_dir: str | os.PathLike[str],
    backend: str = "bm25",
    **options: Any,
) -> Path:
    """Build an index of ``passages`` with ``backend`` into ``out_dir``, atomically.

    Args:
        passages: the corpus.
        out_dir: the index directory; an existing index there is replaced only on success.
        backend: a key of :data:`BACKENDS`.
        **options: passed to the backend's constructor.

    Returns:
        The index directory.
    """
    cls = backend_class(backend)
    passages = list(passages)
    started = time.perf_counter()
    with atomic_directory(out_dir) as staging:
        write_corpus(passages, staging / PASSAGES_FILE)
        retriever = cls(passages, **options)  # type: ignore[call-arg]
        retriever.save(staging)  # type: ignore[attr-defined]
        meta = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "backend": backend,
            "num_passages": len(passages),
            "options": options,
            "build_seconds": round(time.perf_counter() - started, 3),
        }
        (staging / META_FILE).write_text(json.dumps(meta, indent=2))
    return Path(out_dir)


def read_meta(index_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check an index directory's ``meta.json``.

    Raises:
        IndexNotFoundError: no such directory, or no ``meta.json`` in it (an unfinished build).
        ValueError: the metadata names another format or a newer version.
    """
    meta_path = Path(index_dir) / META_FILE
    if not meta_path.is_file():
        recover_directory(index_dir)  # a build killed mid-swap leaves the previous index aside
    if not meta_path.is_file():
        raise IndexNotFoundError(
            f"no retrieval index at {index_dir!s} (expected {META_FILE}); build one with "
            f"`python -m retrieval_index build --corpus CORPUS.jsonl --out {index_dir!s}`"
        )
    meta = json.loads(meta_path.read_text())
    if meta.get("format") != FORMAT_NAME or int(meta.get("version", 0)) > FORMAT_VERSION:
        raise ValueError(
            f"{meta_path}: unsupported index format {meta.get('format')!r} v{meta.get('version')}"
        )
    return meta


def load_index(index_dir: str | os.PathLike[str]) -> Retriever:
    """Load an index directory written by :func:`build_index` (a fresh object each call)."""
    meta = read_meta(index_dir)
    passages = PassageTable(Path(index_dir) / PASSAGES_FILE)
    return backend_class(meta["backend"]).load(index_dir, passages)  # type: ignore[attr-defined]


_SHARED: dict[str, Retriever] = {}
_SHARED_LOCK = threading.Lock()


def load_shared_index(index_dir: str | os.PathLike[str]) -> Retriever:
    """Load an index once per process and return the same object on every later call."""
    key = str(Path(index_dir).resolve())
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = load_index(key)
        return _SHARED[key]
