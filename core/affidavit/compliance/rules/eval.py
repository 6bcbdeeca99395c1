"""Evaluator of the custom-type rule language: a syntax tree over plain JSON values.

Separate from the parser because it answers a different question — not "is this text a rule?"
but "does this document satisfy it, and if not, why?" — and must never raise, whatever the
data: missing fields, type mismatches, huge results and exhausted budgets become one-line
reasons through three-valued logic (see "Semantics" in ``rules/__init__.py``). The step budget is a
parameter rather than read here, so ``rules.MAX_STEPS`` stays the one setting (read at call
time, so tests can lower it).
"""

from __future__ import annotations

from affidavit.compliance.rules.ast import (
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
    path_text,
)
from affidavit.compliance.rules.values import (
    FACTS,
    Truth,
    Undetermined,
    is_number,
    kind,
    one_line,
    plain,
    render,
)

__all__ = ["evaluate", "one_line"]

#: Integers with more bits than this are refused as results: they cost time and cannot be shown.
_MAX_INT_BITS = 10_000


def evaluate(text: str, tree: Node, data: object, max_steps: int) -> tuple[bool, str | None]:
    """``(True, None)`` when the rule ``text`` (parsed as ``tree``) holds on ``data``, else
    ``(False, one-line reason)``; at most ``max_steps`` steps. Never raises for any JSON value."""
    evaluator = _Evaluator(text, data, max_steps)
    try:
        outcome = evaluator.truth(tree)
    except _BudgetExceeded:
        return False, f"{one_line(text)}: stopped after {max_steps} evaluation steps"
    if isinstance(outcome, Undetermined):
        return False, outcome.reason
    if outcome.value:
        return True, None
    return False, outcome.why


class _BudgetExceeded(Exception):
    pass


