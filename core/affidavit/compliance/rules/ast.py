"""Syntax tree of the custom-type rule language, shared by the parser and the evaluator.

Nodes are plain slotted classes (no ``dataclasses``/``typing`` at runtime): the CLI's write
path loads this module and must stay cheap to import. Each node keeps its slice of the rule
text, so a reason can quote the rule, and its height, so the parser can refuse a tree taller
than ``MAX_DEPTH`` without a recursive walk.
"""

from __future__ import annotations

import json

from affidavit.compliance.rules.lexer import KEYWORDS, continues_word, starts_word

__all__ = [
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
    "path_text",
]


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
        elif _is_identifier(segment) and segment not in KEYWORDS:
            out += f".{segment}" if out else segment
        else:
            out += f"[{json.dumps(segment, ensure_ascii=False)}]"
    if not out or out.startswith("["):
        out = "$" + out
    return out


def _is_identifier(word: str) -> bool:
    return bool(word) and starts_word(word[0]) and all(continues_word(ch) for ch in word)
