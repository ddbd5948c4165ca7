"""Evaluating policies: scripted baselines and model policies, one record type, one summary.

* :mod:`~smepo_env.evaluation.runner` plays scripted policies through the env;
* :mod:`~smepo_env.evaluation.model_policy` plays a model greedily through the episode loop
  that training uses (:mod:`smepo_env.rollout`);
* both return :class:`~smepo_env.evaluation.records.EpisodeRecord` lists, which
  :func:`~smepo_env.evaluation.report.summarize` turns into success, reward, turns and tool
  calls per tool, per question type.

Evaluation is always unguided.
"""

from smepo_env.evaluation.model_policy import evaluate_model_policy, evaluate_policy, load_policy
from smepo_env.evaluation.policies import SCRIPTED_POLICIES, make_scripted_policy
from smepo_env.evaluation.records import EpisodeRecord, episode_record
from smepo_env.evaluation.report import render_table, summarize
from smepo_env.evaluation.runner import run_scripted

__all__ = [
    "SCRIPTED_POLICIES",
    "EpisodeRecord",
    "episode_record",
    "evaluate_model_policy",
    "evaluate_policy",
    "load_policy",
    "make_scripted_policy",
    "render_table",
    "run_scripted",
    "summarize",
]
