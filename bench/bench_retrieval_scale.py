"""Retrieval backends at scale: build time, size, memory, speed and recall, extrapolated to 21M passages.

    python bench/bench_retrieval_scale.py --passages 20000
    python bench/bench_retrieval_scale.py --passages 1000000 --backends bm25s,lucene,dense_ivf
    python bench/bench_retrieval_scale.py --corpus wiki.jsonl --queries-file queries.jsonl

The corpus is the scaled fictional world (``smepo_env.benchmarks.search.fictional_world``) with its
hop queries and gold passages; without that package a built-in synthetic generator stands in;
``--corpus`` and ``--queries-file`` (JSONL rows ``{"query": ..., "gold": passage id}``) take
any corpus. Each backend is built in one child process and searched in another, so build peak
and serving memory are separate and its own. Backends: bm25s, rank-bm25 (only up to 100k
passages: it is about a thousand times slower), Lucene (pyserini), dense faiss flat, and one
approximate dense index (``--approx ivf`` or ``hnsw``) built from the flat build's vectors.

The 21M columns scale the measured figures by R = 21M / N: index size and build time linearly,
memory as the passages list plus the index data kept resident, and the query rate by how the
search cost grows: ~N for exhaustive scoring (flat, BM25 postings), the vectors an IVF query
compares (nlist centroids + nprobe cells of N/nlist, with the default nlist ≈ 4√N), ~log N for
HNSW (for dense only the faiss search grows; query encoding is timed apart and kept). They
are estimates; the arithmetic is printed below the table.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

WIKI_PASSAGES = 21_000_000
BACKENDS = ("bm25s", "rank_bm25", "lucene", "dense_flat", "dense_approx")
STORE_BACKEND = {"bm25s": "bm25", "rank_bm25": "rank_bm25", "lucene": "lucene"}
SINGLE_QUERY_CAP = {"rank_bm25": 20, "dense_flat": 300, "dense_approx": 300}


# ---------------------------------------------------------------- corpus and queries
def synthetic_corpus(passages: int, queries: int, seed: int = 0) -> tuple[list, list[tuple[str, str]]]:
    """A fallback corpus: invented people with birthplaces, jobs and years, and one question each."""
    from retrieval_index.base import Passage

    rng = random.Random(seed)
    syllables = [
        "ka",
        "lo",
        "mir",
        "tan",
        "vel",
        "dra",
        "shu",
        "ren",
        "bo",
        "zi",
        "quen",
        "thor",
        "ael",
        "ix",
    ]

    def word() -> str:
        return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))).capitalize()

    cities = [word() for _ in range(max(50, passages // 50))]
    jobs = ["painter", "engineer", "physician", "poet", "chemist", "sculptor", "historian", "pianist"]
    corpus, names = [], set()
    while len(corpus) < passages:
        name = f"{word()} {word()}"
        if name in names:
            continue
        names.add(name)
        city, job, year = rng.choice(cities), rng.choice(jobs), rng.randint(1700, 1990)
        text = (
            f"{name} was a {job} born in {city} in {year}. {name.split()[1]} studied in {rng.choice(cities)} "
            f"and later lived in {rng.choice(cities)}."
        )
        corpus.append(Passage(f"p{len(corpus)}", name, text))
    chosen = rng.sample(range(passages), min(queries, passages))
    asked = [(f"Where was {corpus[i].title} born?", corpus[i].id) for i in chosen]
    return corpus, asked


def fictional_world(passages: int, queries: int) -> tuple[list, list[tuple[str, str]]]:
    """The fictional-world corpus scaled to about ``passages`` passages, with its hop queries."""
    from smepo_env.benchmarks.search.fictional_world import generate

    corpus, plans = generate(size=passages / 4216)
    hops = [
        (hop.query, hop.gold_passage_id) for split in plans.values() for plan in split for hop in plan.hops
    ]
    random.Random(0).shuffle(hops)
    return corpus, hops[:queries]


def prepare_inputs(args: argparse.Namespace, work: Path) -> tuple[Path, Path, str]:
    """Write (or point at) the corpus and queries files; returns them and the corpus's name."""
    from retrieval_index.corpus import write_corpus

    if args.corpus:
        if not args.queries_file:
            sys.exit("--corpus needs --queries-file (JSONL rows with 'query' and 'gold')")
        return Path(args.corpus), Path(args.queries_file), Path(args.corpus).name
    try:
        corpus, queries = fictional_world(args.passages, args.queries)
        name = "fictional world"
    except ImportError:
        corpus, queries = synthetic_corpus(args.passages, args.queries)
        name = "synthetic people"
    corpus_path, queries_path = work / "corpus.jsonl", work / "queries.jsonl"
    write_corpus(corpus, corpus_path)
    queries_path.write_text("".join(json.dumps({"query": q, "gold": g}) + "\n" for q, g in queries))
    return corpus_path, queries_path, name


