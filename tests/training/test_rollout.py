"""Multi-turn episodes: token layout, env_mask, no re-tokenization drift, evaluation."""

from __future__ import annotations

import gymnasium as gym
import pytest

import smepo_env  # noqa: F401
from smepo_env.evaluation.model_policy import evaluate_policy
from smepo_env.evaluation.report import summarize_records
from smepo_env.rollout import GeneratedTurn, TransformersGenerator, cut_at_stop, run_episodes


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir), AutoTokenizer.from_pretrained(tiny_model_dir)


class ScriptedExpert:
    """A generation backend that 'generates' the expert's actions as token ids."""

    def __init__(self, tokenizer, actions_per_episode):
        self.tokenizer = tokenizer
        self.actions = [list(a) for a in actions_per_episode]
        self.calls = 0

    def generate_turns(self, sequences, max_new_tokens):
        self.calls += 1
        turns = []
        for actions in self.actions[: len(sequences)]:
            ids = self.tokenizer.encode(actions.pop(0), add_special_tokens=False)
            turns.append(GeneratedTurn(ids[:max_new_tokens], None, "stop"))
        self.actions = [a for a in self.actions if a]
        return turns


class RecordingGenerator:
    """Wraps a generator and records each (input sequence, generated ids) pair."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: list[tuple[list[int], list[int]]] = []

    def generate_turns(self, sequences, max_new_tokens):
        turns = self.inner.generate_turns(sequences, max_new_tokens)
        self.calls += [(list(seq), list(t.token_ids)) for seq, t in zip(sequences, turns, strict=True)]
        return turns


def _runs(mask):
    """Maximal runs of equal mask values as (value, start, end)."""
    runs, start = [], 0
    for i in range(1, len(mask) + 1):
        if i == len(mask) or mask[i] != mask[start]:
            runs.append((mask[start], start, i))
            start = i
    return runs


def test_cut_at_stop_handles_stop_strings_eos_and_padding(tiny):
    _, tokenizer = tiny
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    action = tokenizer.encode("<search>x</search>", add_special_tokens=False)
    tail = tokenizer.encode(" more text", add_special_tokens=False)
    kept, reason = cut_at_stop(action + tail, tokenizer, {eos, pad})
    assert reason == "stop" and tokenizer.decode(kept).startswith("<search>x</search>")
    assert len(kept) <= len(action) + 1
    kept, reason = cut_at_stop([*action, pad, pad], tokenizer, {eos, pad})
    assert (kept, reason) == (action, "stop")
    words = tokenizer.encode("no tag here", add_special_tokens=False)
    assert cut_at_stop([*words, eos, pad], tokenizer, {eos, pad}) == ([*words, eos], "eos")
    assert cut_at_stop(words, tokenizer, {eos, pad}) == (words, "length")


def test_expert_episode_splices_observation_tokens_with_env_mask_zero(tiny, fictional_benchmark):
    _, tokenizer = tiny
    task = next(t for t in fictional_benchmark.tasks("train") if t.question_type == "two-hop")
    env = gym.make("smepo/SearchQA-v0", max_turns=4)
    generator = ScriptedExpert(tokenizer, [task.metadata["expert_actions"]])
    (episode,) = run_episodes(
        generator,
        tokenizer,
        [env],
        [{"task_id": task.id}],
        max_completion_tokens=2000,
        end_token_id=tokenizer.eos_token_id,
    )
    assert episode.reward == 1.0 and episode.end_reason == "terminated"
    # A finished episode ends with EOS, inserted by the runner (mask 0), so TRL counts it as finished.
    assert episode.completion_ids[-1] == tokenizer.eos_token_id and episode.env_mask[-1] == 0
    episode.completion_ids, episode.env_mask = episode.completion_ids[:-1], episode.env_mask[:-1]
    assert len(episode.env_mask) == len(episode.completion_ids)
    # The spliced completion is the expert's trace, token for token.
    assert episode.transcript(tokenizer) == task.expert_trace
    runs = _runs(episode.env_mask)
    model_runs = [tokenizer.decode(episode.completion_ids[a:b]) for v, a, b in runs if v == 1]
    env_runs = [episode.completion_ids[a:b] for v, a, b in runs if v == 0]
    assert model_runs == task.metadata["expert_actions"]
    observations = [m["content"] for m in episode.info["messages"] if m["role"] == "user"][1:]
    assert len(env_runs) == len(observations) == 2
    for ids, observation in zip(env_runs, observations, strict=True):
        assert tokenizer.decode(ids).strip() == observation
        assert ids == tokenizer.encode(f"\n\n{observation}\n\n", add_special_tokens=False)


def test_model_episode_keeps_generated_ids_exactly(tiny, fictional_benchmark):
    model, tokenizer = tiny
    tasks = [t for t in fictional_benchmark.tasks("train") if t.question_type == "single-hop"][:4]
    envs = [gym.make("smepo/SearchQA-v0", expert_guidance="masked", max_turns=3) for _ in tasks]
    generator = RecordingGenerator(TransformersGenerator(model, tokenizer, temperature=1.0, batch_size=4))
    episodes = run_episodes(
        generator,
        tokenizer,
        envs,
        [{"task_id": t.id} for t in tasks],
        max_completion_tokens=300,
        max_turn_tokens=20,
    )
    covered = [[0] * len(e.completion_ids) for e in episodes]
    for sequence, turn_ids in generator.calls:
        # Each generated turn sits, id for id, right after the exact sequence the model was given.
        (index,) = [
            i
            for i, e in enumerate(episodes)
            if (e.prompt_ids + e.completion_ids)[: len(sequence)] == sequence
        ]
        episode = episodes[index]
        start = len(sequence) - len(episode.prompt_ids)
        assert episode.completion_ids[start : start + len(turn_ids)] == turn_ids
        assert episode.env_mask[start : start + len(turn_ids)] == [1] * len(turn_ids)
        covered[index][start : start + len(turn_ids)] = [1] * len(turn_ids)
    for episode, model_positions in zip(episodes, covered, strict=True):
        assert "expert" in episode.prompt.lower()  # the masked guidance is in the training prompt
        assert episode.env_mask == model_positions  # mask 1 exactly on generated ids
        assert len(episode.completion_ids) <= 300
        observations = iter(m["content"] for m in episode.info["messages"][1:] if m["role"] == "user")
        for value, start, end in _runs(episode.env_mask):
            if value == 0:  # every environment run is one observation, tokenized on its own
                ids = episode.completion_ids[start:end]
                assert ids == tokenizer.encode(f"\n\n{next(observations)}\n\n", add_special_tokens=False)
    assert any(0 in e.env_mask for e in episodes)


def test_evaluation_is_unguided_and_greedy(tiny, fictional_benchmark):
    model, tokenizer = tiny
    tasks = fictional_benchmark.tasks("test")[:3]
    options = [{"task_id": t.id} for t in tasks]
    kwargs = {"split": "test", "max_turns": 2, "expert_guidance": "masked"}
    first = evaluate_policy(
        model, tokenizer, "smepo/SearchQA-v0", kwargs, options, batch_size=2, max_turn_tokens=16
    )
    second = evaluate_policy(
        model, tokenizer, "smepo/SearchQA-v0", kwargs, options, batch_size=3, max_turn_tokens=16
    )
    assert [r["task_id"] for r in first] == [t.id for t in tasks]
    plain = gym.make("smepo/SearchQA-v0", split="test", max_turns=2)
    for record, task in zip(first, tasks, strict=True):
        prompt, _ = plain.reset(options={"task_id": task.id})
        assert record["transcript"].startswith(prompt)  # the unguided prompt, whatever the kwargs said
        assert "expert" not in prompt.lower()
        assert record["question"] == task.question and record["answers"] == list(task.answers)
        assert isinstance(record["correct"], bool) and record["correct"] == (record["reward"] == 1.0)
    assert [r["transcript"] for r in first] == [r["transcript"] for r in second]  # greedy: batch-independent
    summary = summarize_records(first)
    assert summary["n"] == 3 and summary["success"] == sum(r["correct"] for r in first) / 3
    answered = [r for r in first if "exact_match" in r]  # QA metrics exist once the env scored an answer
    assert ("exact_match" in summary) == bool(answered)
    assert summary.get("exact_match", 0.0) == sum(r["exact_match"] for r in answered) / 3