class _Evaluator:
    """One evaluation of one rule over one document; counts its steps against ``max_steps``."""

    def __init__(self, text: str, data: object, max_steps: int) -> None:
        self.text = text
        self.data = data
        self.max_steps = max_steps
        self.steps = 0

    def tick(self, count: int = 1) -> None:
        self.steps += count
        if self.steps > self.max_steps:
            raise _BudgetExceeded

    def source(self, node: Node) -> str:
        return one_line(self.text[node.start:node.end])

    def truth(self, node: Node) -> Truth | Undetermined:
        """``node`` as a boolean; anything else is undetermined (there is no truthiness)."""
        if isinstance(node, BoolOp):
            return self.bool_op(node)
        if isinstance(node, Not):
            inner = self.truth(node.operand)
            return inner if isinstance(inner, Undetermined) else Truth(not inner.value,
                                                                           inner.why)
        value = self.value(node)
        if isinstance(value, Truth | Undetermined):
            return value
        if isinstance(value, bool):
            return Truth(value, f"{self.source(node)} is {render(value)}")
        return Undetermined(f"{self.source(node)} is {render(value)}, not true or false")

    def bool_op(self, node: BoolOp) -> Truth | Undetermined:
        """Kleene logic: the first decisive operand decides; otherwise undetermined wins."""
        decisive = node.op == "or"
        undetermined: Undetermined | None = None
        whys: list[str] = []
        for operand in node.operands:
            self.tick()
            outcome = self.truth(operand)
            if isinstance(outcome, Undetermined):
                undetermined = undetermined or outcome
            elif outcome.value == decisive:
                return outcome
            else:
                whys.append(outcome.why)
        return undetermined or Truth(not decisive, "; ".join(whys))

    def value(self, node: Node) -> object:
        """The JSON value of ``node``, a ``Truth`` for booleans with reasons, or undetermined."""
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
            operand = plain(self.value(node.operand))
            if isinstance(operand, Undetermined):
                return operand
            if not is_number(operand):
                return Undetermined(f"{self.source(node)}: cannot negate {kind(operand)}")
            return -operand  # type: ignore[operator]
        if isinstance(node, ListLiteral):
            items = [plain(self.value(item)) for item in node.items]
            undetermined = next((i for i in items if isinstance(i, Undetermined)), None)
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
                          else f"{{parent}} is {kind(current)}, not an object")
            else:
                if isinstance(current, list) and -len(current) <= segment < len(current):
                    current = current[segment]
                    continue
                detail = (f"{{parent}} has {len(current)} item{'s' * (len(current) != 1)}"
                          if isinstance(current, list)
                          else f"{{parent}} is {kind(current)}, not a list")
            if detail is not None:
                parent = path_text(path.segments[:at]) if at else "the data"
                detail = detail.format(parent=parent)
            elif at < len(path.segments) - 1:
                detail = f"{path_text(path.segments[:at + 1])} is missing"
            reason = f"field {path_text(path.segments)} is missing"
            return Undetermined(f"{reason} ({detail})" if detail else reason), False
        return current, True

    def operands(self, node: Compare | Arith) -> tuple[object, object] | Undetermined:
        left = plain(self.value(node.left))
        if isinstance(left, Undetermined):
            return left
        right = plain(self.value(node.right))
        if isinstance(right, Undetermined):
            return right
        return left, right

    def compare(self, node: Compare) -> Truth | Undetermined:
        pair = self.operands(node)
        if isinstance(pair, Undetermined):
            return pair
        left, right = pair
        op = node.op
        if op in ("==", "!="):
            holds = self.equal(left, right) == (op == "==")
        elif op in ("in", "not in"):
            found = self.contains(right, left)
            if isinstance(found, str):
                return Undetermined(f"{self.source(node)}: {found}")
            holds = found == (op == "in")
        else:
            both = (is_number(left) and is_number(right)) or (
                isinstance(left, str) and isinstance(right, str))
            if not both:
                return Undetermined(f"{self.source(node)}: cannot compare {kind(left)} "
                                     f"with {kind(right)}")
            holds = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
                     ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}[op](left, right)
        fact = FACTS[op][0 if holds else 1].format(l=render(left), r=render(right))
        return Truth(holds, f"{self.source(node)}: {fact}")

    def contains(self, container: object, item: object) -> bool | str:
        """Membership, or a string saying why it cannot be decided."""
        if isinstance(container, list):
            return any(self.equal(item, element) for element in container)
        if isinstance(container, str | dict):
            if not isinstance(item, str):
                where = "a string" if isinstance(container, str) else "the keys of an object"
                return f"cannot look for {kind(item)} in {where}"
            self.tick(len(container) // 1000)
            return item in container
        return f"cannot look for a value in {kind(container)}"

    def equal(self, left: object, right: object) -> bool:
        """Structural JSON equality, iterative so deep documents cannot exhaust the stack."""
        pending = [(left, right)]
        while pending:
            a, b = pending.pop()
            self.tick()
            if kind(a) != kind(b):
                return False
            if isinstance(a, list) and isinstance(b, list):
                if len(a) != len(b):
                    return False
                pending.extend(zip(a, b, strict=True))
            elif isinstance(a, dict) and isinstance(b, dict):
                if a.keys() != b.keys():
                    return False
                pending.extend((a[key], b[key]) for key in a)
            elif kind(a) == "an unsupported value" or a != b:
                return False
        return True

    def arith(self, node: Arith) -> object:
        pair = self.operands(node)
        if isinstance(pair, Undetermined):
            return pair
        left, right = pair
        if not (is_number(left) and is_number(right)):
            return Undetermined(f"{self.source(node)}: cannot apply {node.op} to {kind(left)} "
                                 f"and {kind(right)}")
        a: float = left  # type: ignore[assignment]
        b: float = right  # type: ignore[assignment]
        if node.op == "/" and b == 0:
            return Undetermined(f"{self.source(node)}: division by zero")
        try:
            result = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                      "/": lambda: a / b}[node.op]()
        except OverflowError:
            result = float("inf")
        if isinstance(result, int) and result.bit_length() > _MAX_INT_BITS or (
                result in (float("inf"), float("-inf")) and abs(a) != float("inf")
                and abs(b) != float("inf")):
            return Undetermined(f"{self.source(node)}: the result is too large")
        return result

    def call(self, node: Call) -> object:
        name = node.name
        if name == "exists":
            path = node.args[0]
            assert isinstance(path, Path)
            found = self.resolve(path)
            fact = (f"field {path_text(path.segments)} is present" if found[1]
                    else found[0].reason)  # type: ignore[attr-defined]
            return Truth(found[1], f"{self.source(node)}: {fact}")
        args = [plain(self.value(arg)) for arg in node.args]
        undetermined = next((arg for arg in args if isinstance(arg, Undetermined)), None)
        if undetermined is not None:
            return undetermined
        outcome = self.function(name, args)
        return Undetermined(f"{self.source(node)}: {outcome[1]}") if outcome[1] else outcome[0]

    def function(self, name: str, args: list[object]) -> tuple[object, str | None]:
        """``(result, None)`` or ``(None, what is wrong)``."""
        first = args[0]
        if name == "len":
            if isinstance(first, list | str | dict):
                return len(first), None
            return None, f"len() needs a list, string or object, not {kind(first)}"
        if name in ("lower", "upper"):
            if not isinstance(first, str):
                return None, f"{name}() needs a string, not {kind(first)}"
            self.tick(len(first) // 1000)
            return (first.lower() if name == "lower" else first.upper()), None
        if name == "count":
            if not isinstance(first, list):
                return None, f"count() needs a list, not {kind(first)}"
            return sum(1 for item in first if self.equal(item, args[1])), None
        numbers = first if len(args) == 1 else args
        if not isinstance(numbers, list):
            return None, f"{name}() needs a list of numbers, not {kind(numbers)}"
        for at, item in enumerate(numbers):
            self.tick()
            if not is_number(item):
                return None, f"{name}() needs numbers; item {at} is {kind(item)}"
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
