"""Compliance rules of custom attestation types: a small, safe expression language over JSON.

``create attestation-type NAME --schema s.json --rule EXPR ...`` stores rule *texts*; an
attestation of that type is compliant iff every rule holds on its attestation data. The ledger
keeps only the texts, so ``verify`` re-parses them and must reach the same verdict: parsing is
deterministic and evaluation depends on nothing but the text and the data. The text is
untrusted (it may come from anyone allowed to create a type), so nothing here uses Python's
``eval``/``exec``/``compile``, attribute access or imports: a tokenizer (``lexer.py``)
and a recursive-descent parser (``parser.py``) build a tree of this project's own nodes
(``ast.py``), and an evaluator (``eval.py``) walks it over plain JSON values (dict,
list, str, int, float, bool, None). This module is the public face: the grammar, the meaning
and the limits below are the contract the ledger's stored texts rely on.

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

from affidavit.compliance.rules.eval import evaluate, one_line
from affidavit.compliance.rules.parser import FUNCTIONS, MAX_DEPTH, MAX_RULE_LENGTH, parse_tree

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from affidavit.compliance.rules.ast import Node

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
        return evaluate(self.text, self.tree, data, MAX_STEPS)  # read now: tests lower it

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
            reasons.append(reason or f"{one_line(rule.text)} does not hold")
    return not reasons, reasons
