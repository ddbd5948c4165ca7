"""Experiments built on the trainer: the guidance comparison (none / prefix / full / masked).

* :mod:`smepo_env.experiments.arms`: an arm's name, guidance mode and schedule.
* :mod:`smepo_env.experiments.setup`: the settings (full and ``--quick``) and the shared warm start.
* :mod:`smepo_env.experiments.starting_point`: each arm's success before RL, greedy and sampled.
* :mod:`smepo_env.experiments.compare`: runs the arms x seeds, resumable.
* :mod:`smepo_env.experiments.report`: the results JSON, the table and the plots.
* :mod:`smepo_env.experiments.cli`: ``python agents/compare_guidance.py``.
"""
