"""Collecting expert traces by rejection sampling: a teacher plays each task, rewarded traces are kept.

:func:`collect_traces` plays every task of an environment with a
:class:`~smepo_env.traces.teachers.Teacher` through the evaluation episode loop
(:func:`smepo_env.rollout.episodes.run_episodes`, envs made unguided as evaluation makes them).
A trace is kept when its episode earns at least ``min_reward`` (the env's own reward; 1.0 is a
correct answer) and the teacher accepts it (the gold teacher also checks each hop's passages);
otherwise the task is tried again, at most ``samples`` times. Tries run in rounds over all
pending tasks, ``batch_size`` episodes at a time.

Output (``out``, JSONL): one task row per kept trace, ``{id, question, answers, question_type,
benchmark, expert_trace, expert_actions, critical_spans, teacher, attempt, reward, turns,
tool_calls}``: a task file read by :func:`~smepo_env.tasks.load_tasks_jsonl` (the masking audit
reads it; ``expert_actions``, the teacher's turns, are what the evaluation ``oracle`` and the
trainer's supervised warm start replay), a ``trace_source=`` for the guidance wrapper (keyed by id
and question), and the input of :func:`~smepo_env.traces.smepo_parquet.write_smepo_parquet`. Each
kept row is flushed and fsynced as soon as its batch ends, so a killed run loses nothing kept; a
rerun with the same ``out`` skips the tasks already kept (a partial last line is cut off) and
those recorded as dropped in ``<out>.dropped.jsonl`` (unless ``retry_dropped``).
``<out>.summary.json`` holds the run's figures (:class:`CollectSummary`).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from smepo_env.errors import TaskFormatError
from smepo_env.files import atomic_file
from smepo_env.rollout.episodes import Episode, run_episodes
from smepo_env.tasks import Task
from smepo_env.traces.teachers import Teacher


@dataclass
class CollectSummary:
    """Figures of one collection run.

    Attributes:
        teacher: the teacher's name.
        tasks: tasks in the environment (after ``limit``).
        already_done: tasks skipped because an earlier run kept or dropped them.
        tried: tasks this run played or dropped untried.
        kept: tasks whose trace was kept this run.
        dropped: tasks dropped this run (after ``samples`` tries, or untried).
        episodes: episodes played.
        keep_rate: ``kept / tried``.
        seconds: wall time.
        generated: ids the teacher generated (in ``token_unit``).
        token_unit: ``"tokens"`` or ``"word pieces"`` (text teachers).
        drop_reasons: why tasks were dropped (the last try's reason), counted.
        teacher_usage: the teacher's own counters (endpoint requests and tokens, ...).
        out: the traces file.
    """

    teacher: str
    tasks: int = 0
    already_done: int = 0
    tried: int = 0
    kept: int = 0
    dropped: int = 0
    episodes: int = 0
    keep_rate: float = 0.0
    seconds: float = 0.0
    generated: int = 0
    token_unit: str = "tokens"
    drop_reasons: dict[str, int] = field(default_factory=dict)
    teacher_usage: dict[str, Any] = field(default_factory=dict)
    out: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def _repair_and_read(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL written by this module; a partial last line (a killed write) is cut off."""
    if not path.is_file():
        return []
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with path.open("r+b") as handle:
            handle.truncate(cut)
        data = data[:cut]
    rows = []
    for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                message = f"{path}:{number}: not a JSON row ({error.msg}); not resuming"
                raise TaskFormatError(message) from None
    return rows


class _DurableWriter:
    """Appends JSON rows, flushed and fsynced per batch."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = path.open("a", encoding="utf-8")

    def write(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        self._handle.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()


def dropped_path(out: str | os.PathLike[str]) -> Path:
    """Where the dropped tasks of ``out`` are recorded."""
    return Path(f"{os.fspath(out)}.dropped.jsonl")


def summary_path(out: str | os.PathLike[str]) -> Path:
    """Where the summary of ``out`` is written."""
    return Path(f"{os.fspath(out)}.summary.json")


def trace_row(task: Task, teacher: Teacher, episode: Episode, attempt: int) -> dict[str, Any]:
    """The kept row of one trace (see the module docstring)."""
    return {
        "id": task.id,
        "question": task.question,
        "answers": list(task.answers),
        "question_type": task.question_type,
        "benchmark": task.benchmark,
        "expert_trace": episode.transcript(teacher.tokenizer),
        "expert_actions": list(episode.actions),
        "critical_spans": teacher.critical_spans(task),
        "teacher": teacher.name,
        "attempt": attempt + 1,
        "reward": episode.reward,
        "turns": episode.num_turns,
        "tool_calls": dict(episode.info.get("tool_calls", {})),
    }


def reason_category(reason: str) -> str:
    """The coarse class of a drop reason, for counting (``"wrong answer"``, ``"hop answer not
    retrieved"``, ``"no gold route"``, ...)."""
    if reason.startswith("hop "):
        return "hop answer not retrieved" if "passage" in reason else "episode ended before a hop"
    if reason.startswith("wrong answer"):
        return "wrong answer"
    return reason.split(":")[0]


def _episode_reason(episode: Episode, min_reward: float) -> str | None:
    if episode.reward >= min_reward:
        return None
    if episode.end_reason == "terminated":
        return f"wrong answer (reward {episode.reward:g})"
    return {
        "truncated": "no answer within max_turns",
        "eos": "the teacher stopped without an answer",
        "budget": "completion budget exhausted",
    }.get(episode.end_reason, f"ended: {episode.end_reason}")


def collect_traces(
    teacher: Teacher,
    env_id: str,
    env_kwargs: Mapping[str, Any] | None,
    out: str | os.PathLike[str],
    *,
    samples: int = 4,
    min_reward: float = 1.0,
    batch_size: int = 8,
    max_completion_tokens: int = 2048,
    max_turn_tokens: int = 256,
    limit: int | None = None,
    retry_dropped: bool = False,
    show_progress: bool = True,
) -> CollectSummary:
    """Play each task up to ``samples`` times and keep the first rewarded trace (see the module docstring).

    Args:
        teacher: who plays.
        env_id: a registered ``smepo/*`` id; its tasks (``env_kwargs["tasks"]``) are the tasks.
        env_kwargs: env constructor kwargs (``expert_guidance`` is ignored: teachers play unguided).
        out: the traces JSONL (appended to; resumed from).
        samples: most tries per task (K).
        min_reward: the reward a kept episode must reach.
        batch_size: episodes played together.
        max_completion_tokens: episode budget, in the teacher's ids (model and observation).
        max_turn_tokens: most ids one teacher turn may generate.
        limit: play only the first ``limit`` tasks.
        retry_dropped: try again tasks an earlier run dropped.
        show_progress: a tqdm bar with the keep rate.

    Returns:
        The run's :class:`CollectSummary` (also written to ``<out>.summary.json``).
    """
    from tqdm.auto import tqdm

    from smepo_env.evaluation.model_policy import make_unguided_envs

    for name, value in (("samples", samples), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive integer or None, got {limit!r}")
    started = time.perf_counter()
    out = Path(out)
    envs = make_unguided_envs(env_id, env_kwargs, batch_size)
    base_env = envs[0].unwrapped
    tasks: list[Task] = list(base_env.tasks)[:limit]
    top_k = getattr(base_env, "top_k", None)
    done = {str(row.get("id")) for row in _repair_and_read(out)}
    if not retry_dropped:
        done |= {str(row.get("id")) for row in _repair_and_read(dropped_path(out))}
    summary = CollectSummary(teacher.name, tasks=len(tasks), token_unit=teacher.token_unit, out=str(out))
    pending = [task for task in tasks if task.id not in done]
    summary.already_done = len(tasks) - len(pending)
    summary.tried = len(pending)
    kept_writer, dropped_writer = _DurableWriter(out), _DurableWriter(dropped_path(out))
    reasons: Counter[str] = Counter()
    last_reason: dict[str, list[str]] = {}
    bar = tqdm(total=len(pending), desc=f"traces ({teacher.name})", disable=not show_progress)

    def drop(task: Task, why: list[str]) -> dict[str, Any]:
        reasons[reason_category(why[-1])] += 1
        summary.dropped += 1
        bar.update(1)
        return {"id": task.id, "question": task.question, "teacher": teacher.name, "reasons": why}

    try:
        untried = [(task, teacher.cannot_play(task)) for task in pending]
        dropped_writer.write([drop(task, [why]) for task, why in untried if why])
        pending = [task for task, why in untried if not why]
        for attempt in range(samples):
            still_pending = []
            for start in range(0, len(pending), batch_size):
                chunk = pending[start : start + batch_size]
                teacher.begin(chunk, attempt)
                episodes = run_episodes(
                    teacher.generator,
                    teacher.tokenizer,
                    envs[: len(chunk)],
                    [{"task_id": task.id} for task in chunk],
                    max_completion_tokens=max_completion_tokens,
                    max_turn_tokens=max_turn_tokens,
                )
                summary.episodes += len(episodes)
                kept_rows = []
                for task, episode in zip(chunk, episodes, strict=True):
                    summary.generated += sum(episode.env_mask)
                    why = _episode_reason(episode, min_reward) or teacher.reject_reason(task, episode, top_k)
                    if why is None:
                        kept_rows.append(trace_row(task, teacher, episode, attempt))
                    else:
                        last_reason.setdefault(task.id, []).append(why)
                        still_pending.append(task)
                kept_writer.write(kept_rows)
                summary.kept += len(kept_rows)
                bar.update(len(kept_rows))
                finished = summary.kept + summary.dropped
                rate = f"{summary.kept / max(1, finished):.0%}"
                bar.set_postfix(kept=summary.kept, keep_rate=rate, round=attempt + 1)
            pending = still_pending
        dropped_writer.write([drop(task, last_reason[task.id]) for task in pending])
    finally:
        bar.close()
        kept_writer.close()
        dropped_writer.close()
        for env in envs:
            env.close()
    summary.keep_rate = summary.kept / summary.tried if summary.tried else 0.0
    summary.seconds = round(time.perf_counter() - started, 3)
    summary.drop_reasons = dict(reasons.most_common())
    summary.teacher_usage = teacher.usage()
    with atomic_file(summary_path(out)) as handle:
        json.dump(summary.to_dict(), handle, indent=2)
    return summary
