"""Doors from smepo environments into other libraries' agent interfaces.

* :mod:`smepo_env.integrations.tool_env`: an environment played through native tool calls
  (typed tool methods, ``reset(**row)``, ``get_reward()``), the shape TRL's
  ``environment_factory`` expects; no TRL import.
* :mod:`smepo_env.integrations.trl`: :func:`~smepo_env.integrations.trl.environment_factory`
  and :func:`~smepo_env.integrations.trl.tool_dataset` for ``GRPOTrainer``.
* :mod:`smepo_env.integrations.expert_calls`: an expert trace replayed as a tool-calling
  conversation (for supervised warm starts and tests).
* :mod:`smepo_env.integrations.tool_episodes`: greedy evaluation of a model that calls tools.

The tag protocol and ``rollout_func`` (:mod:`smepo_env.training`) stay the reference path.
"""
