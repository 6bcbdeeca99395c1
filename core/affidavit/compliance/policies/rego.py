"""Rego environment policies, evaluated offline by regopy (rego-cpp), under a bound.

The contract is Kosli's ``kosli evaluate`` one, so its users keep their policies: the module
declares ``package policy`` and an ``allow`` rule (a boolean) and may declare ``violations``, a
set of strings saying why it denies. Each artifact of the snapshot is one evaluation, with the
document of ``input.py`` (``rego_input``) as ``input``: ``input.trail`` as ``kosli evaluate
trail`` builds it, and ``input.flow`` / ``input.artifact`` as Kosli's environment policies name
them. A Rego policy is one rule, so each artifact gets one decision, ``policy``:

- ``allow`` true: compliant ("allowed by the policy"); ``violations`` are then not read;
- ``allow`` false: not compliant, the reason being the violations, sorted, joined by ``; ``
  (a violation that is not a string is shown as JSON rather than dropped);
- ``allow`` undefined (no ``default allow := false`` and no body held), not a boolean, or an
  error in evaluating it (an unknown function, conflicting values): not compliant, with a reason
  saying which. Kosli stops with an error instead; failing the one artifact keeps the rest of
  the snapshot's decisions and still cannot make anything compliant.

Loading refuses, as one ``InputError`` naming the file: a syntax error (with its line), a
package other than ``policy``, a module with no ``allow`` rule, calls whose result changes
from run to run or leaves the machine (``time.now_ns``, ``rand.intn``, ``uuid.rfc4122``,
``opa.runtime``, ``http.send``, ``net.lookup_ip_addr``) — a recorded decision must come out the
same when checked again, and the input carries no clock to compare against anyway — and a
``not`` directly inside an ``every`` body, which rego-cpp 1.5.2 evaluates as always true (so the
policy would allow what it denies; the same negation through a helper rule is evaluated
right). These checks read the module with comments and strings blanked out; ``regopy`` missing
altogether is a ``UsageError`` naming the extra to install.

Another rego-cpp 1.5.2 discrepancy cannot be refused up front: ``sprintf("%s", [s])`` quotes
``s`` when a function or built-in returned it, and its answer is then not JSON. Such a
violation is reported as unreadable (the artifact still fails: ``allow`` decides); ``concat``
builds the same message correctly.

Bounds: regopy has no time, instruction or memory limit of its own (its C API has none to set),
so evaluation runs in a child process (``rego_child.py``) with an empty environment, killed when
it takes longer than ``REGO_SECONDS`` or its resident memory passes ``REGO_MEMORY_BYTES``
(measured on Linux; elsewhere only the clock bounds it), with the kernel's CPU limit behind the
clock. A killed or crashed evaluation is an ``InputError`` naming the file: no decision is
made up for it. Both limits are read at call time, so tests can lower them.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

from affidavit.compliance.policies.decisions import ArtifactKey, Decision
from affidavit.compliance.policies.input import rego_input
from affidavit.errors import InputError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from affidavit.compliance.policies.input import ArtifactFacts

__all__ = ["RegoPolicy", "load_rego", "decide_rego", "REGO_SECONDS", "REGO_MEMORY_BYTES",
           "MAX_VIOLATIONS"]

REGO_SECONDS = 20.0
REGO_MEMORY_BYTES = 512 << 20
#: Violations kept per artifact (the first in the set's order), each cut to ``_MAX_REASON``.
MAX_VIOLATIONS = 100
_MAX_REASON = 1000
_POLL = 0.05
_CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rego_child.py")
_FORBIDDEN = re.compile(r"(?<![\w.])(time\.now_ns|rand\.intn|uuid\.rfc4122|opa\.runtime|"
                        r"http\.send|net\.lookup_ip_addr)\s*\(")
_PACKAGE = re.compile(r"^[ \t]*package[ \t]+([^\s#;]+)", re.MULTILINE)
_EVERY = re.compile(r"(?<![\w.])every(?![\w])")
_NOT = re.compile(r"(?<![\w.])not(?![\w])")
_ALLOW = re.compile(r"^[ \t]*(?:default[ \t]+)?allow(?![\w.(\[])", re.MULTILINE)


class RegoPolicy:
    """A module that keeps the contract; ``where`` names it in every error."""

    __slots__ = ("text", "where")

    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where

    def __repr__(self) -> str:
        return f"RegoPolicy({self.where!r})"


def load_rego(text: str, where: str) -> RegoPolicy:
    """The module ``text`` once it parses and keeps the contract; ``InputError`` otherwise."""
    code = _code_only(text)
    package = _PACKAGE.search(code)
    if package is None:
        raise InputError(f"{where}: no package declaration", remedy="start with package policy")
    if package.group(1) != "policy":
        raise InputError(f"{where}: line {_line(code, package.start(1))}: package "
                         f"{package.group(1)}, not policy (the policy's answer is read from "
                         "data.policy.allow)", remedy="declare package policy")
    if _ALLOW.search(code) is None:
        raise InputError(f"{where}: no allow rule (the policy's answer is data.policy.allow)",
                         remedy="declare default allow := false and allow if { ... }")
    forbidden = _FORBIDDEN.search(code)
    if forbidden is not None:
        raise InputError(f"{where}: line {_line(code, forbidden.start())}: "
                         f"{forbidden.group(1)}() gives another answer on every run, or leaves "
                         "this machine, so a recorded decision could not be checked again")
    negated = _negation_in_every(code)
    if negated is not None:
        raise InputError(
            f"{where}: line {_line(code, negated)}: `not` directly inside an `every` body, "
            "which rego-cpp 1.5.2 evaluates as always true",
            remedy="move the negated condition into a helper rule, e.g. ok(x) if not x.bad, "
                   "and write every x in xs { ok(x) }")
    _require_regopy()
    policy = RegoPolicy(text, where)
    _run(policy, [])  # parses the module, in the bounded child
    return policy


def _require_regopy() -> None:
    """Refuse up front, rather than as a child's traceback, where the extra is not installed."""
    from importlib.util import find_spec

    if find_spec("regopy") is None:
        raise UsageError("Rego policies need regopy, which is not installed",
                         remedy="pip install 'affidavit[rego]'")


