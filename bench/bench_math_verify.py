"""Math answer checking: agreement with hand labels, and checks per second in and outside the main thread.

    python bench/bench_math_verify.py --calls 300

Agreement is measured on the labelled (gold, prediction) pairs of ``tests/scoring/test_math_scoring.py``
(equivalent, not equivalent, and the known disagreements, which count as misses). Speed is
measured on generated math-word test answers written two ways (plain, boxed LaTeX), first in
the main thread (math-verify in-process with signal timeouts), then from a worker thread (each
call goes to the verifier process), with raw ``math_verify.parse`` + ``verify`` as the baseline.
"""

from __future__ import annotations

import argparse
import importlib.util
import threading
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests" / "scoring" / "test_math_scoring.py"


def _labelled_pairs() -> list[tuple[str, str, bool]]:
    spec = importlib.util.spec_from_file_location("test_math_scoring", TESTS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return (
        [(g, p, True) for g, p in module.EQUIVALENT]
        + [(g, p, False) for g, p in module.NOT_EQUIVALENT]
        + [(g, p, True) for g, p in module.KNOWN_DISAGREEMENTS]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="answers checked per timing row")
    args = parser.parse_args()

    from math_verify import parse, verify

    from smepo_env.benchmarks.math.math_word import generate_problems
    from smepo_env.benchmarks.math.worked_problem import latex_number
    from smepo_env.scoring.math import verify_math_answer

    pairs = _labelled_pairs()
    agree = sum(verify_math_answer(p, [g]).correct == label for g, p, label in pairs)
    equivalent = [x for x in pairs if x[2]]
    accepted = sum(verify_math_answer(p, [g]).correct for g, p, _ in equivalent)
    rejected = sum(not verify_math_answer(p, [g]).correct for g, p, label in pairs if not label)
    print(f"agreement with hand labels: {agree}/{len(pairs)} = {agree / len(pairs):.3f}")
    print(f"  equivalent pairs accepted:     {accepted}/{len(equivalent)}")
    print(f"  non-equivalent pairs rejected: {rejected}/{len(pairs) - len(equivalent)}")

    problems = generate_problems(size=0.3)["test"]
    cases = []
    for problem in problems:
        boxed = f"\\boxed{{{latex_number(problem.answer)}}}"
        cases += [(problem.answer, problem.answer), (problem.answer, boxed)]
    cases = (cases * (args.calls // len(cases) + 1))[: args.calls]

    started = time.perf_counter()
    for gold, prediction in cases:
        verify(parse(f"${gold}$"), parse(f"${prediction}$"))
    raw_rate = len(cases) / (time.perf_counter() - started)

    started = time.perf_counter()
    main_ok = sum(verify_math_answer(prediction, [gold]).correct for gold, prediction in cases)
    main_rate = len(cases) / (time.perf_counter() - started)

    results: dict[str, float] = {}

    def in_thread() -> None:
        verify_math_answer("1", ["1"])  # starts the worker process
        begun = time.perf_counter()
        results["ok"] = sum(verify_math_answer(prediction, [gold]).correct for gold, prediction in cases)
        results["rate"] = len(cases) / (time.perf_counter() - begun)

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join()
    print(f"\n{'what':<44}{'checks/s':>10}{'correct':>10}")
    print(f"{'math_verify parse+verify (main thread)':<44}{raw_rate:>10.0f}{'':>10}")
    rows = [
        ("verify_math_answer, main thread", main_rate, main_ok),
        ("verify_math_answer, other thread (worker)", results["rate"], int(results["ok"])),
    ]
    for label, rate, correct in rows:
        print(f"{label:<44}{rate:>10.0f}{correct:>6}/{len(cases)}")


if __name__ == "__main__":
    main()
