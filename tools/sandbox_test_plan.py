"""Hidden tests split into what the sandbox computes and what the host decides.

A submission runs in the same process as anything evaluated next to it in the sandbox, so it
can make any check made there come out true (``__eq__`` that is always true, patched
builtins, a forged verdict written to a pipe). So a test is split, on its syntax tree, into

* **probes**: the expressions that need the submission (``f(2, 3)``, ``sorted(f(x))``),
  evaluated in the sandbox; their values come back as plain data
  (:mod:`tools.sandbox_plain`), and
* **checks**: everything that holds an expected value (``== 5``, ``abs(... - 1.0) < 1e-6``,
  ``math.isclose``), evaluated here, on the host, over the probes' values, by a small
  evaluator that only knows literals, operators, comparisons and a few pure builtins.

The expected values never enter the sandbox, so the most a submission can do is return
values; it passes exactly when they are the expected ones.

Supported test shapes (anything that is plain Python at the top level of a test or its setup):

* ``assert EXPR[, message]`` where the expected side of ``EXPR`` is made of literals, names
  assigned literals earlier in the test, operators, comparisons, ``and``/``or``/``not``,
  subscripts and the builtins in :data:`HOST_FUNCTIONS` (plus ``math.isclose`` and friends);
* imports, ``def``/``class`` helpers, assignments and other statements without ``assert``:
  they run in the sandbox, before the probes that follow them (an assignment of a literal runs
  there only when sandbox code reads the name, so ``expected = [3]`` stays on the host);
* ``def check(candidate): <asserts>`` with a call ``check(f)`` (HumanEval): the call is
  replaced by the body, with ``candidate`` replaced by ``f``;
* whole programs on stdin/stdout (:class:`StdioTest`): the sandbox captures what the
  program prints, the host compares it token by token.

Other shapes fail closed: a test whose ``assert`` sits inside a loop, an ``if``, a ``with``
or ``try``, or inside a function that is not called as ``check(f)``, and a test with no
``assert`` at all, cannot be checked on the host; it counts as failed with the error
``UnsupportedTest: <why>`` (:func:`unsupported_reason` says so ahead of time).

Known limit: values a probe needs are inputs and do enter the sandbox, so a test that passes
its expected value into a call (``assert same(f(x), expected)``, or a round trip
``assert decode(encode(s)) == s``) can be read by the submission.
"""

from __future__ import annotations

import ast
import copy
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

HOST_FUNCTIONS: dict[str, Any] = {
    "abs": abs,
    "all": all,
    "any": any,
    "bool": bool,
    "dict": dict,
    "float": float,
    "frozenset": frozenset,
    "int": int,
    "isinstance": isinstance,
    "len": len,
    "list": list,
    "max": max,
    "min": min,
    "round": round,
    "set": set,
    "sorted": sorted,
    "str": str,
    "sum": sum,
    "tuple": tuple,
    "type": type,
    "bytes": bytes,
    "complex": complex,
}
"""Builtins a host check may call (on plain data only)."""
MATH_NAMES: dict[str, Any] = {
    name: getattr(math, name)
    for name in ("isclose", "fabs", "sqrt", "floor", "ceil", "isnan", "isinf", "inf", "nan", "pi", "e")
}
"""``math.<name>`` a host check may use."""
CONVERSIONS = frozenset(
    {"list", "tuple", "set", "frozenset", "sorted", "dict", "str", "int", "float", "bool", "len"}
)
"""Conversions applied in the sandbox when their one argument is a probe (``sorted(f(x))``),
so a submission returning a generator or a custom sequence is converted as Python would."""
MAX_SEQUENCE = 10_000_000
"""Largest sequence a host-side ``*`` may build, and bound on ``**`` results (in bits)."""

_CONTAINERS = (
    ast.Compare,
    ast.BoolOp,
    ast.UnaryOp,
    ast.BinOp,
    ast.IfExp,
    ast.Tuple,
    ast.List,
    ast.Set,
    ast.Dict,
)
_NOT_ON_HOST = (
    ast.Lambda,
    ast.NamedExpr,
    ast.Starred,
    ast.Await,
    ast.Yield,
    ast.YieldFrom,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.JoinedStr,
)
"""Expressions a host check never evaluates (they become probes when they need the sandbox)."""
_COMPOUND = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.Match,
)
_PROBE = "__probe_"


