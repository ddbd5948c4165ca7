"""Step time against action length, for every environment, on degenerate generations.

RL policies produce degenerate text (one tag repeated thousands of times); a step must cost
time linear in the action's length, and an action over the protocol's limit
(:data:`smepo_env.protocol.MAX_ACTION_CHARS`) must be refused before any parsing. For each
env and each degenerate pattern this prints the milliseconds of one ``step`` at growing
lengths and, last, the growth of time per character from the shortest to the longest length
under the limit (about 1x when linear; a quadratic step grows with the length ratio, 50x
here). No pattern starts a tool, so the table measures parsing only.

    python bench/bench_step_length.py
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym

import smepo_env  # noqa: F401
from smepo_env.protocol import MAX_ACTION_CHARS

PATTERNS = {
    "\\boxed{": "\\boxed{",
    "<think>": "<think>",
    "<answer>": "<answer>",
    "<search>": "<search>",
    "<python>": "<python>",
    "{": "{",
    "</": "</",
    "<think></think>": "<think></think>",
}
"""Repeated units; each action is one unit repeated to the length asked."""
LENGTHS = (4_000, 20_000, 80_000, MAX_ACTION_CHARS, 2 * MAX_ACTION_CHARS)
ENVS = ("smepo/SearchQA-v0", "smepo/PythonExec-v0", "smepo/Math-v0")


def step_seconds(env: gym.Env, action: str, repeats: int) -> float:
    """The fastest of ``repeats`` steps of ``action``, each from a fresh episode."""
    best = float("inf")
    for _ in range(repeats):
        env.reset(seed=0)
        started = time.perf_counter()
        env.step(action)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="steps per cell (the fastest counts)")
    args = parser.parse_args()
    header = "".join(f"{n:>10,}" for n in LENGTHS)
    print(f"ms per step; last column: time per char at {LENGTHS[-2]:,} / at {LENGTHS[0]:,}")
    print(f"{'env':<22}{'pattern':<18}{header}{'growth':>9}")
    for env_id in ENVS:
        env = gym.make(env_id).unwrapped
        for name, unit in PATTERNS.items():
            times = []
            for length in LENGTHS:
                action = (unit * (length // len(unit) + 1))[:length]
                times.append(step_seconds(env, action, args.repeats))
            growth = (times[-2] / LENGTHS[-2]) / (times[0] / LENGTHS[0])
            cells = "".join(f"{1000 * t:>10.2f}" for t in times)
            print(f"{env_id.removeprefix('smepo/'):<22}{name:<18}{cells}{growth:>8.1f}x")


if __name__ == "__main__":
    main()
