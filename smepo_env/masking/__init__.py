"""Semantic masking of expert traces: SMEPO's engine, its regex baseline and the audit.

``mask_trace(trace, domain=..., question=..., answers=...)`` hides the spans of an expert trace
that lie on the critical path to the verifier's target (the answer, bridge entities, derived
values, code, tool results) and keeps the plan readable, with typed, consistent placeholders::

    result = mask_trace(trace, domain="search", question="Where was the director of Blue Harbor born?")
    result.text    # "... <search>[ENTITY_1] birthplace</search> ... <answer>[ANSWER]</answer>"
    result.spans   # HiddenSpan(start, end, kind, text, placeholder), offsets in the original
    result.counts  # {"ANSWER": 3, "ENTITY": 5, "PASSAGE": 3}

The rules of each domain are in :mod:`~smepo_env.masking.search_masker`,
:mod:`~smepo_env.masking.math_masker` and :mod:`~smepo_env.masking.code_masker`; the answer sweep
and its zero-leakage guarantee in :mod:`~smepo_env.masking.engine` and
:mod:`~smepo_env.masking.normalize`.

``method="regex"`` (or :func:`regex_baseline_mask`) reproduces the public reference's two regular
expressions for comparison. :func:`audit_traces` measures leakage, recall, over-masking and
throughput of both.
"""

from smepo_env.masking.audit import AuditReport, MethodAudit, audit_traces
from smepo_env.masking.engine import DOMAINS, METHODS, mask_trace, mask_traces
from smepo_env.masking.normalize import contains_answer, find_answer_occurrences, normalize_answer
from smepo_env.masking.regex_baseline import regex_baseline_mask
from smepo_env.masking.spans import HiddenSpan, MaskResult

__all__ = [
    "DOMAINS",
    "METHODS",
    "AuditReport",
    "HiddenSpan",
    "MaskResult",
    "MethodAudit",
    "audit_traces",
    "contains_answer",
    "find_answer_occurrences",
    "mask_trace",
    "mask_traces",
    "normalize_answer",
    "regex_baseline_mask",
]