@dataclass(frozen=True)
class StdioTest:
    """A whole-program test: run the submission as ``__main__`` on ``input``; its printed
    output must equal ``output`` token by token (whitespace-separated)."""

    input: str
    output: str


@dataclass(frozen=True)
class Check:
    """One host-side assertion: ``expression`` over probe placeholders and host names."""

    expression: ast.expr
    names: Mapping[str, Any]
    message: str


@dataclass(frozen=True)
class TestPlan:
    """What the sandbox runs for one test and what the host then checks.

    Attributes:
        source: the test as given (shown in outcomes).
        steps: in order, ``("exec", source)`` statements and ``("probe", source)``
            expressions the harness runs after the solution; ``("stdio", input)`` runs the
            solution as ``__main__`` on that input and probes its printed output.
        checks: host checks, in order; all must hold.
        unsupported: why the test cannot be checked on the host (``""`` when it can).
    """

    __test__ = False  # not a pytest test class, despite the name

    source: str
    steps: tuple[tuple[str, str], ...] = ()
    checks: tuple[Check, ...] = ()
    unsupported: str = ""
    probe_count: int = field(default=0)

    def judge(self, results: Sequence[tuple[bool, Any]]) -> tuple[bool, str]:
        """Decide the test from its probes' results (``(ok, value or error)`` each, in order).

        Returns ``(passed, error)``; ``error`` is ``"Type: message"`` for a failure.
        """
        if self.unsupported:
            return False, f"UnsupportedTest: {self.unsupported}"
        values = {f"{_PROBE}{index}": result for index, result in enumerate(results)}
        for check in self.checks:
            try:
                if not _evaluate(check.expression, {**check.names, **values}):
                    return False, f"AssertionError: {check.message}" if check.message else "AssertionError"
            except _ProbeFailed as failure:
                return False, str(failure)
            except RecursionError:
                return False, "RecursionError: values nested too deeply"
            except Exception as error:  # a check that raises on these values fails
                return False, f"{type(error).__name__}: {str(error)[:200]}".rstrip(": ")
        return True, ""


class _ProbeFailed(Exception):
    """A check needed a probe that raised or did not return plain data."""


class _Unsupported(Exception):
    """The test has a shape the host cannot check."""


def plan_stdio_test(test: StdioTest) -> TestPlan:
    """The plan of a whole-program test: one stdio probe, compared token by token."""
    expected = test.output.split()
    expression = ast.parse(f"tokens({_PROBE}0) == expected", mode="eval").body
    check = Check(expression, {"expected": expected, "tokens": _tokens}, "wrong output")
    source = f"stdin: {test.input[:200]!r}"
    return TestPlan(source, (("stdio", test.input),), (check,), probe_count=1)


def plan_test(setup: str, test: str) -> TestPlan:
    """Split one assert-style test (run after ``setup``) into sandbox steps and host checks.

    An unsupported shape gives a plan with ``unsupported`` set (it fails when judged).

    Raises:
        ValueError: ``setup`` or ``test`` is not valid Python.
    """
    statements = []
    for what, source in (("setup", setup), ("test", test)):
        try:
            statements += ast.parse(source).body
        except SyntaxError as error:
            raise ValueError(f"{what} is not valid Python: {error}") from error
    try:
        return _Planner().plan(test, statements)
    except _Unsupported as reason:
        return TestPlan(test, unsupported=str(reason))


def unsupported_reason(setup: str, test: str) -> str:
    """Why a test cannot be checked on the host, or ``""`` when it can.

    Raises:
        ValueError: ``setup`` or ``test`` is not valid Python.
    """
    return plan_test(setup, test).unsupported


def _contains_assert(node: ast.AST) -> bool:
    return any(isinstance(child, ast.Assert) for child in ast.walk(node))


def _bound_names(statement: ast.stmt) -> set[str]:
    """Names a statement binds at the top level (assignment targets, defs, imports, loops)."""
    names: set[str] = set()
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).partition(".")[0] for alias in statement.names}
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def _loaded_names(source: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}


class _Substitute(ast.NodeTransformer):
    """Replace loads of parameter names with argument expressions (inlining ``check(f)``)."""

    def __init__(self, mapping: dict[str, ast.expr]) -> None:
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if isinstance(node.ctx, ast.Load) and node.id in self.mapping:
            return copy.deepcopy(self.mapping[node.id])
        return node


