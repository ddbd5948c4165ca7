"""Command line: build an index, serve it over HTTP, or look something up.

::

    python -m retrieval_index build --corpus wiki.jsonl --backend bm25|dense|lucene|hybrid --out DIR
    python -m retrieval_index serve --index DIR --port 8000 [--threads 1]
    python -m retrieval_index search --index DIR "a query" -k 3      (DIR may be a server URL)

``build`` streams the corpus for the dense and Lucene backends (see
:mod:`retrieval_index.streaming`); a killed dense build continues when run again with the same
arguments. Backend options go in as ``--option key=value`` (values are read as JSON when they
parse, else as strings), or through the named shortcuts.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from retrieval_index.store import BACKENDS

SHORTCUTS = {
    "encoder": "encoder (dense, hybrid): 'default' (bundled MiniLM), a folder or a cached model name",
    "index_type": "faiss index (dense, hybrid): flat, hnsw, ivf, ivfpq or a faiss factory string",
    "batch_size": "encoding batch size (dense)",
    "device": "encoder device (dense, hybrid): cpu, cuda...",
    "threads": "indexing threads (lucene)",
}


def _option_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_options(pairs: Sequence[str]) -> dict[str, Any]:
    """``["k1=1.2", "encoder=e5"]`` -> ``{"k1": 1.2, "encoder": "e5"}``.

    Raises:
        ValueError: a pair without ``=``.
    """
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--option expects key=value, got {pair!r}")
        options[key.strip()] = _option_value(value)
    return options


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m retrieval_index", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="build an index directory from a JSONL corpus")
    build.add_argument("--corpus", required=True, help="JSONL corpus ({'id', 'contents'} rows)")
    build.add_argument("--backend", default="bm25", choices=sorted(BACKENDS))
    build.add_argument("--out", required=True, help="index directory to create or replace")
    for name, help_text in SHORTCUTS.items():
        build.add_argument(f"--{name.replace('_', '-')}", dest=name, help=help_text)
    build.add_argument(
        "--option", action="append", default=[], metavar="KEY=VALUE", help="other backend option"
    )
    build.add_argument("--quiet", action="store_true", help="no progress bars")

    serve = commands.add_parser("serve", help="serve an index over HTTP (Search-R1's /retrieve protocol)")
    serve.add_argument("--index", required=True, help="index directory")
    serve.add_argument("--host", default="127.0.0.1", help="interface (0.0.0.0 for other machines)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--max-body-bytes", type=int, default=4 * 1024 * 1024)
    serve.add_argument("--max-queries", type=int, default=8192, help="queries per request")
    serve.add_argument("--max-topk", type=int, default=1000)
    serve.add_argument("--default-topk", type=int, default=3, help="topk when a request leaves it out")
    serve.add_argument(
        "--max-hits", type=int, default=65_536, help="most queries x topk per request (bounds its memory)"
    )
    serve.add_argument("--body-timeout-s", type=float, default=10.0, help="seconds to send a request body")
    serve.add_argument("--log-level", default="warning")
    serve.add_argument(
        "--threads",
        type=int,
        help="torch and faiss threads of the server process (1 is fastest for single-query dense "
        "search on a busy CPU)",
    )

    search = commands.add_parser("search", help="print the top hits for queries")
    search.add_argument("--index", required=True, help="index directory or http://host:port of a server")
    search.add_argument("queries", nargs="+")
    search.add_argument("-k", type=int, default=3)
    search.add_argument("--json", action="store_true", help="print the /retrieve response body")
    return parser


def _build(args: argparse.Namespace) -> None:
    from retrieval_index.streaming import build_from_corpus
    from smepo_env.files import file_lock

    options = {name: getattr(args, name) for name in SHORTCUTS if getattr(args, name) is not None}
    if options.get("batch_size") is not None:
        options["batch_size"] = int(options["batch_size"])
    if options.get("threads") is not None:
        options["threads"] = int(options["threads"])
    options.update(parse_options(args.option))
    out_dir = Path(args.out).resolve()
    try:
        # Two builds into one --out wait for each other instead of racing on the swap (and on
        # the removal of stale staging folders, which assumes no other build is running).
        with file_lock(out_dir.with_name(f".{out_dir.name}.build.lock")):
            out = build_from_corpus(
                args.corpus, args.out, args.backend, show_progress=not args.quiet, **options
            )
    except TypeError as error:  # an option the backend does not take
        raise ValueError(
            f"backend {args.backend!r} rejected the options {sorted(options)}: {error}"
        ) from None
    print(f"built {args.backend} index in {out}")


def set_compute_threads(threads: int) -> None:
    """Set torch's and faiss's thread counts for this process (those that are installed).

    Raises:
        ValueError: ``threads`` is below 1.
    """
    if threads < 1:
        raise ValueError(f"--threads must be at least 1, got {threads}")
    with contextlib.suppress(ImportError):
        import torch

        torch.set_num_threads(threads)
    with contextlib.suppress(ImportError):
        import faiss

        faiss.omp_set_num_threads(threads)


def _serve(args: argparse.Namespace) -> None:
    from retrieval_index.server import ServerLimits, serve
    from retrieval_index.store import load_index, read_meta

    limits = ServerLimits(
        max_body_bytes=args.max_body_bytes,
        max_queries=args.max_queries,
        max_topk=args.max_topk,
        default_topk=args.default_topk,
        max_hits=args.max_hits,
        body_timeout_s=args.body_timeout_s,
    )
    backend = read_meta(args.index)["backend"]
    if args.threads is not None:
        set_compute_threads(args.threads)
    serve(
        load_index(args.index),
        host=args.host,
        port=args.port,
        backend=backend,
        limits=limits,
        log_level=args.log_level,
    )


def _search(args: argparse.Namespace) -> None:
    from retrieval_index.protocol import encode_result
    from retrieval_index.resolve import resolve_retriever
    from retrieval_index.store import read_meta

    if args.index.startswith(("http://", "https://")):
        retriever = resolve_retriever(args.index)
    else:
        retriever = resolve_retriever(read_meta(args.index)["backend"], index=args.index)
    results = retriever.batch_search(args.queries, args.k)
    if args.json:
        print(json.dumps(encode_result(results, return_scores=True), ensure_ascii=False, indent=2))
        return
    for query, hits in zip(args.queries, results, strict=True):
        print(f"query: {query}")
        for rank, hit in enumerate(hits, 1):
            passage = hit.passage
            print(f"  {rank}. [{hit.score:.3f}] ({passage.id}) {passage.title}: {passage.text[:160]}")
        if not hits:
            print("  no results")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for bad input, with a message)."""
    from smepo_env.errors import EncoderNotFoundError, LuceneUnavailableError, RemoteRetrievalError

    args = _parser().parse_args(argv)
    handlers = {"build": _build, "serve": _serve, "search": _search}
    try:
        handlers[args.command](args)
    except (
        ValueError,
        FileNotFoundError,
        EncoderNotFoundError,
        LuceneUnavailableError,
        RemoteRetrievalError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0
