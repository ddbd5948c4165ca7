"""BM25 backends side by side on the scaled fictional-world corpus: bm25s vs rank-bm25.

    python bench/bench_bm25.py --passages 100000
    python bench/bench_bm25.py --passages 1000000 --reference-queries 20

Each backend runs in its own process, so build time and peak memory are its own. Queries are
the scripted expert's hop queries with their gold passages; the table gives queries/second
one at a time and batched, recall@3 of the gold passage, and top-1 agreement with rank-bm25
(on the queries rank-bm25 ran).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import time


def _corpus_and_queries(passages: int, n_queries: int):
    from smepo_env.benchmarks.search.fictional_world import generate

    corpus, plans = generate(size=passages / 4216)
    queries = [
        (hop.query, hop.gold_passage_id) for split in plans.values() for plan in split for hop in plan.hops
    ]
    return corpus, queries[:n_queries]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_backend(backend: str, passages: int, n_queries: int, queue) -> None:  # type: ignore[no-untyped-def]
    from retrieval_index.bm25 import BM25sRetriever, RankBM25Retriever

    corpus, queries = _corpus_and_queries(passages, n_queries)
    base_mb = _peak_mb()
    started = time.perf_counter()
    retriever = (BM25sRetriever if backend == "bm25s" else RankBM25Retriever)(corpus)
    build_s = time.perf_counter() - started
    texts = [q for q, _ in queries]
    retriever.search(texts[0], 3)  # warm-up (numba compiles on the first call)
    started = time.perf_counter()
    single = [retriever.search(q, 3) for q in texts]
    single_qps = len(texts) / (time.perf_counter() - started)
    batched_qps = float("nan")
    if backend == "bm25s":
        started = time.perf_counter()
        retriever.batch_search(texts, 3)
        batched_qps = len(texts) / (time.perf_counter() - started)
    recall = sum(
        any(h.passage.id == gold for h in hits) for hits, (_, gold) in zip(single, queries, strict=True)
    )
    queue.put(
        {
            "backend": backend,
            "passages": len(corpus),
            "queries": len(texts),
            "build_s": build_s,
            "single_qps": single_qps,
            "batched_qps": batched_qps,
            "recall@3": recall / len(texts),
            "peak_mb": _peak_mb(),
            "index_mb": _peak_mb() - base_mb,
            "top1": [hits[0].passage.id if hits else None for hits in single],
        }
    )


def run(backend: str, passages: int, n_queries: int) -> dict:
    """Run one backend in a fresh process and return its figures."""
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_run_backend, args=(backend, passages, n_queries, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2000, help="queries for bm25s")
    parser.add_argument("--reference-queries", type=int, default=200, help="queries for rank-bm25 (slow)")
    args = parser.parse_args()
    fast = run("bm25s", args.passages, args.queries)
    reference = run("rank_bm25", args.passages, args.reference_queries)
    shared = min(len(reference["top1"]), len(fast["top1"]))
    agreement = (
        sum(a == b for a, b in zip(fast["top1"][:shared], reference["top1"][:shared], strict=True)) / shared
    )
    print(f"\nBM25 on {fast['passages']:,} fictional-world passages (top-3)")
    print(
        f"{'backend':<11}{'queries':>8}{'build s':>9}{'q/s single':>12}{'q/s batch':>11}"
        f"{'recall@3':>10}{'peak MB':>9}"
    )
    for r in (fast, reference):
        print(
            f"{r['backend']:<11}{r['queries']:>8}{r['build_s']:>9.1f}{r['single_qps']:>12.1f}{r['batched_qps']:>11.1f}"
            f"{r['recall@3']:>10.3f}{r['peak_mb']:>9.0f}"
        )
    print(f"speed-up bm25s / rank-bm25 (single queries): {fast['single_qps'] / reference['single_qps']:.0f}x")
    print(f"top-1 agreement on the {shared} queries both ran: {agreement:.3f}")


if __name__ == "__main__":
    main()
