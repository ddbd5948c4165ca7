"""Evaluating policies on the bundled benchmarks: scripted baselines, runners, reports."""

from smepo_env.evaluation.policies import SCRIPTED_POLICIES, make_scripted_policy
from smepo_env.evaluation.report import render_table, summarize
from smepo_env.evaluation.runner import ENV_ID_BY_DOMAIN, episode_record, run_scripted

__all__ = [
    "ENV_ID_BY_DOMAIN",
    "SCRIPTED_POLICIES",
    "episode_record",
    "make_scripted_policy",
    "render_table",
    "run_scripted",
    "summarize",
]
