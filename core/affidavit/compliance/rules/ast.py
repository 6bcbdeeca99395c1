"""Syntax tree of the custom-type rule language, shared by the parser and the evaluator.

Nodes are frozen, slotted dataclasses: values compared field by field, immutable once built, so
a parsed rule can be shared and cached. Each node keeps its slice of the rule text, so a reason
can quote the rule, and its height, so the parser can refuse a tree taller than ``MAX_DEPTH``
without a recursive walk.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

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


@dataclass(frozen=True, slots=True)
class Node:
    """A node of the tree: ``start``/``end`` slice the rule text, so reasons quote the rule.

    ``depth`` is the height of the subtree, kept on every node so the limit is checked while
    building, without a recursive walk.
    """

    start: int
    end: int
    depth: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "depth", 1 + max((c.depth for c in self.children()), default=0))

    def children(self) -> tuple[Node, ...]:
        """The nodes directly below this one."""
        return ()


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: object


@dataclass(frozen=True, slots=True)
class ListLiteral(Node):
    items: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.items


@dataclass(frozen=True, slots=True)
class Path(Node):
    """A field path from the root of the data; keys are ``str``, list indexes ``int``."""

    segments: tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class _OneOperand(Node):
    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True, slots=True)
class Negate(_OneOperand):
    pass


@dataclass(frozen=True, slots=True)
class Not(_OneOperand):
    pass


@dataclass(frozen=True, slots=True)
class BoolOp(Node):
    """``and``/``or`` over two or more operands (a flat list, so long chains stay shallow)."""

    op: str
    operands: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.operands


@dataclass(frozen=True, slots=True)
class _TwoOperands(Node):
    op: str
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Compare(_TwoOperands):
    pass


@dataclass(frozen=True, slots=True)
class Arith(_TwoOperands):
    pass


@dataclass(frozen=True, slots=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.args


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
