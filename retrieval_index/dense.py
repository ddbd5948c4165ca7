"""Dense retrieval: a sentence encoder and a faiss inner-product index over normalised vectors.

Passages and queries are encoded by :class:`~retrieval_index.encoder.SentenceEncoder` into unit
vectors, so inner product is cosine similarity. ``index_type`` picks the faiss index; the choice
is a trade of recall against memory and speed. Per passage, with ``d`` dimensions (384 for the
bundled MiniLM, 768 for e5-base-v2) and N passages (wiki-18: 21M):

``flat`` (default, ``IndexFlatIP``)
    Exact search. ``4·d`` bytes a passage: 21M × 768 × 4 = 64.5 GB for e5-base (Search-R1's
    setting), 32 GB for MiniLM. Every query scans all vectors: fine to about 1M passages on a
    CPU, then slow (tens to hundreds of ms a query at 21M).
``hnsw`` (``HNSW{hnsw_m}``, graph search)
    ``4·d + 8·hnsw_m`` bytes (flat vectors plus the graph), no training, query time roughly
    logarithmic in N. ``ef_search`` (default 128) trades recall for speed; recall@10 is usually
    0.95-0.99 of exact. Building is the slow part (it inserts vectors one by one).
``ivf`` (``IVF{nlist},Flat``, inverted lists)
    ``4·d + 8`` bytes; k-means into ``nlist`` cells (default about 4·√N) on a sample, and each
    query scans ``nprobe`` cells (default 16): roughly ``nprobe/nlist`` of the exact work. Raising
    ``nprobe`` raises recall towards exact.
``ivfpq`` (``IVF{nlist},PQ{pq_m}x8``, product quantisation)
    ``pq_m + 8`` bytes (default ``pq_m = d/8``): 21M passages fit in about 2 GB instead of 64 GB,
    at a clear recall loss (vectors are compressed; re-ranking a larger top-k with exact vectors
    recovers most of it). Training PQ codebooks is slow on CPU.

Any other string is passed to ``faiss.index_factory`` unchanged (e.g. ``"IVF65536_HNSW32,PQ64"``).
``bench/bench_retrieval_scale.py`` measures these at a given size and extrapolates to 21M.

A whole corpus is encoded in memory here; :mod:`retrieval_index.dense_build` builds from a corpus
file in bounded memory and resumes a killed build. In an index directory the vectors live in
``faiss.index`` next to ``dense.json`` (encoder, prefixes, index settings).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from retrieval_index.base import Passage, Retriever, SearchHit, check_k
from retrieval_index.encoder import DEFAULT_ENCODER, SentenceEncoder

INDEX_FILE = "faiss.index"
CONFIG_FILE = "dense.json"
INDEX_TYPES = ("flat", "hnsw", "ivf", "ivfpq")
TRAINING_SAMPLE = 100_000
"""Vectors sampled to train IVF cells and PQ codebooks (at least 50 a cell when nlist is large)."""


@dataclass
class DenseConfig:
    """The settings of a dense index that persist with it (``dense.json``).

    Attributes:
        encoder: model name or folder (see :class:`~retrieval_index.encoder.SentenceEncoder`).
        query_prefix: text before each query (``None``: automatic, E5's for e5 models).
        passage_prefix: text before each passage (``None``: automatic).
        max_seq_length: token limit of the encoder (``None``: the model's).
        index_type: one of :data:`INDEX_TYPES` or a faiss factory string.
        nlist: IVF cells (``None``: about 4·√N).
        nprobe: IVF cells scanned a query.
        hnsw_m: HNSW neighbours a node.
        ef_search: HNSW search breadth.
        pq_m: PQ sub-quantisers (``None``: dimension / 8).
    """

    encoder: str = DEFAULT_ENCODER
    query_prefix: str | None = None
    passage_prefix: str | None = None
    max_seq_length: int | None = None
    index_type: str = "flat"
    nlist: int | None = None
    nprobe: int = 16
    hnsw_m: int = 32
    ef_search: int = 128
    pq_m: int | None = None

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> DenseConfig:
        """Build from keyword options; unknown keys raise a ValueError listing the valid ones."""
        valid = {field.name for field in fields(cls)}
        unknown = sorted(set(options) - valid)
        if unknown:
            raise ValueError(f"unknown dense index option(s) {unknown}; expected some of {sorted(valid)}")
        config = cls(**options)
        if not isinstance(config.index_type, str) or not config.index_type:
            raise ValueError(f"index_type must be one of {INDEX_TYPES} or a faiss factory string")
        return config

    def make_encoder(self, *, device: str | None = None, allow_download: bool = False) -> SentenceEncoder:
        """The encoder these settings describe."""
        return SentenceEncoder(
            self.encoder,
            query_prefix=self.query_prefix,
            passage_prefix=self.passage_prefix,
            max_seq_length=self.max_seq_length,
            device=device,
            allow_download=allow_download,
        )


def default_nlist(num_vectors: int) -> int:
    """IVF cells for ``num_vectors``: about 4·√N, with at least 39 training vectors a cell."""
    return max(1, min(int(4 * math.sqrt(num_vectors)), num_vectors // 39))


def factory_string(config: DenseConfig, num_vectors: int, dimension: int) -> str:
    """The ``faiss.index_factory`` description of ``config`` for ``num_vectors`` vectors."""
    kind = config.index_type.lower()
    nlist = config.nlist or default_nlist(num_vectors)
    if kind == "flat":
        return "Flat"
    if kind == "hnsw":
        return f"HNSW{config.hnsw_m}"
    if kind == "ivf":
        return f"IVF{nlist},Flat"
    if kind == "ivfpq":
        pq_m = config.pq_m or max(1, dimension // 8)
        if dimension % pq_m:
            raise ValueError(f"pq_m={pq_m} must divide the encoder dimension {dimension}")
        bits = min(8, max(1, int(math.log2(max(2, num_vectors)))))  # k-means needs a point per code
        return f"IVF{nlist},PQ{pq_m}x{bits}"
    return config.index_type


def build_faiss_index(
    chunks: Callable[[], Iterable[np.ndarray]], num_vectors: int, dimension: int, config: DenseConfig
) -> Any:
    """Create, train (when the type needs it) and fill a faiss index from vector chunks.

    Args:
        chunks: returns a fresh iterable of ``(n, dimension)`` float32 arrays each call (called
            twice for trained types: once to sample, once to add), so vectors can stay on disk.
        num_vectors: total rows over all chunks.
        dimension: vector width.
        config: the index settings.
    """
    import faiss

    index = faiss.index_factory(
        dimension, factory_string(config, num_vectors, dimension), faiss.METRIC_INNER_PRODUCT
    )
    if not index.is_trained:
        rng = np.random.default_rng(0)
        ivf = faiss.try_extract_index_ivf(index)
        wanted = max(TRAINING_SAMPLE, 50 * (ivf.nlist if ivf is not None else 0))
        keep = min(1.0, wanted / max(1, num_vectors))
        sample = [chunk[rng.random(len(chunk)) < keep] for chunk in chunks()]
        index.train(np.ascontiguousarray(np.concatenate(sample), dtype=np.float32))
    for chunk in chunks():
        index.add(np.ascontiguousarray(chunk, dtype=np.float32))
    set_search_parameters(index, config)
    return index


def set_search_parameters(index: Any, config: DenseConfig) -> None:
    """Apply ``nprobe`` / ``ef_search`` where the index has them."""
    import faiss

    parameters = faiss.ParameterSpace()
    if faiss.try_extract_index_ivf(index) is not None:
        parameters.set_index_parameter(index, "nprobe", int(config.nprobe))
    if hasattr(index, "hnsw"):
        parameters.set_index_parameter(index, "efSearch", int(config.ef_search))


class DenseRetriever(Retriever):
    """Top-k passages by cosine similarity of sentence embeddings, searched with faiss.

    Args:
        passages: the corpus.
        batch_size: encoding batch size.
        device: encoder device (``None``: automatic).
        allow_download: let a named encoder be downloaded.
        show_progress: show an encoding progress bar.
        **options: :class:`DenseConfig` fields (``encoder``, ``index_type``, ``nprobe``...).
    """

    name = "dense"

    def __init__(
        self,
        passages: Sequence[Passage],
        *,
        batch_size: int = 64,
        device: str | None = None,
        allow_download: bool = False,
        show_progress: bool = False,
        **options: Any,
    ) -> None:
        if not passages:
            raise ValueError("cannot build a dense index over an empty corpus")
        self.config = DenseConfig.from_options(options)
        self.passages = list(passages)
        self.encoder = self.config.make_encoder(device=device, allow_download=allow_download)
        vectors = self.encoder.encode_passages(
            self.passages, batch_size=batch_size, show_progress=show_progress
        )
        self.index = build_faiss_index(lambda: [vectors], len(vectors), self.encoder.dimension, self.config)
        self.source_dir: Path | None = None

    def __len__(self) -> int:
        return len(self.passages)

    def batch_search(self, queries: Sequence[str], k: int) -> list[list[SearchHit]]:
        check_k(k)
        texts = [str(query).strip() for query in queries]
        results: list[list[SearchHit]] = [[] for _ in texts]
        nonempty = [i for i, text in enumerate(texts) if text]
        if not nonempty:
            return results
        vectors = self.encoder.encode_queries([texts[i] for i in nonempty])
        scores, rows = self.index.search(vectors, min(k, self.index.ntotal))
        for position, query_index in enumerate(nonempty):
            results[query_index] = [
                SearchHit(self.passages[int(row)], float(score))
                for row, score in zip(rows[position], scores[position], strict=True)
                if row >= 0
            ]
        return results

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        """Pickle as the index directory it was loaded from (faiss indexes do not pickle).

        Unpickling loads that directory with :func:`~retrieval_index.store.load_shared_index`.
        """
        if self.source_dir is None:
            raise TypeError(
                "a dense index built in memory cannot be pickled; build it into a directory "
                "(retrieval_index.store.build_index) and load that"
            )
        from retrieval_index.store import load_shared_index

        return (load_shared_index, (str(self.source_dir),))

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Write ``faiss.index`` and ``dense.json`` (not the passages) into ``directory``."""
        write_dense_files(Path(directory), self.index, self.config, self.encoder)

    @classmethod
    def load(
        cls,
        directory: str | os.PathLike[str],
        passages: Sequence[Passage],
        *,
        device: str | None = None,
        mmap: bool = True,
    ) -> DenseRetriever:
        """Open an index written by :meth:`save` or :func:`~retrieval_index.dense_build.build_dense_index`.

        Args:
            directory: the index directory.
            passages: its passages, in index order.
            device: encoder device.
            mmap: memory-map the vectors (processes on one machine share the page cache).

        Raises:
            ValueError: the vector count differs from the passage count.
        """
        import faiss

        stored = json.loads(Path(directory, CONFIG_FILE).read_text())
        self = cls.__new__(cls)
        self.source_dir = Path(directory)
        self.config = DenseConfig.from_options(stored["config"])
        self.passages = passages
        self.encoder = self.config.make_encoder(device=device)
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        self.index = faiss.read_index(str(Path(directory, INDEX_FILE)), flags)
        if self.index.ntotal != len(passages):
            raise ValueError(
                f"{directory}: the faiss index holds {self.index.ntotal} vectors but there are "
                f"{len(passages)} passages; rebuild the index"
            )
        if self.index.d != self.encoder.dimension:
            raise ValueError(
                f"{directory}: index vectors have {self.index.d} dimensions, encoder "
                f"{self.config.encoder!r} makes {self.encoder.dimension}"
            )
        set_search_parameters(self.index, self.config)
        return self


def write_dense_files(directory: Path, index: Any, config: DenseConfig, encoder: SentenceEncoder) -> None:
    """Write the faiss index and its settings (shared by the in-memory and streaming builds)."""
    import faiss

    faiss.write_index(index, str(directory / INDEX_FILE))
    stored = {"config": asdict(config), "encoder": encoder.config(), "num_vectors": int(index.ntotal)}
    (directory / CONFIG_FILE).write_text(json.dumps(stored, indent=2))
