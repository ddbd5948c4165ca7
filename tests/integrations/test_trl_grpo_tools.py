"""Two real GRPO steps through TRL's ``environment_factory`` with smepo environments, on CPU.

The policy is a tiny random Qwen2 whose tokenizer carries TRL's Qwen2.5 chat template (ChatML
with tool calling). Its rollouts in each group of four are: the expert's recorded episode as
tool calls, a variant that first makes an invalid call and then answers wrongly, the model's
own sampling, and the expert again (see ``scripted_generation``). The checks: tool results
reach the model and are the only completion tokens with ``tool_mask`` 0 (TRL multiplies it
into the loss mask); the reward TRL uses is the environment's, equal to a replay of the same
calls through a fresh ``gym.make`` environment; a refused call comes back as text; the
guidance block in the rollout prompts is the one ``gym.make`` shows; the weights change.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

import smepo_env  # noqa: F401  (registers the ids)
from smepo_env.integrations.expert_calls import expert_tool_conversation
from smepo_env.integrations.trl import environment_factory, tool_dataset
from tests.integrations.scripted_generation import MODEL, ScriptedGeneration, assistant_turn_texts

pytestmark = pytest.mark.slow

ORDER = ("expert", "wrong", MODEL, "expert")
"""The variants given to the four rollouts of each group."""

CODE_TASKS = [
    {
        "id": "add",
        "question": "Write `add(a, b)` returning a + b.",
        "answers": ["def add(a, b):\n    return a + b\n"],
        "metadata": {
            "entry_point": "add",
            "tests": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0", "assert add(0, 5) == 5"],
            "expert_actions": [
                "<think>Try it on an example.</think>\n<python>def add(a, b):\n    return a + b\n"
                "print(add(1, 2))</python>",
                "<answer>```python\ndef add(a, b):\n    return a + b\n```</answer>",
            ],
        },
    },
    {
        "id": "double",
        "question": "Write `double(xs)` returning a new list with every item of xs doubled.",
        "answers": ["def double(xs):\n    return [2 * x for x in xs]\n"],
        "metadata": {
            "entry_point": "double",
            "tests": ["assert double([1, 2]) == [2, 4]", "assert double([]) == []"],
            "expert_actions": [
                "<think>Check the example.</think>\n<python>def double(xs):\n    return [2 * x for x in xs]\n"
                "print(double([1, 2]))</python>",
                "<answer>```python\ndef double(xs):\n    return [2 * x for x in xs]\n```</answer>",
            ],
        },
    },
]


def _wrong_variant(
    conversation: list[dict[str, Any]], bad_tool: str, wrong_answer: str
) -> list[dict[str, Any]]:
    """The expert's conversation, preceded by an empty (invalid) call and ending with a wrong answer."""
    argument = next(iter(conversation[1]["tool_calls"][0]["function"]["arguments"]))
    bad_call = {"type": "function", "function": {"name": bad_tool, "arguments": {argument: ""}}}
    variant = [conversation[0], {"role": "assistant", "content": "Let me try.", "tool_calls": [bad_call]}]
    variant.append({"role": "tool", "name": bad_tool, "content": "(error)"})
    variant += [dict(m) for m in conversation[1:]]
    for message in reversed(variant):
        if message.get("tool_calls") and message["tool_calls"][0]["function"]["name"] == "answer":
            name = next(iter(message["tool_calls"][0]["function"]["arguments"]))
            message["tool_calls"] = [
                {"type": "function", "function": {"name": "answer", "arguments": {name: wrong_answer}}}
            ]
            break
    return variant


def _build_policy(directory: Path, rendered: list[str]) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl.chat_template_utils import qwen2_5_chat_template

    from smepo_env.models import build_tiny_model

    build_tiny_model(directory, rendered, vocab_size=700, chat_template=qwen2_5_chat_template)
    return AutoModelForCausalLM.from_pretrained(directory), AutoTokenizer.from_pretrained(directory)


