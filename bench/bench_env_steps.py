"""Environment steps per second for a search step on the bundled corpus (in-process BM25).

    python bench/bench_env_steps.py --steps 5000

Baseline side by side: the retriever's own ``search`` call alone, so the table shows what
the environment adds on top of retrieval (parsing, formatting, bookkeeping).
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym

import smepo_env  # noqa: F401


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=5000)
    args = parser.parse_args()
    env = gym.make("smepo/SearchQA-v0", max_turns=8)
    tasks = env.unwrapped.tasks
    queries = [t.metadata["expert_actions"][0] for t in tasks]
    env.reset(seed=0)
    env.step(queries[0])  # loads the index and compiles numba once
    tool = env.unwrapped.search_tool
    texts = [q.split("<search>")[1].split("</search>")[0] for q in queries]
    started = time.perf_counter()
    for i in range(args.steps):
        tool.retriever.search(texts[i % len(texts)], 3)
    search_rate = args.steps / (time.perf_counter() - started)
    started = time.perf_counter()
    for i in range(args.steps):
        if i % 4 == 0:  # episodes of four searches, as a multi-hop policy makes
            env.reset(seed=i)
        env.step(queries[i % len(queries)])
    step_rate = args.steps / (time.perf_counter() - started)
    print(f"{'what':<32}{'per second':>12}")
    print(f"{'retriever.search alone':<32}{search_rate:>12.0f}")
    print(f"{'env.step with <search>':<32}{step_rate:>12.0f}")
    print(
        f"env overhead: {1e6 / step_rate - 1e6 / search_rate:.0f} us per step "
        f"({step_rate / search_rate:.2f}x of bare search)"
    )


if __name__ == "__main__":
    main()
