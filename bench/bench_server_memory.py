"""Peak memory of the retrieval server under the largest requests its limits allow.

Starts ``python -m retrieval_index serve`` on the bundled fictional-world BM25 index, sends
requests of growing size (queries x topk) and prints the server's resident memory at start
and its peak (``VmHWM``) after each request, so the effect of ``--max-hits`` shows: with the
default limit the worst request allowed is at most ``max_hits`` hits; without it (``--max-hits``
set huge, the old behaviour) 512 queries x topk 1000 is allowed too.

    python bench/bench_server_memory.py
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time

import httpx

from retrieval_index.server import ServerLimits


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def memory_mib(pid: int) -> tuple[float, float]:
    """(resident, peak resident) MiB of a process."""
    fields = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def corpus_queries(index_dir: str, count: int) -> list[str]:
    """``count`` queries made of corpus text (the first words of passages), so every one has hits."""
    queries: list[str] = []
    with open(f"{index_dir}/passages.jsonl", encoding="utf-8") as handle:
        for line in handle:
            queries.append(" ".join(json.loads(line)["contents"].split()[:12]))
            if len(queries) == count:
                break
    return [queries[i % len(queries)] for i in range(count)]


def measure(index_dir: str, max_hits: int, shapes: list[tuple[int, int]]) -> None:
    port = free_port()
    command = [sys.executable, "-m", "retrieval_index", "serve", "--index", index_dir, "--port", str(port)]
    server = subprocess.Popen([*command, "--max-hits", str(max_hits)], stdout=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(url + "/health", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.2)
        httpx.post(url + "/retrieve", json={"queries": ["warm up"], "topk": 3}, timeout=60)
        rss, _ = memory_mib(server.pid)
        print(f"--max-hits {max_hits:,}: server resident after start {rss:.0f} MiB")
        for queries, topk in shapes:
            body = {"queries": corpus_queries(index_dir, queries), "topk": topk}
            response = httpx.post(url + "/retrieve", json=body, timeout=600)
            _, peak = memory_mib(server.pid)
            answer_mib = len(response.content) / 2**20
            print(
                f"  {queries:>5} queries x topk {topk:>4} = {queries * topk:>7,} hits: "
                f"HTTP {response.status_code}, {answer_mib:7.1f} MiB answer, peak {peak:.0f} MiB"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    from smepo_env.benchmarks import load_benchmark

    index_dir = str(load_benchmark("fictional-world").index_dir())
    limit = ServerLimits().max_hits
    worst = [(limit // 1000, 1000), (limit // 8, 8), (512, 1000)]
    measure(index_dir, limit, worst)
    measure(index_dir, 10**9, [(512, 1000)])


if __name__ == "__main__":
    main()
