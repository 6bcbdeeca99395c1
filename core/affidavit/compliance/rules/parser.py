"""Parser of the custom-type rule language: tokens to a syntax tree (grammar in
``rules/__init__.py``).

Kept apart from the evaluator so that the part that judges untrusted text can be read on its
own. The parser never recurses more than ``MAX_DEPTH`` levels and refuses any tree taller than
that, so neither parsing nor evaluating can run out of Python stack, whatever the text.
"""

from __future__ import annotations

import json

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
)
from affidavit.compliance.rules.lexer import KEYWORDS, fail, tokenize

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Final

    from affidavit.compliance.rules.lexer import Token
    from affidavit.errors import UsageError

__all__ = ["MAX_RULE_LENGTH", "MAX_DEPTH", "FUNCTIONS", "parse_tree"]

MAX_RULE_LENGTH: Final = 1000
MAX_DEPTH: Final = 50

#: name -> (fewest, most) arguments; ``None`` means any number.
FUNCTIONS: Final[dict[str, tuple[int, int | None]]] = {
    "len": (1, 1), "min": (1, None), "max": (1, None), "sum": (1, 1),
    "lower": (1, 1), "upper": (1, 1), "exists": (1, 1), "count": (2, 2),
}
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">=", "in", "not in"})


class _Parser:
    """Recursive descent, one method per precedence level (grammar in ``rules/__init__.py``)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.at = 0
        self.nesting = 0

    # helpers
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.at + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.at = min(self.at + 1, len(self.tokens) - 1)
        return token

    def is_op(self, op: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "op" and token.text == op

    def is_word(self, word: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "word" and token.text == word

    def expect(self, op: str, what: str) -> Token:
        if not self.is_op(op):
            raise self.unexpected(f"expected {what}")
        return self.take()

    def unexpected(self, expected: str, remedy: str | None = None) -> UsageError:
        token = self.peek()
        return fail(self.text, token.pos, f"{expected}, found {token.describe()}", remedy)

    def built(self, node: Node) -> Node:
        if node.depth > MAX_DEPTH:
            raise fail(self.text, node.start, f"expression nested deeper than {MAX_DEPTH} levels")
        return node

    def enter(self) -> None:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise fail(self.text, self.peek().pos,
                        f"expression nested deeper than {MAX_DEPTH} levels")

    # grammar
    def rule(self) -> Node:
        if self.peek().kind == "end":
            raise fail(self.text, 0, "rule is empty")
        node = self.or_expr()
        if self.peek().kind != "end":
            raise self.unexpected("expected the end of the rule",
                                  "join conditions with `and` / `or`")
        return node

    def or_expr(self) -> Node:
        return self.bool_chain("or", self.and_expr)

    def and_expr(self) -> Node:
        return self.bool_chain("and", self.not_expr)

    def bool_chain(self, op: str, operand: Callable[[], Node]) -> Node:
        operands = [operand()]
        while self.is_word(op):
            self.take()
            operands.append(operand())
        if len(operands) == 1:
            return operands[0]
        return self.built(BoolOp(operands[0].start, operands[-1].end, op, tuple(operands)))

    def not_expr(self) -> Node:
        if not self.is_word("not"):
            return self.comparison()
        start = self.take().pos
        self.enter()
        operand = self.not_expr()
        self.nesting -= 1
        return self.built(Not(start, operand.end, operand))

    def comparison_op(self) -> str | None:
        token = self.peek()
        if token.kind == "op" and token.text in _COMPARISONS:
            return token.text
        if self.is_word("in"):
            return "in"
        if self.is_word("not") and self.is_word("in", 1):
            return "not in"
        return None

    def comparison(self) -> Node:
        left = self.additive()
        op = self.comparison_op()
        if op is None:
            if self.is_word("not"):
                self.take()
                raise self.unexpected("expected `in` after `not`")
            return left
        self.at += 2 if op == "not in" else 1
        right = self.additive()
        if self.comparison_op() is not None:
            raise fail(self.text, self.peek().pos, "chained comparison",
                        "comparisons cannot be chained; write `a < b and b < c`")
        return self.built(Compare(left.start, right.end, op, left, right))

    def additive(self) -> Node:
        return self.arith_chain(("+", "-"), self.multiplicative)

    def multiplicative(self) -> Node:
        return self.arith_chain(("*", "/"), self.unary)

    def arith_chain(self, ops: tuple[str, str], operand: Callable[[], Node]) -> Node:
        node = operand()
        while self.peek().kind == "op" and self.peek().text in ops:
            op = self.take().text
            right = operand()
            node = self.built(Arith(node.start, right.end, op, node, right))
        return node

    def unary(self) -> Node:
        if not self.is_op("-"):
            return self.primary()
        start = self.take().pos
        self.enter()
        operand = self.unary()
        self.nesting -= 1
        return self.built(Negate(start, operand.end, operand))

    def primary(self) -> Node:
        token = self.peek()
        if token.kind in ("num", "str"):
            self.take()
            return Literal(token.pos, token.pos + len(token.text), token.value)
        if token.kind == "word" and token.text in ("true", "false", "null"):
            self.take()
            value = {"true": True, "false": False, "null": None}[token.text]
            return Literal(token.pos, token.pos + len(token.text), value)
        if token.kind == "word" and token.text not in KEYWORDS and self.is_op("(", 1):
            return self.call()
        if (token.kind == "word" and token.text not in KEYWORDS) or self.is_op("$"):
            return self.path()
        if self.is_op("("):
            self.take()
            self.enter()
            node = self.or_expr()
            self.expect(")", "`)`")
            self.nesting -= 1
            return node
        if self.is_op("["):
            start = self.take().pos
            items = self.arguments("]")
            return self.built(ListLiteral(start, self.take().pos + 1, items))
        raise self.unexpected("expected a value")

    def arguments(self, close: str) -> tuple[Node, ...]:
        """Comma-separated expressions up to (not including) ``close``."""
        self.enter()
        items: list[Node] = []
        if not self.is_op(close):
            items.append(self.or_expr())
            while self.is_op(","):
                self.take()
                items.append(self.or_expr())
        if not self.is_op(close):
            raise self.unexpected(f"expected `,` or `{close}`")
        self.nesting -= 1
        return tuple(items)

    def call(self) -> Node:
        name_token = self.take()
        name = name_token.text
        if name not in FUNCTIONS:
            raise fail(self.text, name_token.pos, f"unknown function {json.dumps(name)}",
                        "functions are " + ", ".join(sorted(FUNCTIONS)))
        self.take()  # "("
        args = self.arguments(")")
        end = self.take().pos + 1
        fewest, most = FUNCTIONS[name]
        if len(args) < fewest or (most is not None and len(args) > most):
            wanted = str(fewest) if fewest == most else f"at least {fewest}"
            raise fail(self.text, name_token.pos,
                        f"{name}() takes {wanted} argument{'s' * (fewest != 1)}, "
                        f"got {len(args)}")
        if name == "exists" and not isinstance(args[0], Path):
            raise fail(self.text, args[0].start, "exists() takes a field path")
        return self.built(Call(name_token.pos, end, name, args))

    def path(self) -> Node:
        first = self.take()
        segments: list[str | int] = [] if first.text == "$" else [first.text]
        end = first.pos + len(first.text)
        while True:
            if self.is_op("."):
                self.take()
                key = self.peek()
                if key.kind != "word":
                    remedy = "write a[0] for a list index" if key.kind == "num" else (
                        'write a["key"] for a key that is not a plain name')
                    raise self.unexpected("expected a field name after `.`", remedy)
                segments.append(self.take().text)
                end = key.pos + len(key.text)
            elif self.is_op("["):
                self.take()
                segments.append(self.index())
                end = self.expect("]", "`]`").pos + 1
            else:
                return Path(first.pos, end, tuple(segments))

    def index(self) -> str | int:
        negative = self.is_op("-")
        if negative:
            self.take()
        token = self.peek()
        if token.kind == "num" and isinstance(token.value, int):
            self.take()
            return -token.value if negative else token.value
        if token.kind == "str" and not negative:
            self.take()
            return str(token.value)
        raise self.unexpected("expected a list index or a quoted key in `[...]`")


def parse_tree(text: str) -> Node:
    """The tree of ``text``; ``UsageError`` (exit 2) naming the position of any problem."""
    if len(text) > MAX_RULE_LENGTH:
        raise fail(text, MAX_RULE_LENGTH,
                    f"rule is {len(text)} characters long, more than {MAX_RULE_LENGTH}",
                    "split it into several --rule options")
    return _Parser(text).rule()
