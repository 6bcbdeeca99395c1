"""Compliance rules of custom attestation types: a small, safe expression language over JSON.

``create attestation-type NAME --schema s.json --rule EXPR ...`` stores rule *texts*; an
attestation of that type is compliant iff every rule holds on its attestation data. The ledger
keeps only the texts, so ``verify`` re-parses them and must reach the same verdict: parsing is
deterministic and evaluation depends on nothing but the text and the data. The text is
untrusted (it may come from anyone allowed to create a type), so nothing here uses Python's
``eval``/``exec``/``compile``, attribute access or imports: a tokenizer and a recursive-descent
parser (``rules_parser.py``) build a tree of this project's own nodes, and an evaluator walks
it over plain JSON values (dict, list, str, int, float, bool, None).

Grammar (lowest precedence first)::

    rule        := or_expr
    or_expr     := and_expr ("or" and_expr)*
    and_expr    := not_expr ("and" not_expr)*
    not_expr    := "not" not_expr | comparison
    comparison  := additive [COMPARE additive]       -- ``a < b < c`` is refused
    COMPARE     := "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in"
    additive    := multiplicative (("+" | "-") multiplicative)*
    multiplicative := unary (("*" | "/") unary)*
    unary       := "-" unary | primary
    primary     := NUMBER | STRING | "true" | "false" | "null"
                 | "[" [or_expr ("," or_expr)*] "]"          -- a list, e.g. for ``in``
                 | FUNCTION "(" [or_expr ("," or_expr)*] ")"
                 | path | "(" or_expr ")"
    path        := ("$" | NAME) ("." (NAME | keyword) | "[" ["-"] INTEGER "]" | "[" STRING "]")*
    FUNCTION    := len | min | max | sum | lower | upper | exists | count

- NUMBER: ASCII digits with an optional fraction and exponent (``3``, ``2.5``, ``1e3``);
  negative numbers via unary minus. STRING: single or double quotes with the JSON escapes
  (``\\\\ \\' \\" \\n \\t \\r \\b \\f \\/ \\uXXXX``).
- NAME: a letter or ``_``, then letters, digits or ``_``. Paths start at the root of the data:
  ``coverage.lines``, ``results[0].status``, ``items[-1]`` (negative indexes count from the end).
  ``$`` is the root itself: ``$["line-rate"]`` for a top-level key that is not a plain name,
  ``$[0]`` when the data is a list, ``$`` for the whole document. Any key can be quoted at any
  level: ``coverage["line-rate"]``, ``a["with spaces"]``. ``line-rate`` (no spaces) is refused
  as ambiguous rather than guessed: quote a hyphenated key, or write ``a - b`` to subtract.
- Keywords (``and or not in true false null``) cannot start a path but may follow a dot.
- A malformed rule raises ``UsageError`` (exit 2): one line quoting the rule and the 1-based
  character position of the problem, with a remedy where there is an obvious one.

Semantics:

- A field that does not exist is not a parse error; it evaluates to MISSING. Anything computed
  from MISSING (comparison, arithmetic, function) is *undetermined* with the reason ``field
  coverage.lines is missing``; a type mismatch (``"a" < 3``, ``len(5)``, ``1 + "x"``) and
  division by zero are undetermined in the same way, with their own reason. Nothing raises.
- ``and``/``or``/``not`` use three-valued logic, short-circuiting on a decided operand:
  ``false and ?`` is false, ``true or ?`` is true, otherwise ``?`` stays undetermined — so
  ``not (x > 3)`` does *not* hold when ``x`` is missing. A rule holds only when it is exactly
  ``true``; undetermined, false or a non-boolean value all fail it, with a one-line reason.
- Operands of ``and``/``or``/``not`` must be booleans (no truthiness: write ``len(xs) > 0``).
- ``==``/``!=`` compare JSON values structurally; booleans are not numbers (``true == 1`` is
  false) and ``1 == 1.0``. Values of different types are simply unequal. ``< <= > >=`` need two
  numbers or two strings. ``x in y``: membership in a list, substring of a string, or key of an
  object.
- ``+ - * /`` on numbers only (so no string repetition or concatenation).
- ``len(list|string|object)``; ``min``/``max`` of a list of numbers or of several numbers;
  ``sum(list of numbers)``; ``lower``/``upper(string)``; ``exists(path)`` is true when the path
  resolves (even to null); ``count(list, value)`` counts items equal to ``value``.

Limits against abuse: text of at most ``MAX_RULE_LENGTH`` characters, nesting of at most
``MAX_DEPTH`` levels (parentheses, ``not``, unary minus, calls, lists, and each ``+ - * /``
or comparison above an operand; a flat ``and``/``or`` chain counts once) — both refused at
parse time, so no text can exhaust the Python stack — and ``MAX_STEPS`` evaluation steps (nodes,
path segments, list items visited), past which the rule fails.
"""

