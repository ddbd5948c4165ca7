"""The README's commands run as written: every script exists, takes every flag the README
passes it, and the short commands run to the end (slow)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def readme_commands() -> list[str]:
    """Every command line of the README's ``bash`` blocks (continuations joined, comments cut)."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.DOTALL):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.split(" #")[0].strip() if not line.lstrip().startswith("#") else ""
            if line:
                commands.append(line)
    return commands


def python_commands() -> list[list[str]]:
    """The ``python <script or -m module> ...`` commands, environment assignments dropped."""
    found = []
    for command in readme_commands():
        words = [w for w in shlex.split(command) if not re.match(r"^[A-Z_]+=", w)]
        if words[:1] == ["python"] and words[1:3] != ["-m", "pytest"]:
            found.append(words[1:])
        elif words[:2] == ["accelerate", "launch"]:
            script = next(i for i, w in enumerate(words) if w.endswith(".py"))
            found.append(words[script:])
    return found


def _target(words: list[str]) -> tuple[str, ...]:
    return tuple(words[:2]) if words[0] == "-m" else (words[0],)


def test_the_readme_shows_the_two_setup_commands_and_the_main_job():
    commands = readme_commands()
    assert commands[:3] == ["bash install.sh", "python -m pytest", "python agents/train_grpo.py"]
    assert len(python_commands()) >= 10


@pytest.mark.parametrize("target", sorted({_target(w) for w in python_commands()}), ids=" ".join)
def test_every_readme_script_takes_every_flag_it_is_shown_with(target):
    if target[0] != "-m":
        assert (REPO / target[0]).is_file(), f"the README runs {target[0]}, which does not exist"
    sub_commands = {
        w[len(target)] for w in python_commands() if _target(w) == target and len(w) > len(target)
    }
    sub_commands = {s for s in sub_commands if not s.startswith("-")} or {""}
    for sub in sub_commands:
        argv = [sys.executable, *target, *([sub] if sub else []), "--help"]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=180, cwd=REPO)
        assert result.returncode == 0, f"{' '.join(argv)} failed: {result.stderr[-1500:]}"
        shown = [w for w in python_commands() if _target(w) == target and (not sub or sub in w)]
        for words in shown:
            for flag in (w.split("=")[0] for w in words if w.startswith("--")):
                assert flag in result.stdout, f"README passes {flag} to {' '.join(target)} {sub}"


@pytest.mark.slow
def test_the_oracle_evaluation_command_runs_as_written(tmp_path):
    command = "python agents/evaluate.py --policy oracle --benchmark fictional-world --split test"
    assert command in readme_commands()
    argv = [sys.executable, *shlex.split(command)[1:], "--output_dir", str(tmp_path)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=900, cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "fictional-world-test" / "results.json").is_file()
