"""Tokenizer of the custom-type rule language (grammar in ``rules/__init__.py``), and its error
messages.

This is the first code to touch an untrusted rule text, so it is kept small enough to audit on
its own: it only slices the text into numbers, strings, words and operators, and every refusal
(here and in the parser) goes through ``fail`` so all of them name the rule and the position
the same way. Hyphenated names are refused here, where the spelling is still visible.
"""

from __future__ import annotations

import json

from affidavit.errors import UsageError

__all__ = ["KEYWORDS", "Token", "continues_word", "fail", "starts_word", "tokenize"]

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
_OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", ",",
              ".", "$")
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n",
            "r": "\r", "t": "\t"}
#: Characters people type from other languages, and what to write instead.
_HINTS = {"&": "write `and`", "|": "write `or`", "!": "write `not` (or `!=`)",
          "=": "write `==` to compare", "{": "write the field path directly, e.g. a.b",
          "%": "only + - * / are supported", "@": "write the field path directly, e.g. a.b"}


def starts_word(ch: str) -> bool:
    return ch == "_" or ch.isalpha()


def continues_word(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or "0" <= ch <= "9"


class Token:
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


def fail(text: str, pos: int, problem: str, remedy: str | None = None) -> UsageError:
    """One line naming the rule and the 1-based character position of the problem."""
    shown = text if len(text) <= 80 else text[:77] + "..."
    message = f"rule {json.dumps(shown, ensure_ascii=False)}: {problem} at position {pos + 1}"
    if len(text) > 80:
        near = text[max(0, pos - 15):pos + 15]
        message += f" (near {json.dumps(near, ensure_ascii=False)})"
    return UsageError(message, remedy=remedy)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r\n":
            i += 1
        elif "0" <= ch <= "9":
            i = _number(text, i, tokens)
        elif ch in "\"'":
            i = _string(text, i, tokens)
        elif starts_word(ch):
            start = i
            while i < n and continues_word(text[i]):
                i += 1
            word = text[start:i]
            if (i + 1 < n and text[i] == "-" and starts_word(text[i + 1])
                    and word not in KEYWORDS):
                end = i + 1
                while end < n and (continues_word(text[end]) or text[end] == "-"):
                    end += 1
                key = text[start:end]
                after_dot = bool(tokens) and tokens[-1].text == "."
                quoted = f'[{json.dumps(key)}]' if after_dot else f'$[{json.dumps(key)}]'
                raise fail(text, start, f"{json.dumps(key)} is ambiguous",
                            f"write {quoted} for a key with a hyphen, or put spaces around - "
                            "to subtract")
            tokens.append(Token("word", word, word, start))
        else:
            op = next((op for op in _OPERATORS if text.startswith(op, i)), None)
            if op is None:
                raise fail(text, i, f"unexpected character {json.dumps(ch)}", _HINTS.get(ch))
            tokens.append(Token("op", op, op, i))
            i += len(op)
    tokens.append(Token("end", "", None, n))
    return tokens


def _number(text: str, i: int, tokens: list[Token]) -> int:
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
    if i < n and continues_word(text[i]):
        raise fail(text, start, f"malformed number {json.dumps(text[start:i + 1])}")
    literal = text[start:i]
    value: int | float = float(literal) if is_float else int(literal)
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        raise fail(text, start, f"number {literal} is out of range")
    tokens.append(Token("num", literal, value, start))
    return i


def _string(text: str, i: int, tokens: list[Token]) -> int:
    quote, start, n = text[i], i, len(text)
    i += 1
    parts: list[str] = []
    while True:
        if i >= n:
            raise fail(text, start, "unterminated string", f"close it with {quote}")
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
            raise fail(text, i, f"unknown escape \\{escape}",
                        "escapes are \\\\ \\' \\\" \\n \\t \\r \\b \\f \\/ \\uXXXX")
    tokens.append(Token("str", text[start:i + 1], "".join(parts), start))
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
        raise fail(text, i, "\\u needs four hex digits")
    if 0xDC00 <= high <= 0xDFFF:
        raise fail(text, i, "lone surrogate in \\u escape")
    if 0xD800 <= high <= 0xDBFF:
        low = hex4(i + 6)
        if low is None or not 0xDC00 <= low <= 0xDFFF:
            raise fail(text, i, "lone surrogate in \\u escape")
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)), i + 12
    return chr(high), i + 6
