"""Train an agent with GRPO (TRL) on a smepo environment, with expert guidance.

With no arguments it runs the embedded default on a CPU: SmolLM2-135M-Instruct (bundled),
single-hop questions of the bundled fictional-world benchmark, masked guidance, a cached
supervised warm start, then GRPO; it prints held-out unguided exact match before and after.

    python agents/train_grpo.py
    python agents/train_grpo.py --expert_guidance none --max_steps 20 --output_dir runs/none
    python agents/train_grpo.py --config configs/grpo_default.yaml
    python agents/train_grpo.py --resume            # continue the run in --output_dir
    python agents/train_grpo.py --env_id smepo/SearchQA-v0 --expert_guidance masked \\
        --model Qwen/Qwen2.5-3B-Instruct --use_vllm --vllm_mode colocate --bf16   # GPU
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run :func:`smepo_env.training.grpo.train_agent`."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from smepo_env.errors import ModelNotFoundError
    from smepo_env.training.config import parse_arguments

    try:
        agent_args, grpo_config = parse_arguments(argv)
        agent_args.check_model()  # a bad --model fails here; a bundled one is converted by the job
    except (ValueError, ModelNotFoundError) as error:
        print(f"train_grpo.py: error: {error}", file=sys.stderr)
        return 2
    from smepo_env.training.grpo import train_agent

    train_agent(agent_args, grpo_config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
