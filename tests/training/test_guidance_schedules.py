"""Guidance schedules inside the rollout function: which episodes are guided, and the diagnostics."""

from __future__ import annotations

import json
from collections import defaultdict
from types import SimpleNamespace

import pytest

from smepo_env.guidance import DEFAULT_INTRO, GuidanceSchedule
from smepo_env.guidance.schedules import guidance_wrapper
from smepo_env.rollout import GeneratedTurn, run_episodes
from smepo_env.training.data import PromptIndex, make_env, prompt_rows, select_tasks
from smepo_env.training.rollout_func import EpisodeRolloutFunction

ENV_ID = "smepo/SearchQA-v0"
ENV_KWARGS = {"split": "train", "max_turns": 3}
GROUP = 3


class QueuedActions:
    """A generation backend that plays a fixed list of actions per episode (all the same length)."""

    def __init__(self, tokenizer, actions_per_episode):
        self.tokenizer = tokenizer
        self.queues = [list(actions) for actions in actions_per_episode]

    def generate_turns(self, sequences, max_new_tokens):
        assert len(sequences) == len(self.queues)
        return [
            GeneratedTurn(self.tokenizer.encode(queue.pop(0), add_special_tokens=False), None, "stop")
            for queue in self.queues
        ]


class ScriptedRollout(EpisodeRolloutFunction):
    """The real rollout function with the model replaced by a script that knows each task.

    ``solvable`` tasks replay the expert (search, then the right answer); the others search for
    nothing and answer wrong, unless guided with ``copy_when_guided``: then they skip the search
    and write the gold answer (a copy).
    """

    def __init__(self, tasks, schedule, tokenizer, solvable, copy_when_guided):
        rows = prompt_rows(make_env(ENV_ID, ENV_KWARGS, schedule.mode), tasks)
        super().__init__(ENV_ID, ENV_KWARGS, schedule.mode, PromptIndex(rows), 16, schedule=schedule)
        self.rows, self.tokenizer = rows, tokenizer
        self.task_by_id = {t.id: t for t in tasks}
        self.solvable, self.copy_when_guided = set(solvable), set(copy_when_guided)
        self.guided_log: list[dict[str, bool]] = []

    def _play(self, trainer, envs, options):
        actions, guided = [], {}
        for env, option in zip(envs, options, strict=True):
            task = self.task_by_id[option["task_id"]]
            is_guided = guidance_wrapper(env).mode != "none"
            guided[task.id] = is_guided
            if is_guided and task.id in self.copy_when_guided:
                actions.append(["<think>the expert's answer</think>", f"<answer>{task.answers[0]}</answer>"])
            elif task.id in self.solvable:
                actions.append(task.metadata["expert_actions"][:2])
            else:
                actions.append(["<search>zzz</search>", "<answer>nobody</answer>"])
        self.guided_log.append(guided)
        return run_episodes(QueuedActions(self.tokenizer, actions), self.tokenizer, envs, options)

    def step(self, task_ids, global_step):
        trainer = SimpleNamespace(
            state=SimpleNamespace(global_step=global_step),
            model=SimpleNamespace(training=True),
            _metrics={"train": defaultdict(list)},
        )
        prompts = [
            row["prompt"] for t in task_ids for row in self.rows if row["task_id"] == t for _ in range(GROUP)
        ]
        output = self(prompts, trainer)
        return output, {k: v[0] for k, v in trainer._metrics["train"].items()}


@pytest.fixture(scope="module")
def setup(tiny_model_dir):
    from transformers import AutoTokenizer

    env = make_env(ENV_ID, ENV_KWARGS)
    tasks = [
        t for t in select_tasks(env, ["single-hop"], limit=40) if len(t.metadata["expert_actions"]) == 2
    ][:4]
    return AutoTokenizer.from_pretrained(tiny_model_dir), tasks


def test_on_failure_guides_exactly_the_tasks_that_failed_unguided(setup):
    tokenizer, tasks = setup
    ids = [t.id for t in tasks]
    rollout = ScriptedRollout(
        tasks, GuidanceSchedule("on_failure", "masked"), tokenizer, solvable=ids[:2], copy_when_guided=ids[3:]
    )
    first, metrics = rollout.step(ids, 0)  # every task is new: all probed unguided
    assert rollout.guided_log[-1] == dict.fromkeys(ids, False)
    assert first["env_reward"] == [1.0] * 6 + [0.0] * 6
    assert metrics["guidance/guided_share"] == 0.0 and metrics["guidance/unguided_reward"] == 0.5
    assert "guidance/copy_rate" not in metrics and "guidance/guided_reward" not in metrics
    assert rollout.schedule.failed_tasks() == sorted(ids[2:])

    second, metrics = rollout.step(ids, 1)
    assert rollout.guided_log[-1] == {ids[0]: False, ids[1]: False, ids[2]: True, ids[3]: True}
    tokens = [tokenizer.decode(p) for p in second["prompt_ids"]]
    assert [DEFAULT_INTRO in t for t in tokens] == [False] * 6 + [True] * 6  # what the policy was given
    assert metrics["guidance/guided_share"] == 0.5
    # ids[2] still fails when guided, ids[3] copies the answer without a search: 3 of 6 guided episodes.
    assert metrics["guidance/guided_reward"] == 0.5 and metrics["guidance/copy_rate"] == 0.5
    assert metrics["guidance/unguided_reward"] == 1.0
    assert metrics["episodes/tool_calls/search"] == pytest.approx((6 + 3 + 0) / 12)
    assert rollout.schedule.failed_tasks() == sorted(ids[2:])  # guided groups teach the schedule nothing


