"""The comparison's report: intervals, per-run curves from metrics.jsonl, the table and the plots."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from smepo_env.experiments.report import (
    T_975,
    mean_interval,
    plot_diagnostics,
    plot_heldout,
    render_table,
    run_curves,
    summary_table,
)


def _t_cdf_mass(q: float, df: int) -> float:
    """P(0 < T < q) for Student's t with ``df`` degrees of freedom, by Simpson's rule on the density."""
    x = np.linspace(0.0, q, 200_001)
    c = math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2))
    y = c * (1 + x**2 / df) ** (-(df + 1) / 2)
    h = x[1] - x[0]
    return float(h / 3 * (y[0] + y[-1] + 4 * y[1:-1:2].sum() + 2 * y[2:-1:2].sum()))


@pytest.mark.parametrize("df", [1, 2, 3, 5, 10, 30])
def test_t_quantiles_leave_two_and_a_half_percent_in_each_tail(df):
    assert _t_cdf_mass(T_975[df - 1], df) == pytest.approx(0.475, abs=2e-4)


def test_mean_interval():
    mean, low, high = mean_interval([0.2, 0.4, 0.6])
    assert mean == pytest.approx(0.4)
    assert high - mean == pytest.approx(4.303 * 0.2 / math.sqrt(3))  # sd 0.2, t(2) = 4.303
    assert mean - low == pytest.approx(high - mean)
    assert mean_interval([0.5]) == (0.5, 0.5, 0.5)
    # a success rate's interval stays inside [0, 1]; unclipped, three small rates reach below 0
    assert mean_interval([0.0, 0.0, 0.1])[1] < 0
    assert mean_interval([0.0, 0.0, 0.1], bounds=(0.0, 1.0))[1:] == (0.0, mean_interval([0.0, 0.0, 0.1])[2])
    with pytest.raises(ValueError, match="at least one value"):
        mean_interval([])


def test_run_curves_read_heldout_points_and_step_diagnostics(tmp_path):
    path = tmp_path / "metrics.jsonl"
    records = [
        {"step": 0, "heldout/success": 0.1, "heldout/n": 10},
        {"step": 1, "loss": 0.0, "reward": 0.5, "frac_reward_zero_std": 0.5, "guidance/guided_reward": 0.75,
         "guidance/copy_rate": 0.25, "guidance/guided_share": 1.0, "episodes/tool_calls/search": 1.5},
        {"step": 2, "loss": 0.0, "reward": 0.0, "frac_reward_zero_std": 1.0, "guidance/guided_share": 0.0},
        {"step": 2, "heldout/success": 0.3},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    curves = run_curves(path)
    assert curves["heldout"] == [{"step": 0, "success": 0.1}, {"step": 2, "success": 0.3}]
    first, second = curves["diagnostics"]
    assert first == {
        "step": 1, "reward": 0.5, "guided_reward": 0.75, "frac_reward_zero_std": 0.5, "copy_rate": 0.25,
        "guided_share": 1.0, "searches": 1.5,
    }  # fmt: skip
    assert second["guided_reward"] is None and second["copy_rate"] is None and second["searches"] is None


def _run(arm, seed, curve, finished=True):
    return {
        "arm": arm,
        "seed": seed,
        "finished": finished,
        "heldout": [{"step": s, "success": v} for s, v in curve],
        "diagnostics": [
            {"step": s, "reward": v, "guided_reward": None, "searches": 1.0} for s, v in curve if s
        ],
    }


def test_wilson_interval_matches_the_textbook_values():
    from smepo_env.experiments.report import wilson_interval

    low, high = wilson_interval(8, 150)  # 5.3%: what one seed of the comparison can resolve
    assert low == pytest.approx(0.0272, abs=5e-4) and high == pytest.approx(0.1015, abs=5e-4)
    assert wilson_interval(0, 150)[0] == 0.0 and wilson_interval(150, 150)[1] == 1.0
    with pytest.raises(ValueError, match="at least one trial"):
        wilson_interval(0, 0)


def test_summary_table_steps_to_vanilla_final_and_speedup(tmp_path):
    runs = [
        _run("none", 0, [(0, 0.1), (10, 0.2), (20, 0.3), (30, 0.4)]),
        _run("none", 1, [(0, 0.1), (10, 0.2), (20, 0.4), (30, 0.4)]),  # mean curve 0.1 .2 .35 .4
        _run("masked", 0, [(0, 0.1), (10, 0.4), (20, 0.5), (30, 0.6)]),
        _run("masked", 1, [(0, 0.1), (10, 0.5), (20, 0.5), (30, 0.5)]),  # mean 0.45 at step 10
        _run("full", 0, [(0, 0.1), (10, 0.1), (20, 0.1), (30, 0.2)]),
        _run("full", 1, [(0, 0.1), (10, 0.9)], finished=False),  # unfinished runs do not count
    ]
    rows = {r["arm"]: r for r in summary_table(runs, ["none", "prefix", "masked", "full"], questions=150)}
    assert rows["none"]["target"] == pytest.approx(0.4) and rows["none"]["steps_to_target"] == 30
    assert rows["none"]["speedup"] == pytest.approx(1.0)
    assert rows["masked"]["steps_to_target"] == 10 and rows["masked"]["speedup"] == pytest.approx(3.0)
    assert rows["masked"]["final_mean"] == pytest.approx(0.55)
    assert rows["masked"]["final_low"] < 0.55 < rows["masked"]["final_high"]
    assert rows["full"]["seeds"] == 1 and rows["full"]["steps_to_target"] is None
    assert rows["full"]["final_low"] == rows["full"]["final_high"] == pytest.approx(0.2)
    assert rows["prefix"] == {"arm": "prefix", "seeds": 0}
    table = render_table(list(rows.values()))
    assert "steps to reach none's final (0.400)" in table
    assert "| masked | 2 | 0.100 | 0.550 [" in table and "| 10 | 3.00x |" in table
    # one seed: no interval over seeds, but the question sample's (30 of 150: Wilson 0.144-0.271)
    assert "| full | 1 | 0.100 | 0.200 [– (one seed)] | [0.144, 0.271] | not reached |  |" in table
    # final minus none's in the same seed: masked 0.6-0.4 and 0.5-0.4; full only seed 0 finished
    assert (rows["masked"]["paired_mean"], rows["masked"]["pairs_ahead"], rows["masked"]["pairs"]) == (
        pytest.approx(0.15),
        2,
        2,
    )
    assert rows["masked"]["paired_low"] < 0.15 < rows["masked"]["paired_high"]
    assert "pairs" not in rows["none"] and rows["full"]["paired_mean"] == pytest.approx(-0.2)
    assert rows["masked"]["training"] == {
        "reward": pytest.approx(0.5), "frac_reward_zero_std": None, "searches": 1.0, "copy_rate": None
    }  # fmt: skip
    assert "| 10 | 3.00x | +0.150 [" in table and "; 2 of 2 | 0.500 | – | 1.000 | – |" in table
    assert "| not reached |  | -0.200; 0 of 1 | 0.133 |" in table  # rewards 0.1, 0.1, 0.2
    low, high = rows["masked"]["final_questions_low"], rows["masked"]["final_questions_high"]
    assert low < 0.55 < high and high - low < 0.12  # 165 of 300 pooled over two seeds
    for name, plot in (("h.png", plot_heldout), ("d.png", plot_diagnostics)):
        out = plot(runs, ["none", "prefix", "masked", "full"], tmp_path / name)
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_arm_keeps_its_colour_in_every_panel_also_where_another_arm_has_no_values(tmp_path, monkeypatch):
    """none has no guided episodes (no copy rate): full must not take its colour in that panel."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.axes import Axes

    drawn: list[tuple[str, str]] = []
    original = Axes.plot

    def recording_plot(self, *args, **kwargs):
        drawn.append((kwargs.get("label"), kwargs.get("color")))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Axes, "plot", recording_plot)
    diagnostics = {"reward": 0.5, "frac_reward_zero_std": 0.5, "searches": 1.0}
    runs = [
        {**_run("none", 0, [(0, 0.1), (8, 0.2)]), "diagnostics": [{"step": 1, **diagnostics,
         "guided_reward": None, "copy_rate": None}]},
        {**_run("full", 0, [(0, 0.1), (8, 0.1)]), "diagnostics": [{"step": 1, **diagnostics,
         "guided_reward": 0.7, "copy_rate": 0.3}]},
    ]  # fmt: skip
    plot_diagnostics(runs, ["none", "full"], tmp_path / "d.png")
    plot_heldout(runs, ["none", "full"], tmp_path / "h.png")
    colours = {label: {c for lab, c in drawn if lab == label} for label in ("none", "full")}
    assert len(colours["full"]) == 1 and len(colours["none"]) == 1 and colours["full"] != colours["none"]
    assert sum(label == "full" for label, _ in drawn) == 5  # four panels and the held-out curve