from __future__ import annotations

import json

from affidavit.compliance.rules_parser import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_RULE_LENGTH,
    Arith,
    BoolOp,
    Call,
    Compare,
    ListLiteral,
    Literal,
    Negate,
    Node,
    Not,
    Path,
    parse_tree,
    path_text,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "MAX_RULE_LENGTH",
    "MAX_DEPTH",
    "MAX_STEPS",
    "FUNCTIONS",
    "Rule",
    "parse",
    "evaluate_all",
]

MAX_STEPS = 1_000_000
#: Integers with more bits than this are refused as results: they cost time and cannot be shown.
_MAX_INT_BITS = 10_000


class Rule:
    """A parsed rule; ``text`` is what the ledger stores and what ``parse`` accepts back."""

    __slots__ = ("text", "tree")

    def __init__(self, text: str, tree: Node) -> None:
        self.text = text
        self.tree = tree

    def evaluate(self, data: object) -> tuple[bool, str | None]:
        """``(True, None)`` when the rule holds on ``data``, else ``(False, one-line reason)``.

        Never raises for any JSON value: missing fields, type mismatches and exhausted budgets
        are reasons, because a crash would hide which rule a user must fix.
        """
        evaluator = _Evaluator(self.text, data)
        try:
            outcome = evaluator.truth(self.tree)
        except _BudgetExceeded:
            return False, f"{_one_line(self.text)}: stopped after {MAX_STEPS} evaluation steps"
        if isinstance(outcome, _Undetermined):
            return False, outcome.reason
        if outcome.value:
            return True, None
        return False, outcome.why

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rule) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"Rule({self.text!r})"


def parse(text: str) -> Rule:
    """The rule ``text`` means; ``UsageError`` naming the position of the first problem."""
    return Rule(text, parse_tree(text))


def evaluate_all(rules: Sequence[Rule], data: object) -> tuple[bool, list[str]]:
    """Whether every rule holds, and the reason of each one that does not.

    Every rule is evaluated (no stop at the first failure) so the user sees all of them at once.
    """
    reasons: list[str] = []
    for rule in rules:
        holds, reason = rule.evaluate(data)
        if not holds:
            reasons.append(reason or f"{_one_line(rule.text)} does not hold")
    return not reasons, reasons


# --- values --------------------------------------------------------------------------------

