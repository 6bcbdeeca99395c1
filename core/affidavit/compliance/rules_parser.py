"""Tokenizer, syntax tree and parser of the custom-type rule language (see ``rules.py``).

Kept apart from the evaluator so that the part that judges untrusted text (the parser) can be
read on its own. The parser never recurses more than ``MAX_DEPTH`` levels and refuses any tree
taller than that, so neither parsing nor evaluating can run out of Python stack, whatever the
text. Nodes are plain slotted classes (no ``dataclasses``/``typing`` at runtime): the CLI's
write path loads this module and must stay cheap to import.
"""

from __future__ import annotations

import json

from affidavit.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Final

__all__ = [
    "MAX_RULE_LENGTH",
    "MAX_DEPTH",
    "FUNCTIONS",
    "Node",
    "Literal",
    "ListLiteral",
    "Path",
    "Negate",
    "Not",
    "BoolOp",
    "Compare",
    "Arith",
    "Call",
    "parse_tree",
    "path_text",
]

MAX_RULE_LENGTH: Final = 1000
MAX_DEPTH: Final = 50

#: name -> (fewest, most) arguments; ``None`` means any number.
FUNCTIONS: Final[dict[str, tuple[int, int | None]]] = {
    "len": (1, 1), "min": (1, None), "max": (1, None), "sum": (1, 1),
    "lower": (1, 1), "upper": (1, 1), "exists": (1, 1), "count": (2, 2),
}
_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">=", "in", "not in"})
_OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", ",",
              ".", "$")
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n",
            "r": "\r", "t": "\t"}
#: Characters people type from other languages, and what to write instead.
_HINTS = {"&": "write `and`", "|": "write `or`", "!": "write `not` (or `!=`)",
          "=": "write `==` to compare", "{": "write the field path directly, e.g. a.b",
          "%": "only + - * / are supported", "@": "write the field path directly, e.g. a.b"}


# --- syntax tree ---------------------------------------------------------------------------

class Node:
    """A node of the tree: ``start``/``end`` slice the rule text, so reasons quote the rule.

    ``depth`` is the height of the subtree, kept on every node so the limit is checked while
    building, without a recursive walk.
    """

    __slots__ = ("start", "end", "depth")
    _fields: tuple[str, ...] = ()
    start: int
    end: int
    depth: int

    def __init__(self, start: int, end: int, children: tuple[Node, ...] = ()) -> None:
        self.start = start
        self.end = end
        self.depth = 1 + max((child.depth for child in children), default=0)

    def _key(self) -> tuple[object, ...]:
        return (self.start, self.end, *(getattr(self, name) for name in self._fields))

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and isinstance(other, Node) and (
            self._key() == other._key())

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.start, self.end))

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({inner})"


class Literal(Node):
    __slots__ = ("value",)
    _fields = ("value",)

    def __init__(self, start: int, end: int, value: object) -> None:
        super().__init__(start, end)
        self.value = value


class ListLiteral(Node):
    __slots__ = ("items",)
    _fields = ("items",)

    def __init__(self, start: int, end: int, items: tuple[Node, ...]) -> None:
        super().__init__(start, end, items)
        self.items = items


class Path(Node):
    """A field path from the root of the data; keys are ``str``, list indexes ``int``."""

    __slots__ = ("segments",)
    _fields = ("segments",)

    def __init__(self, start: int, end: int, segments: tuple[str | int, ...]) -> None:
        super().__init__(start, end)
        self.segments = segments


class _OneOperand(Node):
    __slots__ = ("operand",)
    _fields = ("operand",)

    def __init__(self, start: int, end: int, operand: Node) -> None:
        super().__init__(start, end, (operand,))
        self.operand = operand


class Negate(_OneOperand):
    __slots__ = ()


class Not(_OneOperand):
    __slots__ = ()


class BoolOp(Node):
    """``and``/``or`` over two or more operands (a flat list, so long chains stay shallow)."""

    __slots__ = ("op", "operands")
    _fields = ("op", "operands")

    def __init__(self, start: int, end: int, op: str, operands: tuple[Node, ...]) -> None:
        super().__init__(start, end, operands)
        self.op = op
        self.operands = operands


class _TwoOperands(Node):
    __slots__ = ("op", "left", "right")
    _fields = ("op", "left", "right")

    def __init__(self, start: int, end: int, op: str, left: Node, right: Node) -> None:
        super().__init__(start, end, (left, right))
        self.op = op
        self.left = left
        self.right = right


