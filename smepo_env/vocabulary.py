"""The words several layers share, declared once: task domains, expert-guidance modes and schedules.

The masking engine, the guidance wrapper, the benchmarks, the trainer's config and the CLIs all
check values against these tuples (with :func:`smepo_env.errors.check_choice`). The protocol's
own vocabulary (call tags, stop strings, the passage format) lives in :mod:`smepo_env.protocol`.
"""

from __future__ import annotations

DOMAINS: tuple[str, ...] = ("search", "math", "code")
"""Task domains: each env, benchmark and masker belongs to one."""

DEFAULT_BENCHMARKS: dict[str, str] = {
    "search": "fictional-world",
    "math": "math-word",
    "code": "code-functions",
}
"""The bundled benchmark each domain's environment plays unless told otherwise."""

GUIDANCE_MODES: tuple[str, ...] = ("none", "full", "prefix", "masked")
"""How the expert trace is shown: not at all, whole, its first part, or with critical spans hidden."""

PROTOCOLS: tuple[str, ...] = ("tags", "tools")
"""How an agent acts: Search-R1 tags through our rollout function, or the model's native tool
calls through TRL's ``environment_factory`` (see :mod:`smepo_env.integrations`)."""

GUIDANCE_SCHEDULES: tuple[str, ...] = ("always", "on_failure", "anneal")
"""When training prompts carry the guidance: every time, only on prompts the policy failed
unguided, or with a shown share of the trace that decays over training (see
:mod:`smepo_env.guidance.schedules`)."""
