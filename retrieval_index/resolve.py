"""From a retriever spec to a :class:`~retrieval_index.base.Retriever`: one entry point for envs.

Specs, as an environment receives them (``gym.make(..., retriever=..., index=...)``):

* a backend name (``"bm25"``, ``"rank_bm25"``, ``"dense"``, ``"lucene"``, ``"hybrid"``) with
  ``index=DIR``: the index directory, loaded once per process and shared
  (:func:`~retrieval_index.store.load_shared_index`); its ``meta.json`` must name that backend;
* a backend name with ``passages=[...]`` and no index: a fresh in-memory index over those
  passages (backend options such as ``encoder=`` go with it);
* ``"http://host:port"`` (or ``https``, or the full ``/retrieve`` URL): a
  :class:`~retrieval_index.http_client.RemoteRetriever`; options are its ``timeout_s``,
  ``retries``, ``backoff_s``...;
* a :class:`~retrieval_index.base.Retriever` instance: returned as it is.
"""

from __future__ import annotations

import os
from typing import Any

from retrieval_index.base import Retriever
from retrieval_index.http_client import RemoteRetriever
from retrieval_index.store import BACKENDS, backend_class, load_shared_index, read_meta
from smepo_env.errors import closest_hint

URL_SPEC = "http://host:port"


def valid_specs() -> list[str]:
    """The spec forms :func:`resolve_retriever` accepts, for error messages."""
    return [*sorted(BACKENDS), URL_SPEC]


def resolve_retriever(
    spec: str | Retriever, index: str | os.PathLike[str] | None = None, **options: Any
) -> Retriever:
    """Return the retriever a spec names.

    Args:
        spec: a backend name, a server URL, or a retriever (see the module docstring).
        index: an index directory, for backend names.
        **options: ``passages`` and backend options when there is no index; client options for URLs.

    Raises:
        ValueError: unknown spec (the message lists the valid ones), an index built with another
            backend, or a combination of arguments that does not apply.
        IndexNotFoundError: ``index`` is not an index directory.
    """
    if isinstance(spec, Retriever):
        if index is not None or options:
            raise ValueError("a Retriever instance is used as it is; do not pass index= or options with it")
        return spec
    if not isinstance(spec, str):
        raise ValueError(
            f"retriever spec must be a string or a Retriever, got {type(spec).__name__}: {spec!r}"
        )
    name = spec.strip()
    if name.startswith(("http://", "https://")):
        if index is not None:
            raise ValueError(f"retriever {name!r} is a server URL; index= applies to local backends only")
        return RemoteRetriever(name, **options)
    backend = name.lower()
    if backend not in BACKENDS:
        hint = closest_hint(backend, valid_specs())
        raise ValueError(
            f"unknown retriever {spec!r}; expected one of {valid_specs()} or a Retriever instance.{hint}"
        )
    if index is not None:
        if options:
            raise ValueError(
                f"options {sorted(options)} apply when building from passages; an index directory "
                "keeps the options it was built with"
            )
        built_with = read_meta(index)["backend"]
        if built_with != backend:
            raise ValueError(
                f"the index at {os.fspath(index)} was built with backend {built_with!r}, not {backend!r}; "
                f"use retriever={built_with!r} or rebuild it with --backend {backend}"
            )
        return load_shared_index(index)
    passages = options.pop("passages", None)
    if passages is None:
        raise ValueError(
            f"retriever {backend!r} needs index=DIR (build one with `python -m retrieval_index build "
            f"--corpus CORPUS.jsonl --backend {backend} --out DIR`) or passages=[...]"
        )
    return backend_class(backend)(list(passages), **options)
