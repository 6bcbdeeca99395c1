"""What a policy expression means for one artifact: true, false, or "cannot be evaluated".

Kosli documents ``exists(x)`` as "``x`` is not null", so a field that is not there is null
here too: an artifact without provenance has ``flow`` null (and so ``flow.name`` and every
``flow.tags.<key>``), a tag that is not set is null, an unknown fingerprint is null. From that:

- ``==`` / ``!=`` compare any two values, null included (``flow.tags.team == "a"`` is false
  and ``!=`` true when the tag is not set). Booleans are not numbers. A flow tag is a string,
  so a string written as a decimal number (``"3"``, ``"-2.5"``) compares with a number as that
  number, in ``==``, ``!=``, ``in`` and ordering alike (``flow.tags.priority < 3``).
- ``x in [..]`` is list membership, ``"s" in text`` a substring, ``"k" in flow.tags`` a key;
  anything ``in`` null is false.
- ``< <= > >=`` need two numbers or two strings; ``matches(x, re)`` is false for a null ``x``
  (nothing matches a value that is not there) and RE2's unanchored search for a string.
- Anything else — ordering with null or across types, ``matches`` on an object — *cannot be
  evaluated*, and the reason says why. ``and``/``or``/``not`` use three-valued logic: a decided
  operand decides (``false and ?`` is false, ``true or ?`` true), otherwise the whole stays
  undecided, so ``not`` of an undecided condition is undecided, never true.

What an undecided condition does to a rule is the caller's choice (the policy's stricter
reading, see ``yaml_policy.py``); here it is only reported. Nothing raises, and the work is
bounded by the text: an expression has at most ``MAX_RULE_LENGTH`` characters, no loops, and
regexes run in RE2's linear time.
"""

from __future__ import annotations

import operator

from affidavit.compliance.rules.ast import (
    BoolOp,
    Call,
    Compare,
    ListLiteral,
    Literal,
    Node,
    Not,
    Path,
)
from affidavit.compliance.rules.values import Undetermined, is_number, kind, one_line, render

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from affidavit.compliance.policies.expression import Expression

__all__ = ["holds"]

_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def holds(expression: Expression, context: Mapping[str, object]) -> bool | Undetermined:
    """Whether ``expression`` holds for the artifact ``context`` describes (``input.context``)."""
    return _Evaluation(expression, context).truth(expression.tree)


class _Evaluation:
    def __init__(self, expression: Expression, context: Mapping[str, object]) -> None:
        self.expression = expression
        self.context = context

    def source(self, node: Node) -> str:
        return one_line(self.expression.text[node.start:node.end])

    def truth(self, node: Node) -> bool | Undetermined:
        if isinstance(node, BoolOp):
            return self.bool_op(node)
        if isinstance(node, Not):
            inner = self.truth(node.operand)
            return inner if isinstance(inner, Undetermined) else not inner
        value = self.value(node)
        if isinstance(value, bool | Undetermined):
            return value
        return Undetermined(f"{self.source(node)} is {render(value)}, not true or false")

    def bool_op(self, node: BoolOp) -> bool | Undetermined:
        decisive = node.op == "or"
        undecided: Undetermined | None = None
        for operand in node.operands:
            outcome = self.truth(operand)
            if isinstance(outcome, Undetermined):
                undecided = undecided or outcome
            elif outcome == decisive:
                return decisive
        return undecided or not decisive

    def value(self, node: Node) -> object:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Path):
            return self.resolve(node)
        if isinstance(node, ListLiteral):
            items = [self.value(item) for item in node.items]
            return next((i for i in items if isinstance(i, Undetermined)), items)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Call):
            return self.call(node)
        return self.truth(node)

    def resolve(self, path: Path) -> object:
        current: object = self.context
        for segment in path.segments:
            if not isinstance(current, dict):
                return None
            current = current.get(segment)
        return current

    def compare(self, node: Compare) -> bool | Undetermined:
        left, right = self.value(node.left), self.value(node.right)
        for side in (left, right):
            if isinstance(side, Undetermined):
                return side
        if node.op in ("==", "!="):
            return _equal(left, right) == (node.op == "==")
        if node.op == "in":
            return self.member(node, left, right)
        return self.order(node, left, right)

    def member(self, node: Compare, item: object, container: object) -> bool | Undetermined:
        if container is None:
            return False
        if isinstance(container, list):
            return any(_equal(item, element) for element in container)
        if isinstance(container, str | dict) and isinstance(item, str):
            return item in container
        return Undetermined(f"{self.source(node)}: cannot look for {kind(item)} in "
                            f"{kind(container)}")

    def order(self, node: Compare, left: object, right: object) -> bool | Undetermined:
        pair = _comparable(left, right)
        if pair is None:
            missing = [self.source(side) for side, value in ((node.left, left),
                       (node.right, right)) if value is None]
            why = f"{missing[0]} is not set" if missing else (
                f"cannot compare {kind(left)} with {kind(right)}")
            return Undetermined(f"{self.source(node)}: {why}")
        return bool(_ORDER[node.op](*pair))

    def call(self, node: Call) -> bool | Undetermined:
        if node.name == "exists":
            return self.value(node.args[0]) is not None
        subject = self.value(node.args[0])
        pattern = node.args[1]
        assert isinstance(pattern, Literal) and isinstance(pattern.value, str)
        if isinstance(subject, Undetermined):
            return subject
        if subject is None:
            return False
        if not isinstance(subject, str):
            return Undetermined(f"{self.source(node)}: matches() needs a string, not "
                                f"{kind(subject)}")
        return self.expression.patterns[pattern.value].search(subject) is not None


def _number_in(value: object) -> int | float | None:
    """``value`` as a number: itself, or a string in plain decimal notation (a flow tag)."""
    if is_number(value):
        return value  # type: ignore[return-value]
    if not isinstance(value, str) or not value or len(value) > 40:
        return None
    digits = value[1:] if value[0] == "-" else value
    whole, dot, fraction = digits.partition(".")
    if not _ascii_digits(whole) or (dot and not _ascii_digits(fraction)):
        return None
    return float(value) if dot else int(value)


def _ascii_digits(text: str) -> bool:
    return bool(text) and all("0" <= ch <= "9" for ch in text)


def _comparable(left: object, right: object) -> tuple[float, float] | tuple[str, str] | None:
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    if is_number(left) or is_number(right):
        a, b = _number_in(left), _number_in(right)
        if a is not None and b is not None:
            return a, b
    return None


def _equal(left: object, right: object) -> bool:
    """JSON equality (booleans are not numbers), a numeric string equal to its number."""
    if (is_number(left) and isinstance(right, str)) or (isinstance(left, str)
                                                         and is_number(right)):
        a, b = _number_in(left), _number_in(right)
        return a is not None and b is not None and a == b
    if kind(left) != kind(right):
        return False
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_equal, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_equal(left[k], right[k]) for k in left)
    return left == right
