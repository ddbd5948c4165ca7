"""The code masker: hide implementations and execution results, keep signatures and the plan.

Rules:

1. **Code bodies** become ``[CODE]``, one placeholder per run of hidden lines, indentation kept:
   fenced blocks (```` ``` ```` or ``~~~``, closed or not), ``<python>`` bodies, and unfenced
   code in the prose: runs of lines that start like code (``for ... :``, ``x = ...``,
   ``return``, ``import``, ``f(...)``, ``>>>`` ...) and parse with :mod:`ast` as a block, or line
   by line. Prose that merely mentions code (``return the list``) does not parse and stays.
2. **Signatures stay**: ``def``/``class`` header lines, found with :mod:`ast` (multi-line headers
   included; the body of a one-line ``def f(x): return x`` is hidden after the colon), or by
   pattern when the block is not Python (``function f(a) {``, ``fn f(a: i32) -> i32 {``,
   ``int f(int a) {``). Decorators and bodies are hidden. Top-level calls that only
   run a function defined in the trace on literal inputs (``print(repr(f(183)))``: calls,
   names, attributes and literals, nothing computed; also over a comprehension that only calls,
   ``print([k for k in range(20) if is_prime(k)])``) also stay: they are how the expert
   tested, not what it wrote. So does the rest of the test scaffolding: ``assert`` statements that
   only compare such calls with literals (``assert gcd(48, 18) == 6``, also unfenced in the prose
   after a fenced draft), ``for`` loops over literals that only run such calls, imports and calls
   of a test runner (``import doctest``, ``print(doctest.testmod())``) and doctest lines that only
   call a function on literals (``>>> fib(10)``); the result a doctest prints stays hidden.
   Docstrings stay too, but for those results: they say what the function does, not how.
3. **Inline code** (```` `...` ````) is hidden when it writes a value (```42```, ```[2, 3]```)
   or computes something the hidden code computes (a call, subscript, operation, comparison or
   statement of it: ```sorted(nums)[k - 1]``` beside ``ordered = sorted(nums)``, ```lo = mid```).
   It is kept when it only names something (```nums```, ```heapq.heappush```, ```sorted()```,
   ```nums[i]```), is not Python, or explains with what the code never computes (```hi = lo +
   1``` as the case a loop gets stuck on, a test call ```two_sum([1, 5], 6)```): that is the
   route, which the policy should read.
4. **Results** are hidden as ``[OUTPUT]``: ``<output>`` bodies, the value after ``Output:``,
   ``Result:``, ``Returns:``, ``Prints:`` or ``Expected output:`` at the start of a line, lines
   that follow a ``>>>`` prompt, and a literal after "returns", "prints", "outputs", "gives",
   "giving", "produces", "evaluates to" or "equals" (``returns 42``, ``prints [1, 2]``).
5. The ``<answer>`` body is masked as code when it holds code, else hidden as ``[ANSWER]``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from smepo_env.masking.segments import split_segments
from smepo_env.masking.spans import SpanDraft

_FENCE = re.compile(r"(?m)^[ \t]*(```+|~~~+)[ \t]*([^\n`]*)\n")
_INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_CODE_START = re.compile(
    r"[ \t]*(?:(?:async\s+)?def\s+\w+\s*\(|class\s+\w+|(?:for|while|if|elif|with)\s.*:\s*(?:#.*)?$"
    r"|(?:else|try|finally)\s*:|except\b.*:|return\b|import\s+\w|from\s+[\w.]+\s+import\s|print\s*\("
    r"|assert\s|raise\b|yield\b|@\w|[A-Za-z_][\w.]*(?:\[[^\]]*\])?(?:\s*,\s*[A-Za-z_]\w*)*\s*"
    r"(?:[-+*/%&|^]|//|\*\*)?=(?!=)\s*\S|[A-Za-z_][\w.]*\s*\(.*\)\s*$|>>>\s)"
)
_OTHER_SIGNATURE = re.compile(
    r"[ \t]*(?:(?:export\s+)?(?:async\s+)?function\s*\*?\s*\w+\s*\(.*|(?:pub(?:\([^)]*\))?\s+)?"
    r"(?:async\s+)?fn\s+\w+.*|func\s+.*|(?!(?:if|for|while|switch|return|else|catch|new|do)\b)"
    r"(?:[\w:<>,\[\]*&]+\s+)+[*&]?\w+\s*\([^;{}]*\)\s*(?:const\s*)?(?:throws\s+[\w.,\s]+)?)\{?\s*$"
)
_PY_SIGNATURE = re.compile(
    r"[ \t]*(?:(?:async\s+)?def\s+\w+\s*\(.*\)\s*(?:->.*)?|class\s+\w+.*):\s*(?:#.*)?$"
)
_RESULT_LINE = re.compile(
    r"(?im)^[ \t]*(?:[-*][ \t]*)?(?:\*\*)?(?:expected\s+output|actual\s+output|output|result|returns?|prints?"
    r"|stdout)(?:\*\*)?[ \t]*[:=](?:\*\*)?[ \t]*(?P<body>\S[^\n]*?)[ \t]*$"
)
_RESULT_PHRASE = re.compile(
    r"(?i)\b(?:returns?|outputs?|prints?|gives|giving|yields|produces|evaluates\s+to|equals)\s+"
    r"(?P<body>-?\d+(?:\.\d+)?(?!\.?\d)(?!\w)|'[^'\n]*'|\"[^\"\n]*\"|\[(?:[^\[\]\n]|\[[^\[\]\n]*\])*\]|\((?:[^()\n]|\([^()\n]*\))*\)|True\b|False\b|None\b)"
)


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``(start, end)`` of each line of ``text[start:end]``, newlines excluded."""
    lines = []
    cursor = start
    while cursor <= end:
        newline = text.find("\n", cursor, end)
        stop = end if newline < 0 else newline
        lines.append((cursor, stop))
        if newline < 0:
            break
        cursor = newline + 1
    return lines


