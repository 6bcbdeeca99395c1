"""Custom-type schemas that fail closed: no network, no backtracking regexes, no unbounded
recursion.

A custom type's schema comes from whoever runs ``create attestation-type``, and its data from
every pipeline that runs ``attest custom``, so neither may make affidavit fetch a URL, read a
file, hang on a regex or die with a traceback:

- ``$ref`` (and ``$dynamicRef``, ``$recursiveRef``) resolve only inside the schema itself and
  the dialects' own meta-schemas, which ship with ``jsonschema``: the registry's ``retrieve``
  refuses every URI, so a remote (``http:``) or ``file:`` reference is refused rather than
  fetched. :func:`check` resolves every reference up front, so an unresolvable one, or a cycle of
  references that never reaches a keyword consuming data (``{"$ref": "#"}``, which would recurse
  forever), is refused when the type is created, not when some later data happens to reach it.
- ``pattern``, ``patternProperties`` and ``additionalProperties`` beside them are matched with
  RE2, whose running time is linear in the input, instead of Python's backtracking ``re`` (on
  which ``^(a+)+$`` against ``"aaa...b"`` never finishes). A pattern RE2 cannot compile
  (backreferences, lookaround) is refused at creation. ``unevaluatedProperties`` in a schema that
  also has ``patternProperties`` is refused too: ``jsonschema`` matches those patterns with
  ``re`` internally, which no keyword override can reach.
- A schema or data nested deeper than Python's stack allows is refused (exit 2), not a
  ``RecursionError`` traceback.
"""

from __future__ import annotations

from affidavit.errors import InputError

TYPE_CHECKING = False  # typing costs 3 ms to import
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

__all__ = ["check", "first_error"]

_REFS = ("$ref", "$dynamicRef", "$recursiveRef")
#: Applicators that apply a subschema to the same instance: a cycle through only these and
#: references recurses without ever consuming data.
_IN_PLACE = ("allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas",
             "dependencies", "extends")


def _refuse(uri: str) -> Any:
    """The registry's retrieve: nothing outside the schema is ever fetched."""
    from referencing.exceptions import NoSuchResource

    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs field, stubs lack it


def _registry() -> Any:
    from referencing import Registry

    return Registry(retrieve=_refuse)  # type: ignore[call-arg]


def _compile(pattern: str) -> Any:
    import re2  # type: ignore[import-untyped]

    options = re2.Options()
    options.log_errors = False  # RE2 would otherwise log each failure to stderr itself
    return re2.compile(pattern, options)


def _re2_error(pattern: str) -> str | None:
    """Why RE2 cannot compile ``pattern``, or None if it can."""
    import re2

    try:
        _compile(pattern)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid"
        return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    return None


def _subschemas(node: dict[str, Any]) -> Iterator[tuple[Any, bool]]:
    """(subschema, applies in place) for the schema keywords of one node, by keyword."""
    for key, value in node.items():
        if key in ("enum", "const", "default", "examples") or key in _REFS:
            continue  # data, not schemas (a "$ref" inside `default` is not a reference)
        in_place = key in _IN_PLACE
        if isinstance(value, dict) and key in (
                "properties", "patternProperties", "$defs", "definitions", "dependentSchemas",
                "dependencies"):
            for sub in value.values():
                yield sub, in_place
        elif isinstance(value, list) and key in ("allOf", "anyOf", "oneOf", "prefixItems",
                                                 "items", "extends", "type", "disallow"):
            for sub in value:
                yield sub, in_place
        elif key in ("not", "if", "then", "else", "items", "additionalItems", "contains",
                     "additionalProperties", "unevaluatedItems", "unevaluatedProperties",
                     "propertyNames", "extends"):
            yield value, in_place


def check(schema: dict[str, Any], where: str) -> None:
    """Refuse a schema whose validation could fetch, hang or recurse forever; ``where`` names
    it in the one-line error (``schema file X``, ``type 'x' (version 3)``)."""
    from jsonschema.validators import validator_for
    from referencing.exceptions import Unresolvable

    cls = validator_for(schema)
    try:
        validator: Any = cls(schema, registry=_registry())
        root = validator._resolver  # the resolver jsonschema itself resolves references with
    except Exception as exc:  # noqa: BLE001  (an unusable $id or dialect)
        raise InputError(f"{where}: cannot be used as a schema: {exc}") from None
    nodes: dict[int, Any] = {}  # id of each schema object -> the object (kept alive)
    edges: dict[int, list[tuple[int, str | None]]] = {}  # in-place edges, labelled by $ref
    seen_pattern = seen_unevaluated = False
    stack: list[tuple[Any, Any]] = [(schema, root)]
    while stack:
        node, resolver = stack.pop()
        if not isinstance(node, dict) or id(node) in nodes:
            continue
        nodes[id(node)] = node
        resolver = resolver.in_subresource(_resource(node, schema))  # a nested $id rebases
        out = edges.setdefault(id(node), [])
        for key in _REFS:
            ref = node.get(key)
            if not isinstance(ref, str):
                continue
            try:
                target = resolver.lookup(ref).contents
            except Unresolvable:
                raise InputError(f"{where}: {key} {ref!r} does not resolve within the schema "
                                 f"(remote and file references are never fetched)") from None
            out.append((id(target), f"{key} {ref!r}"))
        for key in ("pattern", "patternProperties"):
            if key not in node:
                continue
            patterns = [node[key]] if key == "pattern" else list(node[key] or ())
            for pattern in patterns:
                if not isinstance(pattern, str):
                    continue
                reason = _re2_error(pattern)
                if reason is not None:
                    raise InputError(f"{where}: {key} {pattern!r} is not a linear-time (RE2) "
                                     f"regular expression: {reason}")
            seen_pattern = seen_pattern or key == "patternProperties"
        seen_unevaluated = seen_unevaluated or "unevaluatedProperties" in node
        for sub, in_place in _subschemas(node):
            if in_place and isinstance(sub, dict):
                out.append((id(sub), None))
            stack.append((sub, resolver))
    if seen_pattern and seen_unevaluated:
        raise InputError(f"{where}: unevaluatedProperties beside patternProperties is refused "
                         f"(jsonschema would match those patterns with a backtracking engine)")
    cycle = _cycle(edges)
    if cycle is not None:
        raise InputError(f"{where}: {cycle} is a reference cycle that never consumes data")


