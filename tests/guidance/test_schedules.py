"""Guidance schedules: always, on_failure and anneal decide what each task's prompt shows."""

from __future__ import annotations

import itertools
import random

import gymnasium as gym
import pytest

import smepo_env  # noqa: F401
from smepo_env.envs.search_qa import SearchQAEnv
from smepo_env.errors import ChoiceError
from smepo_env.guidance import DEFAULT_INTRO, ExpertGuidanceWrapper, GuidanceSchedule, set_shown_share
from smepo_env.guidance.schedules import UNGUIDED, guidance_wrapper
from smepo_env.vocabulary import GUIDANCE_SCHEDULES

TRACE = "\n".join(f"<think>step {i} of the expert route</think>" for i in range(20))
TASK = {
    "id": "t1",
    "question": "Where was Bridith Nouju born?",
    "answers": ["Gaekuth"],
    "expert_trace": TRACE,
}


def test_always_guides_every_task_with_the_mode_share_at_every_step():
    for mode, share in (("masked", 1.0), ("full", 1.0), ("prefix", 0.5)):
        schedule = GuidanceSchedule("always", mode)
        decisions = {schedule.decide(f"t{i}", step) for i in range(5) for step in (0, 7, 10_000)}
        assert {(d.guided, d.shown_share) for d in decisions} == {(True, share)}
        schedule.record("t1", False, [0.0, 0.0])  # failures change nothing
        assert schedule.decide("t1", 3).shown_share == share
    assert GuidanceSchedule("always", "masked", prefix_ratio=0.25).decide("t", 0).shown_share == 0.25
    assert GuidanceSchedule("always", "none").decide("t", 0) == UNGUIDED


def test_on_failure_guides_exactly_the_tasks_whose_last_unguided_group_earned_nothing():
    schedule = GuidanceSchedule("on_failure", "masked")
    rng = random.Random(0)
    last_unguided: dict[str, list[float]] = {}  # the reference: each task's last unguided group
    for step in range(60):
        for task in rng.sample([f"t{i}" for i in range(12)], 4):
            decision = schedule.decide(task, step)
            expected = task in last_unguided and not any(last_unguided[task])
            assert decision.guided == expected, (step, task, last_unguided.get(task))
            rewards = [float(rng.random() < 0.3) for _ in range(4)]
            # A guided group may succeed or fail: it never changes the decision.
            schedule.record(task, decision.guided, rewards)
            if not decision.guided:
                last_unguided[task] = rewards
    failed = sorted(t for t, r in last_unguided.items() if not any(r))
    assert failed and schedule.failed_tasks() == failed
    assert all(schedule.decide(t, 99).shown_share == 1.0 for t in failed)


def test_on_failure_probes_unseen_tasks_and_reads_partial_credit_as_reward():
    schedule = GuidanceSchedule("on_failure", "prefix")
    assert schedule.decide("new", 0) == UNGUIDED
    schedule.record("new", False, [0.0, 0.0, 0.0])
    assert schedule.decide("new", 1).guided and schedule.decide("new", 1).shown_share == 0.5
    schedule.record("new", True, [1.0, 1.0])  # guided success: still guided
    assert schedule.decide("new", 2).guided
    schedule.record("other", False, [0.0, 0.25])  # any reward above 0 is a success
    assert not schedule.decide("other", 2).guided
    schedule.record("new", False, [])  # an empty group is no evidence
    assert schedule.decide("new", 3).guided


def test_anneal_share_decays_linearly_to_zero_then_prompts_are_unguided():
    schedule = GuidanceSchedule("anneal", "masked", anneal_steps=8)
    shares = [schedule.decide("t", step).shown_share for step in range(12)]
    assert shares[:9] == pytest.approx([1 - s / 8 for s in range(9)])
    assert all(a > b for a, b in itertools.pairwise(shares[:9]))  # strictly decreasing
    assert all(not schedule.decide("t", step).guided for step in range(8, 12))
    half = GuidanceSchedule("anneal", "prefix", anneal_steps=4)
    assert [half.shown_share(s) for s in range(5)] == pytest.approx([0.5, 0.375, 0.25, 0.125, 0.0])


def test_annealed_share_shrinks_the_trace_in_the_prompt():
    env = gym.make("smepo/SearchQA-v0", tasks=[TASK], expert_guidance="full")
    plain, _ = SearchQAEnv(tasks=[TASK]).reset(seed=0)
    schedule = GuidanceSchedule("anneal", "full", anneal_steps=5)
    shown = []
    for step in range(5):
        decision = schedule.decide("t1", step)
        set_shown_share(env, decision.shown_share)
        prompt, info = env.reset(seed=0)
        assert DEFAULT_INTRO in prompt and info["guidance"]["prefix_ratio"] == decision.shown_share
        shown.append(info["guidance"]["shown_chars"])
    assert shown[0] == len(TRACE) and all(a > b for a, b in itertools.pairwise(shown))
    assert not schedule.decide("t1", 5).guided  # from here the trainer plays the plain env
    assert DEFAULT_INTRO not in plain


def test_state_round_trip_and_mismatched_settings():
    schedule = GuidanceSchedule("on_failure", "masked")
    schedule.record("a", False, [0.0])
    schedule.record("b", False, [1.0])
    restored = GuidanceSchedule("on_failure", "masked")
    restored.load_state_dict(schedule.state_dict())
    assert restored.decide("a", 5).guided and not restored.decide("b", 5).guided
    assert restored.state_dict() == schedule.state_dict()
    with pytest.raises(ValueError, match="schedule='on_failure', this run has 'always'"):
        GuidanceSchedule("always", "masked").load_state_dict(schedule.state_dict())
    with pytest.raises(ValueError, match="mode='masked', this run has 'full'"):
        GuidanceSchedule("on_failure", "full").load_state_dict(schedule.state_dict())
    longer = GuidanceSchedule("anneal", "masked", anneal_steps=20)  # a resumed run may train longer
    longer.load_state_dict(GuidanceSchedule("anneal", "masked", anneal_steps=10).state_dict())
    assert longer.anneal_steps == 20


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (
            ("on_falure", "masked"),
            {},
            ChoiceError,
            r"schedule must be one of .*mean 'on_failure'",
        ),
        (("always", "maskd"), {}, ChoiceError, "Did you mean 'masked'"),
        (("on_failure", "none"), {}, ValueError, "needs a guidance mode other than 'none'"),
        (("anneal", "masked"), {}, ValueError, "anneal_steps >= 1, got 0"),
        (
            ("always", "masked"),
            {"prefix_ratio": 0.0},
            ValueError,
            r"prefix_ratio must be a number in \(0, 1\]",
        ),
    ],
)
def test_bad_settings_name_the_value_and_the_choices(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        GuidanceSchedule(*args, **kwargs)
    assert GUIDANCE_SCHEDULES == ("always", "on_failure", "anneal")


def test_set_shown_share_finds_the_wrapper_and_refuses_bad_shares():
    env = gym.make("smepo/SearchQA-v0", tasks=[TASK], expert_guidance="masked")
    assert isinstance(guidance_wrapper(env), ExpertGuidanceWrapper)
    set_shown_share(env, 0.3)
    assert env.get_wrapper_attr("prefix_ratio") == 0.3
    with pytest.raises(ValueError, match=r"shown share must be in \(0, 1\], got 0"):
        set_shown_share(env, 0)
    with pytest.raises(ValueError, match="no ExpertGuidanceWrapper"):
        guidance_wrapper(SearchQAEnv(tasks=[TASK]))
