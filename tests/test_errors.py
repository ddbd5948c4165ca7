"""The shared choice check and the error hierarchy."""

from __future__ import annotations

import pytest

from smepo_env import errors
from smepo_env.errors import ChoiceError, SmepoError, check_choice


def test_check_choice_returns_a_valid_value():
    assert check_choice("mode", "masked", ("none", "masked")) == "masked"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("maskd", r"mode must be one of \['none', 'masked'\], got 'maskd'\. Did you mean 'masked'\?"),
        ("zzz", r"mode must be one of \['none', 'masked'\], got 'zzz'\.$"),
        (3, r"got 3\."),
    ],
)
def test_check_choice_names_the_value_the_choices_and_the_closest(value, message):
    with pytest.raises(ChoiceError, match=message):
        check_choice("mode", value, ("none", "masked"))


def test_every_error_is_a_smepo_error_and_keeps_its_builtin_base():
    classes = [obj for obj in vars(errors).values() if isinstance(obj, type) and issubclass(obj, Exception)]
    assert len(classes) >= 10
    for cls in classes:
        assert issubclass(cls, SmepoError)
    assert issubclass(errors.ChoiceError, ValueError)
    assert issubclass(errors.IndexNotFoundError, FileNotFoundError)
    assert issubclass(errors.RetrievalUnavailableError, errors.RemoteRetrievalError)


def test_errors_raised_by_the_layers_are_the_shared_types():
    from retrieval_index.store import backend_class
    from smepo_env.training.config import AgentArguments
    from tools.sandbox_config import SandboxConfig

    with pytest.raises(ChoiceError, match="retrieval backend must be one of"):
        backend_class("bm52s")
    with pytest.raises(ChoiceError):
        SandboxConfig(isolation="namespaces")
    with pytest.raises(ChoiceError, match="--expert_guidance"):
        AgentArguments(expert_guidance="maksed")
