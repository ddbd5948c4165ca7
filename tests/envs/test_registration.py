"""Every registered smepo id: gymnasium's checker, seeded determinism, pickling, guidance kwarg."""

from __future__ import annotations

import pickle
import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import smepo_env

ACTIONS = [
    "<think>plan</think><search>the first query</search>",
    "<python>print(6 * 7)</python>",
    "no tags here",
    "<answer>42</answer>",
]


def _rollout(env: gym.Env, seed: int) -> list:
    observation, info = env.reset(seed=seed)
    trail = [observation, info["task_id"]]
    for action in ACTIONS:
        observation, reward, terminated, truncated, info = env.step(action)
        trail.append((observation, reward, terminated, truncated, info.get("action_kind")))
        if terminated or truncated:
            break
    return trail


@pytest.mark.parametrize("env_id", smepo_env.ENV_IDS)
def test_check_env(env_id):
    env = gym.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the checker's warnings are failures here
        check_env(env.unwrapped, skip_render_check=True)
    env.close()


@pytest.mark.parametrize("env_id", smepo_env.ENV_IDS)
def test_seeded_rollouts_repeat_and_pickle(env_id):
    env = gym.make(env_id)
    first, second = _rollout(env, seed=11), _rollout(env, seed=11)
    assert first == second
    clone = pickle.loads(pickle.dumps(env.unwrapped))
    assert _rollout(clone, seed=11) == first


@pytest.mark.parametrize("env_id", smepo_env.ENV_IDS)
@pytest.mark.parametrize("mode", ["none", "full", "prefix", "masked"])
def test_every_id_takes_the_guidance_kwarg(env_id, mode):
    env = gym.make(env_id, expert_guidance=mode)
    _, info = env.reset(seed=0)
    assert info["guidance"]["mode"] == mode
    assert info["guidance"]["applied"] == (mode != "none")


@pytest.mark.parametrize("env_id", smepo_env.ENV_IDS)
def test_masked_guidance_rollouts_repeat_and_pickle(env_id):
    env = gym.make(env_id, expert_guidance="masked")
    first, second = _rollout(env, seed=3), _rollout(env, seed=3)
    assert first == second
    assert "expert" in first[0].lower()  # the guided prompt, not the plain one
    clone = pickle.loads(pickle.dumps(env))
    assert _rollout(clone, seed=3) == first


def test_catalogue_is_registered_in_one_place():
    assert set(smepo_env.ENV_IDS) <= set(gym.registry)
    assert all(gym.registry[i].entry_point.startswith("smepo_env.envs.") for i in smepo_env.ENV_IDS)


def test_make_without_prior_import_uses_the_module_prefix():
    import subprocess
    import sys

    code = (
        "import gymnasium as gym; e = gym.make('smepo_env:smepo/SearchQA-v0'); "
        "print(type(e.unwrapped).__name__)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "SearchQAEnv"
