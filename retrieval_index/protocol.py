"""Search-R1's ``/retrieve`` wire format, shared by :mod:`~retrieval_index.server` and
:mod:`~retrieval_index.http_client` so that either side can talk to Search-R1's own.

Request, ``POST /retrieve`` with a JSON body::

    {"queries": ["q1", "q2"], "topk": 3, "return_scores": true}

``topk`` may be left out, ``null`` or ``0`` (the server's default, 3, as Search-R1's own server
reads it); ``return_scores`` defaults to false; other keys are ignored. The answer holds one list
per query, best hit first. With ``return_scores``::

    {"result": [[{"document": {"id": "12", "contents": "\\"Title\\"\\ntext"}, "score": 81.2}, ...], ...]}

and without it, the bare documents: ``{"result": [[{"id": "12", "contents": "..."}, ...], ...]}``.
Search-R1's dense server returns its corpus rows as documents (``id`` and ``contents``); its BM25
server returns ``title``, ``text`` and ``contents`` and no ``id``. Readers therefore rely on
``contents`` and use ``id`` when it is there (else a digest of the contents stands in).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from retrieval_index.base import Passage, SearchHit
from smepo_env.errors import ProtocolError

DEFAULT_TOPK = 3


def document_of(passage: Passage) -> dict[str, str]:
    """The document dict of a passage: its corpus row, ``{"id", "contents"}``."""
    return {"id": passage.id, "contents": passage.contents}


def encode_result(results: Sequence[Sequence[SearchHit]], return_scores: bool) -> dict[str, Any]:
    """The response body for hit lists, in Search-R1's shape."""
    if return_scores:
        return {
            "result": [
                [{"document": document_of(hit.passage), "score": hit.score} for hit in hits]
                for hits in results
            ]
        }
    return {"result": [[document_of(hit.passage) for hit in hits] for hits in results]}


def passage_of(document: Any) -> Passage:
    """Read a passage back from a document dict (ours or either Search-R1 server's).

    Raises:
        ProtocolError: the document has no ``contents`` (nor ``title``/``text``).
    """
    if not isinstance(document, dict):
        raise ProtocolError(f"expected a document object, got {type(document).__name__}: {document!r:.200}")
    contents = document.get("contents")
    if not isinstance(contents, str):
        if isinstance(document.get("text"), str):
            contents = f'"{document.get("title", "")}"\n{document["text"]}'
        else:
            raise ProtocolError(f"document has no 'contents' string (keys: {sorted(document)})")
    passage_id = document.get("id")
    if passage_id is None:
        passage_id = "sha1:" + hashlib.sha1(contents.encode("utf-8")).hexdigest()[:16]
    return Passage.from_contents(str(passage_id), contents)


def decode_result(payload: Any, num_queries: int) -> list[list[SearchHit]]:
    """Hit lists from a ``/retrieve`` response body, with or without scores.

    Raises:
        ProtocolError: the body is not ``{"result": [...]}`` with one list per query.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("result"), list):
        raise ProtocolError(f"expected a JSON object with a 'result' list, got {payload!r:.200}")
    result = payload["result"]
    if len(result) != num_queries:
        raise ProtocolError(f"asked {num_queries} queries, got {len(result)} result lists")
    decoded: list[list[SearchHit]] = []
    for items in result:
        if not isinstance(items, list):
            raise ProtocolError(f"expected a list of hits per query, got {items!r:.200}")
        hits = []
        for item in items:
            if isinstance(item, dict) and "document" in item:
                score = item.get("score", 0.0)
                try:
                    score = float(score)
                except (TypeError, ValueError):
                    raise ProtocolError(f"hit score is not a number: {score!r:.100}") from None
                hits.append(SearchHit(passage_of(item["document"]), score))
            else:
                hits.append(SearchHit(passage_of(item), 0.0))
        decoded.append(hits)
    return decoded
