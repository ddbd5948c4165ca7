"""Building an index directory straight from a corpus file, without the corpus in memory.

:func:`retrieval_index.store.build_index` lists its passages, because bm25s and rank-bm25 index
from memory. The dense (faiss) and Lucene backends build from a stream instead: passages are read
from the JSONL file, copied into the index directory as they pass, and encoded or indexed in
bounded chunks, so a corpus larger than RAM builds (the dense build is also resumable, see
:mod:`retrieval_index.dense_build`). :func:`build_from_corpus` uses a backend's streaming builder
where it has one and :func:`~retrieval_index.store.build_index` otherwise. Either way the result
is the same directory format (``meta.json``, ``passages.jsonl``, backend files) that
:func:`~retrieval_index.store.load_index` reads.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from tqdm.auto import tqdm

from retrieval_index.base import Passage
from retrieval_index.corpus import count_lines, read_corpus
from retrieval_index.store import FORMAT_NAME, FORMAT_VERSION, META_FILE, backend_class, build_index

STREAMING_BUILDERS: dict[str, str] = {
    "dense": "retrieval_index.dense_build:build_dense_index",
    "lucene": "retrieval_index.lucene:build_lucene_index",
}
"""Backend name -> ``module:function(corpus_path, out_dir, *, show_progress, **options)``."""


def build_from_corpus(
    corpus_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    backend: str = "bm25",
    *,
    show_progress: bool = True,
    **options: Any,
) -> Path:
    """Build an index of the JSONL corpus at ``corpus_path`` into ``out_dir``, atomically.

    Args:
        corpus_path: a Search-R1 / FlashRAG style JSONL corpus.
        out_dir: the index directory; an existing index there is replaced only on success.
        backend: a key of :data:`retrieval_index.store.BACKENDS`.
        show_progress: show progress bars.
        **options: backend options (see each backend's constructor).

    Returns:
        The index directory.

    Raises:
        ValueError: unknown backend.
        FileNotFoundError: no corpus file.
    """
    cls = backend_class(backend)  # validates the name first
    if not Path(corpus_path).is_file():
        raise FileNotFoundError(f"corpus file not found: {corpus_path}")
    if backend in STREAMING_BUILDERS:
        module_name, _, function_name = STREAMING_BUILDERS[backend].partition(":")
        builder = getattr(importlib.import_module(module_name), function_name)
        return builder(corpus_path, out_dir, show_progress=show_progress, **options)
    passages = read_corpus(corpus_path)
    if show_progress:
        total = count_lines(corpus_path)
        passages = tqdm(passages, total=total, desc="reading corpus", unit="passage")
        if "show_progress" in inspect.signature(cls).parameters:
            options = {**options, "show_progress": True}
    return build_index(passages, out_dir, backend=backend, **options)


def write_meta(
    staging: Path, backend: str, num_passages: int, options: dict[str, Any], build_seconds: float
) -> None:
    """Write ``meta.json`` in the format :func:`~retrieval_index.store.read_meta` checks."""
    meta = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "backend": backend,
        "num_passages": num_passages,
        "options": options,
        "build_seconds": round(build_seconds, 3),
    }
    (staging / META_FILE).write_text(json.dumps(meta, indent=2))


def remove_stale_staging(out_dir: str | os.PathLike[str]) -> list[Path]:
    """Delete staging folders that killed builds of ``out_dir`` left behind; returns them.

    :func:`~smepo_env.files.atomic_directory` stages a build in ``.<name>.<random>.tmp``
    next to the target; a killed build cannot remove its own, and for a large corpus it holds
    a partial copy of the corpus. Call this only where no other build of ``out_dir`` is running.
    """
    out = Path(out_dir).resolve()
    stale = [path for path in out.parent.glob(f".{out.name}.*.tmp") if path.is_dir()]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


def tee_passages(passages: Iterable[Passage], handle: IO[str]) -> Iterator[Passage]:
    """Yield ``passages`` while writing each as a corpus row to ``handle``."""
    for passage in passages:
        handle.write(json.dumps(passage.to_row(), ensure_ascii=False) + "\n")
        yield passage
