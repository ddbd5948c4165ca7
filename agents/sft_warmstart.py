"""Supervised warm start on expert traces (TRL SFTTrainer), cached; prints the model directory.

The loss is on the expert's own turns only: prompt and ``<information>`` observation tokens
are masked out. ``agents/train_grpo.py`` runs this itself (unless ``--no_sft_warmstart``);
run it alone to prepare or inspect the warm start:

    python agents/sft_warmstart.py
    python agents/sft_warmstart.py --sft_num_examples 512 --sft_epochs 2 --output_dir runs/sft
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field


@dataclass
class WarmstartRunArguments:
    """Where to save and with which seed."""

    output_dir: str = field(default="", metadata={"help": "Save here instead of the shared cache."})
    seed: int = field(default=0, metadata={"help": "Seed of the data order and the trainer."})


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the warm start (or find it cached) and print its directory."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from trl import TrlParser

    from smepo_env.errors import ModelNotFoundError
    from smepo_env.training.config import CONFIG_EPILOG, AgentArguments

    parser = TrlParser((AgentArguments, WarmstartRunArguments), prog="sft_warmstart.py", epilog=CONFIG_EPILOG)
    try:
        agent_args, run_args = parser.parse_args_and_config(args=argv)
        agent_args.check_env_id()
        model_location = agent_args.resolved_model()
    except (ValueError, ModelNotFoundError) as error:
        print(f"sft_warmstart.py: error: {error}", file=sys.stderr)
        return 2
    from smepo_env.training.sft import run_warmstart, warmstart_settings_from

    settings = warmstart_settings_from(agent_args, model_location, run_args.seed)
    directory = run_warmstart(settings, output_dir=run_args.output_dir or None)
    print(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
