"""The text codec: text teachers through the token-level episode loop, byte for byte."""

from __future__ import annotations

import pytest

from smepo_env.rollout.episodes import run_episodes
from smepo_env.rollout.generation import GeneratedTurn
from smepo_env.traces.codec import TextCodec


def test_text_round_trips_exactly_and_roles_are_kept():
    codec = TextCodec()
    text = "  Doc 1(Title: Zürich)\tis\n\nhere  \u00a0 ünïcode ✓\n"
    assert codec.decode(codec.encode(text)) == text
    assert codec.decode(codec.encode_assistant(text)) == text
    prompt = codec.encode("Question: who?")
    turn = codec.encode_assistant("<search>who</search>")
    observation = codec.encode("\n\n<information>Doc 1(Title: A) a</information>\n\n")
    assert codec.messages(prompt + turn + observation + turn) == [
        {"role": "user", "content": "Question: who?"},
        {"role": "assistant", "content": "<search>who</search>"},
        {"role": "user", "content": "<information>Doc 1(Title: A) a</information>"},
        {"role": "assistant", "content": "<search>who</search>"},
    ]
    assert codec.apply_chat_template([{"role": "user", "content": "P"}]) == "P"
    with pytest.raises(ValueError, match="one user message"):
        codec.apply_chat_template([{"role": "system", "content": "S"}, {"role": "user", "content": "P"}])


class Scripted:
    """Answers every episode with the same two turns (a search, then an answer)."""

    def __init__(self, codec: TextCodec) -> None:
        self.codec = codec
        self.seen: list[list[dict[str, str]]] = []

    def generate_turns(self, sequences, max_new_tokens):
        turns = []
        for sequence in sequences:
            chat = self.codec.messages(sequence)
            self.seen.append(chat)
            text = "<search>Blue Harbor</search>" if len(chat) == 1 else "<answer>nobody</answer>"
            turns.append(GeneratedTurn(self.codec.encode_assistant(text), None, "stop"))
        return turns


def test_the_episode_loop_plays_text_turns_and_masks_observations(fictional_benchmark):
    import gymnasium as gym

    import smepo_env  # noqa: F401

    codec = TextCodec()
    generator = Scripted(codec)
    envs = [gym.make("smepo/SearchQA-v0") for _ in range(2)]
    tasks = fictional_benchmark.tasks("train")[:2]
    options = [{"task_id": t.id} for t in tasks]
    episodes = run_episodes(generator, codec, envs, options, max_completion_tokens=4096)
    for episode in episodes:
        assert episode.end_reason == "terminated" and episode.actions[-1] == "<answer>nobody</answer>"
        transcript = episode.transcript(codec)
        assert transcript.startswith("<search>Blue Harbor</search>\n\n<information>Doc 1(Title: ")
        # model pieces have mask 1, observation pieces mask 0, exactly as with a real tokenizer
        pairs = zip(episode.completion_ids, episode.env_mask, strict=True)
        model_text = codec.decode([piece for piece, mask in pairs if mask])
        assert model_text == "<search>Blue Harbor</search><answer>nobody</answer>"
    # what the teacher was shown on its second turn is the env's own chat, observation included
    second_turn = [chat for chat in generator.seen if len(chat) == 3]
    assert sorted(chat[2]["content"] for chat in second_turn) == sorted(
        episode.info["messages"][2]["content"] for episode in episodes
    )
    assert all(chat[2]["content"].startswith("<information>") for chat in second_turn)
