"""The search masker's rules for the forms that give a carried value away, and for what is no such form:
apposition with the answer, a rounded tool number, names made of stop words, look-alike names,
parenthesized qualifiers and the modifiers of a lower-case answer."""

from __future__ import annotations

from smepo_env.masking import mask_trace
from smepo_env.masking.surface_forms import is_derived_word


def _doc(index: int, title: str, text: str) -> str:
    return f'Doc {index}(Title: "{title}") {text}'


def _trace(*parts: str) -> str:
    return "\n\n".join(parts)


def test_a_place_written_beside_the_answer_is_hidden_with_it():
    trace = _trace(
        "<think>The inventor is Corwin Hale; where was Hale born?</think>",
        "<search>Corwin Hale born</search>",
        "<information>"
        + _doc(1, "Corwin Hale", "Corwin Hale was born in Tarbrook, Velmar, and later moved to Osk.")
        + "</information>",
        "<think>Hale was born in Tarbrook, Velmar, before moving to Osk. The country is Velmar.</think>",
        "<answer>Velmar</answer>",
    )
    question = "In which country was the inventor of the glass lens born?"
    for answers in (None, ["Velmar"]):
        masked = mask_trace(trace, domain="search", question=question, answers=answers)
        assert "Tarbrook" not in masked.text
        assert "before moving to Osk" in masked.text  # context in passing stays


def test_a_candidate_named_before_any_search_is_not_hidden_for_standing_beside_the_answer():
    trace = _trace(
        "<think>Candidates: Orvane, Kesh, and Tamblin. I think Kesh.</think>",
        "<search>agency headquartered in Lume</search>",
        "<information>" + _doc(1, "Kesh", "Kesh is based in Lume. Orvane is in Dask.") + "</information>",
        "<think>It is Kesh, not Orvane.</think>",
        "<answer>Kesh</answer>",
    )
    question = "Which agency is headquartered in Lume?"
    masked = mask_trace(trace, domain="search", question=question, answers=["Kesh"])
    assert "Candidates: Orvane, [ANSWER]" in masked.text
    assert "not Orvane" in masked.text


def test_the_experts_rounding_of_a_tool_number_is_hidden_with_the_number():
    trace = _trace(
        "<think>I need both heights.</think>",
        "<search>Mount Arden height</search>",
        "<information>"
        + _doc(1, "Mount Arden", "Mount Arden rises 3,211.63 m above sea level.")
        + "\n"
        + _doc(2, "Mount Pell", "Mount Pell rises 2,950 m.")
        + "</information>",
        "<think>Arden is about 3,212 m, Pell is 2,950 m. Since 3,212 is greater than 2,950, Arden is "
        "taller. Yes.</think>",
        "<answer>yes</answer>",
    )
    masked = mask_trace(trace, domain="search", question="Is Mount Arden taller than Mount Pell?")
    assert "3,212" not in masked.text and "3,211" not in masked.text
    assert '(Title: "Mount Arden") [PASSAGE]' in masked.text
    placeholders = {s.placeholder for s in masked.spans if s.text in ("3,212", "3,211.63")}
    assert len(placeholders) == 1 and next(iter(placeholders)).startswith("[NUMBER")


def test_a_small_number_is_no_rounding_of_a_tool_number():
    trace = _trace(
        "<search>Lake Orm islands</search>",
        "<information>" + _doc(1, "Lake Orm", "Lake Orm is 7.6 km long.") + "</information>",
        "<think>Lake Orm has 8 islands, more than the 2 of Lake Pim. So Lake Orm.</think>",
        "<answer>Lake Orm</answer>",
    )
    masked = mask_trace(trace, domain="search", question="Which has more islands, Lake Orm or Lake Pim?")
    assert "has 8 islands" in masked.text  # 8 is no rounding of 7.6: too small to tell
    longer = mask_trace(
        trace.replace("7.6 km", "47.6 km").replace("8 islands", "48 islands"),
        domain="search",
        question="Which has more islands, Lake Orm or Lake Pim?",
    )
    assert "has 48 islands" not in longer.text