def read_queries(path: Path) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [
        (row["query"], str(row.get("gold", row.get("gold_id", row.get("gold_passage_id"))))) for row in rows
    ]


# ---------------------------------------------------------------- measurements (child processes)
def rss_mb() -> float:
    """Current resident memory of this process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def folder_mb(folder: Path, skip: str = "passages.jsonl") -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and p.name != skip) / 2**20


def preload(backend: str, encoder: str, threads: int | None) -> None:
    """Import and warm a backend's libraries, so memory deltas count the index, not the libraries."""
    from retrieval_index.base import Passage
    from retrieval_index.cli import set_compute_threads

    if threads:
        set_compute_threads(threads)

    if backend == "bm25s":
        from retrieval_index.bm25 import BM25sRetriever

        BM25sRetriever([Passage("a", "a", "warm up"), Passage("b", "b", "numba")]).search("warm", 1)
    elif backend == "rank_bm25":
        import rank_bm25  # noqa: F401
    elif backend == "lucene":
        from retrieval_index.java_runtime import lucene_searcher_class

        lucene_searcher_class()
    else:
        import faiss  # noqa: F401

        from retrieval_index.encoder import SentenceEncoder

        SentenceEncoder(encoder).encode_queries(["warm up"])


def dense_options(backend: str, args: argparse.Namespace, work: Path) -> dict:
    options = {"encoder": args.encoder, "work_dir": str(work / "vectors"), "keep_work": True}
    if backend == "dense_approx":
        options["index_type"] = args.approx
    return options


def child_build(backend: str, corpus: str, index_dir: str, options: dict, settings: dict, queue) -> None:  # type: ignore[no-untyped-def]
    from retrieval_index.streaming import build_from_corpus

    preload(backend, settings["encoder"], settings["threads"])
    base = rss_mb()
    started = time.perf_counter()
    build_from_corpus(corpus, index_dir, STORE_BACKEND.get(backend, "dense"), show_progress=False, **options)
    queue.put(
        {
            "build_s": time.perf_counter() - started,
            "build_peak_mb": peak_mb() - base,
            "indexer_peak_mb": peak_mb(resource.RUSAGE_CHILDREN),
            "index_mb": folder_mb(Path(index_dir)),
        }
    )


def child_search(backend: str, index_dir: str, queries_path: str, settings: dict, queue) -> None:  # type: ignore[no-untyped-def]
    from retrieval_index.store import load_index

    queries = read_queries(Path(queries_path))
    texts = [q for q, _ in queries]
    preload(backend, settings["encoder"], settings["threads"])
    base = rss_mb()
    started = time.perf_counter()
    retriever = load_index(index_dir)
    load_s = time.perf_counter() - started
    loaded_mb = rss_mb() - base
    retriever.search(texts[0], 3)  # warm-up: numba compiles, the JVM and encoder wake up
    single_texts = texts[: SINGLE_QUERY_CAP.get(backend, len(texts))]
    started = time.perf_counter()
    for text in single_texts:
        retriever.search(text, 3)
    single_qps = len(single_texts) / (time.perf_counter() - started)
    batch_texts = texts if backend != "rank_bm25" else single_texts
    started = time.perf_counter()
    results = []
    for start in range(0, len(batch_texts), 128):
        results.extend(retriever.batch_search(batch_texts[start : start + 128], 3))
    batched_qps = len(batch_texts) / (time.perf_counter() - started)
    split = {}
    if hasattr(retriever, "encoder") and hasattr(retriever, "index"):  # dense: encoding vs faiss search
        started = time.perf_counter()
        vectors = [retriever.encoder.encode_queries([text]) for text in single_texts]
        split["encode_s"] = (time.perf_counter() - started) / len(single_texts)
        started = time.perf_counter()
        for vector in vectors:
            retriever.index.search(vector, 3)
        split["search_s"] = (time.perf_counter() - started) / len(single_texts)
    golds = [gold for _, gold in queries[: len(batch_texts)]]
    recall = sum(any(h.passage.id == g for h in hits) for hits, g in zip(results, golds, strict=True))
    dimension = getattr(getattr(retriever, "encoder", None), "dimension", 0)
    queue.put(
        {
            "load_s": load_s,
            "loaded_mb": loaded_mb,
            "serve_peak_mb": peak_mb() - base,
            "single_qps": single_qps,
            "batched_qps": batched_qps,
            "recall@3": recall / len(golds),
            "queries": len(batch_texts),
            "dimension": dimension,
            **split,
        }
    )


