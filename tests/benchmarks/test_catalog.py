"""The catalogue: every benchmark's module sits in its domain's subpackage and is named after it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from smepo_env.benchmarks import BENCHMARKS, benchmark_module
from smepo_env.errors import ChoiceError
from smepo_env.vocabulary import DEFAULT_BENCHMARKS, DOMAINS


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_each_benchmark_module_lives_in_its_domain_and_exposes_the_contract(name):
    module = benchmark_module(name)
    assert module.DOMAIN in DOMAINS
    assert module.__name__ == f"smepo_env.benchmarks.{module.DOMAIN}.{name.replace('-', '_')}"
    assert isinstance(module.GENERATOR_VERSION, int) and module.GENERATOR_VERSION >= 1
    assert callable(module.build)


def test_every_domain_default_is_a_bundled_benchmark_of_that_domain():
    for domain, name in DEFAULT_BENCHMARKS.items():
        assert domain == benchmark_module(name).DOMAIN


def test_an_unknown_benchmark_is_named_with_the_choices_and_the_closest():
    with pytest.raises(ChoiceError, match=r"benchmark must be one of .*got 'math_word'") as error:
        benchmark_module("math_word")
    assert "math-word" in str(error.value).rsplit("got", 1)[1]  # the did-you-mean hint


def test_importing_the_benchmarks_does_not_import_the_environments():
    """Imports run one way: envs -> benchmarks. Generating (not building) needs no env module."""
    code = (
        "import sys\n"
        "from smepo_env.benchmarks import BENCHMARKS, benchmark_module\n"
        "import smepo_env.benchmarks.expert_play, smepo_env.benchmarks.search.build\n"
        "for name in BENCHMARKS: benchmark_module(name)\n"
        "from smepo_env.benchmarks.math.math_word import generate_problems\n"
        "generate_problems(0.01)\n"
        "print(sorted(m for m in sys.modules if m.startswith('smepo_env.envs')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
