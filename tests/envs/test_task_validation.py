"""Issue 13 item 11: tasks are validated at load and at reset, naming the field and what was
expected; none of these reaches an episode."""

from __future__ import annotations

import json

import pytest

from smepo_env.envs.math_env import MathEnv
from smepo_env.envs.python_exec import PythonExecEnv
from smepo_env.errors import TaskFormatError
from smepo_env.tasks import MAX_QUESTION_CHARS, Task, load_tasks_jsonl, validate_task

GOOD = {"id": "t", "question": "1 + 1?", "answers": ["2"]}
CODE = {"id": "c", "question": "add", "answers": ["pass"], "metadata": {"tests": ["assert add(1, 2) == 3"]}}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({**GOOD, "question": "x" * (MAX_QUESTION_CHARS + 1)}, "limit is 100000"),
        ({**GOOD, "answers": b"2"}, "'answers' must be text, not bytes"),
        ({**GOOD, "answers": [b"2"]}, "'answers' must be a string or a non-empty list"),
        ({**GOOD, "metadata": ["not", "a", "dict"]}, "'metadata' must be a dict, got list"),
        ({**GOOD, "critical_spans": "text"}, "'critical_spans' must be a list"),
        ({**GOOD, "critical_spans": [5]}, "'critical_spans[0]' must be a {'text', 'kind'} dict, got int"),
        (
            {**GOOD, "critical_spans": [{"text": 1, "kind": "x"}]},
            "'critical_spans[0]' must be a dict with string",
        ),
        ({**GOOD, "expert_trace": 7}, "'expert_trace' must be a string or None"),
        ({**CODE, "metadata": {"tests": [5]}}, "'metadata.tests[0]' must be Python source text, got int 5"),
        (
            {**CODE, "metadata": {"tests": "assert f(1) == 1"}},
            "'metadata.tests' must be a list of test sources",
        ),
        ({**CODE, "metadata": {"tests": ["assert ("]}}, "'metadata.tests[0]' is not valid Python"),
        ({**CODE, "metadata": {"tests": ["assert f(1) == 1"], "test_setup": 3}}, "'metadata.test_setup'"),
        ({**CODE, "metadata": {"stdio_tests": [{"input": "1", "output": 2}]}}, "'metadata.stdio_tests[0]'"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(row, message):
    with pytest.raises(TaskFormatError) as error:
        Task.from_dict(row)
    assert message in str(error.value)


def test_validation_runs_at_load_and_at_reset(tmp_path):
    path = tmp_path / "tasks.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps({**CODE, "metadata": {"tests": [5]}}) + "\n")
    with pytest.raises(TaskFormatError, match=r"tasks.jsonl:2: task 'c': 'metadata.tests\[0\]'"):
        load_tasks_jsonl(path)
    env = PythonExecEnv(tasks=[CODE], sandbox={"timeout_s": 2.0})
    with pytest.raises(TaskFormatError, match=r"metadata\.tests"):
        env.reset(options={"task": {**CODE, "metadata": {"tests": [5]}}})
    with pytest.raises(TaskFormatError, match=r"metadata\.tests"):
        env.reset(options={"task": Task("x", "q", ("a",), metadata={"tests": [5]})})
    math_env = MathEnv(tasks=[GOOD])
    with pytest.raises(TypeError, match="reset 'options' must be a dict, got list"):
        math_env.reset(options=["task"])  # type: ignore[arg-type]
    with pytest.raises(TaskFormatError, match="'answers' must be text"):
        math_env.reset(options={"task": {**GOOD, "answers": b"2"}})


def test_good_tasks_pass_unchanged():
    task = Task.from_dict({**CODE, "critical_spans": [{"text": "a", "kind": "code"}]})
    assert validate_task(task) is task and task.metadata["tests"] == ["assert add(1, 2) == 3"]