class _Undetermined:
    """The value of anything computed from a missing field, a type mismatch or an error."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class _Truth:
    """A boolean produced by a comparison or a boolean operator, with the fact behind it.

    ``why`` is a statement true in either direction (``x >= 80: 72.5 is less than 80``), so
    ``not`` keeps it unchanged and a failing rule can quote the fact that failed it.
    """

    __slots__ = ("value", "why")

    def __init__(self, value: bool, why: str) -> None:
        self.value = value
        self.why = why


class _BudgetExceeded(Exception):
    pass


def _plain(value: object) -> object:
    return value.value if isinstance(value, _Truth) else value


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else "an unsupported value"


def _render(value: object, limit: int = 60) -> str:
    """A short JSON-like spelling of ``value`` for a reason, bounded whatever its size."""
    text = _render_inner(value, limit, 0)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _render_inner(value: object, limit: int, depth: int) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, int):
        bits = value.bit_length()
        return str(value) if bits <= 200 else f"an integer of {bits} bits"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value[:limit], ensure_ascii=False)
    if isinstance(value, list | dict):
        if depth >= 2 or not value:
            return "[...]" if isinstance(value, list) and value else (
                "{...}" if value else ("[]" if isinstance(value, list) else "{}"))
        if isinstance(value, list):
            items = [_render_inner(item, limit, depth + 1) for item in value[:4]]
            more = ", ..." if len(value) > 4 else ""
            return "[" + ", ".join(items) + more + "]"
        pairs = [f"{_render_inner(str(key), limit, depth + 1)}: "
                 f"{_render_inner(item, limit, depth + 1)}"
                 for key, item in list(value.items())[:4]]
        return "{" + ", ".join(pairs) + (", ..." if len(value) > 4 else "") + "}"
    return "<unsupported value>"


def _one_line(text: str) -> str:
    return " ".join(text.split())


_FACTS = {  # op -> (fact when it holds, fact when it does not)
    "==": ("{l} equals {r}", "{l} is not equal to {r}"),
    "!=": ("{l} is not equal to {r}", "{l} equals {r}"),
    "<": ("{l} is less than {r}", "{l} is not less than {r}"),
    "<=": ("{l} is at most {r}", "{l} is greater than {r}"),
    ">": ("{l} is greater than {r}", "{l} is not greater than {r}"),
    ">=": ("{l} is at least {r}", "{l} is less than {r}"),
    "in": ("{l} is in {r}", "{l} is not in {r}"),
    "not in": ("{l} is not in {r}", "{l} is in {r}"),
}


# --- evaluator -----------------------------------------------------------------------------

class _Evaluator:
    """One evaluation of one rule over one document; counts its steps against ``MAX_STEPS``."""

    def __init__(self, text: str, data: object) -> None:
        self.text = text
        self.data = data
        self.steps = 0

    def tick(self, count: int = 1) -> None:
        self.steps += count
        if self.steps > MAX_STEPS:
            raise _BudgetExceeded

    def source(self, node: Node) -> str:
        return _one_line(self.text[node.start:node.end])

    def truth(self, node: Node) -> _Truth | _Undetermined:
        """``node`` as a boolean; anything else is undetermined (there is no truthiness)."""
        if isinstance(node, BoolOp):
            return self.bool_op(node)
        if isinstance(node, Not):
            inner = self.truth(node.operand)
            return inner if isinstance(inner, _Undetermined) else _Truth(not inner.value,
                                                                           inner.why)
        value = self.value(node)
        if isinstance(value, _Truth | _Undetermined):
            return value
        if isinstance(value, bool):
            return _Truth(value, f"{self.source(node)} is {_render(value)}")
        return _Undetermined(f"{self.source(node)} is {_render(value)}, not true or false")

    def bool_op(self, node: BoolOp) -> _Truth | _Undetermined:
        """Kleene logic: the first decisive operand decides; otherwise undetermined wins."""
        decisive = node.op == "or"
        undetermined: _Undetermined | None = None
        whys: list[str] = []
        for operand in node.operands:
            self.tick()
            outcome = self.truth(operand)
            if isinstance(outcome, _Undetermined):
                undetermined = undetermined or outcome
            elif outcome.value == decisive:
                return outcome
            else:
                whys.append(outcome.why)
        return undetermined or _Truth(not decisive, "; ".join(whys))

    def value(self, node: Node) -> object:
        """The JSON value of ``node``, a ``_Truth`` for booleans with reasons, or undetermined."""
        self.tick()
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Path):
            return self.resolve(node)[0]
        if isinstance(node, BoolOp | Not):
            return self.truth(node)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Arith):
            return self.arith(node)
        if isinstance(node, Negate):
            operand = _plain(self.value(node.operand))
            if isinstance(operand, _Undetermined):
                return operand
            if not _is_number(operand):
                return _Undetermined(f"{self.source(node)}: cannot negate {_kind(operand)}")
            return -operand  # type: ignore[operator]
        if isinstance(node, ListLiteral):
            items = [_plain(self.value(item)) for item in node.items]
            undetermined = next((i for i in items if isinstance(i, _Undetermined)), None)
            return undetermined or items
        assert isinstance(node, Call)
        return self.call(node)

    def resolve(self, path: Path) -> tuple[object, bool]:
        """``(value, True)``, or ``(undetermined saying which part is missing, False)``."""
        current = self.data
        for at, segment in enumerate(path.segments):
            self.tick()
            if isinstance(segment, str):
                if isinstance(current, dict) and segment in current:
                    current = current[segment]
                    continue
                detail = (None if isinstance(current, dict)
                          else f"{{parent}} is {_kind(current)}, not an object")
            else:
                if isinstance(current, list) and -len(current) <= segment < len(current):
                    current = current[segment]
                    continue
                detail = (f"{{parent}} has {len(current)} item{'s' * (len(current) != 1)}"
                          if isinstance(current, list)
                          else f"{{parent}} is {_kind(current)}, not a list")
            if detail is not None:
                parent = path_text(path.segments[:at]) if at else "the data"
                detail = detail.format(parent=parent)
            elif at < len(path.segments) - 1:
                detail = f"{path_text(path.segments[:at + 1])} is missing"
            reason = f"field {path_text(path.segments)} is missing"
            return _Undetermined(f"{reason} ({detail})" if detail else reason), False
        return current, True

    def operands(self, node: Compare | Arith) -> tuple[object, object] | _Undetermined:
        left = _plain(self.value(node.left))
        if isinstance(left, _Undetermined):
            return left
        right = _plain(self.value(node.right))
        if isinstance(right, _Undetermined):
            return right
        return left, right

    def compare(self, node: Compare) -> _Truth | _Undetermined:
        pair = self.operands(node)
        if isinstance(pair, _Undetermined):
            return pair
        left, right = pair
        op = node.op
        if op in ("==", "!="):
            holds = self.equal(left, right) == (op == "==")
        elif op in ("in", "not in"):
            found = self.contains(right, left)
            if isinstance(found, str):
                return _Undetermined(f"{self.source(node)}: {found}")
            holds = found == (op == "in")
        else:
            both = (_is_number(left) and _is_number(right)) or (
                isinstance(left, str) and isinstance(right, str))
            if not both:
                return _Undetermined(f"{self.source(node)}: cannot compare {_kind(left)} "
                                     f"with {_kind(right)}")
            holds = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
                     ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}[op](left, right)
        fact = _FACTS[op][0 if holds else 1].format(l=_render(left), r=_render(right))
        return _Truth(holds, f"{self.source(node)}: {fact}")

    def contains(self, container: object, item: object) -> bool | str:
        """Membership, or a string saying why it cannot be decided."""
        if isinstance(container, list):
            return any(self.equal(item, element) for element in container)
        if isinstance(container, str | dict):
            if not isinstance(item, str):
                where = "a string" if isinstance(container, str) else "the keys of an object"
                return f"cannot look for {_kind(item)} in {where}"
            self.tick(len(container) // 1000)
            return item in container
        return f"cannot look for a value in {_kind(container)}"

    def equal(self, left: object, right: object) -> bool:
        """Structural JSON equality, iterative so deep documents cannot exhaust the stack."""
        pending = [(left, right)]
        while pending:
            a, b = pending.pop()
            self.tick()
            if _kind(a) != _kind(b):
                return False
            if isinstance(a, list) and isinstance(b, list):
                if len(a) != len(b):
                    return False
                pending.extend(zip(a, b, strict=True))
            elif isinstance(a, dict) and isinstance(b, dict):
                if a.keys() != b.keys():
                    return False
                pending.extend((a[key], b[key]) for key in a)
            elif _kind(a) == "an unsupported value" or a != b:
                return False
        return True

    def arith(self, node: Arith) -> object:
        pair = self.operands(node)
        if isinstance(pair, _Undetermined):
            return pair
        left, right = pair
        if not (_is_number(left) and _is_number(right)):
            return _Undetermined(f"{self.source(node)}: cannot apply {node.op} to {_kind(left)} "
                                 f"and {_kind(right)}")
        a: float = left  # type: ignore[assignment]
        b: float = right  # type: ignore[assignment]
        if node.op == "/" and b == 0:
            return _Undetermined(f"{self.source(node)}: division by zero")
        try:
            result = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                      "/": lambda: a / b}[node.op]()
        except OverflowError:
            result = float("inf")
        if isinstance(result, int) and result.bit_length() > _MAX_INT_BITS or (
                result in (float("inf"), float("-inf")) and abs(a) != float("inf")
                and abs(b) != float("inf")):
            return _Undetermined(f"{self.source(node)}: the result is too large")
        return result

    def call(self, node: Call) -> object:
        name = node.name
        if name == "exists":
            path = node.args[0]
            assert isinstance(path, Path)
            found = self.resolve(path)
            fact = (f"field {path_text(path.segments)} is present" if found[1]
                    else found[0].reason)  # type: ignore[attr-defined]
            return _Truth(found[1], f"{self.source(node)}: {fact}")
        args = [_plain(self.value(arg)) for arg in node.args]
        undetermined = next((arg for arg in args if isinstance(arg, _Undetermined)), None)
        if undetermined is not None:
            return undetermined
        outcome = self.function(name, args)
        return _Undetermined(f"{self.source(node)}: {outcome[1]}") if outcome[1] else outcome[0]

    def function(self, name: str, args: list[object]) -> tuple[object, str | None]:
        """``(result, None)`` or ``(None, what is wrong)``."""
        first = args[0]
        if name == "len":
            if isinstance(first, list | str | dict):
                return len(first), None
            return None, f"len() needs a list, string or object, not {_kind(first)}"
        if name in ("lower", "upper"):
            if not isinstance(first, str):
                return None, f"{name}() needs a string, not {_kind(first)}"
            self.tick(len(first) // 1000)
            return (first.lower() if name == "lower" else first.upper()), None
        if name == "count":
            if not isinstance(first, list):
                return None, f"count() needs a list, not {_kind(first)}"
            return sum(1 for item in first if self.equal(item, args[1])), None
        numbers = first if len(args) == 1 else args
        if not isinstance(numbers, list):
            return None, f"{name}() needs a list of numbers, not {_kind(numbers)}"
        for at, item in enumerate(numbers):
            self.tick()
            if not _is_number(item):
                return None, f"{name}() needs numbers; item {at} is {_kind(item)}"
        values: list[float] = numbers
        if name == "sum":
            try:
                total = sum(values)
            except OverflowError:
                return None, "the sum is too large"
            return total, None
        if not values:
            return None, f"{name}() of an empty list"
        return (min(values) if name == "min" else max(values)), None