class Compare(_TwoOperands):
    __slots__ = ()


class Arith(_TwoOperands):
    __slots__ = ()


class Call(Node):
    __slots__ = ("name", "args")
    _fields = ("name", "args")

    def __init__(self, start: int, end: int, name: str, args: tuple[Node, ...]) -> None:
        super().__init__(start, end, args)
        self.name = name
        self.args = args


def path_text(segments: tuple[str | int, ...]) -> str:
    """The canonical spelling of a path, for reasons: ``a.b[0]["x y"]``, ``$`` for the root."""
    out = ""
    for segment in segments:
        if isinstance(segment, int):
            out += f"[{segment}]"
        elif _is_identifier(segment) and segment not in _KEYWORDS:
            out += f".{segment}" if out else segment
        else:
            out += f"[{json.dumps(segment, ensure_ascii=False)}]"
    if not out or out.startswith("["):
        out = "$" + out
    return out


def _is_identifier(word: str) -> bool:
    return bool(word) and _starts_word(word[0]) and all(_continues_word(ch) for ch in word)


def _starts_word(ch: str) -> bool:
    return ch == "_" or ch.isalpha()


def _continues_word(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or "0" <= ch <= "9"


# --- tokenizer -----------------------------------------------------------------------------

class _Token:
    __slots__ = ("kind", "text", "value", "pos")

    def __init__(self, kind: str, text: str, value: object, pos: int) -> None:
        self.kind = kind  # "num", "str", "word", "op" or "end"
        self.text = text
        self.value = value
        self.pos = pos

    def describe(self) -> str:
        if self.kind == "end":
            return "end of rule"
        shown = self.text if len(self.text) <= 20 else self.text[:17] + "..."
        return json.dumps(shown, ensure_ascii=False)


def _fail(text: str, pos: int, problem: str, remedy: str | None = None) -> UsageError:
    """One line naming the rule and the 1-based character position of the problem."""
    shown = text if len(text) <= 80 else text[:77] + "..."
    message = f"rule {json.dumps(shown, ensure_ascii=False)}: {problem} at position {pos + 1}"
    if len(text) > 80:
        near = text[max(0, pos - 15):pos + 15]
        message += f" (near {json.dumps(near, ensure_ascii=False)})"
    return UsageError(message, remedy=remedy)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r\n":
            i += 1
        elif "0" <= ch <= "9":
            i = _number(text, i, tokens)
        elif ch in "\"'":
            i = _string(text, i, tokens)
        elif _starts_word(ch):
            start = i
            while i < n and _continues_word(text[i]):
                i += 1
            word = text[start:i]
            if (i + 1 < n and text[i] == "-" and _starts_word(text[i + 1])
                    and word not in _KEYWORDS):
                end = i + 1
                while end < n and (_continues_word(text[end]) or text[end] == "-"):
                    end += 1
                key = text[start:end]
                after_dot = bool(tokens) and tokens[-1].text == "."
                quoted = f'[{json.dumps(key)}]' if after_dot else f'$[{json.dumps(key)}]'
                raise _fail(text, start, f"{json.dumps(key)} is ambiguous",
                            f"write {quoted} for a key with a hyphen, or put spaces around - "
                            "to subtract")
            tokens.append(_Token("word", word, word, start))
        else:
            op = next((op for op in _OPERATORS if text.startswith(op, i)), None)
            if op is None:
                raise _fail(text, i, f"unexpected character {json.dumps(ch)}", _HINTS.get(ch))
            tokens.append(_Token("op", op, op, i))
            i += len(op)
    tokens.append(_Token("end", "", None, n))
    return tokens


def _number(text: str, i: int, tokens: list[_Token]) -> int:
    start, n = i, len(text)

    def digits(j: int) -> int:
        while j < n and "0" <= text[j] <= "9":
            j += 1
        return j

    i = digits(i)
    is_float = False
    if i + 1 < n and text[i] == "." and "0" <= text[i + 1] <= "9":
        i, is_float = digits(i + 1), True
    if i < n and text[i] in "eE":
        j = i + 1
        if j < n and text[j] in "+-":
            j += 1
        if j < n and "0" <= text[j] <= "9":
            i, is_float = digits(j), True
    if i < n and _continues_word(text[i]):
        raise _fail(text, start, f"malformed number {json.dumps(text[start:i + 1])}")
    literal = text[start:i]
    value: int | float = float(literal) if is_float else int(literal)
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        raise _fail(text, start, f"number {literal} is out of range")
    tokens.append(_Token("num", literal, value, start))
    return i


def _string(text: str, i: int, tokens: list[_Token]) -> int:
    quote, start, n = text[i], i, len(text)
    i += 1
    parts: list[str] = []
    while True:
        if i >= n:
            raise _fail(text, start, "unterminated string", f"close it with {quote}")
        ch = text[i]
        if ch == quote:
            break
        if ch != "\\":
            parts.append(ch)
            i += 1
            continue
        escape = text[i + 1] if i + 1 < n else ""
        if escape in _ESCAPES:
            parts.append(_ESCAPES[escape])
            i += 2
        elif escape == "u":
            code, i = _unicode_escape(text, i)
            parts.append(code)
        else:
            raise _fail(text, i, f"unknown escape \\{escape}",
                        "escapes are \\\\ \\' \\\" \\n \\t \\r \\b \\f \\/ \\uXXXX")
    tokens.append(_Token("str", text[start:i + 1], "".join(parts), start))
    return i + 1


def _unicode_escape(text: str, i: int) -> tuple[str, int]:
    """``\\uXXXX`` at ``i``, joining a surrogate pair; a lone surrogate is refused because it
    cannot be printed or stored as UTF-8."""

    def hex4(at: int) -> int | None:
        digits = text[at + 2:at + 6]
        if text[at:at + 2] != "\\u" or len(digits) != 4:
            return None
        if any(d not in "0123456789abcdefABCDEF" for d in digits):
            return None
        return int(digits, 16)

    high = hex4(i)
    if high is None:
        raise _fail(text, i, "\\u needs four hex digits")
    if 0xDC00 <= high <= 0xDFFF:
        raise _fail(text, i, "lone surrogate in \\u escape")
    if 0xD800 <= high <= 0xDBFF:
        low = hex4(i + 6)
        if low is None or not 0xDC00 <= low <= 0xDFFF:
            raise _fail(text, i, "lone surrogate in \\u escape")
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)), i + 12
    return chr(high), i + 6