def child_passages(corpus: str, queue) -> None:  # type: ignore[no-untyped-def]
    """Memory a loaded index spends on its passages: a PassageTable (what load_index uses) keeps
    8-byte line offsets; the in-memory list a build holds is measured beside it."""
    from retrieval_index.corpus import read_corpus
    from retrieval_index.passage_table import PassageTable

    base = rss_mb()
    table = PassageTable(corpus)
    table_bytes = max(table._offsets.nbytes, (rss_mb() - base) * 2**20)
    base = rss_mb()
    passages = list(read_corpus(corpus))
    words = sum(len(passage.text.split()) + len(passage.title.split()) for passage in passages)
    queue.put(
        {
            "passages": len(passages),
            "bytes_per_passage": table_bytes / len(table),
            "list_bytes_per_passage": (rss_mb() - base) * 2**20 / len(passages),
            "words_per_passage": words / len(passages),
        }
    )


def in_child(target, *args) -> dict:  # type: ignore[no-untyped-def]
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"{target.__name__}{args[:1]} failed with exit code {process.exitcode}")
    return queue.get()


# ---------------------------------------------------------------- report
def ivf_vectors_scanned(n: int, nprobe: int = 16) -> float:
    """Vectors an IVF query compares with the default settings: every centroid, then nprobe cells."""
    from retrieval_index.dense import default_nlist

    nlist = default_nlist(n)
    return nlist + min(nprobe, nlist) * n / nlist


def search_cost_growth(backend: str, approx: str, ratio: float, n: int) -> tuple[float, str]:
    """How much more a query's search costs at 21M than at N, and the rule's name."""
    if backend == "dense_approx" and approx == "ivf":
        return ivf_vectors_scanned(WIKI_PASSAGES) / ivf_vectors_scanned(n), "search x IVF scan ratio"
    if backend == "dense_approx" and approx == "hnsw":
        return math.log(WIKI_PASSAGES) / math.log(n), "search x log21M/logN"
    return ratio, "search xR"


def qps_at_21m(backend: str, row: dict, approx: str, ratio: float, n: int) -> tuple[float, str]:
    """Single-query rate at 21M: dense keeps its encoding time and scales only the faiss search."""
    growth, rule = search_cost_growth(backend, approx, ratio, n)
    if "encode_s" in row:
        return 1 / (row["encode_s"] + row["search_s"] * growth), f"encode + {rule}"
    return row["single_qps"] / growth, rule


def ram_at_21m_gb(backend: str, row: dict, passages: dict, ratio: float) -> float:
    """Passages list plus index data at 21M: index files kept resident (mmap / page cache), or for
    rank-bm25, which keeps no files, its in-memory index measured beyond the passages list."""
    passages_gb = WIKI_PASSAGES * passages["bytes_per_passage"] / 1e9
    if backend == "rank_bm25":
        list_mb = passages["passages"] * passages["bytes_per_passage"] / 2**20
        return passages_gb + max(0.0, row["serve_peak_mb"] - list_mb) * ratio * 2**20 / 1e9
    return passages_gb + row["index_mb"] * ratio * 2**20 / 1e9