def decide_rego(policy: RegoPolicy, artifacts: Sequence[ArtifactFacts]) -> list[Decision]:
    """One ``policy`` decision per artifact, in the order given."""
    if not artifacts:
        return []
    results = _run(policy, [rego_input(facts) for facts in artifacts])
    if len(results) != len(artifacts):
        raise InputError(f"{policy.where}: the Rego evaluator answered for {len(results)} of "
                         f"{len(artifacts)} artifacts")
    return [Decision(ArtifactKey(facts["name"], facts["fingerprint"]), "policy",
                     *_decision(result))
            for facts, result in zip(artifacts, results, strict=True)]


def _decision(result: dict[str, Any]) -> tuple[bool, str]:
    state, *value = result["allow"]
    if state == "error":
        return False, f"policy error: {_message(value[0])[0]}"
    if state == "undefined":
        return False, ("allow is undefined for this artifact (declare default allow := false)"
                       + _violations(result["violations"], prefix="; "))
    if not isinstance(value[0], bool):
        return False, f"allow is {_shown(value[0])}, not true or false"
    if value[0]:
        return True, "allowed by the policy"
    return False, _violations(result["violations"]) or (
        "denied by the policy (it gave no violations)")


def _violations(outcome: list[Any], prefix: str = "") -> str:
    state, *value = outcome
    if state == "undefined":
        return ""
    if state == "error":
        return f"{prefix}violations cannot be evaluated: {_message(value[0])[0]}"
    if not isinstance(value[0], list):
        return f"{prefix}violations is {_shown(value[0])}, not a set of strings"
    texts = sorted(v if isinstance(v, str) else _shown(v) for v in value[0])
    joined = "; ".join(" ".join(t.split())[:_MAX_REASON] for t in texts)
    return prefix + joined if joined else ""


