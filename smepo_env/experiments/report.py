"""The guidance comparison's results: per-run curves, the summary table, and the two plots.

Inputs are the runs' ``metrics.jsonl`` files (written by the trainer); outputs, in the
comparison's output directory:

* ``results.json``: ``settings``, ``arms``, ``seeds`` and a ``runs`` list, one entry per run
  with ``arm``, ``seed``, ``finished``, ``heldout`` (``[{"step", "success"}]``: unguided greedy
  held-out success at every evaluated step, step 0 being the shared starting point) and
  ``diagnostics`` (per training step: ``reward``, ``guided_reward``, ``frac_reward_zero_std``,
  ``searches``, ``copy_rate``, ``guided_share``; ``null`` where a step had no such episodes),
  plus the ``table``.
* ``table.md``: per arm, the final held-out success as mean and 95% interval over seeds
  (Student's t on the seeds' final values; ``–`` with one seed), the 95% Wilson interval of the
  final success pooled over seeds and held-out questions (the noise of the question sample,
  which one seed alone can show), and the steps to reach vanilla's final success:
  the first evaluated step at which the arm's mean curve (over seeds) is at least the ``none``
  arm's mean final success; ``speedup`` is ``none``'s own steps to that value divided by the
  arm's (2.0: the arm got there in half the steps). ``not reached`` when it never did. Then the
  arm's final success minus ``none``'s in the same seed (mean and t-interval over the seeds both
  finished, and how many of them the arm is ahead in), and the training diagnostics' means over
  every step of every finished run (:data:`TABLE_DIAGNOSTICS`).
* ``heldout.png``: mean held-out success over steps per arm, with a band of the 95% interval.
* ``diagnostics.png``: guided training reward, share of all-equal groups, searches per episode
  and copy rate, per arm, mean over seeds by step.
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from smepo_env.training.callbacks import read_metrics

T_975: tuple[float, ...] = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
"""Student's t 0.975 quantiles for 1..30 degrees of freedom (two-sided 95%); 1.96 beyond."""

DIAGNOSTICS: dict[str, str] = {
    "reward": "reward",
    "guided_reward": "guidance/guided_reward",
    "frac_reward_zero_std": "frac_reward_zero_std",
    "copy_rate": "guidance/copy_rate",
    "guided_share": "guidance/guided_share",
}
"""Per-step diagnostic name -> the metrics.jsonl key it is read from (``searches``: every tool's calls)."""


TABLE_DIAGNOSTICS: tuple[tuple[str, str], ...] = (
    ("reward", "training reward"),
    ("frac_reward_zero_std", "groups with all-equal rewards"),
    ("searches", "searches per episode"),
    ("copy_rate", "copy rate"),
)
"""The diagnostics ``table.md`` shows per arm (key in ``diagnostics``, column title)."""


def mean_interval(
    values: Sequence[float], *, bounds: tuple[float, float] | None = None
) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean and its 95% Student-t interval (one value: a zero-width one).

    ``bounds`` clips the interval to the values the quantity can take (``(0, 1)`` for a success
    rate: with few seeds a t-interval otherwise reaches below 0).

    Raises:
        ValueError: no values.
    """
    if not values:
        raise ValueError("mean_interval needs at least one value")
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, mean, mean
    df = len(values) - 1
    t = T_975[df - 1] if df <= len(T_975) else 1.96
    half = t * statistics.stdev(values) / math.sqrt(len(values))
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return mean, low, high


def wilson_interval(successes: float, trials: int) -> tuple[float, float]:
    """The 95% Wilson score interval of a success proportion.

    Raises:
        ValueError: no trials.
    """
    if trials < 1:
        raise ValueError(f"wilson_interval needs at least one trial, got {trials!r}")
    z = 1.96
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def run_curves(metrics_path: str | os.PathLike[str]) -> dict[str, Any]:
    """A run's held-out curve and per-step diagnostics, read from its ``metrics.jsonl``."""
    records = read_metrics(metrics_path)
    heldout: dict[int, float] = {}
    diagnostics: dict[int, dict[str, float | None]] = {}
    for record in records:
        step = int(record.get("step", 0))
        if "heldout/success" in record:
            heldout[step] = float(record["heldout/success"])
        if "loss" in record or "reward" in record:
            row = {name: record.get(key) for name, key in DIAGNOSTICS.items()}
            tools = [v for k, v in record.items() if k.startswith("episodes/tool_calls/")]
            row["searches"] = sum(tools) if tools else None
            diagnostics[step] = row
    return {
        "heldout": [{"step": s, "success": heldout[s]} for s in sorted(heldout)],
        "diagnostics": [{"step": s, **diagnostics[s]} for s in sorted(diagnostics)],
    }


