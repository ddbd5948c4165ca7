"""Lexical BM25 retrieval: bm25s (the default; numba-accelerated where installed) and rank-bm25.

:class:`BM25sRetriever` is the embedded default of every search environment: sparse-matrix
BM25 from ``bm25s``, English stop words and Snowball stemming, Lucene's scoring with
Pyserini's ``k1=0.9, b=0.4`` (the setting Search-R1's BM25 runs use). :class:`RankBM25Retriever`
wraps ``rank_bm25.BM25Okapi`` over the same tokens; it is about a thousand times slower and
serves as the reference ranking in tests and benchmarks.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

# bm25s imports JAX where it is installed and runs one JAX operation at import, which makes
# JAX's GPU backend take 75% of the GPU's memory in every process that imports this module
# (seen on an H200: parallel training runs died of CUDA out-of-memory before their first
# step). Unless the user chose otherwise, JAX allocates on demand instead (bm25s 0.3).
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import bm25s
import Stemmer
from bm25s.tokenization import Tokenizer

from retrieval_index.base import Passage, Retriever, SearchHit, check_k

DEFAULT_K1 = 0.9
DEFAULT_B = 0.4


@functools.cache
def _has_numba() -> bool:
    """True when numba is importable; also turns on numba's on-disk cache for bm25s's kernels.

    bm25s compiles its numba kernels without ``cache=True``, which costs every new process
    about ten seconds on its first query. Enabling the dispatchers' cache before their first
    call stores the machine code next to bm25s (or in ``NUMBA_CACHE_DIR``), so only the
    first process on a machine pays.
    """
    try:
        import bm25s.numba.retrieve_utils as retrieve_utils
        import bm25s.numba.selection as selection
        from numba.core.registry import CPUDispatcher
    except ImportError:
        return False
    for module in (retrieve_utils, selection):
        for dispatcher in vars(module).values():
            if isinstance(dispatcher, CPUDispatcher):
                with contextlib.suppress(Exception):  # caching is an optimisation only
                    dispatcher.enable_caching()
    return True


def make_tokenizer() -> Tokenizer:
    """The tokenizer both BM25 backends share: lower-case words, English stop words, stemmed."""
    return Tokenizer(lower=True, stopwords="english", stemmer=Stemmer.Stemmer("english"))


def passage_text_for_index(passage: Passage) -> str:
    """The text a lexical index sees: the title and the body."""
    return f"{passage.title}\n{passage.text}"


class BM25sRetriever(Retriever):
    """In-process BM25 over a list of passages, backed by ``bm25s``.

    Args:
        passages: the corpus.
        k1: BM25 term-frequency saturation.
        b: BM25 length normalisation.
        show_progress: show tqdm bars while indexing.
    """

    name = "bm25s"

    def __init__(
        self,
        passages: Sequence[Passage],
        *,
        k1: float = DEFAULT_K1,
        b: float = DEFAULT_B,
        show_progress: bool = False,
    ) -> None:
        if not passages:
            raise ValueError("cannot build a BM25 index over an empty corpus")
        self.passages = list(passages)
        self.tokenizer = make_tokenizer()
        corpus_ids = self.tokenizer.tokenize(
            [passage_text_for_index(p) for p in self.passages], show_progress=show_progress, return_as="tuple"
        )
        backend = "numba" if _has_numba() else "numpy"
        self.model = bm25s.BM25(k1=k1, b=b, method="lucene", backend=backend)
        self.model.index(corpus_ids, show_progress=show_progress)

    @classmethod
    def _from_parts(
        cls, passages: Sequence[Passage], tokenizer: Tokenizer, model: bm25s.BM25
    ) -> BM25sRetriever:
        self = cls.__new__(cls)
        self.passages, self.tokenizer, self.model = passages, tokenizer, model
        return self

    def __len__(self) -> int:
        return len(self.passages)

    def batch_search(self, queries: Sequence[str], k: int) -> list[list[SearchHit]]:
        check_k(k)
        if not queries:
            return []
        k_eff = min(k, len(self.passages))
        query_ids = self.tokenizer.tokenize(
            [str(q) for q in queries], update_vocab=False, show_progress=False, return_as="ids"
        )
        results: list[list[SearchHit]] = [[] for _ in queries]
        nonempty = [i for i, ids in enumerate(query_ids) if ids]
        if not nonempty:
            return results
        documents, scores = self.model.retrieve(
            [query_ids[i] for i in nonempty], k=k_eff, show_progress=False, n_threads=1
        )
        for row, query_index in enumerate(nonempty):
            results[query_index] = [
                SearchHit(self.passages[int(doc)], float(score))
                for doc, score in zip(documents[row], scores[row], strict=True)
                if score > 0
            ]
        return results

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Write the index files (not the passages) into ``directory``."""
        self.model.save(str(directory), show_progress=False)
        self.tokenizer.save_vocab(str(directory))

    @classmethod
    def load(cls, directory: str | os.PathLike[str], passages: Sequence[Passage]) -> BM25sRetriever:
        """Load index files written by :meth:`save`, memory-mapped."""
        model = bm25s.BM25.load(str(directory), mmap=True, show_progress=False)
        if _has_numba():
            model.backend = "numba"
        tokenizer = make_tokenizer()
        tokenizer.load_vocab(str(directory))
        return cls._from_parts(passages, tokenizer, model)


class RankBM25Retriever(Retriever):
    """The reference implementation: ``rank_bm25.BM25Okapi`` over the same tokens. Slow."""

    name = "rank_bm25"

    def __init__(self, passages: Sequence[Passage], *, k1: float = DEFAULT_K1, b: float = DEFAULT_B) -> None:
        from rank_bm25 import BM25Okapi

        if not passages:
            raise ValueError("cannot build a BM25 index over an empty corpus")
        self.passages = list(passages)
        self.tokenizer = make_tokenizer()
        tokens = self.tokenizer.tokenize(
            [passage_text_for_index(p) for p in self.passages], show_progress=False, return_as="string"
        )
        self.model = BM25Okapi(tokens, k1=k1, b=b)

    def __len__(self) -> int:
        return len(self.passages)

    def batch_search(self, queries: Sequence[str], k: int) -> list[list[SearchHit]]:
        check_k(k)
        if not queries:
            return []
        query_tokens = self.tokenizer.tokenize(
            [str(q) for q in queries], update_vocab=False, show_progress=False, return_as="string"
        )
        results = []
        for tokens in query_tokens:
            if not tokens:
                results.append([])
                continue
            scores = self.model.get_scores(tokens)
            top = np.argsort(-scores, kind="stable")[:k]
            results.append([SearchHit(self.passages[int(i)], float(scores[i])) for i in top if scores[i] > 0])
        return results

    def save(self, directory: str | os.PathLike[str]) -> None:
        """rank-bm25 keeps no index files; rebuilding from the passages is the load."""
        Path(directory, "rank_bm25.json").write_text(json.dumps({"rebuild_on_load": True}))

    @classmethod
    def load(cls, directory: str | os.PathLike[str], passages: Sequence[Passage]) -> RankBM25Retriever:
        """Rebuild from the stored passages."""
        return cls(passages)
