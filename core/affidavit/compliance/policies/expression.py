"""Kosli's policy expressions (``${{ ... }}`` in ``if`` and ``exceptions[].if``): text to tree.

A policy's conditions are untrusted text like a custom type's rules, so they get the same kind
of treatment: a tokenizer and a recursive-descent parser of this project's own, building the
syntax tree of ``compliance.rules`` (``rules/ast.py``), with no ``eval`` and with the same
length and nesting limits. The language is Kosli's, not the rules language: its fields are the
few a policy may ask about (see ``FIELDS``), a flow tag's key runs to the next space or operator
(``flow.tags.risk-level``, ``flow.tags.key.with.dots``), there is no arithmetic, and
``matches(value, "regex")`` tests a regular expression with RE2 (linear time, as every
user-supplied pattern in this project). Its grammar, lowest precedence first::

    expression := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := operand [("==" | "!=" | "<" | "<=" | ">" | ">=" | "in") operand]
    operand    := STRING | NUMBER | "true" | "false" | "null" | "[" [operand ("," operand)*] "]"
                | "exists" "(" field ")" | "matches" "(" operand "," STRING ")"
                | field | "(" expression ")"

Fields are never booleans (names, fingerprints and tags are strings), so the operands of
``and``/``or``/``not`` and the expression itself must be conditions — a comparison, a call,
``true``/``false`` or a parenthesised condition; anything else is refused here, where the
position is known, rather than failing every artifact later. The meaning is in ``conditions.py``.
"""

from __future__ import annotations

import json

from affidavit.compliance.rules import MAX_DEPTH, MAX_RULE_LENGTH
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
from affidavit.errors import InputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["FIELDS", "Expression", "ExpressionError", "parse_expression", "strip_wrapper"]

#: What an expression may read; ``flow.tags.<key>`` is any key below ``flow.tags``.
FIELDS = ("flow", "flow.name", "flow.tags", "flow.tags.<key>", "artifact", "artifact.name",
          "artifact.fingerprint")
_KNOWN = frozenset({("flow",), ("flow", "name"), ("flow", "tags"), ("artifact",),
                    ("artifact", "name"), ("artifact", "fingerprint")})
_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
_FUNCTIONS = ("exists", "matches")
_COMPARISONS = ("==", "!=", "<=", ">=", "<", ">")
_OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "(", ")", "[", "]", ",", ".")
#: Characters that end a tag key: ``flow.tags.team=="a"`` reads the key ``team``.
_KEY_END = frozenset(" \t\r\n()[],=!<>'\"")
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "n": "\n", "r": "\r", "t": "\t"}
_HINTS = {"&": "write `and`", "|": "write `or`", "!": "write `not` (or `!=`)",
          "=": "write `==` to compare", "+": "expressions have no arithmetic",
          "-": "expressions have no arithmetic", "*": "expressions have no arithmetic",
          "/": "expressions have no arithmetic", "$": "write ${{ ... }} around the whole "
          "expression, or nothing"}


