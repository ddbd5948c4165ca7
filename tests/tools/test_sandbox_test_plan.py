"""Host side of hidden tests: splitting tests into probes and checks, and plain-data decoding.

These run no sandbox: they feed the plan's host checks with the values a sandbox would send,
including hostile encodings, and check what the host decides.
"""

from __future__ import annotations

import json

import pytest

from tools.sandbox_harness import NotPlainData as HarnessNotPlainData
from tools.sandbox_harness import encode_plain
from tools.sandbox_plain import NotPlainData, decode_plain, decode_results
from tools.sandbox_test_plan import StdioTest, plan_stdio_test, plan_test, unsupported_reason


def probes(plan):
    return [text for kind, text in plan.steps if kind == "probe"]


def ok(*values):
    return [(True, value) for value in values]


@pytest.mark.parametrize(
    ("value"),
    [
        None,
        True,
        -3,
        10**40,
        2.5,
        float("inf"),
        "ünï",
        b"\x00\xff",
        1 + 2j,
        [1, (2, 3), {4}],
        {"a": [1], (1, 2): frozenset({3})},
        (),
        set(),
    ],
)
def test_plain_values_survive_the_round_trip(value):
    assert decode_plain(json.loads(encode_plain(value))) == value
    assert type(decode_plain(json.loads(encode_plain(value)))) is type(value)


def test_subclasses_arrive_as_their_plain_base_type():
    class Liar(list):
        def __eq__(self, other):
            return True

    class Number(int):
        def __repr__(self):
            return "999"

    decoded = decode_plain(json.loads(encode_plain([Liar([1]), Number(5)])))
    assert decoded == [[1], 5] and type(decoded[0]) is list and type(decoded[1]) is int


def test_objects_generators_and_deep_nesting_are_not_plain_data():
    for value in (object(), (x for x in ()), len, type):
        with pytest.raises(HarnessNotPlainData):
            encode_plain(value)
    deep: list = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(HarnessNotPlainData):
        encode_plain(deep)


@pytest.mark.parametrize(
    "encoded",
    [
        {"x": 1},
        {"l": 1},
        {"s": [{"l": []}]},
        {"d": [[1]]},
        {"d": [{"l": []}]},
        {"b": "zz"},
        [1],
        {"c": ["a", 1]},
    ],
)
def test_hostile_encodings_are_refused(encoded):
    with pytest.raises(NotPlainData):
        decode_plain(encoded)


def test_decode_results_bounds_size_and_shape():
    assert decode_results('[["ok", 1], ["error", "ValueError: x"]]') == [(True, 1), (False, "ValueError: x")]
    assert decode_results('[["ok", {"q": 1}]]')[0][0] is False
    for text in ("{}", '[["maybe", 1]]', "[" * 100000, "x" * (2 << 20)):
        with pytest.raises(NotPlainData):
            decode_results(text)


def test_benchmark_assert_sends_only_the_call():
    plan = plan_test("", "assert scale(2) == 120567")
    assert probes(plan) == ["scale(2)"]
    assert "120567" not in json.dumps(plan.steps)
    assert plan.judge(ok(120567)) == (True, "")
    assert plan.judge(ok(120566))[0] is False
    assert plan.judge(ok(120567.0))[0] is True  # Python's == semantics: 120567 == 120567.0
    assert plan.judge([(False, "TypeError: boom")]) == (False, "TypeError: boom")
    assert plan.judge([])[1].startswith("NotReached")


def test_tolerance_isclose_set_and_subscript_checks_happen_on_the_host():
    plan = plan_test(
        "from math import isclose",
        "assert abs(f(0.5) - 1.25) < 1e-6 and isclose(g(1), 2.0, rel_tol=1e-3) and set(h(3)) == {1, 2}"
        " and k(1)[0] == 'a' and not z(0)",
    )
    assert probes(plan) == ["f(0.5)", "g(1)", "set(h(3))", "k(1)[0]", "z(0)"]
    assert "1.25" not in json.dumps(plan.steps) and "'a'" not in json.dumps(plan.steps)
    assert plan.judge(ok(1.25, 2.001, {2, 1}, "a", 0)) == (True, "")
    assert plan.judge(ok(1.3, 2.001, {2, 1}, "a", 0))[0] is False


def test_literal_assignments_stay_on_the_host_unless_sandbox_code_reads_them():
    source = (
        "_function = globals().get('f')\n_result = _function(*[1, 2])\n_expected = [3]\n"
        "if isinstance(_result, tuple):\n    _result = list(_result)\n"
        "assert _result == _expected or [_result] == _expected\n"
    )
    plan = plan_test("", source)
    assert "[3]" not in json.dumps(plan.steps)
    assert probes(plan) == ["_result", "_result"]
    assert plan.judge(ok(3, 3)) == (True, "")
    assert plan.judge(ok([3], [3])) == (True, "")
    assert plan.judge(ok(4, 4))[0] is False
    inputs = plan_test("", "x = [5, 1]\nassert f(x) == [1, 5]")
    assert ("exec", "x = [5, 1]") in inputs.steps and "[1, 5]" not in json.dumps(inputs.steps)


def test_humaneval_check_blocks_are_inlined_and_never_sent():
    test = (
        "METADATA = {}\n\ndef check(candidate):\n    assert candidate(1) == 11\n"
        "    assert abs(candidate(0.5) - 10.5) < 1e-6, 'half'\n\ncheck(add_ten)\n"
    )
    plan = plan_test("", test)
    assert probes(plan) == ["add_ten(1)", "add_ten(0.5)"]
    assert "11" not in json.dumps(plan.steps) and "def check" not in json.dumps(plan.steps)
    assert plan.judge(ok(11, 10.5)) == (True, "")
    assert plan.judge(ok(11, 10.0)) == (False, "AssertionError: half")


@pytest.mark.parametrize(
    ("test", "reason"),
    [
        ("for x in range(3):\n    assert f(x) == x", "inside a for statement"),
        ("def check(c):\n    assert c(1) == 2\ncheck(f, 3)", "other arguments"),
        ("def check(c):\n    assert c(1) == 2\nhelper(check)", "used other than"),
        ("f(1)", "no top-level assert"),
        ("assert all([f(x) == x for x in range(3)])", "comparison inside code the sandbox evaluates"),
    ],
)
def test_unsupported_shapes_fail_closed_with_a_reason(test, reason):
    assert reason in unsupported_reason("", test)
    passed, error = plan_test("", test).judge(ok(1, 2, 3))
    assert not passed and error.startswith("UnsupportedTest:")


def test_host_checks_refuse_huge_results():
    plan = plan_test("", "assert f(1) * 10**9 == 'x'")
    assert plan.judge(ok("ab"))[1].startswith("OverflowError")
    plan = plan_test("", "assert 2 ** f(1) == 0")
    assert plan.judge(ok(10**9))[1].startswith("OverflowError")


def test_stdio_plan_compares_tokens_on_the_host():
    plan = plan_stdio_test(StdioTest("1 2\n", "3\n"))
    assert plan.steps == (("stdio", "1 2\n"),)
    assert plan.judge(ok("3")) == (True, "")
    assert plan.judge(ok(" 3 \n\n")) == (True, "")
    assert plan.judge(ok("4"))[0] is False
    assert plan.judge(ok(["3"]))[0] is False


def test_invalid_python_is_a_value_error():
    with pytest.raises(ValueError, match="test is not valid Python"):
        plan_test("", "assert (")
    with pytest.raises(ValueError, match="setup is not valid Python"):
        plan_test("def", "assert f(1) == 1")