class _Planner:
    """Walks a test's statements once, building steps, host names and checks."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, str]] = []
        self.host: dict[str, Any] = {}  # names assigned literals, with their values
        self.host_sources: dict[int, tuple[str, str]] = {}  # step index -> (name, assignment)
        self.sandbox_bound: set[str] = set()
        self.check_functions: dict[str, ast.FunctionDef] = {}
        self.checks: list[Check] = []
        self.probes = 0
        self.math_aliases: dict[str, Any] = {}  # ``from math import isclose``: host knows isclose

    def plan(self, source: str, statements: list[ast.stmt]) -> TestPlan:
        for statement in self._inline(statements):
            self._statement(statement)
        if not self.checks:
            raise _Unsupported("the test has no top-level assert the host can check")
        loaded: set[str] = set()
        for kind, text in self.steps:
            if kind in ("exec", "probe"):
                loaded |= _loaded_names(text)
        steps = []
        for index, step in enumerate(self.steps):
            if step[0] == "host":  # a literal assignment: sent only when sandbox code reads it
                name, assignment = self.host_sources[index]
                if name in loaded:
                    steps.append(("exec", assignment))
                continue
            steps.append(step)
        return TestPlan(source, tuple(steps), tuple(self.checks), probe_count=self.probes)

    def _inline(self, statements: list[ast.stmt]) -> list[ast.stmt]:
        """Replace ``check(f)`` calls of assert-holding functions by their bodies."""
        result: list[ast.stmt] = []
        for statement in statements:
            if isinstance(statement, ast.FunctionDef) and _contains_assert(statement):
                self.check_functions[statement.name] = statement
                continue
            call = statement.value if isinstance(statement, ast.Expr) else None
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id in self.check_functions
            ):
                function = self.check_functions[call.func.id]
                parameters = [argument.arg for argument in function.args.args]
                if call.keywords or len(call.args) != len(parameters) or function.args.vararg:
                    raise _Unsupported(f"{call.func.id}() is called with other arguments than its parameters")
                mapping = dict(zip(parameters, call.args, strict=True))
                body = [_Substitute(mapping).visit(copy.deepcopy(inner)) for inner in function.body]
                if any(isinstance(node, ast.Return) for inner in body for node in ast.walk(inner)):
                    raise _Unsupported(f"{call.func.id}() returns early")
                result += self._inline(body)
                continue
            result.append(statement)
        return result

    def _statement(self, statement: ast.stmt) -> None:
        if isinstance(statement, ast.Assert):
            self._assert(statement)
            return
        if isinstance(statement, ast.Pass) or (
            isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
        ):
            return
        if _contains_assert(statement):
            kind = type(statement).__name__.lower()
            where = f"inside a {kind} statement" if isinstance(statement, _COMPOUND) else f"inside a {kind}"
            raise _Unsupported(f"an assert {where} (only top-level asserts can be checked on the host)")
        for name in self.check_functions:
            if name in _loaded_names(ast.unparse(statement)):
                raise _Unsupported(f"the assert-holding function {name}() is used other than as {name}(f)")
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and self._host_only(statement.value)
        ):
            name = statement.targets[0].id
            try:
                self.host[name] = _evaluate(statement.value, self._names())
            except Exception as error:
                raise _Unsupported(
                    f"{name} = ... fails on the host: {type(error).__name__}: {error}"
                ) from error
            self.sandbox_bound.discard(name)
            self.host_sources[len(self.steps)] = (name, ast.unparse(statement))
            self.steps.append(("host", name))
            return
        bound = _bound_names(statement)
        for name in bound:
            self.host.pop(name, None)
        if isinstance(statement, ast.Import) and all(
            alias.name == "math" and not alias.asname for alias in statement.names
        ):
            bound = set()  # the host has its own math
        elif isinstance(statement, ast.ImportFrom) and statement.module == "math" and statement.level == 0:
            for alias in statement.names:
                if alias.name in MATH_NAMES:
                    self.math_aliases[alias.asname or alias.name] = MATH_NAMES[alias.name]
                    bound.discard(alias.asname or alias.name)
        for name in bound:
            self.math_aliases.pop(name, None)
        self.sandbox_bound |= bound
        self.steps.append(("exec", ast.unparse(statement)))

    def _names(self) -> dict[str, Any]:
        names: dict[str, Any] = {
            name: value for name, value in HOST_FUNCTIONS.items() if name not in self.sandbox_bound
        }
        if "math" not in self.sandbox_bound:
            names["math"] = _MATH
        names.update(self.math_aliases)
        names.update(self.host)
        return names

    def _assert(self, statement: ast.Assert) -> None:
        expression = self._lower(statement.test)
        message = ""
        if isinstance(statement.msg, ast.Constant):
            message = str(statement.msg.value)
        elif statement.msg is not None:
            message = ast.unparse(statement.msg)
        self.checks.append(Check(expression, dict(self._names()), message[:200]))

    def _host_only(self, node: ast.AST) -> bool:
        names = self._names()
        for child in ast.walk(node):
            if isinstance(child, ast.Name):
                if child.id not in names:
                    return False
            elif isinstance(child, ast.Attribute):
                if not (
                    isinstance(child.value, ast.Name)
                    and child.value.id == "math"
                    and child.attr in MATH_NAMES
                ):
                    return False
            elif isinstance(child, ast.Call):
                if not isinstance(child.func, (ast.Name, ast.Attribute)):
                    return False
            elif isinstance(child, _NOT_ON_HOST):
                return False
        return "math" not in names or not _uses_math_module_itself(node)

    def _probe(self, node: ast.expr) -> ast.expr:
        if any(isinstance(child, ast.Compare) for child in ast.walk(node)):
            raise _Unsupported(
                f"a comparison inside code the sandbox evaluates ({ast.unparse(node)[:80]}); "
                "the host must make every comparison with an expected value"
            )
        source = ast.unparse(node)
        try:
            ast.parse(source, mode="eval")
        except SyntaxError as error:
            raise _Unsupported(f"{source[:80]} cannot be evaluated on its own") from error
        self.steps.append(("probe", source))
        name = ast.Name(id=f"{_PROBE}{self.probes}", ctx=ast.Load())
        self.probes += 1
        return name

    def _lower(self, node: ast.expr) -> ast.expr:
        """``node`` with every part that needs the sandbox replaced by a probe placeholder."""
        if self._host_only(node):
            return node
        if isinstance(node, ast.Call) and self._host_only(node.func):
            if self._is_conversion_of_probe(node):
                return self._probe(node)
            return ast.Call(
                func=node.func,
                args=[self._lower(argument) for argument in node.args],
                keywords=[ast.keyword(arg=kw.arg, value=self._lower(kw.value)) for kw in node.keywords],
            )
        if isinstance(node, _CONTAINERS):
            lowered = copy.copy(node)
            for name, value in ast.iter_fields(node):
                if isinstance(value, ast.expr):
                    setattr(lowered, name, self._lower(value))
                elif (isinstance(value, list) and value and isinstance(value[0], ast.expr)) or (
                    name == "keys" and isinstance(value, list)
                ):
                    setattr(
                        lowered, name, [self._lower(item) if item is not None else None for item in value]
                    )
            return lowered
        return self._probe(node)

    def _is_conversion_of_probe(self, node: ast.Call) -> bool:
        if not (isinstance(node.func, ast.Name) and node.func.id in CONVERSIONS and len(node.args) == 1):
            return False
        if any(kw.arg != "reverse" or not isinstance(kw.value, ast.Constant) for kw in node.keywords):
            return False
        argument = node.args[0]
        return not self._host_only(argument) and not isinstance(argument, _CONTAINERS)


class _MathNamespace:
    """``math`` as host checks see it: only :data:`MATH_NAMES`."""

    def __getattr__(self, name: str) -> Any:
        if name not in MATH_NAMES:
            raise AttributeError(f"math.{name} is not available to host checks")
        return MATH_NAMES[name]


_MATH = _MathNamespace()


def _tokens(text: str) -> list[str]:
    """Whitespace-separated tokens of a program's output (a stdio test's comparison)."""
    if type(text) is not str:
        raise TypeError(f"the program's output must be text, got {type(text).__name__}")
    return text.split()


def _uses_math_module_itself(node: ast.AST) -> bool:
    """True when ``math`` appears other than as ``math.<allowed name>`` (e.g. passed as a value)."""
    parents = {child: parent for parent in ast.walk(node) for child in ast.iter_child_nodes(parent)}
    for child in ast.walk(node):
        if (
            isinstance(child, ast.Name)
            and child.id == "math"
            and not isinstance(parents.get(child), ast.Attribute)
        ):
            return True
    return False


_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a**b,
    ast.BitAnd: lambda a, b: a & b,
    ast.BitOr: lambda a, b: a | b,
    ast.BitXor: lambda a, b: a ^ b,
}
_UNARY: dict[type, Callable[[Any], Any]] = {
    ast.Not: lambda a: not a,
    ast.USub: lambda a: -a,
    ast.UAdd: lambda a: +a,
    ast.Invert: lambda a: ~a,
}
_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.Is: lambda a, b: a is b,
    ast.IsNot: lambda a, b: a is not b,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


def _check_size(operator: ast.operator, left: Any, right: Any) -> None:
    """Refuse host operations whose result would be huge (``[0] * 10**12``, ``2 ** 10**9``)."""
    if isinstance(operator, ast.Mult):
        for sequence, count in ((left, right), (right, left)):
            is_sequence = isinstance(sequence, (str, bytes, list, tuple)) and isinstance(count, int)
            if is_sequence and len(sequence) * max(count, 0) > MAX_SEQUENCE:
                raise OverflowError("the result would be too large")
    integer_power = isinstance(operator, ast.Pow) and isinstance(left, int) and isinstance(right, int)
    if integer_power and right > 0 and max(abs(left).bit_length(), 1) * right > MAX_SEQUENCE:
        raise OverflowError("the result would be too large")


def _evaluate(node: ast.AST, names: Mapping[str, Any]) -> Any:
    """Evaluate a host check (only the node types :class:`_Planner` lets through)."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id.startswith(_PROBE) and node.id in names:
            ok, value = names[node.id]
            if not ok:
                raise _ProbeFailed(value)
            return value
        if node.id.startswith(_PROBE):
            raise _ProbeFailed("NotReached: the test stopped before this value was computed")
        return names[node.id]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        items = [_evaluate(item, names) for item in node.elts]
        return {ast.Tuple: tuple, ast.List: list, ast.Set: set}[type(node)](items)
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise TypeError("** in a dict display is not supported on the host")
        return {_evaluate(k, names): _evaluate(v, names) for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_evaluate(node.operand, names))
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise TypeError(f"operator {type(node.op).__name__} is not supported on the host")
        left, right = _evaluate(node.left, names), _evaluate(node.right, names)
        _check_size(node.op, left, right)
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.BoolOp):
        value: Any = None
        for operand in node.values:
            value = _evaluate(operand, names)
            if isinstance(node.op, ast.And) and not value:
                return value
            if isinstance(node.op, ast.Or) and value:
                return value
        return value
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, names)
        for operator, comparator in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(comparator, names)
            if not _COMPARE[type(operator)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _evaluate(node.body if _evaluate(node.test, names) else node.orelse, names)
    if isinstance(node, ast.Attribute):
        base = _evaluate(node.value, names)
        if base is not _MATH:
            raise TypeError("only math.<name> attributes are supported on the host")
        return getattr(_MATH, node.attr)
    if isinstance(node, ast.Subscript):
        return _evaluate(node.value, names)[_evaluate(node.slice, names)]
    if isinstance(node, ast.Slice):
        parts = (node.lower, node.upper, node.step)
        return slice(*(None if part is None else _evaluate(part, names) for part in parts))
    if isinstance(node, ast.Call):
        function = _evaluate(node.func, names)
        if not any(
            function is allowed for allowed in (*HOST_FUNCTIONS.values(), *MATH_NAMES.values(), _tokens)
        ):
            raise TypeError("only the builtins of HOST_FUNCTIONS can be called on the host")
        arguments = [_evaluate(argument, names) for argument in node.args]
        keywords = {kw.arg: _evaluate(kw.value, names) for kw in node.keywords if kw.arg is not None}
        if len(keywords) != len(node.keywords):
            raise TypeError("** in a call is not supported on the host")
        return function(*arguments, **keywords)
    raise TypeError(f"{type(node).__name__} is not supported on the host")
