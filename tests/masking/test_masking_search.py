"""The search masker on hand-written Search-R1 traces: the critical path is hidden, the route stays."""

from __future__ import annotations

import re

import pytest

from smepo_env.masking import contains_answer, mask_trace, mask_traces, regex_baseline_mask
from smepo_env.masking.engine import readable_stretches
from tests.masking.examples import COMPARISON, SEARCH_EXAMPLES, THREE_HOP, TWO_HOP

TWO_HOP_QUESTION = "Where was the director of Blue Harbor born?"
THREE_HOP_QUESTION = "Where was the founder of the studio that produced Blue Harbor born?"


def _placeholders_of(result, text: str) -> set[str]:
    return {span.placeholder for span in result.spans if span.text.lower() == text.lower()}


def _readable(result, trace: str) -> list[str]:
    return readable_stretches(trace, [(span.start, span.end) for span in result.spans])


def _bodies(text: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}>(.*?)</{tag}>", text, flags=re.DOTALL)


@pytest.fixture(scope="module")
def two_hop():
    return mask_trace(TWO_HOP, domain="search", question=TWO_HOP_QUESTION)


def test_two_hop_hides_answer_everywhere_without_answers(two_hop):
    assert _bodies(two_hop.text, "answer") == ["[ANSWER]"]
    assert not any(contains_answer(stretch, ["Veldra"]) for stretch in _readable(two_hop, TWO_HOP))
    assert "Veldra" not in two_hop.text


def test_two_hop_bridge_has_one_placeholder_in_query_think_and_titles(two_hop):
    placeholders = _placeholders_of(two_hop, "Marin Okafor")
    assert len(placeholders) == 1
    bridge = placeholders.pop()
    assert re.fullmatch(r"\[ENTITY_\d+\]", bridge)
    assert _bodies(two_hop.text, "search") == ["Blue Harbor director", f"{bridge} birthplace"]
    thinks = _bodies(two_hop.text, "think")
    assert thinks[1] == f"Blue Harbor was directed by {bridge}. Now I need where {bridge} was born."
    assert thinks[2] == f"{bridge} was born in [ANSWER]."
    assert f"Doc 1(Title: {bridge}) [PASSAGE]" in two_hop.text
    assert "Okafor" not in two_hop.text


def test_two_hop_keeps_question_entities_and_distractors(two_hop):
    assert _bodies(two_hop.text, "think")[0] == "I need the director of Blue Harbor first."
    assert "Doc 1(Title: Blue Harbor) [PASSAGE]" in two_hop.text
    assert (
        "Doc 2(Title: Blue Harbour) Blue Harbour is a novel by Ilse Varnek, published in 1994."
        in two_hop.text
    )
    assert "Doc 3(Title: Marin Okafer) Marin Okafer is a painter born in Dorvik." in two_hop.text
    assert "Marin Okafer is a painter who has 3 children." in two_hop.text


def test_two_hop_hides_passages_with_the_bridge_or_answer(two_hop):
    hidden = [span.text for span in two_hop.spans if span.kind == "PASSAGE"]
    assert hidden == [
        "Blue Harbor is a 1987 film directed by Marin Okafor. It was produced by Tessaly Studios.",
        "Marin Okafor is a film director. Marin Okafor was born in Veldra, a city in Kessen.",
        "Veldra is a city in Kessen with about 240,000 inhabitants.",
    ]
    assert "Doc 3(Title: [ANSWER]) [PASSAGE]" in two_hop.text
    assert "1987" not in two_hop.text


def test_spans_point_into_the_original_and_rebuild_the_masked_text(two_hop):
    rebuilt, cursor = [], 0
    for span in two_hop.spans:
        assert TWO_HOP[span.start : span.end] == span.text
        assert span.start >= cursor
        rebuilt += [TWO_HOP[cursor : span.start], span.placeholder]
        cursor = span.end
    rebuilt.append(TWO_HOP[cursor:])
    assert "".join(rebuilt) == two_hop.text
    assert two_hop.counts == {"ANSWER": 3, "ENTITY": 5, "PASSAGE": 3}
    assert two_hop.to_dict()["counts"] == two_hop.counts