def test_honest_guided_success_is_not_a_copy(setup):
    tokenizer, tasks = setup
    ids = [t.id for t in tasks]
    rollout = ScriptedRollout(
        tasks, GuidanceSchedule("always", "full"), tokenizer, solvable=ids, copy_when_guided=[]
    )
    _, metrics = rollout.step(ids, 0)
    assert metrics["guidance/guided_share"] == 1.0 and metrics["guidance/guided_reward"] == 1.0
    assert metrics["guidance/copy_rate"] == 0.0  # every correct answer followed a search that showed it
    assert metrics["guidance/shown_share"] == 1.0 and "guidance/unguided_reward" not in metrics


def test_anneal_shows_less_of_the_trace_each_step_and_none_at_the_end(setup):
    tokenizer, tasks = setup
    ids = [t.id for t in tasks[:2]]
    rollout = ScriptedRollout(
        tasks,
        GuidanceSchedule("anneal", "masked", anneal_steps=3),
        tokenizer,
        solvable=ids,
        copy_when_guided=[],
    )
    lengths, shares = [], []
    for step in range(4):
        output, metrics = rollout.step(ids, step)
        lengths.append(len(output["prompt_ids"][0]))
        shares.append(metrics.get("guidance/shown_share", 0.0))
    assert shares == pytest.approx([1.0, 2 / 3, 1 / 3, 0.0])
    assert lengths[0] > lengths[1] > lengths[2] > lengths[3]
    assert rollout.guided_log[-1] == dict.fromkeys(ids, False)


def test_always_is_the_behaviour_without_a_schedule(setup):
    tokenizer, tasks = setup
    default = EpisodeRolloutFunction(
        ENV_ID, {**ENV_KWARGS, "prefix_ratio": 0.5}, "prefix", PromptIndex([]), 16
    )
    assert default.schedule.schedule == "always" and default.schedule.prefix_ratio == 0.5
    ids = [t.id for t in tasks]
    scripted = ScriptedRollout(
        tasks, GuidanceSchedule("always", "masked"), tokenizer, solvable=[], copy_when_guided=[]
    )
    for step in (0, 1, 50):
        scripted.step(ids, step)
        assert scripted.guided_log[-1] == dict.fromkeys(ids, True)


@pytest.mark.slow
def test_trainer_saves_and_restores_the_schedule_with_checkpoints(tiny_model_dir, tmp_path):
    from smepo_env.training.config import parse_arguments
    from smepo_env.training.grpo import train_agent
    from smepo_env.training.schedule_state import SCHEDULE_STATE_FILE

    out = tmp_path / "run"
    lines: list[str] = []

    def train(*extra):
        argv = [
            "--model", str(tiny_model_dir), "--output_dir", str(out), "--no_sft_warmstart",
            "--num_generations", "2", "--per_device_train_batch_size", "4", "--num_train_tasks", "4",
            "--gradient_accumulation_steps", "1",
            "--num_eval_tasks", "2", "--max_completion_length", "60", "--max_turn_tokens", "8",
            "--trainable_layers", "0", "--save_steps", "1", "--guidance_schedule", "on_failure", *extra,
        ]  # fmt: skip
        return train_agent(*parse_arguments(argv), log=lines.append)

    assert train("--max_steps", "2")["guidance_schedule"] == "on_failure"
    saved = json.loads((out / "checkpoint-2" / SCHEDULE_STATE_FILE).read_text())
    # A random tiny model fails everything: each task probed so far is remembered as failed.
    assert saved["schedule"] == "on_failure" and saved["last_unguided_failed"]
    assert all(saved["last_unguided_failed"].values())
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["guidance/guided_share"] for r in records if "loss" in r] == [
        0.0,
        0.0,
    ]  # both steps probe new tasks
    train("--max_steps", "3", "--resume")
    assert any("guidance schedule restored" in line for line in lines)
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    shares = [r["guidance/guided_share"] for r in records if "loss" in r]
    assert len(shares) == 3 and shares[2] > 0.0  # step 3 revisits failed tasks: guided
