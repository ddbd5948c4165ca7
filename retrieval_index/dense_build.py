"""Streaming, resumable dense index builds: a corpus file in, a dense index directory out.

Why a separate path: :func:`retrieval_index.store.build_index` lists its passages, and encoding
a Wikipedia-sized corpus takes hours on a CPU (about 280 passages/s with MiniLM on 2 cores) or
a long GPU job. :func:`build_dense_index` instead

* reads the corpus file as a stream, ``shard_size`` passages at a time (only one shard of
  passages is in memory, never the corpus),
* encodes each shard in batches and saves its vectors as ``shard-NNNNN.npy`` in a work folder
  beside the output (``.<out name>.dense-work``), atomically, with a small ``.json`` naming the
  shard's first and last passage ids,
* on a rerun after a kill, skips every shard whose file exists and whose ids still match the
  corpus (the work folder is discarded when the corpus file, the encoder or the shard size
  changed), so encoding continues where it stopped; the killed run's staging folder is removed,
* builds the faiss index from the shards, which are memory-mapped, and swaps the finished
  index directory in atomically; the work folder is then removed (``keep_work=True`` keeps it,
  so a second index type can be built from the same vectors without encoding again).

The vectors of the flat index itself must fit in memory when it is built (see
:mod:`retrieval_index.dense` for the sizes); ``ivfpq`` needs only its compressed codes.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from retrieval_index.base import Passage
from retrieval_index.corpus import count_lines, read_corpus
from retrieval_index.dense import DenseConfig, build_faiss_index, write_dense_files
from retrieval_index.encoder import SentenceEncoder
from retrieval_index.store import PASSAGES_FILE
from retrieval_index.streaming import remove_stale_staging, tee_passages, write_meta
from smepo_env.files import atomic_directory, atomic_file

DEFAULT_SHARD_SIZE = 50_000
FINGERPRINT_FILE = "fingerprint.json"


def default_work_dir(out_dir: str | os.PathLike[str]) -> Path:
    """The shard folder used for ``out_dir``: a hidden sibling, outside the atomic staging folder."""
    out = Path(out_dir).resolve()
    return out.with_name(f".{out.name}.dense-work")


def _fingerprint(corpus_path: Path, encoder: SentenceEncoder, shard_size: int) -> dict[str, Any]:
    status = corpus_path.stat()
    return {
        "corpus": str(corpus_path.resolve()),
        "corpus_bytes": status.st_size,
        "corpus_mtime_ns": status.st_mtime_ns,
        "encoder": encoder.config(),
        "shard_size": shard_size,
    }


def prepare_work_dir(work_dir: Path, fingerprint: dict[str, Any]) -> None:
    """Keep ``work_dir`` when it holds shards of the same build; otherwise empty it."""
    marker = work_dir / FINGERPRINT_FILE
    if marker.is_file() and json.loads(marker.read_text()) == fingerprint:
        return
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    with atomic_file(marker) as handle:
        handle.write(json.dumps(fingerprint, indent=2))


def _batched(passages: Iterable[Passage], size: int) -> Iterator[list[Passage]]:
    iterator = iter(passages)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _shard_paths(work_dir: Path, number: int) -> tuple[Path, Path]:
    return work_dir / f"shard-{number:05d}.npy", work_dir / f"shard-{number:05d}.json"


def _completed_shard(work_dir: Path, number: int, chunk: list[Passage]) -> bool:
    vectors_path, info_path = _shard_paths(work_dir, number)
    if not (vectors_path.is_file() and info_path.is_file()):
        return False
    info = json.loads(info_path.read_text())
    return info == {"rows": len(chunk), "first_id": chunk[0].id, "last_id": chunk[-1].id}


def encode_shards(
    passages: Iterable[Passage],
    encoder: SentenceEncoder,
    work_dir: Path,
    *,
    shard_size: int = DEFAULT_SHARD_SIZE,
    batch_size: int = 64,
    total: int | None = None,
    show_progress: bool = True,
) -> list[Path]:
    """Encode ``passages`` shard by shard into ``work_dir``, reusing shards finished earlier.

    Returns:
        The shard files, in corpus order.
    """
    shard_files: list[Path] = []
    reused = 0
    with tqdm(total=total, desc="encoding passages", unit="passage", disable=not show_progress) as bar:
        for number, chunk in enumerate(_batched(passages, shard_size)):
            vectors_path, info_path = _shard_paths(work_dir, number)
            if _completed_shard(work_dir, number, chunk):
                reused += len(chunk)
                bar.set_postfix(resumed=reused)
            else:
                info_path.unlink(missing_ok=True)
                vectors = encoder.encode_passages(chunk, batch_size=batch_size)
                with atomic_file(vectors_path, "wb") as handle:
                    np.save(handle, vectors)
                with atomic_file(info_path) as handle:
                    handle.write(
                        json.dumps({"rows": len(chunk), "first_id": chunk[0].id, "last_id": chunk[-1].id})
                    )
            shard_files.append(vectors_path)
            bar.update(len(chunk))
    return shard_files


def build_dense_index(
    corpus_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    shard_size: int = DEFAULT_SHARD_SIZE,
    batch_size: int = 64,
    device: str | None = None,
    allow_download: bool = False,
    work_dir: str | os.PathLike[str] | None = None,
    keep_work: bool = False,
    show_progress: bool = True,
    **options: Any,
) -> Path:
    """Build a dense index directory from a JSONL corpus file, streaming and resumable.

    Args:
        corpus_path: the JSONL corpus.
        out_dir: the index directory (replaced only when the build succeeds).
        shard_size: passages encoded and saved together (the unit of resumption).
        batch_size: encoder batch size.
        device: encoder device (``None``: automatic).
        allow_download: let a named encoder be downloaded.
        work_dir: where shards go (default :func:`default_work_dir`).
        keep_work: keep the shards after success (to build another index type from them).
        show_progress: show progress bars.
        **options: :class:`~retrieval_index.dense.DenseConfig` fields.

    Returns:
        The index directory.

    Raises:
        ValueError: bad options, or an empty corpus.
    """
    if shard_size < 1:
        raise ValueError(f"shard_size must be a positive integer, got {shard_size!r}")
    started = time.perf_counter()
    corpus_path = Path(corpus_path)
    config = DenseConfig.from_options(options)
    encoder = config.make_encoder(device=device, allow_download=allow_download)
    work = Path(work_dir) if work_dir is not None else default_work_dir(out_dir)
    prepare_work_dir(work, _fingerprint(corpus_path, encoder, shard_size))
    remove_stale_staging(out_dir)
    total = count_lines(corpus_path) if show_progress else None
    with atomic_directory(out_dir) as staging:
        with (staging / PASSAGES_FILE).open("w", encoding="utf-8") as corpus_copy:
            shard_files = encode_shards(
                tee_passages(read_corpus(corpus_path), corpus_copy),
                encoder,
                work,
                shard_size=shard_size,
                batch_size=batch_size,
                total=total,
                show_progress=show_progress,
            )
        if not shard_files:
            raise ValueError(f"cannot build a dense index over an empty corpus: {corpus_path}")
        shards = [np.load(path, mmap_mode="r") for path in shard_files]
        num_vectors = sum(len(shard) for shard in shards)
        if show_progress:
            print(f"building faiss {config.index_type} index over {num_vectors} vectors", flush=True)
        index = build_faiss_index(lambda: shards, num_vectors, encoder.dimension, config)
        write_dense_files(staging, index, config, encoder)
        write_meta(
            staging,
            "dense",
            num_vectors,
            {**options, "shard_size": shard_size},
            time.perf_counter() - started,
        )
    if not keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return Path(out_dir)
