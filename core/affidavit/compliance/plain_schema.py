"""A quick check that data surely matches a plain JSON Schema, so ``attest custom`` can skip
importing ``jsonschema``.

``jsonschema`` costs about 80 ms to import (``referencing``, ``attrs``, ``rpds`` and every
meta-schema read from disk), eight times Python's own start-up, and ``attest custom`` runs in
pipelines where cold start is a feature. Most custom types use a handful of keywords (``type``,
``properties``, ``required``, bounds, ``enum``), for which the answer is easy to give exactly.

:func:`surely_valid` is deliberately one-sided: ``True`` only when ``jsonschema`` would report
no error for the same schema and data; ``False`` when the data does not match, *or* when the
schema uses anything outside the subset below, or a dialect other than draft 6, 7, 2019-09 or
2020-12 (which agree on this subset). The caller then asks ``jsonschema`` itself, so every
error message, and every verdict on a schema beyond the subset, is still ``jsonschema``'s.

Subset: boolean schemas; ``type`` (a name or a list; ``integer`` only for ``int``, so ``1.0``
is left to ``jsonschema``); ``enum``, ``const`` (with ``jsonschema``'s equality, in which
``true`` is not ``1``); ``properties``, ``required``, ``additionalProperties``,
``minProperties``, ``maxProperties``; ``items`` (one schema for every item), ``minItems``,
``maxItems``; ``minLength``, ``maxLength``; ``minimum``, ``maximum``,
``exclusiveMinimum``, ``exclusiveMaximum`` (numbers); and the annotations ``$schema``,
``title``, ``description``, ``$comment``, ``default``, ``examples``, ``deprecated``,
``readOnly``, ``writeOnly`` and ``format`` (which ``jsonschema`` does not assert without a
format checker, and ``attest custom`` passes none).

``pattern`` is deliberately outside the subset: Python's ``re`` backtracks (``^(a+)+$`` on a long
non-matching string never finishes), so patterns are left to the validator in
:mod:`affidavit.compliance.safe_schema`, which matches them with RE2 in linear time.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs 3 ms to import; `attest custom` avoids it
if TYPE_CHECKING:
    from typing import Any

__all__ = ["surely_valid"]

_DIALECTS = frozenset({
    "https://json-schema.org/draft/2020-12/schema",
    "https://json-schema.org/draft/2019-09/schema",
    "http://json-schema.org/draft-07/schema",
    "http://json-schema.org/draft-07/schema#",
    "http://json-schema.org/draft-06/schema",
    "http://json-schema.org/draft-06/schema#",
})
_ANNOTATIONS = frozenset({"title", "description", "$comment", "default", "examples",
                          "deprecated", "readOnly", "writeOnly", "format"})
_MAX_DEPTH = 32  # deeper schemas are left to jsonschema


class _Unsure(Exception):
    """The schema uses something outside the subset: let jsonschema decide."""


def surely_valid(schema: object, data: object) -> bool:
    """True only if ``jsonschema`` would find no error in ``data`` against ``schema``."""
    if isinstance(schema, dict) and "$schema" in schema and schema["$schema"] not in _DIALECTS:
        return False
    try:
        return _valid(schema, data, 0, top=True)
    except (_Unsure, TypeError, ValueError, RecursionError):
        return False


def _is_type(data: object, name: object) -> bool:
    if name == "object":
        return isinstance(data, dict)
    if name == "array":
        return isinstance(data, list)
    if name == "string":
        return isinstance(data, str)
    if name == "boolean":
        return isinstance(data, bool)
    if name == "null":
        return data is None
    if name == "number":
        return isinstance(data, int | float) and not isinstance(data, bool)
    if name == "integer":
        return isinstance(data, int) and not isinstance(data, bool)
    raise _Unsure


def _equal(one: object, two: object) -> bool:
    """Equal as ``jsonschema`` compares (or unequal where unsure: the caller then asks it)."""
    if isinstance(one, bool) or isinstance(two, bool):
        return type(one) is type(two) and one == two
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(map(_equal, one, two))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(_equal(one[k], two[k]) for k in one)
    if isinstance(one, list | dict) or isinstance(two, list | dict):
        return False
    return one == two


def _number(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Unsure
    return value


def _valid(schema: object, data: Any, depth: int, top: bool = False) -> bool:
    if schema is True:
        return True
    if schema is False or not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return False
    for key, value in schema.items():
        if key in _ANNOTATIONS or (key == "$schema" and top):
            continue
        if not _keyword(key, value, schema, data, depth):
            return False
    return True


def _keyword(key: str, value: Any, schema: dict[str, Any], data: Any, depth: int) -> bool:
    """Whether ``data`` passes the one keyword (keywords of another type's data pass)."""
    number = isinstance(data, int | float) and not isinstance(data, bool)
    if key == "type":
        names = value if isinstance(value, list) else [value]
        return any(_is_type(data, name) for name in names)
    if key == "enum":
        if not isinstance(value, list):
            raise _Unsure
        return any(_equal(data, option) for option in value)
    if key == "const":
        return _equal(data, value)
    if key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = _number(value)
        if not number:
            return True
        given = _number(data)
        if key == "minimum":
            return given >= bound
        if key == "maximum":
            return given <= bound
        return given > bound if key == "exclusiveMinimum" else given < bound
    if key in ("minLength", "maxLength", "minItems", "maxItems", "minProperties",
               "maxProperties"):
        limit = _number(value)
        kind = {"L": str, "I": list, "P": dict}[key[3]]
        if not isinstance(data, kind):
            return True
        size = len(data)
        return size >= limit if key.startswith("min") else size <= limit
    if key == "required":
        if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
            raise _Unsure
        return not isinstance(data, dict) or all(name in data for name in value)
    if key == "properties":
        if not isinstance(value, dict):
            raise _Unsure
        return not isinstance(data, dict) or all(
            _valid(sub, data[name], depth + 1) for name, sub in value.items() if name in data)
    if key == "additionalProperties":
        known = schema.get("properties", {})
        if "patternProperties" in schema or not isinstance(known, dict):
            raise _Unsure
        return not isinstance(data, dict) or all(
            _valid(value, item, depth + 1) for name, item in data.items() if name not in known)
    if key == "items":
        if not isinstance(value, dict | bool) or "prefixItems" in schema:
            raise _Unsure  # a list of schemas (tuple validation) means different things by draft
        return not isinstance(data, list) or all(_valid(value, item, depth + 1) for item in data)
    raise _Unsure
