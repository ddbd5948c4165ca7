"""The retrieval server against in-process search on the same index: requests/s, p50/p99, errors.

    python bench/bench_server.py --passages 20000
    python bench/bench_server.py --index DIR --clients 32 --requests 5000

The server runs as ``python -m retrieval_index serve`` in its own process, as rollout workers
would use it; clients send one query per ``/retrieve`` request (Search-R1's shape, top-3 with
scores) over loopback. Rows: in-process search one query at a time and from 32 threads, then
the server with one client and with ``--clients`` concurrent clients (asyncio, one connection
each). The overhead line compares the one-client server p50 with the in-process p50; the
target is under 2 ms. Every error (non-200 answer, transport failure) is counted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(mode: str, clients: int, latencies: list[float], elapsed: float, errors: int) -> dict:
    return {
        "mode": mode,
        "clients": clients,
        "requests": len(latencies) + errors,
        "rps": (len(latencies) + errors) / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000 if latencies else float("nan"),
        "p99_ms": percentile(latencies, 0.99) * 1000 if latencies else float("nan"),
        "errors": errors,
    }


def in_process(retriever, queries: list[str], threads: int) -> dict:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(share: list[str]) -> None:
        mine = []
        for query in share:
            started = time.perf_counter()
            retriever.search(query, 3)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=worker, args=(queries[i::threads],)) for i in range(threads)]
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return summary("in-process", threads, latencies, time.perf_counter() - started, 0)


async def _client(url: str, share: list[str], latencies: list[float], errors: list[str]) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        for query in share:
            started = time.perf_counter()
            try:
                response = await http.post(url, json={"queries": [query], "topk": 3, "return_scores": True})
                if response.status_code != 200 or len(response.json()["result"]) != 1:
                    errors.append(f"HTTP {response.status_code}")
                    continue
            except httpx.HTTPError as error:
                errors.append(type(error).__name__)
                continue
            latencies.append(time.perf_counter() - started)


def through_server(base_url: str, queries: list[str], clients: int) -> dict:
    latencies: list[float] = []
    errors: list[str] = []

    async def run_all() -> None:
        shares = [queries[i::clients] for i in range(clients)]
        await asyncio.gather(*(_client(f"{base_url}/retrieve", share, latencies, errors) for share in shares))

    started = time.perf_counter()
    asyncio.run(run_all())
    row = summary("server", clients, latencies, time.perf_counter() - started, len(errors))
    row["error_kinds"] = sorted(set(errors))
    return row


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(index_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    command = [
        sys.executable,
        "-m",
        "retrieval_index",
        "serve",
        "--index",
        str(index_dir),
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, env=env, cwd=REPO)
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).raise_for_status()
            return process
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("the retrieval server did not start") from None
            time.sleep(0.2)


def build_corpus_index(args: argparse.Namespace, work: Path) -> tuple[Path, list[str]]:
    from bench_retrieval_scale import fictional_world, synthetic_corpus

    from retrieval_index.store import build_index

    try:
        corpus, queries = fictional_world(args.passages, args.requests)
    except ImportError:
        corpus, queries = synthetic_corpus(args.passages, args.requests)
    index_dir = build_index(corpus, work / "index", backend=args.backend)
    return index_dir, [query for query, _ in queries]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=20_000, help="generated corpus size")
    parser.add_argument("--backend", default="bm25", help="backend of the generated index")
    parser.add_argument("--index", help="an existing index directory (with --queries-file)")
    parser.add_argument("--queries-file", help="one query per line, for --index")
    parser.add_argument("--requests", type=int, default=2000, help="requests per measured mode")
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-server-"))
    try:
        if args.index:
            if not args.queries_file:
                sys.exit("--index needs --queries-file")
            index_dir = Path(args.index)
            queries = [line for line in Path(args.queries_file).read_text().splitlines() if line.strip()]
        else:
            index_dir, queries = build_corpus_index(args, work)
        queries = (queries * (args.requests // max(1, len(queries)) + 1))[: args.requests]

        from retrieval_index.store import load_index, read_meta

        retriever = load_index(index_dir)
        for query in queries[:20]:
            retriever.search(query, 3)  # warm-up
        rows = [in_process(retriever, queries, 1), in_process(retriever, queries, args.clients)]

        port = free_port()
        server = start_server(index_dir, port)
        try:
            base_url = f"http://127.0.0.1:{port}"
            through_server(base_url, queries[:50], 1)  # warm-up
            rows += [through_server(base_url, queries, 1), through_server(base_url, queries, args.clients)]
        finally:
            server.terminate()
            server.wait(timeout=30)

        meta = read_meta(index_dir)
        print(f"\n{meta['backend']} index, {meta['num_passages']:,} passages, top-3, one query per request")
        print(
            f"{'mode':<12}{'clients':>8}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        )
        for row in rows:
            print(
                f"{row['mode']:<12}{row['clients']:>8}{row['requests']:>10}{row['rps']:>9.0f}"
                f"{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}{row['errors']:>8}"
            )
        overhead = rows[2]["p50_ms"] - rows[0]["p50_ms"]
        verdict = "meets" if overhead < 2 else "misses"
        print(f"server overhead at p50, one client: {overhead:.2f} ms ({verdict} the < 2 ms target)")
        kinds = sorted({kind for row in rows for kind in row.get("error_kinds", [])})
        print(f"errors: {sum(row['errors'] for row in rows)}" + (f" ({', '.join(kinds)})" if kinds else ""))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