def _shown(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


# --- the bounded child -------------------------------------------------------------------------

def _run(policy: RegoPolicy, inputs: list[dict[str, object]]) -> list[dict[str, Any]]:
    """The child's results for ``inputs``; ``InputError`` when the module does not load or the
    child is stopped, crashes or answers nonsense."""
    payload = json.dumps({"module": policy.text, "inputs": inputs,
                          "max_violations": MAX_VIOLATIONS}).encode("utf-8")
    seconds = REGO_SECONDS
    out = _bounded([sys.executable, "-I", _CHILD, str(int(seconds) + 1)], payload,
                   seconds, REGO_MEMORY_BYTES, policy.where)
    try:
        answer = json.loads(out)
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or not ("error" in answer or isinstance(
            answer.get("results"), list)):
        raise InputError(f"{policy.where}: the Rego evaluator gave no answer")
    if "error" in answer:
        message, offset = _message(answer["error"])
        line = f" line {_byte_line(policy.text, offset)}:" if offset is not None else ""
        raise InputError(f"{policy.where}:{line} {message}")
    results: list[dict[str, Any]] = answer["results"]
    return results


def _bounded(command: list[str], payload: bytes, seconds: float, memory: int,
             where: str) -> bytes:
    import subprocess

    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env={}, close_fds=True)
    deadline = time.monotonic() + seconds
    pending: bytes | None = payload
    while True:
        try:
            out, err = process.communicate(pending, timeout=_POLL)
            break
        except subprocess.TimeoutExpired:
            pending = None
        problem = None
        if time.monotonic() > deadline:
            problem = f"took longer than {seconds:g} s"
        elif (_resident(process.pid) or 0) > memory:
            problem = f"used more than {memory >> 20} MiB of memory"
        if problem is not None:
            process.kill()
            process.communicate()
            raise InputError(f"{where}: evaluation stopped: it {problem} (the limit)")
    if process.returncode != 0:
        last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        how = (f"signal {-process.returncode}" if process.returncode < 0
               else f"exit status {process.returncode}")
        raise InputError(f"{where}: the Rego evaluator failed ({how}: {last[0][:200]})")
    return out


def _resident(pid: int) -> int | None:
    """Resident bytes of ``pid`` (Linux ``/proc``), or None where that cannot be read."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


# --- reading rego-cpp's messages and the module's text -----------------------------------------

def _message(raw: str) -> tuple[str, int | None]:
    """The first message in rego-cpp's error text, on one line, and the byte offset in the
    module it points at (None when it points at none)."""
    message = _field(raw, "(errormsg ")
    location = _field(raw, "(error ", with_rest=True)
    offset = None
    if location is not None and location.startswith("policy.rego|"):
        number = location.split("|")[1]
        offset = int(number) if number.isdigit() else None
    text = " ".join((message or raw).split())
    if text in ("", "<error>"):
        text = ("evaluation error, without a message from rego-cpp (one cause: a rule given two "
                "different values)")
    return text[:_MAX_REASON], offset


def _field(raw: str, opener: str, with_rest: bool = False) -> str | None:
    """The length-prefixed text after ``opener`` (``(errormsg 16:this is unclosed)``); with
    ``with_rest``, what follows it up to the next space or parenthesis too."""
    at = raw.find(opener)
    if at < 0:
        return None
    head = raw[at + len(opener):]
    size, colon, rest = head.partition(":")
    if not colon or not size.isdigit():
        return None
    data = rest.encode("utf-8")
    text = data[:int(size)].decode("utf-8", "replace")
    if with_rest:
        tail = data[int(size):].decode("utf-8", "replace")
        text += re.split(r"[\s()]", tail, maxsplit=1)[0]
    return text


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _byte_line(text: str, offset: int) -> int:
    """The line of the byte ``offset`` into ``text`` as UTF-8 (rego-cpp counts bytes)."""
    return text.encode("utf-8").count(b"\n", 0, offset) + 1


def _code_only(text: str) -> str:
    """``text`` with comments and string literals blanked out (newlines kept), so the checks
    above read only code: ``# allow`` or ``"time.now_ns("`` do not count."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif ch in "\"`":
            end = _string_end(text, i)
            out.append("".join(c if c == "\n" else " " for c in text[i:end]))
            i = end
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _negation_in_every(code: str) -> int | None:
    """Where a ``not`` stands directly in an ``every`` body (nested braces included), or None.

    rego-cpp 1.5.2 makes ``every x in xs { not p(x) }`` true whatever ``xs`` holds (a negation
    reached through a helper rule is evaluated correctly), so such a policy would allow what it
    means to deny: it is refused rather than run."""
    for match in _EVERY.finditer(code):
        start = code.find("{", match.end())
        if start < 0:
            return None
        depth, i = 0, start
        while i < len(code):
            depth += {"{": 1, "}": -1}.get(code[i], 0)
            if depth == 0:
                break
            i += 1
        found = _NOT.search(code, start, i)
        if found is not None:
            return found.start()
    return None


def _string_end(text: str, start: int) -> int:
    quote, i = text[start], start + 1
    while i < len(text):
        if text[i] == "\\" and quote == '"':
            i += 2
            continue
        if text[i] == quote or (text[i] == "\n" and quote == '"'):
            return i + 1
        i += 1
    return len(text)
