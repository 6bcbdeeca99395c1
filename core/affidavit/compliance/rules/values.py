"""Values and reasons of the rule evaluator: three-valued outcomes and how values are shown.

A failing rule must say why in one line, whatever the data, so everything that turns a JSON
value into text lives here and is bounded (``render`` never shows more than a few items or
characters). ``Undetermined`` and ``Truth`` carry that text through the evaluation so the
reason is the fact that decided the rule, not a restatement of the rule.
"""

from __future__ import annotations

import json

__all__ = ["FACTS", "Truth", "Undetermined", "is_number", "kind", "one_line", "plain", "render"]


class Undetermined:
    """The value of anything computed from a missing field, a type mismatch or an error."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class Truth:
    """A boolean produced by a comparison or a boolean operator, with the fact behind it.

    ``why`` is a statement true in either direction (``x >= 80: 72.5 is less than 80``), so
    ``not`` keeps it unchanged and a failing rule can quote the fact that failed it.
    """

    __slots__ = ("value", "why")

    def __init__(self, value: bool, why: str) -> None:
        self.value = value
        self.why = why


def plain(value: object) -> object:
    return value.value if isinstance(value, Truth) else value


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def kind(value: object) -> str:
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


def render(value: object, limit: int = 60) -> str:
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


def one_line(text: str) -> str:
    return " ".join(text.split())


FACTS = {  # op -> (fact when it holds, fact when it does not)
    "==": ("{l} equals {r}", "{l} is not equal to {r}"),
    "!=": ("{l} is not equal to {r}", "{l} equals {r}"),
    "<": ("{l} is less than {r}", "{l} is not less than {r}"),
    "<=": ("{l} is at most {r}", "{l} is greater than {r}"),
    ">": ("{l} is greater than {r}", "{l} is not greater than {r}"),
    ">=": ("{l} is at least {r}", "{l} is less than {r}"),
    "in": ("{l} is in {r}", "{l} is not in {r}"),
    "not in": ("{l} is not in {r}", "{l} is in {r}"),
}