def test_a_place_named_with_a_stop_word_is_carried_and_hidden_only_where_capitalized():
    trace = _trace(
        "<search>Ilka Voss born</search>",
        "<information>" + _doc(1, "Ilka Voss", "Ilka Voss was born in Both.") + "</information>",
        "<think>Ilka Voss was born in Both. I need both facts: which country Both is in.</think>",
        "<search>Both city country</search>",
        "<information>" + _doc(1, "Both", "Both is a city in Marrow.") + "</information>",
        "<think>Both is a city in Marrow.</think>",
        "<answer>Marrow</answer>",
    )
    masked = mask_trace(trace, domain="search", question="In which country was Ilka Voss born?")
    assert "Both" not in masked.text
    assert "I need both facts" in masked.text


def test_a_name_sharing_only_its_first_letters_with_a_question_word_is_no_derived_form():
    assert not is_derived_word("ploudraer", "plourk")
    assert is_derived_word("malaysian", "malaysia")
    assert is_derived_word("canadian", "canada")
    assert is_derived_word("norwegian", "norway")
    assert not is_derived_word("okafer", "okafor")
    trace = _trace(
        "<search>Plourk Theifaest works for</search>",
        "<information>"
        + _doc(1, "Plourk Theifaest", "Theifaest works for Ploudraer Works.")
        + "</information>",
        "<think>Plourk Theifaest works for Ploudraer Works.</think>",
        "<search>Ploudraer Works headquarters</search>",
        "<information>" + _doc(1, "Ploudraer Works", "Its headquarters are in Beches.") + "</information>",
        "<think>The headquarters of Ploudraer Works are in Beches.</think>",
        "<answer>Beches</answer>",
    )
    question = "In which city is the headquarters of the organization Plourk Theifaest works for?"
    masked = mask_trace(trace, domain="search", question=question)
    assert "Ploudraer" not in masked.text
    assert "<search>Plourk Theifaest works for</search>" in masked.text


def test_a_parenthesis_that_only_says_what_kind_of_thing_the_answer_is_is_no_alias():
    trace = _trace(
        "<search>Pell river</search>",
        "<information>"
        + _doc(1, "Pell (river)", "The Pell (river) flows past Orm.")
        + "\n"
        + _doc(2, "Dask (river)", "The Dask is a river in the east.")
        + "</information>",
        "<think>The river through Orm is the Pell.</think>",
        "<answer>Pell</answer>",
    )
    masked = mask_trace(trace, domain="search", question="Which river flows through Orm?", answers=["Pell"])
    assert "The Dask is a river in the east." in masked.text
    assert "river through Orm" in masked.text


def test_modifiers_of_a_lower_case_answer_do_not_hide_passages_when_its_head_is_an_answer():
    trace = _trace(
        "<search>Tomas Ferra instrument</search>",
        "<information>"
        + _doc(1, "Tomas Ferra", "Tomas Ferra played jazz guitar.")
        + "\n"
        + _doc(2, "Ilse Brand", "Ilse Brand was a jazz violinist.")
        + "</information>",
        "<think>Ferra played jazz guitar; Ilse Brand was a jazz violinist.</think>",
        "<answer>guitar</answer>",
    )
    masked = mask_trace(
        trace,
        domain="search",
        question="What instrument did Tomas Ferra play?",
        answers=["guitar", "jazz guitar"],
    )
    assert "Ilse Brand was a jazz violinist." in masked.text  # the distractor stays whole
    assert '(Title: "Tomas Ferra") [PASSAGE]' in masked.text
    assert "jazz" not in masked.text.split("</information>")[1]  # hidden where the expert writes it
    eaten = mask_trace(
        trace.replace("jazz guitar", "eucalyptus leaves").replace("a jazz violinist", "fond of eucalyptus"),
        domain="search",
        question="What did Tomas Ferra eat?",
        answers=["eucalyptus leaves"],
    )
    assert "eucalyptus" not in eaten.text  # no answer is the head alone: every content word is hidden
