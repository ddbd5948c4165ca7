"""The code masker: implementations and results hidden; signatures and the plan kept."""

from __future__ import annotations

import pytest

from smepo_env.masking import mask_trace, regex_baseline_mask
from tests.masking.examples import CODE_TRACE


@pytest.fixture(scope="module")
def masked() -> str:
    return mask_trace(CODE_TRACE, domain="code").text


def test_fenced_block_keeps_multiline_signature_and_docstring_hides_decorator_and_body(masked):
    block = masked.split("```python\n", 1)[1].split("```", 1)[0]
    assert block == (
        "[CODE]\ndef kth_smallest(\n    nums: tuple[int, ...],\n    k: int,\n) -> int:\n"
        '    """Return the k-th smallest number."""\n    [CODE]\n'
    )


def test_inline_code_hidden_where_it_computes_what_the_code_does_kept_for_names(masked):
    # sorted(nums)[k - 1] computes what the hidden body computes (sorted(nums), k - 1).
    assert masked.startswith(
        "I will sort the numbers and take the k-th one with `[CODE]`,\nusing `nums` and `heapq.heappush`."
    )
    code = "```python\ndef f(nums, total):\n    total = sum(x + 1 for x in nums)\n    return total\n```\n"
    inline = mask_trace(
        code + "Use `x + 1`, `len(nums)`, `return total`, `42`, `def f(x: int) -> int:`, `O(n log n)`, "
        "`nums[i]`, `total > 10`.",
        domain="code",
    )
    assert inline.text.endswith(
        "Use `[CODE]`, `len(nums)`, `[CODE]`, `[CODE]`, `def f(x: int) -> int:`, `O(n log n)`, "
        "`nums[i]`, `total > 10`."
    )


def test_unfenced_code_and_session_outputs_hidden_prose_kept(masked):
    # The doctest call is test scaffolding (a defined function on literals): it stays; its result is hidden.
    assert "Quick check:\n>>> kth_smallest((3, 1, 2), 2)\n[OUTPUT]\n\n[CODE]\nOutput: [OUTPUT]\n" in masked
    assert "For the sample the function returns [OUTPUT]. Then return the list as it is." in masked


def test_python_tool_body_keeps_signature_and_output_is_hidden(masked):
    # The test run of the defined function stays (how the expert tested); its result does not.
    assert (
        "<python>\ndef area(width: int, height: int) -> int:\n    [CODE]\nprint(area(6, 7))\n</python>"
        in masked
    )
    assert masked.endswith("<output>[OUTPUT]</output>\n<answer>[ANSWER]</answer>")
    assert "42" not in masked


def test_only_calls_of_defined_functions_on_literals_stay_visible():
    trace = "<python>\ndef f(x):\n    return x * 2\n\nprint(f(3))\nprint(f(3) + 1)\nprint(7)\n</python>"
    masked = mask_trace(trace, domain="code").text
    assert masked == "<python>\ndef f(x):\n    [CODE]\n\nprint(f(3))\n[CODE]\n</python>"


def test_one_line_def_keeps_header_up_to_the_body():
    result = mask_trace("```python\nclass Solver:\n    def run(self, x): return x + 1\n```", domain="code")
    assert result.text == "```python\nclass Solver:\n    def run(self, x): [CODE]\n```"


def test_other_languages_keep_their_signatures():
    trace = (
        "```cpp\nint maxArea(vector<int>& height) {\n    int best = 0;\n    return best;\n}\n```\n"
        "```js\nfunction twoSum(nums, target) {\n  return [];\n}\n```"
    )
    assert mask_trace(trace, domain="code").text == (
        "```cpp\nint maxArea(vector<int>& height) {\n    [CODE]\n```\n"
        "```js\nfunction twoSum(nums, target) {\n  [CODE]\n```"
    )


def test_answer_holding_code_is_masked_as_code():
    trace = "<answer>\ndef solve(n: int) -> int:\n    return n * (n + 1) // 2\n</answer>"
    assert (
        mask_trace(trace, domain="code").text == "<answer>\ndef solve(n: int) -> int:\n    [CODE]\n</answer>"
    )