class ExpressionError(Exception):
    """A malformed expression: what is wrong and the 0-based position, for the caller to name
    the file and the key it came from."""

    def __init__(self, problem: str, pos: int, remedy: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.pos = pos
        self.remedy = remedy


class Expression:
    """A parsed condition; ``text`` is the expression without its ``${{ }}``, as reasons quote it.

    ``patterns`` holds every ``matches`` regex compiled once, by its text, so evaluating an
    expression over many artifacts never compiles twice.
    """

    __slots__ = ("text", "tree", "patterns")

    def __init__(self, text: str, tree: Node, patterns: dict[str, Any]) -> None:
        self.text = text
        self.tree = tree
        self.patterns = patterns

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


def strip_wrapper(raw: str) -> tuple[str, int]:
    """The expression inside ``${{ ... }}`` (Kosli's spelling) and its offset in ``raw``; a bare
    expression is accepted as it is, as Kosli's own schema allows."""
    start = len(raw) - len(raw.lstrip())
    body = raw.strip()
    if not body.startswith("${{"):
        return body, start
    if not body.endswith("}}"):
        raise ExpressionError("`${{` is not closed by `}}`", start, "end the expression with }}")
    inner = body[3:-2]
    offset = start + 3 + len(inner) - len(inner.lstrip())
    return inner.strip(), offset


def parse_expression(raw: str, where: str) -> Expression:
    """The condition ``raw`` means; ``InputError`` quoting it, with the position of the first
    problem, prefixed by ``where`` (the file and the key it is under)."""
    try:
        text, offset = strip_wrapper(raw)
    except ExpressionError as exc:
        raise _refusal(raw, exc, 0, where) from None
    try:
        if not text:
            raise ExpressionError("the expression is empty", 0)
        if len(text) > MAX_RULE_LENGTH:
            raise ExpressionError(f"the expression is {len(text)} characters long, more than "
                                  f"{MAX_RULE_LENGTH}", MAX_RULE_LENGTH)
        parser = _Parser(text)
        tree = parser.whole()
    except ExpressionError as exc:
        raise _refusal(raw, exc, offset, where) from None
    return Expression(text, tree, parser.patterns)


def _refusal(raw: str, exc: ExpressionError, offset: int, where: str) -> InputError:
    shown = " ".join(raw.split())
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    message = (f"{where}: expression {json.dumps(shown, ensure_ascii=False)}: {exc.problem} "
               f"at position {offset + exc.pos + 1}")
    return InputError(message, remedy=exc.remedy)


class _Token:
    __slots__ = ("kind", "text", "value", "pos")

    def __init__(self, kind: str, text: str, value: object, pos: int) -> None:
        self.kind = kind  # "num", "str", "word", "key" (a tag key), "op" or "end"
        self.text = text
        self.value = value
        self.pos = pos

    def describe(self) -> str:
        if self.kind == "end":
            return "the end of the expression"
        shown = self.text if len(self.text) <= 20 else self.text[:17] + "..."
        return json.dumps(shown, ensure_ascii=False)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if _after_tags(tokens, i):
            i = _tag_key(text, i, tokens)
        elif ch in " \t\r\n":
            i += 1
        elif _digit(ch) or (ch == "-" and _digit(text[i + 1:i + 2])):
            i = _number(text, i, tokens)
        elif ch in "\"'":
            i = _string(text, i, tokens)
        elif ch == "_" or ch.isalpha():
            start = i
            while i < len(text) and (text[i] == "_" or text[i].isalnum()):
                i += 1
            tokens.append(_Token("word", text[start:i], text[start:i], start))
        else:
            op = next((op for op in _OPERATORS if text.startswith(op, i)), None)
            if op is None:
                raise ExpressionError(f"unexpected character {json.dumps(ch)}", i,
                                      _HINTS.get(ch))
            tokens.append(_Token("op", op, op, i))
            i += len(op)
    tokens.append(_Token("end", "", None, len(text)))
    return tokens


def _digit(ch: str) -> bool:
    return len(ch) == 1 and "0" <= ch <= "9"


def _after_tags(tokens: list[_Token], at: int) -> bool:
    """Whether a tag key starts at ``at``: right after ``flow.tags.``, with no space between."""
    if len(tokens) < 4 or tokens[-1].text != "." or tokens[-1].kind != "op":
        return False
    if tokens[-1].pos + 1 != at:
        return False
    return ([t.text for t in tokens[-4:-1]] == ["flow", ".", "tags"]
            and tokens[-4].kind == "word" and tokens[-3].kind == "op" and tokens[-2].kind == "word"
            and (len(tokens) == 4 or tokens[-5].text != "."))


def _tag_key(text: str, i: int, tokens: list[_Token]) -> int:
    start = i
    while i < len(text) and text[i] not in _KEY_END:
        i += 1
    if i == start:
        raise ExpressionError("expected a tag key after `flow.tags.`", start)
    tokens.append(_Token("key", text[start:i], text[start:i], start))
    return i


def _number(text: str, i: int, tokens: list[_Token]) -> int:
    start = i
    i += 1
    while _digit(text[i:i + 1]):
        i += 1
    if text[i:i + 1] == "." and _digit(text[i + 1:i + 2]):
        i += 1
        while _digit(text[i:i + 1]):
            i += 1
    if i < len(text) and (text[i] == "_" or text[i].isalnum() or text[i] == "."):
        raise ExpressionError(f"malformed number {json.dumps(text[start:i + 1])}", start)
    literal = text[start:i]
    value: int | float = float(literal) if "." in literal else int(literal)
    tokens.append(_Token("num", literal, value, start))
    return i


def _string(text: str, i: int, tokens: list[_Token]) -> int:
    quote, start = text[i], i
    i += 1
    parts: list[str] = []
    while True:
        if i >= len(text):
            raise ExpressionError("unterminated string", start, f"close it with {quote}")
        ch = text[i]
        if ch == quote:
            break
        if ch == "\\":
            escape = text[i + 1:i + 2]
            if escape not in _ESCAPES:
                raise ExpressionError(f"unknown escape \\{escape}", i,
                                      "escapes are \\\\ \\' \\\" \\/ \\n \\r \\t")
            parts.append(_ESCAPES[escape])
            i += 2
            continue
        parts.append(ch)
        i += 1
    tokens.append(_Token("str", text[start:i + 1], "".join(parts), start))
    return i + 1


def _is_condition(node: Node) -> bool:
    """Whether ``node`` yields a boolean whatever the artifact (fields never do)."""
    if isinstance(node, Literal):
        return isinstance(node.value, bool)
    return isinstance(node, BoolOp | Not | Compare | Call)


class _Parser:
    """Recursive descent, one method per precedence level; the nesting is counted so no text can
    exhaust the Python stack."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.at = 0
        self.nesting = 0
        self.patterns: dict[str, Any] = {}

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.at + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.peek()
        self.at = min(self.at + 1, len(self.tokens) - 1)
        return token

    def is_op(self, op: str) -> bool:
        return self.peek().kind == "op" and self.peek().text == op

    def is_word(self, word: str) -> bool:
        return self.peek().kind == "word" and self.peek().text == word

    def unexpected(self, expected: str, remedy: str | None = None) -> ExpressionError:
        token = self.peek()
        return ExpressionError(f"{expected}, found {token.describe()}", token.pos, remedy)

    def enter(self) -> None:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise ExpressionError(f"the expression is nested deeper than {MAX_DEPTH} levels",
                                  self.peek().pos)

    def condition(self, node: Node) -> Node:
        if not _is_condition(node):
            raise ExpressionError(
                f"{json.dumps(self.text[node.start:node.end])} is not a condition", node.start,
                "compare it, e.g. flow.name == \"x\", or use exists(...) or matches(...)")
        return node

    def whole(self) -> Node:
        node = self.or_expr()
        if self.peek().kind != "end":
            remedy = ("write `not (a in b)`" if self.is_word("not")
                      else "join conditions with `and` / `or`")
            raise self.unexpected("expected the end of the expression", remedy)
        return self.condition(node)

    def or_expr(self) -> Node:
        return self.chain("or", self.and_expr)

    def and_expr(self) -> Node:
        return self.chain("and", self.not_expr)

    def chain(self, op: str, operand: Callable[[], Node]) -> Node:
        operands: list[Node] = [operand()]
        while self.is_word(op):
            self.take()
            operands.append(operand())
        if len(operands) == 1:
            return operands[0]
        for item in operands:
            self.condition(item)
        return BoolOp(operands[0].start, operands[-1].end, op, tuple(operands))

    def not_expr(self) -> Node:
        if not self.is_word("not"):
            return self.comparison()
        start = self.take().pos
        self.enter()
        operand = self.condition(self.not_expr())
        self.nesting -= 1
        return Not(start, operand.end, operand)

    def comparison(self) -> Node:
        left = self.operand()
        token = self.peek()
        op = token.text if (token.kind == "op" and token.text in _COMPARISONS) or (
            token.kind == "word" and token.text == "in") else None
        if op is None:
            return left
        self.take()
        right = self.operand()
        after = self.peek()
        if after.text in _COMPARISONS or (after.kind == "word" and after.text == "in"):
            raise ExpressionError("chained comparison", after.pos,
                                  "comparisons cannot be chained; write `a < b and b < c`")
        return Compare(left.start, right.end, op, left, right)

    def operand(self) -> Node:
        token = self.peek()
        if token.kind in ("num", "str"):
            self.take()
            return Literal(token.pos, token.pos + len(token.text), token.value)
        if token.kind == "word" and token.text in ("true", "false", "null"):
            self.take()
            value = {"true": True, "false": False, "null": None}[token.text]
            return Literal(token.pos, token.pos + len(token.text), value)
        if token.kind == "word" and self.peek(1).kind == "op" and self.peek(1).text == "(":
            return self.call()
        if token.kind == "word" and token.text not in _KEYWORDS:
            return self.field()
        if self.is_op("("):
            self.take()
            self.enter()
            node = self.or_expr()
            if not self.is_op(")"):
                raise self.unexpected("expected `)`")
            self.take()
            self.nesting -= 1
            return node
        if self.is_op("["):
            return self.list_literal()
        raise self.unexpected("expected a value")

    def list_literal(self) -> Node:
        start = self.take().pos
        self.enter()
        items: list[Node] = []
        if not self.is_op("]"):
            items.append(self.operand())
            while self.is_op(","):
                self.take()
                items.append(self.operand())
        if not self.is_op("]"):
            raise self.unexpected("expected `,` or `]`")
        end = self.take().pos + 1
        self.nesting -= 1
        return ListLiteral(start, end, tuple(items))

    def call(self) -> Node:
        name = self.take()
        if name.text not in _FUNCTIONS:
            raise ExpressionError(f"unknown function {json.dumps(name.text)}", name.pos,
                                  "functions are exists(field) and matches(value, \"regex\")")
        self.take()  # "("
        self.enter()
        if name.text == "exists":
            args: tuple[Node, ...] = (self.exists_argument(),)
        else:
            args = self.matches_arguments()
        if not self.is_op(")"):
            raise self.unexpected("expected `)`")
        end = self.take().pos + 1
        self.nesting -= 1
        return Call(name.pos, end, name.text, args)

    def exists_argument(self) -> Node:
        token = self.peek()
        if token.kind != "word" or token.text in _KEYWORDS:
            raise self.unexpected("exists() takes a field, e.g. exists(flow)")
        return self.field()

    def matches_arguments(self) -> tuple[Node, ...]:
        value = self.operand()
        if not self.is_op(","):
            raise self.unexpected("expected `,`", "write matches(value, \"regex\")")
        self.take()
        token = self.peek()
        if token.kind != "str":
            raise self.unexpected("matches() takes its regex as a quoted string")
        self.take()
        pattern = str(token.value)
        if pattern not in self.patterns:
            self.patterns[pattern] = _compile(pattern, token.pos)
        return value, Literal(token.pos, token.pos + len(token.text), pattern)

    def field(self) -> Node:
        first = self.take()
        segments: list[str] = [first.text]
        end = first.pos + len(first.text)
        while self.is_op("."):
            self.take()
            part = self.peek()
            if part.kind not in ("word", "key"):
                raise self.unexpected("expected a field name after `.`")
            self.take()
            segments.append(part.text)
            end = part.pos + len(part.text)
        known = tuple(segments) in _KNOWN or (len(segments) == 3 and segments[:2] == [
            "flow", "tags"])
        if not known:
            raise ExpressionError(f"unknown field {'.'.join(segments)}", first.pos,
                                  "fields are " + ", ".join(FIELDS))
        return Path(first.pos, end, tuple(segments))


def _compile(pattern: str, pos: int) -> Any:
    """The RE2 program of ``pattern``; a pattern RE2 refuses (backreferences, lookaround, bad
    syntax) is refused here, at load, not when some artifact happens to reach it."""
    import re2  # type: ignore[import-untyped]

    options = re2.Options()
    options.log_errors = False  # RE2 would otherwise log each refusal to stderr itself
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid"
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        raise ExpressionError(f"invalid regex: {text}", pos,
                              "RE2 syntax: no backreferences or lookaround") from None
