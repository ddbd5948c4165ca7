"""The masking entry points: argument checks, normalization, the answer sweep and its guarantee."""

from __future__ import annotations

import pytest

from smepo_env.masking import (
    contains_answer,
    find_answer_occurrences,
    mask_trace,
    mask_traces,
    normalize_answer,
)
from smepo_env.masking.engine import readable_stretches


def test_unknown_domain_names_the_valid_ones_and_the_closest():
    with pytest.raises(
        ValueError,
        match=r"domain must be one of \['search', 'math', 'code'\], got 'serch'\. Did you mean 'search'\?",
    ):
        mask_trace("x", domain="serch")
    with pytest.raises(ValueError, match="'regexp'"):
        mask_trace("x", domain="math", method="regexp")


def test_wrong_types_are_rejected_with_the_offending_value():
    with pytest.raises(TypeError, match="trace must be a string, got NoneType"):
        mask_trace(None, domain="math")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="questions"):
        mask_trace("x", domain="math", question=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="answers"):
        mask_trace("x", domain="math", answers=[1, 2])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="mask_trace"):
        mask_traces("abc", domain="math")
    with pytest.raises(ValueError, match="differ in length"):
        mask_traces(["a", "b"], domain="math", questions=["q"])


def test_a_bare_string_answer_is_one_answer():
    assert mask_trace("Paris, not P.", domain="code", answers="Paris").text == "[ANSWER], not P."


def test_normalization_follows_exact_match_rules():
    assert normalize_answer("  The U.S.A.!  ") == "usa"
    assert normalize_answer("A  Tale of the “Two” Cities") == "tale of two cities"
    assert normalize_answer("the") == ""


@pytest.mark.parametrize(
    ("text", "answer", "found"),
    [
        ("born in Paris.", "paris", ["Paris"]),
        ("a Parisian cafe", "Paris", ["Parisian"]),
        ("the Alps", "Al", []),
        ("Al went", "AL", ["Al"]),
        ("New-York City", "New York", ["New-York"]),
        ("Saint Étienne", "Saint-Étienne", ["Saint Étienne"]),
        ("version 3.2 and x^2", "2", []),
        ("it is 2.", "2", ["2"]),
        ("Lord of the Rings", "The Lord of Rings", ["Lord of the Rings"]),
        ("", "Paris", []),
        ("anything", "?!", []),
    ],
)
def test_sweep_finds_what_reveals_the_answer(text, answer, found):
    assert [text[s:e] for s, e in sorted(find_answer_occurrences(text, [answer]))] == found


def test_sweep_hides_a_superset_of_what_the_leak_check_reads():
    texts = ["U.S.A. and usa", "Vel-dra", "it is 2 or -2 or x2", "PARIS!!", "the beatles' song", "Veldra_x"]
    answers = ["USA", "Veldra", "2", "paris", "Beatles"]
    for text in texts:
        result = mask_trace(text, domain="code", answers=answers)
        stretches = readable_stretches(text, [(s.start, s.end) for s in result.spans])
        assert not any(contains_answer(stretch, answers) for stretch in stretches), (text, result.text)


def test_tags_are_never_hidden():
    trace = "<think>So the answer is Hawr al ‘Anz.</think><answer>Hawr al ‘Anz</answer>"
    result = mask_trace(trace, domain="search", answers=["Hawr al ‘Anz"])
    assert result.text == "<think>So the answer is [ANSWER].</think><answer>[ANSWER]</answer>"
    for domain in ("search", "math", "code"):
        text = mask_trace(
            "<think>Output: 42</think>\n<answer>42</answer>", domain=domain, answers=["42"]
        ).text
        assert text.count("<think>") == text.count("</think>") == text.count("<answer>") == 1


def test_regex_method_ignores_answers():
    result = mask_trace("x = 5, Paris", domain="math", answers=["Paris"], method="regex")
    assert result.text == "x = [NUMBER], Paris"
    assert result.method == "regex" and result.counts == {"NUMBER": 1}