# --- parser --------------------------------------------------------------------------------

class _Parser:
    """Recursive descent, one method per precedence level (see the grammar in ``rules.py``)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.at = 0
        self.nesting = 0

    # helpers
    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.at + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.peek()
        self.at = min(self.at + 1, len(self.tokens) - 1)
        return token

    def is_op(self, op: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "op" and token.text == op

    def is_word(self, word: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "word" and token.text == word

    def expect(self, op: str, what: str) -> _Token:
        if not self.is_op(op):
            raise self.unexpected(f"expected {what}")
        return self.take()

    def unexpected(self, expected: str, remedy: str | None = None) -> UsageError:
        token = self.peek()
        return _fail(self.text, token.pos, f"{expected}, found {token.describe()}", remedy)

    def built(self, node: Node) -> Node:
        if node.depth > MAX_DEPTH:
            raise _fail(self.text, node.start, f"expression nested deeper than {MAX_DEPTH} levels")
        return node

    def enter(self) -> None:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise _fail(self.text, self.peek().pos,
                        f"expression nested deeper than {MAX_DEPTH} levels")

    # grammar
    def rule(self) -> Node:
        if self.peek().kind == "end":
            raise _fail(self.text, 0, "rule is empty")
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
            raise _fail(self.text, self.peek().pos, "chained comparison",
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
        if token.kind == "word" and token.text not in _KEYWORDS and self.is_op("(", 1):
            return self.call()
        if (token.kind == "word" and token.text not in _KEYWORDS) or self.is_op("$"):
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
            raise _fail(self.text, name_token.pos, f"unknown function {json.dumps(name)}",
                        "functions are " + ", ".join(sorted(FUNCTIONS)))
        self.take()  # "("
        args = self.arguments(")")
        end = self.take().pos + 1
        fewest, most = FUNCTIONS[name]
        if len(args) < fewest or (most is not None and len(args) > most):
            wanted = str(fewest) if fewest == most else f"at least {fewest}"
            raise _fail(self.text, name_token.pos,
                        f"{name}() takes {wanted} argument{'s' * (fewest != 1)}, "
                        f"got {len(args)}")
        if name == "exists" and not isinstance(args[0], Path):
            raise _fail(self.text, args[0].start, "exists() takes a field path")
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
        raise _fail(text, MAX_RULE_LENGTH,
                    f"rule is {len(text)} characters long, more than {MAX_RULE_LENGTH}",
                    "split it into several --rule options")
    return _Parser(text).rule()