def test_three_hop_chains_two_bridges_with_distinct_placeholders():
    result = mask_trace(THREE_HOP, domain="search", question=THREE_HOP_QUESTION)
    (studio,) = _placeholders_of(result, "Tessaly Studios")
    (founder,) = _placeholders_of(result, "Joren Abeyta")
    assert studio != founder
    assert _bodies(result.text, "search") == [
        "Blue Harbor produced by",
        f"{studio} founder",
        f"{founder} born",
    ]
    assert _bodies(result.text, "think")[-1] == f"{founder} was born in [ANSWER]. So the answer is [ANSWER]."
    assert "Abeyta" not in result.text and "Tessaly" not in result.text and "tessaly" not in result.text
    assert (
        "Doc 2(Title: Tessala Records) Tessala Records is a label founded by Mira Abeyto in 1961."
        in result.text
    )
    assert "Doc 2(Title: Mira Abeyto) Mira Abeyto was born in Lunsk in 1930." in result.text
    assert "Harbor Lights is a 1990 film produced by Orvane Pictures." in result.text


def test_numbers_carried_from_passages_are_hidden_consistently():
    result = mask_trace(
        COMPARISON, domain="search", question="Which city has more inhabitants, Veldra or Lunsk?"
    )
    (big,) = _placeholders_of(result, "240,000")
    (small,) = _placeholders_of(result, "95,500")
    assert big.startswith("[NUMBER_") and small.startswith("[NUMBER_") and big != small
    assert _bodies(result.text, "think")[-1] == (
        f"Lunsk has a population of {small}. {big} is more than {small}, so the answer is [ANSWER]."
    )
    assert "Kessen is a country with 12 provinces." in result.text
    assert "Dorvik has a population of 31,000." in result.text
    assert "Veldran" not in result.text


DATE_TRACE = """<think>I need when Blue Harbor premiered.</think>
<search>Blue Harbor premiere</search>

<information>Doc 1(Title: Blue Harbor) Blue Harbor premiered on 12 May 1987 in Lunsk.
Doc 2(Title: Red Harbor) Red Harbor premiered in 1990.</information>

<think>It premiered on 12 May 1987. Which film premiered the day after 12 May 1987?</think>
<search>film premiered 13 May 1987</search>

<information>Doc 1(Title: Night Ferry) Night Ferry premiered on 13 May 1987.</information>

<think>Night Ferry premiered on 13 May 1987.</think>
<answer>Night Ferry</answer>"""


def test_dates_carried_from_passages_are_hidden_as_dates():
    result = mask_trace(
        DATE_TRACE, domain="search", question="Which film premiered the day after Blue Harbor?"
    )
    (first,) = _placeholders_of(result, "12 May 1987")
    (second,) = _placeholders_of(result, "13 May 1987")
    assert first.startswith("[DATE_") and second.startswith("[DATE_") and first != second
    assert _bodies(result.text, "search") == ["Blue Harbor premiere", f"film premiered {second}"]
    assert "Doc 2(Title: Red Harbor) Red Harbor premiered in 1990." in result.text
    assert "Doc 1(Title: [ANSWER]) [PASSAGE]" in result.text


def test_without_question_the_text_before_the_first_search_result_stands_in():
    result = mask_trace(TWO_HOP, domain="search")
    assert _bodies(result.text, "search")[0] == "Blue Harbor director"
    assert len(_placeholders_of(result, "Marin Okafor")) == 1


def test_answers_in_odd_casing_punctuation_and_inside_words():
    trace = (
        "<think>VELDRA, or veldra's old town; the Veldran hills. Al visited the Alps. "
        "Paris-based and Parisian.</think>\n<answer>Veldra</answer>"
    )
    result = mask_trace(trace, domain="search", answers=["veldra!", "Al", "PARIS"])
    assert result.text == (
        "<think>[ANSWER], or [ANSWER] old town; the [ANSWER] hills. [ANSWER] visited the Alps. "
        "[ANSWER] and [ANSWER].</think>\n<answer>[ANSWER]</answer>"
    )


def test_answer_with_articles_and_initials_is_matched_after_normalization():
    trace = "<think>It was the U.S.A. and then the Beatles, not Beatle.</think>"
    result = mask_trace(trace, domain="search", answers=["USA", "The Beatles"])
    assert result.text == "<think>It was the [ANSWER]. and then the [ANSWER], not Beatle.</think>"


def test_batch_equals_single_calls():
    records = SEARCH_EXAMPLES
    batch = mask_traces(
        [r["trace"] for r in records], domain="search", questions=[r["question"] for r in records]
    )
    single = [mask_trace(r["trace"], domain="search", question=r["question"]) for r in records]
    assert [b.text for b in batch] == [s.text for s in single]


