"""GRPO training of agents on smepo environments, on TRL.

* :mod:`~smepo_env.training.config`: the arguments and the embedded defaults.
* :mod:`~smepo_env.training.rollout_func`: the ``rollout_func`` (one generation = one episode).
* :mod:`~smepo_env.training.trainer`: TRL's ``GRPOTrainer`` without the passes over zero-advantage episodes.
* :mod:`~smepo_env.training.sft`: the cached supervised warm start on expert traces.
* :mod:`~smepo_env.training.grpo`: :func:`train_agent`, the whole job.
* :mod:`~smepo_env.training.callbacks`, :mod:`~smepo_env.training.checkpoints`,
  :mod:`~smepo_env.training.plots`: logging, resume, the end-of-run plot.
"""

from smepo_env.training.config import EMBEDDED_DEFAULTS, AgentArguments, parse_arguments

__all__ = ["EMBEDDED_DEFAULTS", "AgentArguments", "parse_arguments"]
