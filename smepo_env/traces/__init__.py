"""Expert traces for tasks that have none: gold decompositions played, or a teacher model's rollouts.

* :mod:`~smepo_env.traces.gold`: MuSiQue / 2Wiki / HotpotQA gold routes as expert actions, and
  the check that each hop's search really returned its answer.
* :mod:`~smepo_env.traces.teachers`: ``gold``, an OpenAI-compatible endpoint
  (:mod:`~smepo_env.traces.endpoint`) or a local model, all playing through the evaluation
  episode loop (text teachers through :class:`~smepo_env.traces.codec.TextCodec`).
* :mod:`~smepo_env.traces.collect`: rejection sampling (at most K tries a task), resumable
  JSONL output, a summary. ``python agents/collect_traces.py`` is its command line.
* :mod:`~smepo_env.traces.smepo_parquet`: traces written as SMEPO's parquet schema.
"""

from smepo_env.traces.collect import CollectSummary, collect_traces
from smepo_env.traces.gold import GoldPlan, check_gold_episode, gold_plan, with_gold_actions
from smepo_env.traces.smepo_parquet import write_smepo_parquet
from smepo_env.traces.teachers import (
    EndpointTeacher,
    GoldTeacher,
    LocalModelTeacher,
    Teacher,
    make_teacher,
)

__all__ = [
    "CollectSummary",
    "EndpointTeacher",
    "GoldPlan",
    "GoldTeacher",
    "LocalModelTeacher",
    "Teacher",
    "check_gold_episode",
    "collect_traces",
    "gold_plan",
    "make_teacher",
    "with_gold_actions",
    "write_smepo_parquet",
]
