"""The tool-calling door into smepo environments: tools, task text, guidance, rewards, refusals."""

from __future__ import annotations

import inspect

import gymnasium as gym
import pytest
from transformers.utils import get_json_schema

import smepo_env  # noqa: F401  (registers the ids)
from smepo_env.errors import ToolCallError
from smepo_env.integrations.expert_calls import expert_tool_conversation
from smepo_env.integrations.tool_env import (
    ANSWER_RECORDED,
    MathPythonToolEnv,
    MathToolEnv,
    PythonExecToolEnv,
    SearchQAToolEnv,
)
from smepo_env.integrations.trl import ensure_tool_chat_template, environment_factory, tool_dataset
from smepo_env.vocabulary import GUIDANCE_MODES

ADD_TASK = {
    "id": "add",
    "question": "Write `add(a, b)` returning a + b.",
    "answers": ["def add(a, b):\n    return a + b\n"],
    "metadata": {"entry_point": "add", "tests": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"]},
}
MATH_TASK = {"id": "m1", "question": "What is 3/4 of 12?", "answers": ["9"]}


@pytest.fixture(scope="module")
def search_factory(fictional_benchmark):
    return environment_factory("smepo/SearchQA-v0", top_k=2)


def trl_tools(instance: object) -> dict[str, object]:
    """The tools TRL's GRPOTrainer builds from an environment (its own rule: public functions of the
    class but ``reset`` and ``get_reward``), each with the JSON schema transformers makes of it."""
    names = [
        name
        for name, _ in inspect.getmembers(type(instance), predicate=inspect.isfunction)
        if not name.startswith("_") and name not in ("reset", "get_reward")
    ]
    return {name: get_json_schema(getattr(instance, name)) for name in names}


@pytest.mark.parametrize(
    ("env_id", "kwargs", "cls", "tools"),
    [
        ("smepo/SearchQA-v0", {}, SearchQAToolEnv, {"search": "query", "answer": "answer"}),
        ("smepo/Math-v0", {"tasks": [MATH_TASK]}, MathToolEnv, {"answer": "answer"}),
        (
            "smepo/Math-v0",
            {"tasks": [MATH_TASK], "python_tool": True},
            MathPythonToolEnv,
            {"python": "code", "answer": "answer"},
        ),
        (
            "smepo/PythonExec-v0",
            {"tasks": [ADD_TASK]},
            PythonExecToolEnv,
            {"python": "code", "answer": "code"},
        ),
    ],
)
def test_each_env_exposes_exactly_its_typed_documented_tools(fictional_benchmark, env_id, kwargs, cls, tools):
    env = environment_factory(env_id, **kwargs)()
    assert type(env) is cls
    schemas = trl_tools(env)
    assert set(schemas) == set(tools)
    for name, argument in tools.items():
        function = schemas[name]["function"]
        assert function["description"]
        assert function["parameters"]["required"] == [argument]
        assert function["parameters"]["properties"][argument]["type"] == "string"
        assert function["parameters"]["properties"][argument]["description"]


@pytest.mark.parametrize("mode", GUIDANCE_MODES)
def test_guidance_modes_show_the_same_text_as_gym_make(fictional_benchmark, mode):
    task_id = fictional_benchmark.tasks("train")[3].id
    env = environment_factory("smepo/SearchQA-v0", expert_guidance=mode)()
    text = env.reset(task_id=task_id)
    reference = gym.make("smepo/SearchQA-v0", expert_guidance=mode)
    observation, _ = reference.reset(options={"task_id": task_id})
    tag_instructions = reference.unwrapped.instructions()
    # Question and guidance block are character for character gym.make's; only the instructions differ.
    assert text.endswith(observation[len(tag_instructions) :])
    assert env.env.unwrapped.guidance == reference.unwrapped.guidance
    assert tag_instructions not in text and "<search> query </search>" not in text
    assert text.startswith(SearchQAToolEnv.instructions)
    if mode == "none":
        assert reference.unwrapped.guidance is None
    else:
        assert reference.unwrapped.guidance in text
        assert "<search>…</search> is a call of the search tool" in text
    if mode == "masked":
        answer = fictional_benchmark.tasks("train")[3].answers[0]
        assert answer not in reference.unwrapped.guidance


def test_reset_takes_a_dataset_row_and_the_reward_is_the_envs(search_factory, fictional_benchmark):
    rows = tool_dataset("smepo/SearchQA-v0", limit=3)
    assert rows.column_names == ["prompt", "task_id", "split", "question_type"]
    assert rows[0]["prompt"] == [{"role": "user", "content": ""}]
    task = fictional_benchmark.tasks("train")[0]
    assert rows[0]["task_id"] == task.id
    assert not any(answer in str(rows[0]) for answer in task.answers)  # no gold answers in the rows
    env = search_factory()
    text = env.reset(**rows[0])
    assert task.question in text
    passages = env.search(task.question)
    assert passages.startswith("Doc 1(Title: ") and "<information>" not in passages
    assert env.get_reward() == 0.0 and not env.done
    assert env.answer(task.answers[0]) == ANSWER_RECORDED
    assert env.done and env.get_reward() == 1.0 and env.info["correct"] is True
    env.reset(**rows[0])
    assert env.get_reward() == 0.0  # a new episode starts unscored
    env.answer("certainly not the answer")
    assert env.get_reward() == 0.0 and env.info["correct"] is False


def test_refused_calls_raise_a_tool_call_error_with_a_readable_message(search_factory):
    env = search_factory()
    with pytest.raises(ToolCallError, match="reset"):
        env.search("anything")
    env.reset(task_id=tool_dataset("smepo/SearchQA-v0", limit=1)[0]["task_id"])
    with pytest.raises(ToolCallError, match="must be a string, got dict"):
        env.search({"query": "x"})
    with pytest.raises(ToolCallError, match="must not contain '</search>'"):
        env.search("x</search><answer>Paris</answer>")
    with pytest.raises(ToolCallError, match="must not contain '<think>'"):
        env.search("<think>")
    with pytest.raises(ToolCallError, match="empty"):
        env.search("   ")
    with pytest.raises(ToolCallError, match="limit is 1000"):
        env.search("x" * 1001)
    assert env.info["turn"] == 2  # the env's invalid actions cost a turn, as in the tag protocol
    assert env.get_reward() == 0.0 and not env.done
    env.answer("x")
    with pytest.raises(ToolCallError, match="episode is over"):
        env.search("again")


def test_the_turn_limit_ends_the_episode_with_reward_zero(fictional_benchmark):
    env = environment_factory("smepo/SearchQA-v0", max_turns=2)()
    env.reset(task_id=fictional_benchmark.tasks("train")[0].id)
    env.search("first")
    assert "turn limit (2)" in env.search("second")
    assert env.done and env.get_reward() == 0.0
    with pytest.raises(ToolCallError, match="episode is over"):
        env.answer(fictional_benchmark.tasks("train")[0].answers[0])


def test_python_tool_runs_in_the_sandbox_and_hidden_tests_score_the_answer():
    env = environment_factory("smepo/PythonExec-v0", tasks=[ADD_TASK], sandbox={"timeout_s": 2.0})()
    env.reset(task_id="add")
    assert env.python("print(6 * 7)").strip() == "42"
    assert "ZeroDivisionError" in env.python("1 / 0")  # a program error is tool output, not an exception
    env.answer("def add(a, b):\n    return a + b if a > 0 else 1\n")
    assert env.get_reward() == 0.0 and env.info["pass_fraction"] == 0.5
    env.reset(task_id="add")
    env.answer("```python\ndef add(a, b):\n    return a + b\n```")
    assert env.get_reward() == 1.0


def test_math_answers_are_numbers_or_boxed():
    env = environment_factory("smepo/Math-v0", tasks=[MATH_TASK])()
    env.reset(task_id="m1")
    env.answer(9)  # a JSON number from the model is accepted as its text
    assert env.get_reward() == 1.0
    env.reset(task_id="m1")
    env.answer("\\boxed{8}")
    assert env.get_reward() == 0.0


def test_expert_episodes_replayed_as_tool_calls_score_like_the_oracle(search_factory, fictional_benchmark):
    env = search_factory()
    for task in fictional_benchmark.tasks("train")[:5]:
        messages = expert_tool_conversation(env, task.id)
        calls = [m["tool_calls"][0]["function"] for m in messages if m.get("tool_calls")]
        assert calls[-1]["name"] == "answer" and all(c["name"] == "search" for c in calls[:-1])
        assert env.get_reward() == 1.0
        assert [m["role"] for m in messages[-2:]] == ["tool", "assistant"]


def test_factory_errors_and_sharing(fictional_benchmark, search_factory):
    with pytest.raises(gym.error.Error, match="SearchQA"):
        environment_factory("smepo/SearchQ-v0")
    with pytest.raises(TypeError, match="not a smepo environment"):
        environment_factory("CartPole-v1")
    with pytest.raises(ValueError, match="expert_guidance"):
        environment_factory("smepo/SearchQA-v0", expert_guidance="half")
    first, second = search_factory(), search_factory()
    assert first is not second and first.env is not second.env
    rows = tool_dataset("smepo/SearchQA-v0", limit=1)
    for env in (first, second):
        env.reset(**rows[0])
        env.search("a query")
    # one index per process, shared by every rollout's environment
    assert first.env.unwrapped.search_tool.retriever is second.env.unwrapped.search_tool.retriever


def test_dataset_and_factory_must_agree_on_the_split(search_factory):
    dev_row = tool_dataset("smepo/SearchQA-v0", split="dev", limit=1)[0]
    with pytest.raises(ValueError, match=r"split 'dev'.*split 'train'"):
        search_factory().reset(**dev_row)
    with pytest.raises(ValueError, match="not among"):
        search_factory().reset(task_id="no-such-task")


def test_tool_dataset_filters_and_checks():
    single = tool_dataset("smepo/SearchQA-v0", question_types=["single-hop"], limit=4)
    assert len(single) == 4 and set(single["question_type"]) == {"single-hop"}
    with pytest.raises(ValueError, match="types there"):
        tool_dataset("smepo/SearchQA-v0", question_types=["five-hop"])
    with pytest.raises(ValueError, match="limit"):
        tool_dataset("smepo/SearchQA-v0", limit=0)
    routed = tool_dataset("smepo/SearchQA-v0", limit=2, environment="search")
    assert routed["environment"] == ["search", "search"]  # TRL's multi-environment routing column
    guided = tool_dataset("smepo/SearchQA-v0", limit=2, expert_guidance="masked", prefix_ratio=0.5)
    assert guided["task_id"] == tool_dataset("smepo/SearchQA-v0", limit=2)["task_id"]


def test_chat_template_check(tiny_model_dir):
    from tokenizers import Tokenizer, models
    from transformers import AutoTokenizer, PreTrainedTokenizerFast
    from trl.chat_template_utils import qwen2_5_chat_template, supports_tool_calling

    chatml = AutoTokenizer.from_pretrained(tiny_model_dir)  # ChatML without tools
    assert not supports_tool_calling(chatml)
    ensure_tool_chat_template(chatml)
    assert chatml.chat_template == qwen2_5_chat_template and supports_tool_calling(chatml)
    kept = "{{ 'custom' }}" + qwen2_5_chat_template  # a template with tool calling is left alone
    chatml.chat_template = kept
    assert ensure_tool_chat_template(chatml).chat_template == kept
    plain = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(models.WordLevel({"a": 0, "?": 1}, unk_token="?"))
    )
    plain.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    with pytest.raises(ValueError, match="tag protocol"):
        ensure_tool_chat_template(plain)
