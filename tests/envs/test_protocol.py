"""The action parser: every kind of model output has one defined outcome."""

from __future__ import annotations

import pytest

from smepo_env.protocol import parse_action, wrap_observation

SEARCH_AND_ANSWER = ("search", "answer")


@pytest.mark.parametrize(
    ("text", "kind", "content"),
    [
        ("<search>who directed Blue Harbor</search>", "search", "who directed Blue Harbor"),
        ("<think>plan</think>\n<search> padded query </search>", "search", "padded query"),
        ("<answer>Paris</answer>", "answer", "Paris"),
        ("reasoning first <answer>Paris</answer> trailing text", "answer", "Paris"),
        ("<search>first</search><answer>second</answer>", "search", "first"),
        ("<answer>first</answer><search>second</search>", "answer", "first"),
        ("<think>maybe <answer>bait</answer></think><search>real</search>", "search", "real"),
        ("<search>Zürich 北京 café</search>", "search", "Zürich 北京 café"),
        ("<search>a\x00b\x07c</search>", "search", "abc"),
        (b"<answer>bytes</answer>", "answer", "bytes"),
    ],
)
def test_valid_actions(text, kind, content):
    parsed = parse_action(text, allowed=SEARCH_AND_ANSWER)
    assert (parsed.kind, parsed.content, parsed.error) == (kind, content, "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("just prose", "No tool call or answer found"),
        ("", "No tool call or answer found"),
        ("<search>never closed", "not closed"),
        ("<search><search>inner</search></search>", "nested"),
        ("<search>   </search>", "empty"),
        ("<python>print(1)</python>", "not available"),
        ("<search>" + "x" * 100_000 + "</search>", "limit is 2000"),
        ("<think>only thinking</think>", "No tool call or answer found"),
        ("\xff\xfe\x00garbage", "No tool call or answer found"),
    ],
)
def test_invalid_actions_explain_the_format(text, message):
    parsed = parse_action(text, allowed=SEARCH_AND_ANSWER)
    assert parsed.kind == "invalid"
    assert message in parsed.error


@pytest.mark.parametrize("value", [None, 42, ["<answer>x</answer>"], {"a": 1}])
def test_non_text_actions_are_invalid_not_errors(value):
    parsed = parse_action(value, allowed=SEARCH_AND_ANSWER)
    assert parsed.kind == "invalid"
    assert "must be text" in parsed.error


def test_enabled_python_tag_is_parsed():
    parsed = parse_action("<python>print(2 + 2)</python>", allowed=("python", "answer"))
    assert (parsed.kind, parsed.content) == ("python", "print(2 + 2)")


def test_observation_tags():
    assert wrap_observation("search", "Doc 1") == "\n\n<information>Doc 1</information>\n\n"
    assert wrap_observation("python", "4") == "\n\n<output>4</output>\n\n"


def test_one_vocabulary_for_tags_stop_strings_and_passages():
    from smepo_env.protocol import CALL_TAGS, STOP_STRINGS, parse_passages, render_passages
    from smepo_env.rollout import generation
    from smepo_env.training import vllm_backend

    assert tuple(f"</{tag}>" for tag in CALL_TAGS) == STOP_STRINGS
    assert generation.STOP_STRINGS is STOP_STRINGS
    assert vllm_backend.VLLM_STOP_KWARGS["stop"] == list(STOP_STRINGS)
    passages = [("Blue Harbor", "Blue Harbor is a 1987 film."), ("Veldra", "Veldra is a city.")]
    for passage_format in ("smepo", "search-r1"):
        body = render_passages(passages, passage_format)
        assert parse_passages(f"<information>{body}</information>") == passages
