"""The math masker: derived values and the answer hidden; question numbers and structure kept."""

from __future__ import annotations

import pytest

from smepo_env.masking import contains_answer, mask_trace, regex_baseline_mask
from smepo_env.masking.engine import readable_stretches
from tests.masking.examples import ALGEBRA_QUESTION, ALGEBRA_TRACE, MATH_QUESTION, MATH_TRACE


@pytest.fixture(scope="module")
def farmer():
    return mask_trace(MATH_TRACE, domain="math", question=MATH_QUESTION)


@pytest.fixture(scope="module")
def algebra():
    return mask_trace(ALGEBRA_TRACE, domain="math", question=ALGEBRA_QUESTION)


def test_final_answer_hidden_in_digits_words_and_box(farmer):
    assert farmer.text.endswith("So the answer is [ANSWER].</think>\n<answer>[ANSWER]</answer>")
    assert "= [ANSWER] eggs" in farmer.text
    assert "six" not in farmer.text and "boxed" not in farmer.text
    assert "\\boxed{[ANSWER]}" in mask_trace("We get \\boxed{6}.", domain="math").text
    percent = mask_trace(
        "It is 50% of 100, so 50. \\boxed{50}", domain="math", question="What is 50% of 100?"
    )
    assert percent.text == "It is [ANSWER] of 100, so [ANSWER]. \\boxed{[ANSWER]}"


def test_derived_values_hidden_with_one_placeholder_per_value(farmer):
    lines = farmer.text.splitlines()
    assert lines[0] == "<think>Step 1: The farmer has 12 + 12 = [VALUE_1] eggs."
    assert lines[1] == "Step 2: He uses \\frac{3}{4} \\cdot [VALUE_1] = [VALUE_2] eggs, i.e. 0.75 of them."
    assert (
        lines[2] == "Step 3: That leaves [VALUE_1] - [VALUE_2] = [ANSWER] eggs, which is [VALUE_3] of them, "
        "or [VALUE_3]."
    )
    fractions = [s.text for s in farmer.spans if s.placeholder == "[VALUE_3]"]
    assert fractions == ["\\frac{1}{4}", "25%"]


def test_question_numbers_kept_by_value_in_any_form(farmer):
    assert "12 + 12" in farmer.text
    assert "\\frac{3}{4}" in farmer.text
    assert "0.75" in farmer.text


def test_structure_kept_exponents_subscripts_labels_and_operators(algebra):
    lines = algebra.text.splitlines()
    assert lines[0] == "Step 1: From 2x+3y = 7 and x = 2 we get 3y = 3, so y = 1."
    assert lines[1] == "Step 2: a_2 = a_1^2 - 1 = 3 and a_3 = a_2^{2} - 1 = [ANSWER]."
    assert (
        lines[2] == "Step 3: The root [VALUE_1] = 3 and [ANSWER] = [ANSWER] agree; [VALUE_2] is not involved."
    )
    assert lines[3] == "Final Answer: $\\boxed{[ANSWER]}$"
    assert [s.text for s in algebra.spans if s.kind == "VALUE"] == ["\\sqrt{9}", "forty-two"]


def test_signs_belong_to_numbers_only_when_unary():
    result = mask_trace("Then 10x+5y = 20, x - 4 = 1 and the slope is -3 (or (-7)).", domain="math")
    assert result.text == (
        "Then [VALUE_1]x+[VALUE_2]y = [VALUE_3], x - [VALUE_4] = [VALUE_5] "
        "and the slope is [VALUE_6] (or ([VALUE_7]))."
    )
    assert [s.text for s in result.spans][-2:] == ["-3", "-7"]


def test_formula_constants_kept_where_the_formula_is_stated_and_substituted():
    question = "What is the sum of the interior angles of a heptagon, in degrees?"
    trace = "With n = 7: (n - 2) \\times 180 = 5 \\times 180 = 900. Each side adds 180. \\boxed{900}"
    result = mask_trace(trace, domain="math", question=question)
    # "heptagon" states the 7 (its sides): it stays, as a number the question gives.
    assert result.text == (
        "With n = 7: (n - 2) \\times 180 = [VALUE_1] \\times 180 = [ANSWER]. "
        "Each side adds [VALUE_2]. \\boxed{[ANSWER]}"
    )
    quadratic = mask_trace(
        "b^2 - 4ac = 9 - 4(1)(-2) = 17, so x = \\frac{3 + \\sqrt{17}}{2}. \\boxed{\\frac{3+\\sqrt{17}}{2}}",
        domain="math",
        question="Solve x^2 - 3x - 2 = 0; give the larger root.",
    )
    # The 1 substituted for a (a whole argument) is structure, like the 1 of 1 - r.
    assert quadratic.text.startswith("b^2 - 4ac = [VALUE_1] - 4(1)(-2) = [VALUE_2], so x = [ANSWER].")