def _replay_reward(env_id: str, env_kwargs: dict[str, Any], task_id: str, messages: list[dict]) -> float:
    """The reward a fresh ``gym.make`` env gives the tool calls of ``messages``, played as tag actions."""
    env = gym.make(env_id, **env_kwargs)
    env.reset(options={"task_id": task_id})
    for message in messages:
        for call in message.get("tool_calls") or []:
            (argument,) = call["function"]["arguments"].values()
            name = call["function"]["name"]
            _, reward, terminated, truncated, _ = env.step(f"<{name}>{argument}</{name}>")
            if terminated or truncated:
                return float(reward) if terminated else 0.0
    return 0.0


def _zero_runs(ids: list[int], mask: list[int]) -> tuple[list[list[int]], list[list[int]]]:
    """The maximal runs of tokens with mask 0 and with mask 1."""
    zeros: list[list[int]] = []
    ones: list[list[int]] = []
    previous = None
    for token, bit in zip(ids, mask, strict=True):
        runs = zeros if bit == 0 else ones
        if bit != previous:
            runs.append([])
        runs[-1].append(token)
        previous = bit
    return zeros, ones


def run_two_grpo_steps(env_id: str, env_kwargs: dict[str, Any], wrong_answer: str, tmp_path: Path) -> dict:
    """Train two GRPO steps through environment_factory; returns what the checks need."""
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    import torch
    from transformers.utils.chat_template_utils import render_jinja_template
    from trl import GRPOConfig, GRPOTrainer
    from trl.chat_template_utils import qwen2_5_chat_template

    factory = environment_factory(env_id, **env_kwargs)
    dataset = tool_dataset(env_id, limit=2, **env_kwargs)
    script_env = factory()
    tools = [getattr(script_env, name) for name in script_env.tool_names]
    bad_tool = script_env.tool_names[0]
    conversations = {}
    for row in dataset:
        expert = expert_tool_conversation(script_env, row["task_id"])
        question = script_env.env.unwrapped.current_task.question
        conversations[question] = {"expert": expert, "wrong": _wrong_variant(expert, bad_tool, wrong_answer)}
    rendered, _ = render_jinja_template(
        conversations=[c for v in conversations.values() for c in v.values()],
        tools=tools,
        chat_template=qwen2_5_chat_template,
    )
    model, tokenizer = _build_policy(tmp_path / "policy", rendered)
    scripts = {
        question: {
            name: assistant_turn_texts(tokenizer, messages, tools) for name, messages in variants.items()
        }
        | {MODEL: None}
        for question, variants in conversations.items()
    }
    model.generate = ScriptedGeneration(model, tokenizer, scripts, ORDER)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}

    config = GRPOConfig(
        output_dir=str(tmp_path / "run"),
        max_steps=2,
        per_device_train_batch_size=8,
        num_generations=4,
        max_completion_length=768,
        learning_rate=1e-3,
        beta=0.0,
        use_cpu=True,
        bf16=False,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        gradient_checkpointing=False,
        seed=0,
    )
    trainer = GRPOTrainer(
        model=model,
        processing_class=tokenizer,
        args=config,
        train_dataset=dataset,
        environment_factory=factory,
        reward_funcs=[],
    )
    batches: list[dict] = []
    scored: list[dict] = []
    generate_and_score = trainer._generate_and_score_completions
    calculate_rewards = trainer._calculate_rewards

    def spy_generate_and_score(inputs: Any) -> Any:
        output = generate_and_score(inputs)
        batches.append(
            {k: v for k, v in output.items() if k in ("completion_ids", "completion_mask", "tool_mask")}
        )
        return output

    def spy_calculate_rewards(inputs: Any, prompts: Any, completions: Any, completion_ids_list: Any) -> Any:
        rewards = calculate_rewards(inputs, prompts, completions, completion_ids_list)
        scored.append(
            {
                "task_ids": [x["task_id"] for x in inputs],
                "prompts": prompts,
                "completions": completions,
                "rewards": rewards.detach().clone(),
                "env_rewards": [e.get_reward() for e in trainer.environments],
            }
        )
        return rewards

    trainer._generate_and_score_completions = spy_generate_and_score
    trainer._calculate_rewards = spy_calculate_rewards
    trainer.train()
    changed = any(not torch.equal(before[name], p.detach()) for name, p in trainer.model.named_parameters())
    return {
        "trainer": trainer,
        "batches": batches,
        "scored": scored,
        "changed": changed,
        "tokenizer": tokenizer,
        "env_class": type(script_env).__name__,
        "scripts": model.generate,
    }