def report(rows: dict[str, dict], passages: dict, name: str, approx: str) -> None:
    n = passages["passages"]
    ratio = WIKI_PASSAGES / n
    label = {"dense_approx": f"dense_{approx}"}
    print(
        f"\nRetrieval backends on {n:,} {name} passages ({passages['words_per_passage']:.0f} words each on "
        f"average; wiki-18's have 100), top-3; R = 21M / N = {ratio:,.0f}"
    )
    head = f"{'backend':<12}{'build s':>9}{'index MB':>10}{'build MB':>10}{'serve MB':>10}{'q/s 1by1':>10}"
    print(
        head
        + f"{'q/s batch':>11}{'recall@3':>10} | {'21M: GB disk':>13}{'GB RAM':>8}"
        + f"{'q/s 1by1':>10}{'build h':>9}"
    )
    for backend, r in rows.items():
        qps21, rule = qps_at_21m(backend, r, approx, ratio, n)
        build_mb = max(r["build_peak_mb"], r["indexer_peak_mb"])
        print(
            f"{label.get(backend, backend):<12}{r['build_s']:>9.1f}{r['index_mb']:>10.1f}{build_mb:>10.0f}"
            f"{r['serve_peak_mb']:>10.0f}{r['single_qps']:>10.1f}{r['batched_qps']:>11.1f}"
            f"{r['recall@3']:>10.3f} | "
            f"{r['index_mb'] * ratio * 2**20 / 1e9:>13.1f}{ram_at_21m_gb(backend, r, passages, ratio):>8.1f}"
            f"{qps21:>10.2f}{r['build_s'] * ratio / 3600:>9.1f}  (q/s: {rule})"
        )
    print(
        "21M columns: disk = index files x R; RAM = the passage table (below) + the index files kept "
        "resident (rank-bm25: its in-memory index x R); q/s scaled by the rule in brackets; "
        "build h = build s x R."
    )
    print(
        "build MB / serve MB: resident memory a build / a loaded index with its searches adds to a process "
        "whose libraries (and encoder model, JVM) are already loaded; the Lucene build's figure is the "
        "Java indexer's peak."
    )
    if "dense_approx" in rows:
        print("dense_approx reuses dense_flat's encoded vectors: its build time excludes encoding.")
    per_passage = passages["bytes_per_passage"]
    per_listed = passages["list_bytes_per_passage"]
    print("\nMemory arithmetic at 21M passages:")
    print(
        f"  passages of a loaded index (PassageTable, line offsets; text read from disk per hit): "
        f"{per_passage:,.0f} B/passage -> 21M x {per_passage:,.0f} B = "
        f"{WIKI_PASSAGES * per_passage / 1e9:.2f} GB"
    )
    print(
        f"  passages as a Python list (what an in-memory build holds): {per_listed:,.0f} B/passage "
        f"-> 21M x {per_listed:,.0f} B = {WIKI_PASSAGES * per_listed / 1e9:.1f} GB"
    )
    for dimension, encoder in ((384, "MiniLM"), (768, "e5-base")):
        flat = WIKI_PASSAGES * dimension * 4
        print(
            f"  faiss flat, {encoder} d={dimension}: 21M x {dimension} x 4 B = {flat / 1e9:.1f} GB; "
            f"IVF-flat +8 B ids = {WIKI_PASSAGES * (dimension * 4 + 8) / 1e9:.1f} GB; HNSW32 +256 B links = "
            f"{WIKI_PASSAGES * (dimension * 4 + 256) / 1e9:.1f} GB; IVF-PQ{dimension // 8} = "
            f"21M x ({dimension // 8} + 8) B = {WIKI_PASSAGES * (dimension // 8 + 8) / 1e9:.1f} GB"
        )
    if "dense_flat" in rows:
        rate = n / rows["dense_flat"]["build_s"]
        print(
            f"  encoding measured {rate:,.0f} passages/s here -> 21M in {WIKI_PASSAGES / rate / 3600:,.1f} h"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=20_000, help="corpus size when generating one")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--corpus", help="JSONL corpus to use instead of a generated one")
    parser.add_argument("--queries-file", help="JSONL {'query', 'gold'} rows for --corpus")
    parser.add_argument(
        "--backends", default=",".join(BACKENDS), help=f"comma-separated subset of {BACKENDS}"
    )
    parser.add_argument(
        "--approx", choices=["ivf", "hnsw"], default="ivf", help="the approximate dense index"
    )
    parser.add_argument("--encoder", default="default", help="dense encoder (default: bundled MiniLM)")
    parser.add_argument("--workdir", help="keep indexes here (default: a temporary folder, removed)")
    parser.add_argument("--threads", type=int, help="torch and faiss threads in each child (default: theirs)")
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        sys.exit(f"unknown backends {unknown}; expected some of {BACKENDS}")
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench-retrieval-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        corpus, queries, name = prepare_inputs(args, work)
        passages = in_child(child_passages, str(corpus))
        if "rank_bm25" in backends and passages["passages"] > 100_000:
            print("skipping rank_bm25: more than 100k passages")
            backends.remove("rank_bm25")
        rows = {}
        for backend in backends:
            index_dir = str(work / backend)
            options = dense_options(backend, args, work) if backend.startswith("dense") else {}
            settings = {"encoder": args.encoder, "threads": args.threads}
            print(f"{backend}: building...", flush=True)
            rows[backend] = in_child(child_build, backend, str(corpus), index_dir, options, settings)
            print(f"{backend}: searching...", flush=True)
            rows[backend].update(in_child(child_search, backend, index_dir, str(queries), settings))
        report(rows, passages, name, args.approx)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
