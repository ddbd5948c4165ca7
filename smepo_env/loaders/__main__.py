"""``python -m smepo_env.loaders``: look at task files, and build a distractor-setting corpus.

    python -m smepo_env.loaders show hotpotqa/dev.jsonl musique/dev.parquet
    python -m smepo_env.loaders distractor-corpus musique/dev.jsonl --out musique-corpus.jsonl

``show`` prints, per file, the format detected, the tasks, their question types and how many
carry a gold route; ``distractor-corpus`` pools the files' paragraphs into one corpus JSONL
(:mod:`smepo_env.loaders.distractor`).
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from smepo_env.loaders.distractor import build_distractor_corpus
from smepo_env.loaders.multihop import gold_hops
from smepo_env.loaders.rows import read_rows
from smepo_env.loaders.task_files import detect_task_format, load_task_file


def make_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m smepo_env.loaders", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("show", help="the format, tasks and question types of task files")
    show.add_argument("files", nargs="+", type=Path)
    corpus = commands.add_parser("distractor-corpus", help="a corpus from the files' own paragraphs")
    corpus.add_argument("files", nargs="+", type=Path)
    corpus.add_argument("--out", type=Path, required=True, help="the corpus JSONL to write")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = make_parser().parse_args(argv)
    if args.command == "show":
        for path in args.files:
            tasks = load_task_file(path)
            kind = detect_task_format(read_rows(path)[0])
            types = Counter(task.question_type for task in tasks)
            routes = sum(
                bool(gold_hops(str(t.metadata.get("dataset", "")), t.question, t.metadata.get("flashrag")))
                for t in tasks
            )
            aliases = sum(len(t.answers) for t in tasks)
            print(
                f"{path}: {kind}, {len(tasks)} tasks, {aliases} gold answers, "
                f"{routes} with a gold route; types {dict(types)}; first: {tasks[0].id} {tasks[0].question!r}"
            )
        return 0
    tasks = [task for path in args.files for task in load_task_file(path)]
    stats = build_distractor_corpus(tasks, args.out)
    print(
        f"{args.out}: {stats.passages} passages from {stats.paragraphs} paragraphs of "
        f"{stats.questions_with_paragraphs}/{stats.questions} questions"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
