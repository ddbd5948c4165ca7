"""The masking audit: leakage, recall, over-masking and throughput, per method and domain."""

from __future__ import annotations

import json
import time

import pytest

from smepo_env.masking import AuditReport, audit_traces, mask_traces
from tests.masking.examples import CODE_EXAMPLES, MATH_EXAMPLES, SEARCH_EXAMPLES, synthetic_search_records


@pytest.fixture(scope="module")
def report() -> AuditReport:
    records = SEARCH_EXAMPLES + synthetic_search_records(30, seed=1) + MATH_EXAMPLES + CODE_EXAMPLES
    return audit_traces(records)


def test_rows_cover_every_method_and_domain(report):
    labels = {(row.method, row.domain) for row in report.rows}
    for method in ("engine", "engine+answers", "regex"):
        for domain in ("search", "math", "code", "all"):
            assert (method, domain) in labels
    assert report.row("engine", "search").traces == 33
    assert report.row("regex", "all").traces == 36
    with pytest.raises(KeyError, match="'nope'"):
        report.row("nope", "search")


def test_search_targets_met_on_the_sample_set(report):
    engine = report.row("engine", "search")
    guaranteed = report.row("engine+answers", "search")
    assert guaranteed.leakage == 0.0
    assert engine.leakage == 0.0
    assert engine.recall >= 0.99 and guaranteed.recall >= 0.99
    assert engine.over_masking <= 0.15
    assert engine.traces_per_second > 0


def test_regex_baseline_scores_as_the_reference_behaves(report):
    search = report.row("regex", "search")
    assert search.leakage == 1.0 and search.recall == 0.0 and search.over_masking == 0.0
    assert report.row("regex", "math").over_masking > report.row("engine", "math").over_masking
    assert report.row("regex", "code").leakage == 1.0
    assert report.row("engine+answers", "code").leakage == 0.0
    assert report.row("engine", "code").recall is None


def test_definitions_on_a_record_with_known_counts():
    record = {
        "trace": "Step 1: 2 + 3 = 5",
        "domain": "math",
        "question": "What is 2 + 3?",
        "answers": ["5"],
        "critical_spans": [{"text": "5", "kind": "answer"}],
    }
    regex = audit_traces([record], methods=("regex",)).row("regex", "math")
    assert (regex.occurrences, regex.hidden_occurrences, regex.other_tokens, regex.hidden_other_tokens) == (
        1,
        1,
        4,
        4,
    )
    assert regex.recall == 1.0 and regex.over_masking == 1.0 and regex.leakage == 0.0
    engine = audit_traces([record], methods=("engine",)).row("engine", "math")
    assert engine.recall == 1.0 and engine.over_masking == 0.0 and engine.leakage == 0.0


def test_leakage_with_and_without_answers():
    record = {
        "trace": "<think>It is the Kessen capital, named Veldra.</think>\n<answer>Veldra</answer>",
        "domain": "search",
        "question": "What is the capital of Kessen?",
        "answers": ["Veldra", "capital city"],
        "critical_spans": [],
    }
    leaky = dict(record, trace=record["trace"].replace("Kessen capital", "capital city"))
    report = audit_traces([record, leaky], methods=("engine",))
    assert report.row("engine", "search").leakage == 0.5
    assert report.row("engine+answers", "search").leakage == 0.0
    assert report.row("engine", "search").recall is None


def test_report_renders_and_serializes(report):
    table = report.render()
    assert table.splitlines()[0].split() == [
        "method",
        "domain",
        "traces",
        "leaking",
        "recall",
        "kept",
        "over-masking",
        "distractors-kept",
        "traces/s",
    ]
    assert len(table.splitlines()) == len(report.rows) + 1
    assert str(report) == table
    data = json.loads(report.to_json())
    first = data["rows"][0]
    assert {
        "method",
        "domain",
        "leakage",
        "recall",
        "over_masking",
        "kept",
        "distractors_kept",
        "traces_per_second",
        "occurrences_by_kind",
    } <= set(first)
    assert report.to_rich_table().row_count == len(report.rows)


def test_bad_records_and_methods_are_rejected():
    with pytest.raises(ValueError, match="'fancy'"):
        audit_traces([], methods=("fancy",))
    with pytest.raises(ValueError, match=r"records\[0\]\['domain'\]"):
        audit_traces([{"trace": "x", "domain": "chess"}])
    with pytest.raises(ValueError, match=r"records\[0\]\['trace'\]"):
        audit_traces([{"trace": None, "domain": "math"}])
    with pytest.raises(TypeError, match=r"records\[0\]"):
        audit_traces(["not a dict"])
    assert audit_traces([]).rows == ()


@pytest.mark.slow
def test_engine_throughput_on_search_traces_meets_target():
    records = synthetic_search_records(300, seed=2)
    traces = [r["trace"] for r in records]
    questions = [r["question"] for r in records]
    mask_traces(traces[:2], domain="search", questions=questions[:2])
    best = 0.0
    for _ in range(3):
        began = time.perf_counter()
        mask_traces(traces, domain="search", questions=questions)
        best = max(best, len(traces) / (time.perf_counter() - began))
    assert best >= 100, f"{best:.1f} traces/s"


def test_numbers_in_notation_and_code_names_read_as_articles_are_found_as_critical():
    math = {
        "trace": "Average = (18 + 34)/2 = 26, and 3!\\,5! is 720; x^2 is no 2 here, nor 4,806.",
        "domain": "math",
        "question": None,
        "answers": [],
        "critical_spans": [{"text": "34", "kind": "value"}, {"text": "806", "kind": "value"}],
    }
    row = audit_traces([math], methods=("regex",)).row("regex", "math")
    assert row.occurrences == 1  # the 34 inside notation; not the group after a thousands comma
    code = {
        "trace": "```python\na, b = b, a + b\nreturn a\n```",
        "domain": "code",
        "question": None,
        "answers": [],
        "critical_spans": [{"text": "a, b = b, a + b", "kind": "code"}, {"text": "return a", "kind": "code"}],
    }
    engine = audit_traces([code], methods=("engine",)).row("engine", "code")
    # The variable a belongs to the spans: none of the trace's tokens is off the critical path.
    assert (engine.occurrences, engine.other_tokens) == (2, 1)  # "python", the fence's language