@pytest.mark.parametrize(
    ("trace", "expected"),
    [
        ("", ""),
        ("Plain prose with no tags about Veldra.", "Plain prose with no tags about [ANSWER]."),
        ("<think>unclosed reasoning about Marin Okafor", "<think>unclosed reasoning about Marin Okafor"),
        ("<information>Doc 1(Title: X) unclosed", "<information>Doc 1(Title: X) unclosed"),
        ("</think></answer> stray <answer>", "</think></answer> stray <answer>"),
        ("<answer>東京</answer> “Veldra” ½", "<answer>[ANSWER]</answer> “[ANSWER]” ½"),
    ],
)
def test_bad_input_has_a_defined_result(trace, expected):
    assert mask_trace(trace, domain="search", answers=["Veldra"]).text == expected


def test_one_megabyte_trace_is_masked():
    block = TWO_HOP.replace("<answer>Veldra</answer>", "")
    trace = block * (1_000_000 // len(block) + 1) + "<answer>Veldra</answer>"
    assert len(trace) > 1_000_000
    result = mask_trace(trace, domain="search", question=TWO_HOP_QUESTION, answers=["Veldra"])
    assert "Veldra" not in result.text and "Marin Okafor " not in result.text
    assert result.text.count("<search>Blue Harbor director</search>") == trace.count(
        "<search>Blue Harbor director"
    )


def test_regex_baseline_masks_nothing_in_search():
    result = regex_baseline_mask(TWO_HOP, domain="search")
    assert result.text == TWO_HOP and result.spans == ()
    assert mask_trace(TWO_HOP, domain="search", method="regex").text == TWO_HOP


def test_a_bridge_keeps_one_placeholder_in_a_concluding_sentence_that_names_the_answer():
    # world-facts train: spaCy's NER read "Mayotte is Mamoudzou" as one name and gave the bridge a
    # second placeholder; the pattern candidates keep one placeholder per key.
    mayotte = (
        "Doc 1(Title: Mayotte) Mayotte has a population of 279,471. The largest cities of Mayotte "
        "include Mamoudzou, Labattoir and Koungou. The capital of Mayotte is Mamoudzou. People from "
        "Mayotte are called French. The currency of Mayotte is the Euro (EUR). Mayotte covers an area "
        "of 374 square kilometres. Mayotte is a country in Eastern Africa."
    )
    dzaoudzi = (
        "Doc 2(Title: Dzaoudzi) Dzaoudzi is a city in Mayotte. Dzaoudzi has a population of 15,339. "
        "Dzaoudzi lies in the Indian/Mayotte time zone. Cities near Dzaoudzi include Mamoudzou, "
        "Labattoir and Kaouéni."
    )
    trace = (
        "<think>First I need to find which country Labattoir is in.</think>\n"
        "<search>Labattoir city</search>\n\n"
        "<information>Doc 1(Title: Labattoir) Labattoir lies in the Indian/Mayotte time zone. Cities "
        "near Labattoir include Kaouéni, Dzaoudzi and Mamoudzou. Labattoir is a city in Mayotte. "
        f"Labattoir has a population of 17,739.\n{dzaoudzi}\n{mayotte.replace('Doc 1', 'Doc 3')}"
        "</information>\n\n"
        "<think>Labattoir is in Mayotte. Now I need to find the capital of Mayotte.</think>\n"
        "<search>capital of Mayotte</search>\n\n"
        f"<information>{mayotte}\n{dzaoudzi}\n"
        "Doc 3(Title: Mamoudzou) Cities near Mamoudzou include Kaouéni, Dzaoudzi and Mtsapéré. "
        "Mamoudzou has a population of 54,831. Mamoudzou lies in the Indian/Mayotte time zone. "
        "Mamoudzou is a city in Mayotte.</information>\n\n"
        "<think>The capital of Mayotte is Mamoudzou. So the answer is Mamoudzou.</think>\n"
        "<answer>Mamoudzou</answer>"
    )
    question = "What is the capital of the country where the city of Labattoir is located?"
    result = mask_trace(trace, domain="search", question=question)
    assert "<think>The capital of [ENTITY_1] is [ANSWER]. So the answer is [ANSWER].</think>" in result.text
    assert "<think>Labattoir is in [ENTITY_1]." in result.text