def test_regex_baseline_only_replaces_fenced_blocks():
    text = regex_baseline_mask(CODE_TRACE, domain="code").text
    assert "```python\n[CODE]\n```" in text
    assert "`sorted(nums)[k - 1]`" in text
    assert "best = kth_smallest((5, 4), 1)\nprint(best)\nOutput: 4" in text
    assert "<python>\ndef area(width: int, height: int) -> int:\n    return width * height" in text
    assert "<output>42</output>\n<answer>42</answer>" in text


@pytest.mark.parametrize(
    ("trace", "expected"),
    [
        ("", ""),
        ("Just a plan in prose: sort, then scan.", "Just a plan in prose: sort, then scan."),
        ("```python\ndef f(x):\n    return x", "```python\ndef f(x):\n    [CODE]"),
        ("<python>print(1)", "<python>[CODE]"),
        ("<output>unclosed result 7", "<output>[OUTPUT]"),
        ("ünïcode `λ(x)` 💥\nx = 'é'", "ünïcode `λ(x)` 💥\n[CODE]"),
        ("ünïcode `λ(x)` 💥\nx = λ(x)", "ünïcode `[CODE]` 💥\n[CODE]"),
    ],
)
def test_bad_input_has_a_defined_result(trace, expected):
    assert mask_trace(trace, domain="code").text == expected


def test_one_megabyte_trace_is_masked():
    block = "```python\ndef step(x: int) -> int:\n    return x + 1\n```\nThe plan is simple.\n"
    trace = block * (1_000_000 // len(block) + 1)
    result = mask_trace(trace, domain="code")
    assert result.text.count("def step(x: int) -> int:\n    [CODE]\n") == trace.count("def step")
    assert "return x + 1" not in result.text


def test_test_harness_stays_loops_comprehensions_runners_and_asserts_after_a_draft():
    trace = (
        "```python\ndef is_odd(n):\n    return n % 2 == 1\n```\n\n"
        "assert is_odd(3) == True\nassert is_odd(4) == False\n\n"
        "<python>\nimport doctest\n\ndef is_odd(n):\n    return n % 2 == 1\n\n"
        "for t in [1, 2, 3]:\n    print(t, is_odd(t))\n"
        "print([k for k in range(6) if is_odd(k)])\n"
        "print(doctest.testmod())\n"
        "print(sum(k * k for k in range(6)))\n"
        "</python>\n<output>\n1 True\n2 False\n3 True\n[1, 3, 5]\n</output>"
    )
    masked = mask_trace(trace, domain="code").text
    for scaffolding in (
        "assert is_odd(3) == True\nassert is_odd(4) == False",
        "import doctest",
        "for t in [1, 2, 3]:\n    print(t, is_odd(t))",
        "print([k for k in range(6) if is_odd(k)])",
        "print(doctest.testmod())",
    ):
        assert scaffolding in masked
    assert "n % 2" not in masked
    assert "k * k" not in masked  # a comprehension that computes is code, not a test
    assert "<output>\n[OUTPUT]\n</output>" in masked


def test_docstring_prose_and_doctest_calls_stay_their_results_are_hidden():
    trace = (
        '```python\ndef fib(n: int) -> int:\n    """Return the n-th Fibonacci number.\n\n'
        '    >>> fib(10)\n    55\n    >>> fib(2 + 3)\n    5\n    """\n'
        "    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n```"
    )
    masked = mask_trace(trace, domain="code").text
    assert "Return the n-th Fibonacci number." in masked
    assert ">>> fib(10)" in masked
    assert "55" not in masked and "2 + 3" not in masked
    assert "a, b = b, a + b" not in masked


def test_a_result_after_giving_is_hidden():
    masked = mask_trace("Merging them works, giving [[1, 5]].", domain="code").text
    assert masked == "Merging them works, giving [OUTPUT]."
