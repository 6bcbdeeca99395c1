"""Runs a Rego policy over a list of inputs, in a process of its own.

regopy (rego-cpp) has no limit on time, steps or memory, prints parse errors to stdout itself,
and exposes the process environment through ``opa.runtime()``; so ``rego.py`` starts this script
with an empty environment and kills it when it runs too long or grows too large. It imports
nothing of affidavit (it runs with ``python -I``, outside the package's path) and only reads
stdin and writes one JSON document to what was its stdout.

stdin: ``{"module": TEXT, "inputs": [DOCUMENT, ...], "max_violations": N}``. Output: ``{"error":
RAW}`` when the module does not parse or compile, else ``{"results": [{"allow": ["value", V] |
["undefined"] | ["error", RAW], "violations": ...}, ...]}``, ``RAW`` being rego-cpp's own text.
"""

from __future__ import annotations

import json
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: The rules read, compiled once into a bundle: about ten times faster per input than a query,
#: which recompiles the module every time.
_ENTRYPOINTS = ("policy/allow", "policy/violations")


def main() -> None:
    result = os.dup(1)
    os.dup2(2, 1)  # whatever rego-cpp prints goes to stderr, which the parent drops
    _limit_cpu(int(sys.argv[1]))
    payload = json.loads(sys.stdin.buffer.read())
    from regopy import Interpreter, RegoError  # type: ignore[import-untyped]

    interpreter = Interpreter()
    try:
        interpreter.add_module("policy.rego", payload["module"])
        bundle = interpreter.build(None, _ENTRYPOINTS)
    except RegoError as exc:
        _write(result, {"error": str(exc)})
        return
    if not bundle.ok():
        from regopy.rego_shared import rego_get_error  # type: ignore[import-untyped]

        _write(result, {"error": rego_get_error(interpreter._impl) or "it does not compile"})
        return
    results = [_evaluate(interpreter, bundle, document, payload["max_violations"])
               for document in payload["inputs"]]
    _write(result, {"results": results})


def _limit_cpu(seconds: int) -> None:
    """A backstop behind the parent's clock: the kernel stops a runaway evaluation too."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    except (ImportError, ValueError, OSError):
        pass


def _evaluate(interpreter: Any, bundle: Any, document: Any,
              max_violations: int) -> dict[str, Any]:
    interpreter.set_input(document)
    allow, violations = (_query(interpreter, bundle, entrypoint) for entrypoint in _ENTRYPOINTS)
    if violations[0] == "value" and isinstance(violations[1], list):
        violations = ["value", violations[1][:max_violations]]
    return {"allow": allow, "violations": violations}


def _query(interpreter: Any, bundle: Any, entrypoint: str) -> list[Any]:
    """``["value", V]``, ``["undefined"]`` or ``["error", RAW]``: rego-cpp reports an error as
    text, an output that is not ok, or an exception, and each is kept apart from a value."""
    from regopy import RegoError
    from regopy.rego_shared import (
        rego_bundle_query_entrypoint,
        rego_free_output,
        rego_get_error,
        rego_output_ok,
        rego_output_string,
    )

    try:
        output = rego_bundle_query_entrypoint(interpreter._impl, bundle._impl, entrypoint)
    except RegoError as exc:
        return ["error", str(exc)]
    try:
        ok, text = rego_output_ok(output), rego_output_string(output)
    finally:
        rego_free_output(output)
    if not ok:
        return ["error", rego_get_error(interpreter._impl) or text]
    if text == "undefined":
        return ["undefined"]
    if text.startswith("(error"):
        return ["error", text]
    try:
        found = json.loads(text)
    except ValueError:  # rego-cpp 1.5.2 leaves quotes unescaped in some strings
        return ["error", "rego-cpp gave an answer that is not JSON (one cause: sprintf's %s of "
                "a string a function or built-in returned, which rego-cpp 1.5.2 quotes; concat "
                "does not)"]
    if isinstance(found, list) or len(found.get("expressions", ())) != 1:
        return ["error", "the rule has more than one value"]
    return ["value", found["expressions"][0]]


def _write(fd: int, document: dict[str, Any]) -> None:
    data = json.dumps(document).encode("utf-8")
    with os.fdopen(fd, "wb") as out:
        out.write(data)


if __name__ == "__main__":
    main()
