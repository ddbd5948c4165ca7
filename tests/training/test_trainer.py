"""The zero-advantage-skipping trainer gives TRL's own loss and gradient while running fewer rows."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")


def _trainer(tiny_model_dir, tmp_path, **overrides):
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig

    from smepo_env.training.rollout_func import env_reward
    from smepo_env.training.trainer import LeanGRPOTrainer

    values = {
        "output_dir": str(tmp_path / "run"),
        "max_steps": 1,
        "num_generations": 2,
        "per_device_train_batch_size": 4,
        "max_completion_length": 8,
        "report_to": "none",
        "use_cpu": True,
        "bf16": False,
        "save_strategy": "no",
        "seed": 0,
    }
    values.update(overrides)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    trainer = LeanGRPOTrainer(
        model=model,
        args=GRPOConfig(**values),
        reward_funcs=env_reward,
        train_dataset=Dataset.from_list([{"prompt": "a"}, {"prompt": "b"}]),
        processing_class=tokenizer,
    )
    trainer.current_gradient_accumulation_steps = 1  # set by Trainer.train(); the loss reads it
    return trainer


def _batch(advantages):
    """Four rows, left-padded prompts and right-padded completions, env tokens masked in the middle."""
    generator = torch.Generator().manual_seed(0)
    prompt_ids = torch.randint(5, 700, (4, 6), generator=generator)
    prompt_mask = torch.tensor(
        [[0, 0, 1, 1, 1, 1], [0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1]]
    )
    completion_ids = torch.randint(5, 700, (4, 7), generator=generator)
    completion_mask = torch.tensor(
        [[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 0, 0, 0]]
    )
    tool_mask = torch.ones_like(completion_mask)
    tool_mask[:, 1] = 0  # an environment token, out of the loss
    old = -torch.rand(4, 7, generator=generator) * 3
    return {
        "prompt_ids": prompt_ids,
        "prompt_mask": prompt_mask,
        "completion_ids": completion_ids,
        "completion_mask": completion_mask,
        "tool_mask": tool_mask,
        "advantages": torch.tensor(advantages, dtype=torch.float32),
        "old_per_token_logps": old,
        "ref_per_token_logps": old - 0.1,  # read only with a KL term
        "num_items_in_batch": (completion_mask * tool_mask).sum(),
    }


def _loss_and_grads(loss_fn, trainer, inputs):
    trainer.model.zero_grad(set_to_none=True)
    rows = []
    hook = trainer.model.register_forward_pre_hook(
        lambda _module, _args, kwargs: rows.append(kwargs["input_ids"].size(0)), with_kwargs=True
    )
    try:
        loss = loss_fn(trainer, trainer.model, inputs)
        loss.backward()
    finally:
        hook.remove()
    grads = {n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.grad is not None}
    return loss.detach(), grads, rows


def test_the_loss_and_gradient_equal_trls_while_zero_advantage_rows_are_not_run(tiny_model_dir, tmp_path):
    from trl import GRPOTrainer

    from smepo_env.training.trainer import LeanGRPOTrainer

    trainer = _trainer(tiny_model_dir, tmp_path)
    trainer.model.train()
    assert trainer.skips_zero_advantage()
    inputs = _batch([0.0, 0.7, 0.0, -1.3])

    ours, our_grads, our_rows = _loss_and_grads(LeanGRPOTrainer._compute_loss, trainer, inputs)
    trls, trl_grads, trl_rows = _loss_and_grads(GRPOTrainer._compute_loss, trainer, inputs)

    assert our_rows == [2] and trl_rows == [4]
    assert ours.item() != 0.0 and math.isclose(ours.item(), trls.item(), rel_tol=1e-5, abs_tol=1e-7)
    assert our_grads.keys() == trl_grads.keys() and trl_grads
    for name, grad in trl_grads.items():
        torch.testing.assert_close(our_grads[name], grad, rtol=1e-4, atol=1e-6, msg=name)


def test_a_micro_batch_without_signal_gives_zero_gradients_without_running_the_model(
    tiny_model_dir, tmp_path
):
    from smepo_env.training.trainer import LeanGRPOTrainer

    trainer = _trainer(tiny_model_dir, tmp_path)
    trainer.model.train()
    loss, grads, rows = _loss_and_grads(LeanGRPOTrainer._compute_loss, trainer, _batch([0.0, 0.0, 0.0, 0.0]))
    assert rows == [] and loss.item() == 0.0
    trainable = [n for n, p in trainer.model.named_parameters() if p.requires_grad]
    # zeros, not None: the optimizer then steps (momentum, weight decay) as after TRL's own zero gradient
    assert sorted(grads) == sorted(trainable)
    assert all(not grad.any() for grad in grads.values())


def test_rows_whose_old_logprobs_were_skipped_never_reach_the_loss(tiny_model_dir, tmp_path):
    from smepo_env.training.trainer import LeanGRPOTrainer

    trainer = _trainer(tiny_model_dir, tmp_path)
    trainer.model.train()
    inputs = _batch([1e-9, 0.7, 0.0, -1.3])  # a group mean off by rounding: not exactly zero
    inputs["old_per_token_logps"][0] = float("nan")
    loss, grads, rows = _loss_and_grads(LeanGRPOTrainer._compute_loss, trainer, inputs)
    assert rows == [2] and math.isfinite(loss.item())
    assert all(torch.isfinite(grad).all() for grad in grads.values())


def test_the_old_logprob_pass_leaves_noted_rows_out_once(tiny_model_dir, tmp_path):
    from trl import GRPOTrainer

    trainer = _trainer(tiny_model_dir, tmp_path)
    inputs = _batch([0.0, 0.7, 0.0, -1.3])
    input_ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], dim=1)
    attention_mask = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], dim=1)
    with torch.no_grad():
        full, _, _ = GRPOTrainer._get_per_token_logps_and_entropies(
            trainer, trainer.model, input_ids, attention_mask, 7, batch_size=4
        )
        trainer.note_zero_signal_rows([True, False, True, False])
        skipped, _, _ = trainer._get_per_token_logps_and_entropies(
            trainer.model, input_ids, attention_mask, 7, batch_size=4
        )
        again, _, _ = trainer._get_per_token_logps_and_entropies(
            trainer.model, input_ids, attention_mask, 7, batch_size=4
        )
    assert torch.isnan(skipped[[0, 2]]).all()
    torch.testing.assert_close(skipped[[1, 3]], full[[1, 3]])
    torch.testing.assert_close(again, full)  # the note is used by one pass only


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"beta": 0.04}, "a KL term gives zero-advantage rows a gradient"),
        ({"loss_type": "grpo"}, "per-sequence normalisation depends on the rows present"),
        ({"loss_type": "bnpo"}, "the micro-batch's token count normalises the loss"),
        ({"top_entropy_quantile": 0.5}, "the entropy mask is a quantile over the batch"),
    ],
)
def test_settings_where_every_row_matters_run_every_row(tiny_model_dir, tmp_path, overrides, reason):
    from smepo_env.training.trainer import LeanGRPOTrainer

    trainer = _trainer(tiny_model_dir, tmp_path, **overrides)
    trainer.model.train()
    assert not trainer.skips_zero_advantage(), reason
    trainer.note_zero_signal_rows([True, True, False, False])
    assert trainer._zero_signal_rows is None
    _, _, rows = _loss_and_grads(LeanGRPOTrainer._compute_loss, trainer, _batch([0.0, 0.7, 0.0, -1.3]))
    assert rows == [4]


def test_zero_signal_rows_follow_trls_consecutive_groups():
    from smepo_env.training.rollout_func import zero_signal_rows

    assert zero_signal_rows([0.0, 0.0, 1.0, 0.0, 0.5, 0.5], 2) == [True, True, False, False, True, True]
    assert zero_signal_rows([1.0, 1.0, 1.0, 1.0], 4) == [True] * 4
    assert zero_signal_rows([0.0, 0.0, 0.0], 2) == [False] * 3  # not whole groups: nothing marked


class _FixedRollout:
    """A rollout that returns the same episodes every time, with a sampler's log-probs near the policy's.

    Stands in for vLLM: the sampler's log-probs are the policy's own plus noise of ``spread``, so the
    importance-sampling ratios sit near one, some outside TRL's clip range when ``spread`` is large.
    """

    def __init__(self, trainer, rewards, spread):
        generator = torch.Generator().manual_seed(1)
        ids = lambda n: torch.randint(5, 700, (n,), generator=generator).tolist()  # noqa: E731
        self.prompt_ids = [ids(n) for n in (5, 5, 3, 3)]
        self.completion_ids = [ids(n) for n in (6, 2, 4, 5)]
        self.env_mask = [[1] * len(ids) for ids in self.completion_ids]
        self.env_mask[0][2] = 0  # a tool-output token inside the first completion: out of the loss
        self.rewards = rewards
        self.logprobs = []
        with torch.no_grad():
            for prompt, completion in zip(self.prompt_ids, self.completion_ids, strict=True):
                ids = torch.tensor([prompt + completion])
                logits = trainer.model(input_ids=ids).logits[0, len(prompt) - 1 : -1]
                own = logits.log_softmax(-1).gather(-1, torch.tensor(completion)[:, None])[:, 0]
                noise = (torch.rand(len(completion), generator=generator) - 0.5) * 2 * spread
                self.logprobs.append((own + noise).tolist())

    def __call__(self, prompts, trainer):
        return {
            "prompt_ids": self.prompt_ids,
            "completion_ids": self.completion_ids,
            "logprobs": self.logprobs,
            "env_mask": self.env_mask,
            "env_reward": self.rewards,
        }


def _vllm_step(tiny_model_dir, tmp_path, rewards, spread=0.05, **overrides):
    """A trainer whose step looks, to TRL, like a colocated vLLM step with the correction on."""
    trainer = _trainer(tiny_model_dir, tmp_path, **overrides)
    trainer.model.train()
    trainer.rollout_func = _FixedRollout(trainer, rewards, spread)
    trainer.use_vllm = True  # no engine: the rollout above is the sampler, so no weight sync is due
    trainer.vllm_importance_sampling_correction = True
    trainer._last_loaded_step = trainer.state.global_step
    return trainer, [{"prompt": "a"}, {"prompt": "a"}, {"prompt": "b"}, {"prompt": "b"}]


def _count_forwards(trainer):
    rows = []
    hook = trainer.model.register_forward_pre_hook(
        lambda _module, _args, kwargs: rows.append(kwargs["input_ids"].size(0)), with_kwargs=True
    )
    return rows, hook


SAMPLING_METRICS = (
    "sampling/sampling_logp_difference/mean",
    "sampling/sampling_logp_difference/max",
    "sampling/importance_sampling_ratio/min",
    "sampling/importance_sampling_ratio/mean",
    "sampling/importance_sampling_ratio/max",
)


@pytest.mark.parametrize(
    ("mode", "spread"), [("sequence_mask", 0.05), ("token_truncate", 2.0), ("sequence_truncate", 0.3)]
)
def test_an_on_policy_vllm_step_runs_the_policy_once_for_trls_two_pass_loss_gradient_and_metrics(
    tiny_model_dir, tmp_path, mode, spread
):
    from trl import GRPOTrainer

    from smepo_env.training.trainer import LeanGRPOTrainer

    trainer, prompts = _vllm_step(
        tiny_model_dir, tmp_path, [1.0, 0.0, 0.0, 1.0], spread, vllm_importance_sampling_mode=mode
    )
    assert trainer.merges_old_logprob_pass()

    rows, hook = _count_forwards(trainer)
    trls_inputs = GRPOTrainer._generate_and_score_completions(trainer, prompts)
    trls, trl_grads, _ = _loss_and_grads(GRPOTrainer._compute_loss, trainer, trls_inputs)
    trl_metrics = {name: trainer._metrics["train"][name][-1] for name in SAMPLING_METRICS}
    assert rows == [4, 4], "TRL: an old log-prob pass, then the loss pass"
    ratio = trls_inputs["importance_sampling_ratio"]
    assert ratio.ne(1.0).any(), "the sampler's noise must move the ratio for the comparison to mean anything"

    rows.clear()
    trainer._metrics["train"].clear()
    our_inputs = LeanGRPOTrainer._generate_and_score_completions(trainer, prompts)
    ours, our_grads, _ = _loss_and_grads(LeanGRPOTrainer._compute_loss, trainer, our_inputs)
    hook.remove()
    assert rows == [4], "the loss pass only"
    assert math.isclose(ours.item(), trls.item(), rel_tol=1e-4, abs_tol=1e-6)
    assert our_grads.keys() == trl_grads.keys() and trl_grads
    for name, grad in trl_grads.items():
        torch.testing.assert_close(our_grads[name], grad, rtol=1e-3, atol=1e-6, msg=name)
    trainer.log({})
    logged = trainer.state.log_history[-1]
    for name, value in trl_metrics.items():
        assert math.isclose(logged[name], value, rel_tol=1e-4, abs_tol=1e-6), name


def test_a_merged_step_still_leaves_signal_free_groups_out(tiny_model_dir, tmp_path):
    from trl import GRPOTrainer

    from smepo_env.training.trainer import LeanGRPOTrainer

    trainer, prompts = _vllm_step(tiny_model_dir, tmp_path, [1.0, 1.0, 0.0, 1.0])
    rows, hook = _count_forwards(trainer)
    trls_inputs = GRPOTrainer._generate_and_score_completions(trainer, prompts)
    trls, trl_grads, _ = _loss_and_grads(GRPOTrainer._compute_loss, trainer, trls_inputs)
    rows.clear()
    our_inputs = LeanGRPOTrainer._generate_and_score_completions(trainer, prompts)
    ours, our_grads, _ = _loss_and_grads(LeanGRPOTrainer._compute_loss, trainer, our_inputs)
    hook.remove()
    assert rows == [2], "one pass, over the group with signal"
    assert math.isclose(ours.item(), trls.item(), rel_tol=1e-4, abs_tol=1e-6)
    for name, grad in trl_grads.items():
        torch.testing.assert_close(our_grads[name], grad, rtol=1e-3, atol=1e-6, msg=name)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"num_iterations": 2}, "the second iteration's weights differ from the sampler's"),
        ({"gradient_accumulation_steps": 2, "steps_per_generation": 4}, "a generation spans optimizer steps"),
        ({"vllm_importance_sampling_correction": False}, "no correction: TRL skips the pass itself"),
    ],
)
def test_steps_that_are_not_on_policy_keep_the_old_log_prob_pass(tiny_model_dir, tmp_path, overrides, reason):
    correction = overrides.pop("vllm_importance_sampling_correction", True)
    trainer, _ = _vllm_step(tiny_model_dir, tmp_path, [1.0, 0.0, 0.0, 1.0], **overrides)
    trainer.vllm_importance_sampling_correction = correction
    assert not trainer.merges_old_logprob_pass(), reason


def test_a_merged_step_that_trains_no_row_logs_no_sampling_metrics(tiny_model_dir, tmp_path):
    from smepo_env.training.trainer import LeanGRPOTrainer

    trainer, prompts = _vllm_step(tiny_model_dir, tmp_path, [1.0, 1.0, 0.0, 0.0])
    rows, hook = _count_forwards(trainer)
    inputs = LeanGRPOTrainer._generate_and_score_completions(trainer, prompts)
    _loss_and_grads(LeanGRPOTrainer._compute_loss, trainer, inputs)
    hook.remove()
    assert rows == []
    assert trainer._metrics["train"]["sampling/importance_sampling_ratio/mean"] == [1.0]  # TRL's placeholder
    trainer.log({})
    logged = trainer.state.log_history[-1]
    assert not [name for name in SAMPLING_METRICS if name in logged], logged
    assert "reward" in logged  # the rest of TRL's step metrics are still there
