"""Loaders of real benchmarks and of the community's data formats, as lists of :class:`Task`.

Every loader reads a local file when ``path`` is given (``.jsonl``, ``.json`` or ``.parquet``
with the benchmark's own columns) and otherwise downloads the benchmark from the Hugging Face
Hub through ``datasets`` (network; only when the user calls it). Nothing here is used by the
bundled benchmarks or the tests' default paths.

* Search QA (:mod:`~smepo_env.loaders.flashrag`, :mod:`~smepo_env.loaders.search_r1`):
  :func:`load_flashrag` for FlashRAG rows of ``nq``, ``triviaqa``, ``popqa``, ``hotpotqa``,
  ``2wikimultihopqa``, ``musique`` and ``bamboogle``; :func:`load_search_r1_parquet` for
  Search-R1's processed parquet. :mod:`~smepo_env.loaders.multihop` reads the gold route
  (MuSiQue decompositions, 2Wiki evidence triples, HotpotQA supporting facts) and
  :mod:`~smepo_env.loaders.distractor` builds a corpus from the datasets' own paragraphs.
* Math (:mod:`~smepo_env.loaders.math_sets`): :func:`load_gsm8k`, :func:`load_math500`.
* Code (:mod:`~smepo_env.loaders.code_sets`): :func:`load_mbpp`, :func:`load_humaneval`.
* SMEPO's released schema (:mod:`~smepo_env.loaders.smepo_parquet`): :func:`load_smepo_parquet`.
* Any of these files as an env's ``tasks=`` (:mod:`~smepo_env.loaders.task_files`):
  :func:`load_task_file` tells the format from the rows.
"""

from smepo_env.loaders.code_sets import entry_point_of, load_humaneval, load_mbpp
from smepo_env.loaders.distractor import build_distractor_corpus, distractor_corpus_rows
from smepo_env.loaders.flashrag import FLASHRAG_DATASETS, FLASHRAG_SPLITS, load_flashrag
from smepo_env.loaders.math_sets import gsm8k_final_answer, load_gsm8k, load_math500
from smepo_env.loaders.multihop import GoldHop, Paragraph, context_paragraphs, gold_hops
from smepo_env.loaders.rows import read_rows
from smepo_env.loaders.search_r1 import load_search_r1_parquet
from smepo_env.loaders.smepo_parquet import load_smepo_parquet, smepo_code_tests
from smepo_env.loaders.task_files import TASK_FILE_FORMATS, detect_task_format, load_task_file

__all__ = [
    "FLASHRAG_DATASETS",
    "FLASHRAG_SPLITS",
    "TASK_FILE_FORMATS",
    "GoldHop",
    "Paragraph",
    "build_distractor_corpus",
    "context_paragraphs",
    "detect_task_format",
    "distractor_corpus_rows",
    "entry_point_of",
    "gold_hops",
    "gsm8k_final_answer",
    "load_flashrag",
    "load_gsm8k",
    "load_humaneval",
    "load_math500",
    "load_mbpp",
    "load_search_r1_parquet",
    "load_smepo_parquet",
    "load_task_file",
    "read_rows",
    "smepo_code_tests",
]
