"""Search benchmarks: multi-hop questions over a bundled corpus, each with the expert's route.

``fictional_world`` (an invented world no model has memorized) and ``world_facts`` (real facts
about countries and cities) write :class:`~smepo_env.benchmarks.search.plans.QuestionPlan` s;
:mod:`~smepo_env.benchmarks.search.build` indexes the corpus and lets the searching expert
(:mod:`~smepo_env.benchmarks.search.expert`) play every plan in the search environment.
"""