def test_equations_over_derived_numbers_are_no_formulas():
    # The other side does not repeat the constants: derived coefficients, hidden.
    assert mask_trace("So 10x + 5y = 20.", domain="math").text == "So [VALUE_1]x + [VALUE_2]y = [VALUE_3]."
    # A result over variables at the end of a chain is no formula, and the answer's constants stay
    # hidden even where a check substitutes into the answer.
    result = mask_trace("f(g(x)) = 6x - 1 = 6(1) - 1 at x = 1. \\boxed{6x - 1}", domain="math")
    assert "6(1)" not in result.text and "6x" not in result.text


def test_without_question_every_non_structural_number_is_derived():
    result = mask_trace("Step 2: 12 + 12 = 24 and x^3 uses b_12.", domain="math")
    assert result.text == "Step 2: [VALUE_1] + [VALUE_1] = [VALUE_2] and x^3 uses b_12."


def test_symbolic_and_worded_answers_hidden_where_written():
    trace = "The day is Tuesday, since x^2+1 grows.\nFinal answer: \\boxed{\\text{Tuesday}}"
    result = mask_trace(trace, domain="math", question="If x^2+1 grows, which day is it?")
    assert result.text == "The day is [ANSWER], since x^2+1 grows.\nFinal answer: \\boxed{[ANSWER]}"
    symbolic = mask_trace("So f = x^2 + 1. \\boxed{x^2+1}", domain="math")
    assert symbolic.text == "So f = [ANSWER]. \\boxed{[ANSWER]}"
    worded = mask_trace("There are forty-two ways.", domain="math", answers=["42"])
    assert worded.text == "There are [ANSWER] ways."


def test_given_answers_win_over_step_labels():
    trace = "Step 6: add them, which gives 6.\n#### 6"
    assert mask_trace(trace, domain="math").text == "Step 6: add them, which gives [ANSWER].\n#### [ANSWER]"
    guaranteed = mask_trace(trace, domain="math", answers=["6"])
    assert guaranteed.text == "Step [ANSWER]: add them, which gives [ANSWER].\n#### [ANSWER]"
    stretches = readable_stretches(trace, [(s.start, s.end) for s in guaranteed.spans])
    assert not any(contains_answer(stretch, ["6"]) for stretch in stretches)


def test_tool_outputs_hidden_and_python_numbers_treated_like_prose():
    trace = "<python>print(12 * 4 + 7)</python>\n<output>55</output>\n<answer>55</answer>"
    result = mask_trace(trace, domain="math", question="What is 12 times 4?")
    assert (
        result.text
        == "<python>print(12 * 4 + [VALUE_1])</python>\n<output>[OUTPUT]</output>\n<answer>[ANSWER]</answer>"
    )


def test_regex_baseline_reproduces_reference_failures():
    text = regex_baseline_mask(ALGEBRA_TRACE, domain="math").text
    lines = text.splitlines()
    assert lines[0].startswith("__STRUCTURAL_NUMBER_[NUMBER]__: From [NUMBER]x[NUMBER]y = [NUMBER]")
    assert "a_[NUMBER] = a_[NUMBER]^[NUMBER]" in lines[1]
    assert "a_[NUMBER]^{[NUMBER]}" in lines[1]
    assert "forty-two is not involved" in lines[2]
    farmer = regex_baseline_mask(MATH_TRACE, domain="math").text
    assert "The farmer has [NUMBER] + [NUMBER]" in farmer
    assert "So the answer is six." in farmer
    assert "Step" not in farmer
    assert regex_baseline_mask("The answer is \\boxed{\\text{Tuesday}} or 1.5e3.", domain="math").text == (
        "The answer is \\boxed{\\text{Tuesday}} or [NUMBER]."
    )


@pytest.mark.parametrize(
    ("trace", "expected"),
    [
        ("", ""),
        ("no numbers here", "no numbers here"),
        ("<think>unclosed 3 + 5 = 8", "<think>unclosed [VALUE_1] + [VALUE_2] = 8"),
        ("\\boxed{12", "\\boxed{[ANSWER]"),
        ("½ of 8 is 4 — ünïcode ≥ 3 💥", "[VALUE_1] of 8 is [VALUE_2] — ünïcode ≥ [VALUE_3] 💥"),
    ],
)
def test_bad_input_has_a_defined_result(trace, expected):
    assert mask_trace(trace, domain="math", question="What is 8?").text == expected


