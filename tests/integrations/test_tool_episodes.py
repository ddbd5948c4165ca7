"""Greedy evaluation in the tool-calling protocol: TRL's tool loop, token-exact, scored by the env."""

from __future__ import annotations

import pytest

from smepo_env.evaluation.tool_policy import evaluate_tool_policy
from smepo_env.integrations.expert_calls import expert_tool_conversation
from smepo_env.integrations.tool_episodes import play_tool_episodes
from smepo_env.integrations.trl import ensure_tool_chat_template, environment_factory
from tests.integrations.scripted_generation import ScriptedGeneration, assistant_turn_texts


@pytest.fixture()
def policy(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = ensure_tool_chat_template(AutoTokenizer.from_pretrained(tiny_model_dir))
    return AutoModelForCausalLM.from_pretrained(tiny_model_dir), tokenizer


def test_expert_turns_played_through_the_loop_score_one_and_match_the_template(policy, fictional_benchmark):
    model, tokenizer = policy
    factory = environment_factory("smepo/SearchQA-v0", split="test", top_k=1)
    tasks = fictional_benchmark.tasks("test")[:2]
    script_env = factory()
    tools = [getattr(script_env, name) for name in script_env.tool_names]
    conversations = {task.question: expert_tool_conversation(script_env, task.id) for task in tasks}
    scripts = {q: {"expert": assistant_turn_texts(tokenizer, c, tools)} for q, c in conversations.items()}
    model.generate = ScriptedGeneration(model, tokenizer, scripts, ["expert"])

    envs = [factory(), factory()]
    episodes = play_tool_episodes(
        model,
        tokenizer,
        envs,
        [{"task_id": t.id} for t in tasks],
        max_completion_tokens=4096,
        max_turn_tokens=512,
    )
    for task, episode in zip(tasks, episodes, strict=True):
        assert episode.reward == 1.0 and episode.answered
        searches = sum(1 for a in task.metadata["expert_actions"] if "<search>" in a)
        assert episode.info["tool_calls"] == {"search": searches}
        # Token for token what the chat template renders for the expert's conversation (up to the
        # answer call's end of turn): no re-tokenization drift.
        expert = conversations[task.question][:-2]
        rendered = tokenizer.apply_chat_template(expert, tools=tools, tokenize=True, return_dict=False)
        assert episode.ids == rendered[: len(episode.ids)]
        assert tokenizer.decode(rendered[len(episode.ids) :]) == "\n"


def test_evaluate_tool_policy_records_a_model_that_never_calls_a_tool(policy, fictional_benchmark):
    model, tokenizer = policy
    tasks = fictional_benchmark.tasks("test")[:2]
    records = evaluate_tool_policy(
        model,
        tokenizer,
        "smepo/SearchQA-v0",
        {"split": "test", "expert_guidance": "masked"},  # guidance is ignored: evaluation is unguided
        [{"task_id": t.id} for t in tasks],
        batch_size=2,
        max_completion_tokens=48,
        max_turn_tokens=24,
    )
    assert [r["task_id"] for r in records] == [t.id for t in tasks]
    for record in records:
        assert record["reward"] == 0.0 and record["truncated"] and not record["correct"]
        assert "<tools>" in record["transcript"] and "Here is an example solution" not in record["transcript"]
