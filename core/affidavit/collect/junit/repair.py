"""The lenient second reading of a results file that is not well-formed XML.

Some producers write files that are *almost* XML and that every JUnit tool still reads, e.g.
``time="<<computed>>"`` (a raw ``<`` inside an attribute value), a raw ``&`` in a failure
message, an HTML entity such as ``&nbsp;``, or terminal escape codes (``\\x1b[31m``) copied
from test output. Refusing them would make ``attest junit`` useless for those producers;
guessing at broken *structure* could change the counts. So the repair is limited to changes
that cannot move, add or remove an element, and is made by a small tokenizer that knows
whether it is in text, inside a tag, inside a quoted attribute value, or in a comment, CDATA
section or processing instruction:

- inside a quoted attribute value, ``<`` becomes ``&lt;`` (a tag cannot start there);
- in text, a ``<`` that cannot start markup (not followed by a name, ``/``, ``!`` or ``?``)
  becomes ``&lt;``;
- in text and attribute values, an ``&`` that does not start one of XML's five predefined
  entity references or a character reference becomes ``&amp;`` (without a DTD, which is
  refused, no other entity can exist, so ``&nbsp;`` is kept as the literal text);
- characters XML 1.0 forbids (C0 controls but tab/newline/return, U+FFFE, U+FFFF) and bytes
  that do not decode in the file's encoding become U+FFFD.

Anything else -- a truncated file, a tag that is never closed, a missing quote, mismatched end
tags -- is still an error: the tokenizer leaves it alone and expat reports it.
"""

from __future__ import annotations

import re

__all__ = ["Repairer"]

_TEXT, _TAG, _DQ, _SQ, _COMMENT, _CDATA, _PI, _DECL = range(8)

_IN_TEXT = re.compile(r"[<&]")
_IN_TAG = re.compile(r"[\"'>]")
_IN_DQ = re.compile(r"[\"<&]")
_IN_SQ = re.compile(r"['<&]")
_REF = re.compile(r"&(?:lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});")
_MARKUP_START = re.compile(r"[A-Za-z_:/!?\u00c0-\U0010ffff]")
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LOOKAHEAD = 12  # longer than any reference or markup opener the tokenizer must recognise
_ENDS = {_COMMENT: "-->", _CDATA: "]]>", _PI: "?>", _DECL: ">"}


class Repairer:
    """Feed text in pieces (``repair(text, final)``); get the repaired text back."""

    def __init__(self) -> None:
        self.state = _TEXT
        self.carry = ""

    def __call__(self, text: str, final: bool) -> str:
        s = self.carry + text
        self.carry = ""
        out: list[str] = []
        i, n = 0, len(s)
        while i < n:
            state = self.state
            if state in _ENDS:
                end = _ENDS[state]
                j = s.find(end, i)
                if j < 0:
                    keep = n if final else max(i, n - len(end) + 1)
                    out.append(s[i:keep])
                    self.carry, i = s[keep:], n
                    break
                out.append(s[i:j + len(end)])
                self.state, i = _TEXT, j + len(end)
                continue
            pattern = (_IN_TEXT, _IN_TAG, _IN_DQ, _IN_SQ)[state]
            m = pattern.search(s, i)
            if m is None:
                out.append(s[i:])
                i = n
                break
            j = m.start()
            out.append(s[i:j])
            c = s[j]
            if not final and n - j < _LOOKAHEAD and c in "<&":
                self.carry, i = s[j:], n  # decide once more of the text has arrived
                break
            if c == "&":
                ref = _REF.match(s, j)
                if ref:
                    out.append(ref.group())
                    i = ref.end()
                else:
                    out.append("&amp;")
                    i = j + 1
            elif c == "<":
                i = self._open(s, j, out)
            elif c == ">":
                out.append(c)
                self.state, i = _TEXT, j + 1
            else:  # a quote: opens a value inside a tag, closes it inside a value
                out.append(c)
                self.state = _TAG if state in (_DQ, _SQ) else (_DQ if c == '"' else _SQ)
                i = j + 1
        return _FORBIDDEN.sub("\ufffd", "".join(out))

    def _open(self, s: str, j: int, out: list[str]) -> int:
        """Handle a ``<`` at ``s[j]``; return where to continue."""
        if self.state in (_DQ, _SQ):
            out.append("&lt;")
            return j + 1
        if self.state == _TAG:  # a tag left open: not repairable, leave it to expat
            out.append("<")
            return j + 1
        for opener, state in (("<!--", _COMMENT), ("<![CDATA[", _CDATA), ("<?", _PI),
                              ("<!", _DECL)):
            if s.startswith(opener, j):
                out.append(opener)
                self.state = state
                return j + len(opener)
        if _MARKUP_START.match(s, j + 1):
            out.append("<")
            self.state = _TAG
            return j + 1
        out.append("&lt;")
        return j + 1
