"""Generated content is pinned: a change to what a generator draws must bump its version.

The cache keys a build by ``GENERATOR_VERSION``, so a generator whose output changes without a
new version would leave users reading stale builds. Each pin below is the hash of a small
generation (all splits, every field of every question or problem); a refactor must keep it, and
a deliberate change of content bumps ``GENERATOR_VERSION`` and replaces the pin.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import pytest

from smepo_env.benchmarks import benchmark_module

PINS = {
    # name: (generator version, size, seed, hash of the generated content)
    "fictional-world": (2, 0.2, 3, "55da3275eda7d308"),
    "world-facts": (1, 0.1, 0, "e3ee57835343069c"),
    "math-word": (2, 0.05, 3, "9e0ceeb31ed74e46"),
    "code-functions": (3, 0.1, 1, "b686063636e8b34a"),
}


def _as_json(value: Any) -> Any:
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else repr(value)


def content_hash(generated: Any) -> str:
    """A short SHA-256 of generated content, independent of dict order."""
    text = json.dumps(generated, default=_as_json, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@pytest.mark.parametrize("name", sorted(PINS))
def test_generated_content_matches_its_pin(name):
    module = benchmark_module(name)
    version, size, seed, pinned = PINS[name]
    generate = getattr(module, "generate_problems", None) or module.generate
    digest = content_hash(generate(size, seed))
    if version != module.GENERATOR_VERSION:
        pytest.fail(f"{name} is at generator version {module.GENERATOR_VERSION}: update its pin to {digest}")
    assert digest == pinned, f"{name} content changed without a GENERATOR_VERSION bump"


def test_the_hash_sees_every_field():
    base = {"train": [{"question": "q", "answers": ["a"]}]}
    assert content_hash(base) != content_hash({"train": [{"question": "q", "answers": ["b"]}]})
    assert content_hash(base) == content_hash(json.loads(json.dumps(base)))