def _mean_curve(runs: Sequence[Mapping[str, Any]]) -> dict[int, list[float]]:
    by_step: dict[int, list[float]] = {}
    for run in runs:
        for point in run["heldout"]:
            by_step.setdefault(point["step"], []).append(point["success"])
    return dict(sorted(by_step.items()))


def _first_step_reaching(curve: Mapping[int, list[float]], target: float) -> int | None:
    for step, values in curve.items():
        if statistics.fmean(values) >= target - 1e-12:
            return step
    return None


def summary_table(
    runs: Sequence[Mapping[str, Any]],
    arms: Sequence[str],
    baseline: str = "none",
    questions: int | None = None,
) -> list[dict]:
    """One row per arm (see the module docstring); only finished runs count.

    ``questions`` (the held-out questions per evaluation) adds the pooled Wilson interval.
    """
    finished = [r for r in runs if r.get("finished") and r["heldout"]]
    by_arm = {arm: [r for r in finished if r["arm"] == arm] for arm in arms}
    target = None
    base_runs = by_arm.get(baseline, [])
    if base_runs:
        target = statistics.fmean(r["heldout"][-1]["success"] for r in base_runs)
    base_steps = _first_step_reaching(_mean_curve(base_runs), target) if target is not None else None
    rows = []
    for arm in arms:
        arm_runs = by_arm[arm]
        row: dict[str, Any] = {"arm": arm, "seeds": len(arm_runs)}
        if arm_runs:
            finals = [r["heldout"][-1]["success"] for r in arm_runs]
            starts = [r["heldout"][0]["success"] for r in arm_runs]
            mean, low, high = mean_interval(finals, bounds=(0.0, 1.0))
            row.update(start=statistics.fmean(starts), final_mean=mean, final_low=low, final_high=high)
            if questions:
                trials = questions * len(finals)
                row["final_questions_low"], row["final_questions_high"] = wilson_interval(
                    sum(finals) * questions, trials
                )
            if target is not None:
                steps = _first_step_reaching(_mean_curve(arm_runs), target)
                row.update(target=target, steps_to_target=steps)
                if steps and base_steps is not None:  # reached at step 0: no ratio
                    row["speedup"] = base_steps / steps
            row.update(_paired_with(arm_runs, base_runs) if arm != baseline else {})
            row["training"] = _diagnostic_means(arm_runs)
        rows.append(row)
    return rows


def _paired_with(runs: Sequence[Mapping[str, Any]], base_runs: Sequence[Mapping[str, Any]]) -> dict:
    """Final success minus the baseline's in the same seed, over the seeds both finished."""
    base = {r["seed"]: r["heldout"][-1]["success"] for r in base_runs}
    differences = [r["heldout"][-1]["success"] - base[r["seed"]] for r in runs if r["seed"] in base]
    if not differences:
        return {}
    mean, low, high = mean_interval(differences)
    return {
        "paired_mean": mean,
        "paired_low": low,
        "paired_high": high,
        "pairs": len(differences),
        "pairs_ahead": sum(d > 0 for d in differences),
    }


def _diagnostic_means(runs: Sequence[Mapping[str, Any]]) -> dict[str, float | None]:
    """Each of :data:`TABLE_DIAGNOSTICS`' means over every step of ``runs`` (``None``: no value)."""
    means: dict[str, float | None] = {}
    for key, _ in TABLE_DIAGNOSTICS:
        values = [d[key] for r in runs for d in r.get("diagnostics", []) if d.get(key) is not None]
        means[key] = statistics.fmean(values) if values else None
    return means