_INVOCATION_NODES = (
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Attribute,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.Set,
    ast.UnaryOp,
    ast.USub,
    ast.UAdd,
    ast.keyword,
    ast.Starred,
)


_COMPREHENSION_NODES = (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.comprehension, ast.Store)


def _is_invocation(node: ast.expr, defined: set[str] | None) -> bool:
    """A call of a function defined in the block (any plain-named function when ``defined`` is
    ``None``), made only of calls, names, attributes and literals, also over a comprehension that
    only calls (``[k for k in range(20) if is_prime(k)]``): a test run of the code, not an
    algorithm."""
    children = list(ast.walk(node))
    return (
        isinstance(node, ast.Call)
        and all(isinstance(child, _INVOCATION_NODES + _COMPREHENSION_NODES) for child in children)
        and any(
            isinstance(c, ast.Call)
            and isinstance(c.func, ast.Name)
            and (defined is None or c.func.id in defined)
            for c in children
        )
    )


_LITERAL_NODES = (
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.Set,
    ast.UnaryOp,
    ast.USub,
    ast.UAdd,
    ast.Load,
)


def _is_literal(node: ast.expr) -> bool:
    return all(isinstance(child, _LITERAL_NODES) for child in ast.walk(node))


def _is_test(node: ast.expr, defined: set[str] | None) -> bool:
    """A test of the code: a call of a defined function on literals, possibly negated or compared
    with literals (``assert gcd(48, 18) == 6``, ``assert not is_palindrome("hello")``)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        node = node.operand
    if isinstance(node, ast.Compare):
        parts = [node.left, *node.comparators]
        calls = [part for part in parts if not _is_literal(part)]
        return bool(calls) and all(_is_invocation(part, defined) for part in calls)
    return _is_invocation(node, defined)


_TEST_RUNNERS = frozenset({"doctest", "unittest", "pytest"})


def _is_scaffolding(statement: ast.stmt, defined: set[str]) -> bool:
    """A top-level statement that only tests the code (rule 2): a run of a defined function on
    literals, an ``assert`` of one, an import of a test runner and its call
    (``print(doctest.testmod())``), or a ``for`` loop over literals whose body only runs the code
    (``for t in [1, 7]: print(t, search([1, 3, 7], t))``)."""
    if isinstance(statement, ast.Expr):
        return _is_invocation(statement.value, defined) or _runs_tests(statement.value)
    if isinstance(statement, ast.Assert):
        return _is_test(statement.test, defined)
    if isinstance(statement, ast.Import | ast.ImportFrom):
        names = [statement.module or ""] if isinstance(statement, ast.ImportFrom) else []
        names += [alias.name for alias in statement.names]
        return all(name.split(".")[0] in _TEST_RUNNERS for name in names)
    if isinstance(statement, ast.For) and not statement.orelse and isinstance(statement.target, ast.Name):
        inputs = statement.iter
        if isinstance(inputs, ast.Call) and isinstance(inputs.func, ast.Name) and inputs.func.id == "range":
            inputs = ast.Tuple(elts=list(inputs.args), ctx=ast.Load())
        return _is_literal(inputs) and all(
            isinstance(inner, ast.Expr) and _is_invocation(inner.value, defined) for inner in statement.body
        )
    return False


def _runs_tests(node: ast.expr) -> bool:
    """A call of a test runner (``doctest.testmod()``, ``unittest.main()``), maybe printed."""
    for child in ast.walk(node):
        if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
            owner = child.func.value
            if isinstance(owner, ast.Name) and owner.id in _TEST_RUNNERS:
                return all(isinstance(c, _INVOCATION_NODES) for c in ast.walk(node))
    return False


def _doctest_call(line: str, defined: set[str] | None) -> bool:
    """Whether a ``>>> ...`` line only calls a defined function on literals (test scaffolding)."""
    stripped = line.strip()
    if not stripped.startswith(">>>"):
        return False
    try:
        node = ast.parse(stripped[3:].strip(), mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return _is_invocation(node, defined)


def _python_headers(source: str, known: frozenset[str] = frozenset()) -> dict[int, int | None] | None:
    """Header lines of the defs and classes in ``source`` (0-based), or ``None`` if it is not Python.

    Maps a line index to ``None`` (keep the whole line) or to the column where a one-line body
    starts (keep the line up to there). Test scaffolding and docstrings (but the results their
    examples print) are kept whole. ``known`` names functions the trace defines elsewhere (asserts
    written after a fenced draft test that draft).
    """
    lines = source.split("\n")
    indents = [line[: len(line) - len(line.lstrip())] for line in lines if line.strip()]
    prefix = min(indents, key=len) if indents else ""
    while prefix and not all(indent.startswith(prefix) for indent in indents):
        prefix = prefix[:-1]
    dedented = "\n".join(line[len(prefix) :] if line.strip() else "" for line in lines)
    try:
        tree = ast.parse(dedented)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    headers: dict[int, int | None] = {}
    defined = set(known) | {
        node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    for statement in tree.body:
        if _is_scaffolding(statement, defined):
            for line in range(statement.lineno - 1, (statement.end_lineno or statement.lineno)):
                headers[line] = None
    for index, line in enumerate(lines):
        if _doctest_call(line, defined):
            headers[index] = None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first_body = node.body[0]
            if _is_docstring(first_body):
                headers.update(_docstring_lines(lines, first_body, defined))
            if first_body.lineno == node.lineno:
                headers[node.lineno - 1] = first_body.col_offset + len(prefix)
            else:
                for line in range(node.lineno - 1, first_body.lineno - 1):
                    headers[line] = None
    return headers


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def _docstring_lines(lines: list[str], docstring: ast.stmt, defined: set[str]) -> dict[int, None]:
    """The lines of a docstring to keep: its prose and its doctest calls on literals, not the
    results they print nor a doctest line that computes (rule 2)."""
    kept: dict[int, None] = {}
    after_prompt = False
    for index in range(docstring.lineno - 1, docstring.end_lineno or docstring.lineno):
        stripped = lines[index].strip()
        if stripped.startswith((">>>", "...")):
            after_prompt = True
            if _doctest_call(lines[index], defined):
                kept[index] = None
        elif after_prompt and stripped and stripped.strip("\"'"):
            continue
        else:
            after_prompt = False
            kept[index] = None
    return kept


def code_block_drafts(
    text: str, start: int, end: int, known: frozenset[str] = frozenset()
) -> list[SpanDraft]:
    """Hide the code in ``text[start:end]`` except its signatures and test scaffolding (rule 2);
    ``known`` names the functions the trace defines."""
    lines = _lines(text, start, end)
    headers = _python_headers(text[start:end], known)
    if headers is None:
        headers = {
            index: None
            for index, (line_start, line_end) in enumerate(lines)
            if _PY_SIGNATURE.fullmatch(text, line_start, line_end)
            or _OTHER_SIGNATURE.fullmatch(text, line_start, line_end)
        }
    drafts: list[SpanDraft] = []
    run: list[tuple[int, int]] = []

    def close_run() -> None:
        if run:
            first_start = run[0][0]
            while first_start < run[0][1] and text[first_start] in " \t":
                first_start += 1
            drafts.append(SpanDraft(first_start, run[-1][1], "CODE"))
            run.clear()

    for index, (line_start, line_end) in enumerate(lines):
        content_end = line_end
        while content_end > line_start and text[content_end - 1].isspace():
            content_end -= 1
        if content_end == line_start:
            continue
        if index in headers:
            column = headers[index]
            close_run()
            if column is not None and line_start + column < content_end:
                drafts.append(SpanDraft(line_start + column, content_end, "CODE"))
            continue
        run.append((line_start, content_end))
    close_run()
    return drafts


def _fences(text: str, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """Fenced blocks in ``text[start:end]``: ``(block_start, body_start, body_end, block_end)``."""
    cursor = start
    while True:
        opening = _FENCE.search(text, cursor, end)
        if opening is None:
            return
        marker = opening.group(1)
        closing = re.compile(rf"(?m)^[ \t]*{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$")
        found = closing.search(text, opening.end(), end)
        body_end = end if found is None else max(opening.end(), found.start() - 1)
        block_end = end if found is None else found.end()
        yield opening.start(), opening.end(), body_end, block_end
        cursor = block_end


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True


def _line_is_code(line: str) -> bool:
    stripped = line.strip()
    if stripped.startswith(">>>"):
        return True
    if stripped.endswith(":"):
        stripped += " pass"
    return _parses(stripped)


def _is_reference(source: str) -> bool:
    """Whether inline code only names something, or is not Python (kept visible, rule 3)."""
    code = source.strip()
    try:
        node = ast.parse(code, mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        is_signature = code.startswith(("def ", "class ", "async def ")) and _parses(code + " pass")
        return is_signature or not _parses(code)
    if isinstance(node, ast.Call) and not node.args and not node.keywords:
        node = node.func
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Name):
        node = node.value
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


_COMPUTING = (ast.Call, ast.Subscript, ast.BinOp, ast.BoolOp, ast.Compare, ast.stmt)


def _pieces(source: str) -> set[str] | None:
    """The computing pieces of a line or snippet of Python (calls, subscripts, operations,
    comparisons and statements, as :func:`ast.dump` writes them), or ``None`` if it does not
    parse."""
    code = source.strip()
    if code.endswith(":"):
        code += " pass"
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    return {
        ast.dump(node)
        for node in ast.walk(tree)
        if isinstance(node, _COMPUTING) and not isinstance(node, ast.Pass | ast.Expr)
    }


@dataclass
class _Implementation:
    """What the hidden code computes: its pieces, and the text of lines that are not Python."""

    pieces: set[str] = field(default_factory=set)
    other_lines: list[str] = field(default_factory=list)

    def add(self, code: str) -> None:
        for line in code.split("\n"):
            pieces = _pieces(line)
            if pieces is None:
                self.other_lines.append(_squeezed(line))
            else:
                self.pieces |= pieces

    def writes(self, code: str) -> bool:
        """Whether ``code`` computes something the implementation computes."""
        pieces = _pieces(code)
        if pieces is None:
            return any(_squeezed(code) in line for line in self.other_lines)
        return bool(pieces & self.pieces)


def _inline_drafts(text: str, start: int, end: int, implementation: _Implementation) -> list[SpanDraft]:
    """Inline code in a stretch of prose (rule 3): hidden when it writes a value or computes
    something the hidden implementation computes (``sorted(nums)[k - 1]`` beside ``ordered =
    sorted(nums)``), kept when it names something or explains with what the code never computes
    (``hi = lo + 1`` as the case a loop gets stuck on, a test call)."""
    drafts = []
    for match in _INLINE.finditer(text, start, end):
        code = match.group(1)
        if _is_reference(code):
            continue
        if _is_literal_source(code) or implementation.writes(code):
            drafts.append(SpanDraft(match.start(1), match.end(1), "CODE"))
    return drafts


def _is_literal_source(code: str) -> bool:
    try:
        return _is_literal(ast.parse(code.strip(), mode="eval").body)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False


def _squeezed(code: str) -> str:
    """Code without its whitespace, for comparing a mention with the implementation."""
    return "".join(code.split())


def _prose_drafts(text: str, start: int, end: int, known: frozenset[str] = frozenset()) -> list[SpanDraft]:
    """Unfenced code and results in a stretch of prose (rules 1 and 4)."""
    drafts: list[SpanDraft] = []
    region = text[start:end]
    for pattern in (_RESULT_LINE, _RESULT_PHRASE):
        for match in pattern.finditer(region):
            drafts.append(SpanDraft(start + match.start("body"), start + match.end("body"), "OUTPUT"))
    lines = _lines(text, start, end)
    index = 0
    while index < len(lines):
        line_start, line_end = lines[index]
        if not _CODE_START.match(text, line_start, line_end):
            index += 1
            continue
        stop = index + 1
        in_session = text[line_start:line_end].lstrip().startswith(">>>")
        while stop < len(lines):
            next_start, next_end = lines[stop]
            line = text[next_start:next_end]
            indented = line[:1] in (" ", "\t") and line.strip()
            continues = indented or _CODE_START.match(text, next_start, next_end) or line.startswith("...")
            if not (continues or (in_session and line.strip())):
                break
            in_session = in_session or line.lstrip().startswith(">>>")
            stop += 1
        drafts.extend(_code_run_drafts(text, lines[index:stop], known))
        index = stop
    return drafts


def _code_run_drafts(text: str, lines: list[tuple[int, int]], known: frozenset[str]) -> list[SpanDraft]:
    block_start, block_end = lines[0][0], lines[-1][1]
    block = text[block_start:block_end]
    if not block.lstrip().startswith(">>>") and _python_headers(block, known) is not None:
        return code_block_drafts(text, block_start, block_end, known)
    drafts: list[SpanDraft] = []
    after_prompt = False
    for line_start, line_end in lines:
        line = text[line_start:line_end]
        content_start = line_start + len(line) - len(line.lstrip())
        if line.lstrip().startswith((">>>", "...")):
            after_prompt = True
            if _doctest_call(line, known or None):
                continue
            prompt_end = content_start + 3
            while prompt_end < line_end and text[prompt_end] in " \t":
                prompt_end += 1
            drafts.append(SpanDraft(prompt_end, line_start + len(line.rstrip()), "CODE"))
        elif after_prompt and line.strip():
            drafts.append(SpanDraft(content_start, line_start + len(line.rstrip()), "OUTPUT"))
        elif _line_is_code(line) and not _PY_SIGNATURE.fullmatch(line):
            drafts.append(SpanDraft(content_start, line_start + len(line.rstrip()), "CODE"))
    return drafts


def _text_drafts(
    text: str, start: int, end: int, known: frozenset[str], prose: list[tuple[int, int]]
) -> list[SpanDraft]:
    """Fenced blocks and, between them, prose rules, for one expert-written stretch; the prose
    stretches are added to ``prose``."""
    drafts: list[SpanDraft] = []
    cursor = start
    for _, body_start, body_end, block_end in _fences(text, start, end):
        drafts.extend(_prose_drafts(text, cursor, body_start, known))
        prose.append((cursor, body_start))
        drafts.extend(code_block_drafts(text, body_start, body_end, known))
        cursor = block_end
    drafts.extend(_prose_drafts(text, cursor, end, known))
    prose.append((cursor, end))
    return drafts


_DEFINITION = re.compile(r"(?m)^[ \t]*(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(")


def code_drafts(trace: str) -> list[SpanDraft]:
    """Spans to hide in one code trace (rules in the module docstring)."""
    known = frozenset(_DEFINITION.findall(trace))
    drafts: list[SpanDraft] = []
    prose: list[tuple[int, int]] = []
    for segment in split_segments(trace):
        start, end = segment.body_start, segment.body_end
        if segment.is_tool_output:
            body = trace[start:end]
            offset = len(body) - len(body.lstrip())
            drafts.append(SpanDraft(start + offset, start + len(body.rstrip()), "OUTPUT"))
        elif segment.tag == "python":
            drafts.extend(code_block_drafts(trace, start, end, known))
        elif segment.tag == "answer":
            body = trace[start:end]
            if _FENCE.search(body) or (_python_headers(body) is not None and _CODE_START.match(body.strip())):
                drafts.extend(_text_drafts(trace, start, end, known, prose))
            else:
                offset = len(body) - len(body.lstrip())
                drafts.append(SpanDraft(start + offset, start + len(body.rstrip()), "ANSWER"))
        else:
            drafts.extend(_text_drafts(trace, start, end, known, prose))
    implementation = _Implementation()
    for draft in drafts:
        if draft.kind in ("CODE", "ANSWER"):
            implementation.add(trace[draft.start : draft.end])
    for start, end in prose:
        drafts.extend(_inline_drafts(trace, start, end, implementation))
    return drafts
