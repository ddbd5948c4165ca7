"""Masking on traces in the style of teacher LLMs: the behaviours of issue 11, one test each, and the
audit figures on the hand-written realistic sets (tests/data/realistic_traces)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smepo_env.masking import audit_traces, mask_trace
from smepo_env.masking.audit_cli import audit_record_file, realistic_sources
from smepo_env.masking.engine import readable_stretches
from smepo_env.masking.normalize import contains_answer

REALISTIC = Path(__file__).resolve().parents[1] / "data" / "realistic_traces"


def _doc(index: int, title: str, text: str) -> str:
    return f'Doc {index}(Title: "{title}") {text}'


def _visible(result, text: str) -> bool:
    """Whether ``text`` can be read in the masked trace."""
    return text in result.text


def _record(record_id: str) -> dict:
    for path in sorted(REALISTIC.glob("*.jsonl")):
        for record in audit_record_file(path):
            if record["id"] == record_id:
                return record
    raise KeyError(record_id)


def _masked(record_id: str, *, with_answers: bool = False):
    record = _record(record_id)
    answers = record["answers"] if with_answers else None
    return mask_trace(record["trace"], domain=record["domain"], question=record["question"], answers=answers)


# Search --------------------------------------------------------------------------------------


def test_question_entities_stay_also_shortened_and_in_queries():
    result = _masked("search-03")  # "the Wall" for the Berlin Wall
    assert "<search>fall of the Berlin Wall year</search>" in result.text
    assert "chipping away at the Wall" not in result.text or "[PASSAGE]" in result.text
    assert _visible(result, "confirm rather than guess, because the Wall was built")
    origin = _masked("search-12")  # "the Origin" for On the Origin of Species, "the Beagle"
    assert _visible(origin, "the Origin came out in 1859")
    assert _visible(origin, "The Beagle left on")


def test_two_names_joined_by_and_are_two_entities_and_surnames_stay():
    result = _masked("search-18")
    assert "<search>Django Reinhardt instrument</search>" in result.text
    assert "<search>Wes Montgomery instrument</search>" in result.text
    assert _visible(result, "Reinhardt played the [ANSWER]")
    assert _visible(result, "Montgomery was a jazz [ANSWER] too")


def test_only_carried_forward_entities_are_critical():
    result = _masked("search-01")
    # The bridge first appears in a tool output and goes into the next query: hidden everywhere.
    assert "<search>[ENTITY_1] birthplace</search>" in result.text
    assert "Utzon" not in result.text
    # Rejected candidates and context stay readable, and so does a distractor passage.
    assert _visible(result, "Doc 2 mentions Peter Hall")
    assert _visible(result, "He grew up in Aalborg")
    assert _visible(result, _doc(2, "Aalborg", "Aalborg is Denmark's fourth largest urban area"))


def test_entity_the_expert_named_before_searching_is_its_own_plan():
    result = _masked("search-20")  # "The ship ... was the Carpathia, I'm fairly sure"
    assert _visible(result, "was the Carpathia, I'm fairly sure")


def test_rejected_candidates_in_the_conclusion_stay():
    result = _masked("search-13")
    assert _visible(result, "Right, Strickland was the third woman, not the first")
    assert "Marie Curie" not in result.text


def test_date_parts_of_a_hidden_date_are_hidden():
    result = _masked("search-03")  # answer 1989; the day and month of its date go with it
    assert "1989" not in result.text
    assert "9 November" not in result.text
    assert _visible(result, "construction began on 13 August")  # another date, passing context
    titanic = _masked("search-20", with_answers=True)
    assert "1912" not in titanic.text and "18 April" not in titanic.text


def test_demonym_of_a_hidden_bridge_is_hidden():
    result = _masked("search-07")
    assert "Malaysia" not in result.text and "Malaysian" not in result.text
    assert _visible(result, "Putrajaya is only the administrative centre")


def test_answer_surname_and_short_forms_share_the_answer_placeholder():
    result = _masked("search-05")
    assert "Dick" not in result.text
    curie = _masked("search-13")
    assert "Curie" not in curie.text
    assert {s.placeholder for s in curie.spans if "Curie" in s.text and s.kind != "PASSAGE"} == {"[ANSWER]"}
    oxford = _masked("search-11")
    assert "Oxford" not in oxford.text


def test_without_answers_worded_and_digit_numbers_are_swept():
    result = _masked("search-08")  # answer 15, written "fifteen" in the trace
    assert "fifteen" not in result.text.lower()
    assert _visible(result, "Rugby league uses thirteen")  # the rejected number stays
    trace = (
        "<think>I'll check.</think>\n<search>beethoven symphonies</search>\n\n<information>"
        + _doc(1, "Beethoven", "Beethoven completed nine symphonies.")
        + "</information>\n\n<think>He wrote nine, so the answer is 9.</think>\n<answer>9</answer>"
    )
    masked = mask_trace(trace, domain="search", question="How many symphonies did Beethoven write?")
    assert "nine" not in masked.text and "9" not in masked.text


def test_without_answers_the_head_of_a_multiword_answer_is_swept():
    result = _masked("search-26")  # answer "eucalyptus leaves"
    assert "eucalyptus" not in result.text.lower()
    stretches = readable_stretches(_record("search-26")["trace"], [(s.start, s.end) for s in result.spans])
    assert not any(contains_answer(stretch, ["eucalyptus"]) for stretch in stretches)


def test_cjk_text_without_word_breaks_is_swept():
    result = _masked("search-14")
    assert "大豆" not in result.text
    assert "納豆は[ANSWER]を発酵させた食品です" in result.text
    assert contains_answer("納豆は大豆を発酵させた食品です", ["大豆"])
    guaranteed = _masked("search-14", with_answers=True)
    assert "大豆" not in guaranteed.text and "daizu" not in guaranteed.text


def test_accent_folded_query_still_hides_the_bridge():
    result = _masked("search-10")  # "Antonín Dvořák" in passages, "Antonin Dvorak" in the query
    assert "Dvorak" not in result.text and "Dvořák" not in result.text
    assert _visible(result, "Dargomyzhsky's is the Russian one")


# Math ----------------------------------------------------------------------------------------


def test_math_keeps_stated_numbers_also_worded_fractions():
    result = _masked("math-04")  # "three quarters" in the question, \frac{3}{4} in the trace
    assert "\\frac{3}{4} \\times 60" in result.text
    assert "45" not in result.text and "27" not in result.text


def test_symbolic_answer_hides_the_literal_not_the_question_constants():
    result = _masked("math-07")  # answer x^2 + 4x, question (x + 2)^2 - 4
    assert "(x + 2)^2 - 4" in result.text
    assert "x^2 + 4x" not in result.text
    quadratic = _masked("math-05")
    assert "x^2 - 3x - 2 = 0" in quadratic.text
    assert "\\frac{3 + \\sqrt{17}}{2}" not in quadratic.text
    # A placeholder never says which constants the answer holds: the question's 3 is not [ANSWER].
    assert "b = -3" in quadratic.text


def test_small_structural_constants_stay():
    series = _masked("math-08")
    assert "1 - r" in series.text
    rounding = _masked("math-10")
    assert "Rounded to 2 decimal places" in rounding.text
    assert "12.57" not in rounding.text


def test_interval_answer_is_hidden_by_value():
    result = _masked("math-06")
    assert "(-1, 4)" not in result.text
    assert "|2x - 3| < 5" in result.text


# Code ----------------------------------------------------------------------------------------


def test_code_keeps_asserts_and_doctest_calls_hides_implementation_and_results():
    result = _masked("code-10")
    assert "assert gcd(48, 18) == 6" in result.text
    assert "a, b = b, a % b" not in result.text
    assert "[OUTPUT]" in result.text and "21" not in result.text
    doctests = _masked("code-08")
    assert ">>> to_roman(1994)" in doctests.text
    assert "'MCMXCIV'" not in doctests.text
    assert "num -= value" not in doctests.text


def test_assert_that_computes_is_not_scaffolding():
    trace = (
        "```python\ndef f(x):\n    return x + 1\n\nassert f(2) == 1 + 2\nassert sorted([3, 1])[0] == 1\n```"
    )
    result = mask_trace(trace, domain="code")
    assert "assert f(2) == 1 + 2" not in result.text
    assert "sorted([3, 1])" not in result.text


# Audit figures on the realistic sets ---------------------------------------------------------


@pytest.fixture(scope="module")
def realistic_report():
    sources = realistic_sources(REALISTIC)
    return audit_traces(sources["realistic"], methods=("engine",))


def test_realistic_sets_are_well_formed():
    sources = realistic_sources(REALISTIC)
    tuning, heldout = sources["realistic"], sources["realistic-heldout"]
    counts = {domain: sum(r["domain"] == domain for r in tuning) for domain in ("search", "math", "code")}
    assert counts["search"] >= 30 and counts["math"] >= 15 and counts["code"] >= 10
    assert {r["domain"] for r in heldout} == {"search", "math", "code"}
    traces = [r["trace"] for r in tuning + heldout]
    assert len(set(traces)) == len(traces)
    for record in tuning + heldout:
        assert record["critical_spans"] and record["keep_spans"] and record["question"]
        for span in record["critical_spans"] + record["keep_spans"]:
            assert span["text"].strip()


def test_search_figures_on_the_realistic_set(realistic_report):
    engine = realistic_report.row("engine", "search")
    guaranteed = realistic_report.row("engine+answers", "search")
    assert guaranteed.leaking_traces == 0
    assert engine.leaking_traces <= 1
    assert guaranteed.recall >= 0.97 and engine.recall >= 0.95
    assert engine.kept >= 0.97 and guaranteed.kept >= 0.97
    assert engine.over_masking <= 0.05 and guaranteed.over_masking <= 0.05
    assert engine.distractors_kept >= 0.90 and guaranteed.distractors_kept >= 0.90


def test_math_and_code_figures_on_the_realistic_set(realistic_report):
    for domain in ("math", "code"):
        for method in ("engine", "engine+answers"):
            row = realistic_report.row(method, domain)
            assert row.leaking_traces == 0, (method, domain)
            assert row.recall >= 0.95 and row.kept >= 0.97, (method, domain, row.to_dict())
    for method in ("engine", "engine+answers"):
        assert realistic_report.row(method, "math").over_masking <= 0.03
        assert realistic_report.row(method, "code").over_masking <= 0.05


def test_figures_on_the_held_out_set():
    report = audit_traces(realistic_sources(REALISTIC)["realistic-heldout"], methods=("engine",))
    guaranteed = report.row("engine+answers", "all")
    assert guaranteed.leaking_traces == 0 and guaranteed.recall >= 0.97 and guaranteed.kept >= 0.97
    for domain in ("math", "code"):
        row = report.row("engine", domain)
        assert row.leaking_traces == 0 and row.recall >= 0.95 and row.kept >= 0.97, (domain, row.to_dict())
    # Search without answers reads 67 of 71 critical strings hidden (94.4%): the four it misses are
    # a second gold answer (Leiden) that the expert names only as its own knowledge and never answers
    # with: without gold answers nothing marks it as an answer.
    assert report.row("engine", "search").recall >= 0.94


def test_audit_record_file_names_the_bad_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"trace": "x", "domain": "math"}) + "\n{oops\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:2"):
        audit_record_file(path)