def render_table(rows: Sequence[Mapping[str, Any]], baseline: str = "none") -> str:
    """The summary table as Markdown."""
    target = next((r["target"] for r in rows if "target" in r), None)
    target_text = "n/a" if target is None else f"{target:.3f}"
    lines = [
        "| arm | seeds | held-out success at start | "
        "final held-out success (mean [95% t-interval over seeds, clipped to 0-1]) | "
        "95% interval over questions | "
        f"steps to reach {baseline}'s final ({target_text}) | speedup vs {baseline} | "
        f"final minus {baseline}'s, same seed (mean [95% t-interval]; seeds ahead) | "
        + " | ".join(title for _, title in TABLE_DIAGNOSTICS)
        + " |",
        "|---|---|---|---|---|---|---|---|" + "---|" * len(TABLE_DIAGNOSTICS),
    ]
    for row in rows:
        if not row["seeds"]:
            lines.append(f"| {row['arm']} | 0 | | | | | | |" + " |" * len(TABLE_DIAGNOSTICS))
            continue
        steps = row.get("steps_to_target")
        speedup = row.get("speedup")
        seeds_interval = (
            f"[{row['final_low']:.3f}, {row['final_high']:.3f}]" if row["seeds"] > 1 else "[– (one seed)]"
        )
        questions_interval = (
            f"[{row['final_questions_low']:.3f}, {row['final_questions_high']:.3f}]"
            if "final_questions_low" in row
            else ""
        )
        lines.append(
            f"| {row['arm']} | {row['seeds']} | {row['start']:.3f} | "
            f"{row['final_mean']:.3f} {seeds_interval} | "
            f"{questions_interval} | "
            f"{'not reached' if steps is None and 'target' in row else steps if steps is not None else ''} | "
            f"{'' if speedup is None else f'{speedup:.2f}x'} | "
            f"{_paired_text(row)} | "
            + " | ".join(
                "–" if row["training"][key] is None else f"{row['training'][key]:.3f}"
                for key, _ in TABLE_DIAGNOSTICS
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


def _paired_text(row: Mapping[str, Any]) -> str:
    if "pairs" not in row:
        return ""
    interval = f" [{row['paired_low']:+.3f}, {row['paired_high']:+.3f}]" if row["pairs"] > 1 else ""
    return f"{row['paired_mean']:+.3f}{interval}; {row['pairs_ahead']} of {row['pairs']}"


def _save(figure: Any, out: Path) -> Path:
    import matplotlib.pyplot as plt

    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.with_name(f".{out.stem}.tmp.png")
    figure.tight_layout()
    figure.savefig(temp, dpi=110)
    plt.close(figure)
    os.replace(temp, out)
    return out


def arm_colors(arms: Sequence[str]) -> dict[str, str]:
    """One matplotlib colour per arm, by the arm's place in ``arms``: the same in every panel,
    also where an arm has no value to draw (``none`` has no guided episodes)."""
    return {arm: f"C{i % 10}" for i, arm in enumerate(arms)}


def plot_heldout(runs: Sequence[Mapping[str, Any]], arms: Sequence[str], out: str | os.PathLike[str]) -> Path:
    """Mean held-out success by step per arm, with its 95% band over seeds (atomically written)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = arm_colors(arms)
    figure, axis = plt.subplots(figsize=(7, 4.2))
    top = 0.1
    for arm in arms:
        curve = _mean_curve([r for r in runs if r["arm"] == arm])
        if not curve:
            continue
        steps = list(curve)
        stats = [mean_interval(values) for values in curve.values()]
        axis.plot(steps, [s[0] for s in stats], "o-", label=arm, color=colors[arm])
        axis.fill_between(steps, [s[1] for s in stats], [s[2] for s in stats], alpha=0.2, color=colors[arm])
        top = max(top, *(s[2] for s in stats))
    axis.set_xlabel("GRPO step")
    axis.set_ylabel("held-out success (unguided, greedy)")
    axis.set_ylim(-0.005, min(1.02, 1.25 * top))  # small successes stay readable
    axis.grid(alpha=0.3)
    axis.legend(loc="best")
    return _save(figure, Path(out))


def plot_diagnostics(
    runs: Sequence[Mapping[str, Any]], arms: Sequence[str], out: str | os.PathLike[str]
) -> Path:
    """Four panels by step, mean over seeds per arm: guided reward (the reward for ``none``),
    share of all-equal groups, searches per episode, copy rate (atomically written)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("guided_reward", "training reward of guided episodes\n(none: all episodes)"),
        ("frac_reward_zero_std", "groups with all-equal rewards"),
        ("searches", "tool calls per episode"),
        ("copy_rate", "copy rate (guided episodes)"),
    ]
    colors = arm_colors(arms)
    figure, axes = plt.subplots(2, 2, figsize=(10, 7))
    for axis, (name, title) in zip(axes.flat, panels, strict=True):
        for arm in arms:
            by_step: dict[int, list[float]] = {}
            for run in (r for r in runs if r["arm"] == arm):
                for row in run["diagnostics"]:
                    value = row.get(name)
                    if value is None and name == "guided_reward" and arm == "none":
                        value = row.get("reward")
                    if value is not None:
                        by_step.setdefault(row["step"], []).append(value)
            if by_step:
                steps = sorted(by_step)
                axis.plot(steps, [statistics.fmean(by_step[s]) for s in steps], label=arm, color=colors[arm])
        axis.set_title(title, fontsize=10)
        axis.set_xlabel("GRPO step")
        axis.grid(alpha=0.3)
    axes.flat[0].legend(loc="best", fontsize=8)
    return _save(figure, Path(out))
