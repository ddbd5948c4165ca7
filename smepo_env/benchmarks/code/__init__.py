"""Code benchmarks: ``code_functions``, function-writing tasks with hidden tests.

The templates (``*_templates.py``) each return a
:class:`~smepo_env.benchmarks.code.function_spec.FunctionSpec`, which
:func:`~smepo_env.benchmarks.code.function_spec.render_problem` turns into the question, the
reference solution and the test cases.
"""