def _resource(node: dict[str, Any], schema: dict[str, Any]) -> Any:
    from referencing.jsonschema import DRAFT202012, specification_with

    dialect = schema.get("$schema")
    spec = specification_with(dialect, default=DRAFT202012) if isinstance(dialect, str) \
        else DRAFT202012
    return spec.create_resource(node)


def _cycle(edges: dict[int, list[tuple[int, str | None]]]) -> str | None:
    """A reference on a cycle of in-place edges, found without recursion; None if acyclic."""
    done: set[int] = set()
    for start in edges:
        if start in done:
            continue
        path: list[tuple[int, str | None]] = [(start, None)]
        on_path = {start: 0}
        todo = [iter(edges.get(start, ()))]
        while todo:
            step = next(todo[-1], None)
            if step is None:
                todo.pop()
                node, _ = path.pop()
                del on_path[node]
                done.add(node)
                continue
            target, label = step
            if target in on_path:
                labels = [lab for _, lab in path[on_path[target] + 1:]] + [label]
                return next(lab for lab in reversed(labels) if lab is not None)
            if target in done or target not in edges:
                continue  # finished, or outside the schema (a meta-schema): acyclic
            on_path[target] = len(path)
            path.append((target, label))
            todo.append(iter(edges[target]))
    return None


def _validator(schema: dict[str, Any]) -> Validator:
    """``jsonschema``'s validator for the schema's dialect, offline and with RE2 patterns."""
    from jsonschema import _utils
    from jsonschema.exceptions import ValidationError
    from jsonschema.validators import extend, validator_for

    cache: dict[str, Any] = {}

    def search(pattern: str, text: str) -> bool:
        if pattern not in cache:
            cache[pattern] = _compile(pattern)
        return cache[pattern].search(text) is not None

    def pattern(validator: Any, patrn: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if validator.is_type(instance, "string") and not search(patrn, instance):
            yield ValidationError(f"{instance!r} does not match {patrn!r}")

    def pattern_properties(validator: Any, value: Any, instance: Any,
                           schema: Any) -> Iterator[Any]:
        if not validator.is_type(instance, "object"):
            return
        for patrn, subschema in value.items():
            for key, item in instance.items():
                if search(patrn, key):
                    yield from validator.descend(item, subschema, path=key, schema_path=patrn)

    def additional_properties(validator: Any, value: Any, instance: Any,
                              schema: Any) -> Iterator[Any]:
        """jsonschema's own, but matching patternProperties with RE2."""
        if not validator.is_type(instance, "object"):
            return
        known = schema.get("properties", {})
        patterns = list(schema.get("patternProperties", {}))
        extras = {key for key in instance if key not in known
                  and not any(search(p, key) for p in patterns)}
        if validator.is_type(value, "object"):
            for extra in extras:
                yield from validator.descend(instance[extra], value, path=extra)
        elif not value and extras:
            if patterns:
                verb = "does" if len(extras) == 1 else "do"
                joined = ", ".join(repr(each) for each in sorted(extras))
                listed = ", ".join(repr(each) for each in sorted(patterns))
                yield ValidationError(f"{joined} {verb} not match any of the regexes: {listed}")
            else:
                noun, verb = _utils.extras_msg(sorted(extras, key=str))
                yield ValidationError(f"Additional properties are not allowed ({noun} {verb} "
                                      f"unexpected)")

    cls = validator_for(schema)
    overrides = {"pattern": pattern, "patternProperties": pattern_properties,
                 "additionalProperties": additional_properties}
    safe: Any = extend(cls, {k: v for k, v in overrides.items() if k in cls.VALIDATORS})  # type: ignore[no-untyped-call]
    validator: Validator = safe(schema, registry=_registry())
    return validator


def first_error(schema: dict[str, Any], data: object, where: str) -> ValidationError | None:
    """The first error (by data path) in ``data``, or None; a schema that would fetch, hang or
    recurse forever, or data too deep to check, is refused with a one-line error instead."""
    from referencing.exceptions import Unresolvable

    check(schema, where)  # a stored type is re-checked: defense in depth
    try:
        errors = list(_validator(schema).iter_errors(data))  # type: ignore[arg-type]
    except RecursionError:
        raise InputError(f"{where}: the data is nested too deeply to check") from None
    except Unresolvable as exc:
        raise InputError(f"{where}: a reference does not resolve: {exc}") from None
    return next(iter(sorted(errors, key=lambda e: list(e.path))), None)