def test_one_megabyte_trace_is_masked():
    trace = "Step 1: 3 * 4 = 12 and x^2 stays.\n" * 30_000 + "\\boxed{12}"
    assert len(trace) > 1_000_000
    result = mask_trace(trace, domain="math", question="Multiply 3 by 4.")
    assert result.text.count("Step 1: 3 * 4 = [ANSWER] and x^2 stays.") == 30_000


def test_a_worded_answer_sentence_hides_the_answer_not_the_sentence():
    masked = mask_trace("So it covers 900 m.\n\n**Answer:** The train travels 900 metres.", domain="math")
    assert masked.text.endswith("**Answer:** The train travels [ANSWER] metres.")
    word = mask_trace("Final answer: Tuesday", domain="math")
    assert word.text == "Final answer: [ANSWER]"


def test_unit_conversion_factors_and_written_constants_stay():
    question = "A train travels at 72 km/h. How many metres does it travel in 45 seconds?"
    trace = "72 km/h = 72 × 1000 m / 3600 s = 20 m/s. Check: 45/3600 = 0.0125 h. Also 6/1.732 is near 3.46."
    masked = mask_trace(trace, domain="math", question=question + " Use 6.").text
    assert "72 × 1000 m / 3600 s = [VALUE_1] m/s" in masked
    assert "45/3600 = [VALUE_2] h" in masked
    assert "6/1.732 is near [VALUE_3]" in masked
    # A conversion factor without its unit is just a number: 60 here is a derived value.
    assert mask_trace("He earns 3 × 20 = 60 dollars.", domain="math").text.count("60") == 0


def test_zero_and_one_as_arguments_test_points_and_group_openers_stay():
    question = "Let f(x) = 2x + 3 and g(x) = 3x - 2. Find f(g(x))."
    trace = "Check with x = 1: g(1) = 1, f(1) = 5. A point inside, x = 0: |0 - 3| = 3. So 80 × (1 - 0.25)."
    masked = mask_trace(trace, domain="math", question=question).text
    assert "Check with x = 1: g(1) = [VALUE_1], f(1) = [VALUE_2]." in masked
    assert "x = 0: |0 - 3| = 3" in masked
    assert "[VALUE_3] × (1 - [VALUE_4])" in masked
    # A 0 or 1 that is a result stays hidden.
    assert mask_trace("Then 7 - 6 = 1 apple.", domain="math", question="7 apples").text.endswith(
        "= [VALUE_2] apple."
    )


def test_day_labels_ranges_and_count_words_are_no_derived_values():
    masked = mask_trace(
        "Day two: she reads 22. Faces 2..6 each.", domain="math", question="two dice, 18 pages"
    )
    assert masked.text == "Day two: she reads [VALUE_1]. Faces 2..6 each."
    polygon = mask_trace("A hexagon has n = 6 sides.", domain="math", question="Angles of a hexagon?")
    assert polygon.text == "A hexagon has n = 6 sides."


def test_a_formula_stated_alone_keeps_its_constants_where_it_is_substituted_later():
    question = "What is the sum of the interior angles of a hexagon, in degrees?"
    trace = (
        "The interior angles sum to (n - 2) \\times 180^\\circ. A hexagon has n = 6 sides, so "
        "(6 - 2) \\times 180 = 4 \\times 180 = 720. \\boxed{720}"
    )
    masked = mask_trace(trace, domain="math", question=question).text
    assert "(n - 2) \\times 180^\\circ" in masked
    assert "(6 - 2) \\times 180 = [VALUE_1] \\times 180 = [ANSWER]" in masked
    # Without a later substitution the numbers of an expression are not formula constants.
    alone = mask_trace("It is (n - 2) \\times 180. Then 7 \\times 180 = 1260.", domain="math").text
    assert alone == "It is (n - [VALUE_1]) \\times [VALUE_2]. Then [VALUE_3] \\times [VALUE_2] = [VALUE_4]."


def test_a_root_with_a_new_coefficient_and_its_fraction_are_derived():
    question = "Rationalize the denominator: \\frac{6}{\\sqrt{3}}."
    trace = "\\frac{6}{\\sqrt{3}} \\cdot \\frac{\\sqrt{3}}{\\sqrt{3}} = \\frac{6\\sqrt{3}}{3} = 2\\sqrt{3}."
    masked = mask_trace(trace, domain="math", question=question).text
    assert masked.startswith(
        "\\frac{6}{\\sqrt{3}} \\cdot \\frac{\\sqrt{3}}{\\sqrt{3}} = [VALUE_1] = [VALUE_2]."
    )
    # A fraction of operations shows the route: only its derived numbers are hidden.
    route = mask_trace("\\frac{8 \\times 7}{2} = 28", domain="math", question="8 items, pick 2").text
    assert route == "\\frac{8 \\times [VALUE_1]}{2} = [VALUE_2]"
