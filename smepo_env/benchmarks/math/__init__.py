"""Math benchmarks: ``math_word``, generated word problems with step-by-step expert solutions.

The templates (``*_templates.py``) each return a
:class:`~smepo_env.benchmarks.math.worked_problem.MathProblem`: the question, the answer and
the worked steps the expert writes.
"""
