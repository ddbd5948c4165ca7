"""One answer normalization: the QA reward and the masking leak check agree on every variant."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smepo_env.masking.normalize import contains_answer, find_answer_occurrences
from smepo_env.masking.normalize import normalize_answer as masking_normalize
from smepo_env.scoring.normalize import normalize_answer
from smepo_env.scoring.qa import exact_match

# (gold, a surface form the reward accepts)
EQUIVALENT = [
    ("1969", "１９６９"),  # full-width digits
    ("1969", "١٩٦٩"),  # Arabic-Indic digits
    ("1969", "१९६९"),  # Devanagari digits
    ("Café Tacuba", "Cafe\u0301 Tacuba"),  # decomposed accent
    ("Saint-Étienne", "Saint–Étienne"),  # en dash for hyphen
    ("Saint-Étienne", "SAINT—ÉTIENNE"),  # em dash, upper case
    ("The Beatles", "beatles"),  # article
    ("an Apple", "Apple."),  # article and punctuation
    ("U.S.A.", "USA"),
    ("x²", "x2"),  # superscript
    ("five", "ﬁve"),  # ligature
    ("“Blue Harbor”", "Blue Harbor"),  # curly quotes
]
DIFFERENT = [("Café", "Cafe"), ("1969", "1996"), ("Paris", "Parish")]


def test_masking_uses_the_rewards_normalization():
    assert masking_normalize is normalize_answer


@pytest.mark.parametrize(("gold", "variant"), EQUIVALENT)
def test_reward_and_leak_check_agree_on_equivalent_forms(gold, variant):
    assert exact_match(variant, [gold]) == 1.0
    trace = f"So the answer is {variant}, as the passage says."
    assert contains_answer(trace, [gold]), "the reward accepts it, so the leak check must see it"
    occurrences = find_answer_occurrences(trace, [gold])
    assert occurrences, "the sweep must find what the leak check reads"
    hidden = trace
    for start, end in sorted(occurrences, reverse=True):
        hidden = hidden[:start] + "[ANSWER]" + hidden[end:]
    assert not contains_answer(hidden, [gold]), hidden


@pytest.mark.parametrize(("gold", "other"), DIFFERENT)
def test_distinct_answers_stay_distinct(gold, other):
    assert exact_match(other, [gold]) == 0.0
    assert not contains_answer(f"It was {other}.", [gold])


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_leak_check_reads_every_text_the_reward_accepts(answer):
    if not normalize_answer(answer):
        return
    assert exact_match(answer, [answer]) == 1.0
    assert contains_answer(f"before {answer} after", [answer])
