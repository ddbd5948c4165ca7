"""The end-of-run plot: training reward and held-out exact match over steps, from ``metrics.jsonl``."""

from __future__ import annotations

import os
from pathlib import Path

from smepo_env.training.callbacks import read_metrics


def plot_training_curve(metrics_path: str | os.PathLike[str], out_path: str | os.PathLike[str]) -> Path:
    """Write a PNG of the mean training reward and held-out EM by step (atomically).

    Returns:
        The PNG path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = read_metrics(metrics_path)
    reward = {r["step"]: r["reward"] for r in records if "reward" in r}
    heldout = {r["step"]: r["heldout/success"] for r in records if "heldout/success" in r}
    figure, axis = plt.subplots(figsize=(7, 4))
    if reward:
        axis.plot(
            list(reward), list(reward.values()), label="training reward (guided, sampled)", color="tab:blue"
        )
    if heldout:
        axis.plot(
            list(heldout),
            list(heldout.values()),
            "o-",
            label="held-out success (unguided, greedy)",
            color="tab:red",
        )
    axis.set_xlabel("GRPO step")
    axis.set_ylabel("reward / success")
    axis.set_ylim(-0.02, 1.02)
    axis.grid(alpha=0.3)
    axis.legend(loc="best")
    figure.tight_layout()
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.with_name(f".{out.stem}.tmp.png")
    figure.savefig(temp, dpi=110)
    plt.close(figure)
    os.replace(temp, out)
    return out