def check_run(run: dict, env_id: str, env_kwargs: dict[str, Any]) -> None:
    """The checks shared by every environment (see the module docstring)."""
    trainer, tokenizer = run["trainer"], run["tokenizer"]
    assert trainer.state.global_step == 2
    assert run["changed"], "two GRPO steps with non-zero advantages must change the weights"
    assert len(run["batches"]) == len(run["scored"]) == 2
    column = trainer.reward_func_names.index(run["env_class"])
    rollouts_with_tools = 0
    for batch, scored in zip(run["batches"], run["scored"], strict=True):
        for i, messages in enumerate(scored["completions"]):
            length = int(batch["completion_mask"][i].sum())
            ids = batch["completion_ids"][i][:length].tolist()
            mask = batch["tool_mask"][i][:length].tolist()
            zeros, ones = _zero_runs(ids, mask)
            tool_messages = [m for m in messages if m["role"] == "tool"]
            # Every tool result is masked out, in order, and nothing else is.
            assert len(zeros) == len(tool_messages)
            for run_ids, message in zip(zeros, tool_messages, strict=True):
                text = tokenizer.decode(run_ids)
                assert f"<tool_response>\n{message['content']}\n</tool_response>" in text
                assert text.rstrip().endswith("<|im_start|>assistant")
            assert not any("<tool_response>" in tokenizer.decode(run_ids) for run_ids in ones)
            rollouts_with_tools += bool(tool_messages)
            # The reward TRL uses is the environment's own, and a fresh env agrees.
            reward = float(scored["rewards"][i, column])
            assert reward == scored["env_rewards"][i]
            assert reward == _replay_reward(env_id, env_kwargs, scored["task_ids"][i], messages)
        rewards = {float(r) for r in scored["rewards"][:, column]}
        assert rewards == {0.0, 1.0}, f"the expert rollouts score 1 and the others 0, got {rewards}"
        # A refused call (the empty first call of the "wrong" variant) reached the model as text.
        errors = [
            m["content"]
            for c in scored["completions"]
            for m in c
            if m["role"] == "tool" and "error" in m["content"]
        ]
        assert errors and all("empty" in e for e in errors)
    assert rollouts_with_tools >= 4


def test_two_grpo_steps_search_qa_with_masked_guidance(tmp_path):
    env_kwargs = {"top_k": 1, "expert_guidance": "masked"}
    run = run_two_grpo_steps("smepo/SearchQA-v0", env_kwargs, "Nobody Atall", tmp_path)
    check_run(run, "smepo/SearchQA-v0", env_kwargs)
    # The rollouts' prompts carry the same masked guidance block as gym.make shows.
    scored = run["scored"][0]
    for task_id, prompt in zip(scored["task_ids"], scored["prompts"], strict=True):
        env = gym.make("smepo/SearchQA-v0", **env_kwargs)
        env.reset(options={"task_id": task_id})
        block = env.unwrapped.guidance
        assert block and "[ANSWER]" in block
        assert prompt[-1]["content"].endswith(block)


def test_two_grpo_steps_python_exec(tmp_path):
    env_kwargs = {"tasks": CODE_TASKS, "sandbox": {"timeout_s": 2.0}, "test_timeout_s": 1.0}
    wrong = "```python\ndef broken():\n    return None\n```"
    run = run_two_grpo_steps("smepo/PythonExec-v0", env_kwargs, wrong, tmp_path)
    check_run(run, "smepo/PythonExec-v0", env_kwargs)
    outputs = [
        m["content"]
        for c in run["scored"][0]["completions"]
        for m in c
        if m["role"] == "tool" and m["name"] == "python"
    ]
    assert "3" in outputs or "[2, 4]" in outputs  # the sandbox really ran the expert's code
