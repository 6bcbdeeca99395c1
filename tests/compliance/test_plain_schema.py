"""``surely_valid`` may say True only where jsonschema finds no error; it may defer anywhere.

``attest custom`` skips importing jsonschema when the quick check passes, so a wrong True
would accept data the type's schema rejects. Hypothesis draws schemas from the subset (and a
few keywords beyond it) and data of every JSON kind, and jsonschema is the judge.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema.validators import validator_for

from affidavit.compliance.plain_schema import surely_valid

_scalars = (st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from([0.0, 1.0, 2.5, -1.5])
            | st.sampled_from(["", "a", "ab", "abc", "x1", "1.0"]))
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3),
                     max_leaves=8)
_types = st.sampled_from(["object", "array", "string", "boolean", "null", "number", "integer"])
_bound = st.integers(-3, 3) | st.sampled_from([0.5, 2.0])


def _schemas() -> st.SearchStrategy[Any]:
    def keywords(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
        pairs = st.one_of(
            st.tuples(st.just("type"), _types | st.lists(_types, min_size=1, max_size=3)),
            st.tuples(st.just("enum"), st.lists(_json, min_size=1, max_size=3)),
            st.tuples(st.just("const"), _json),
            st.tuples(st.sampled_from(["minimum", "maximum", "exclusiveMinimum",
                                       "exclusiveMaximum"]), _bound),
            st.tuples(st.sampled_from(["minLength", "maxLength", "minItems", "maxItems",
                                       "minProperties", "maxProperties"]), st.integers(0, 3)),
            st.tuples(st.just("pattern"), st.sampled_from(["^a", "b$", "[0-9]", "."])),
            st.tuples(st.just("required"), st.lists(st.sampled_from(["a", "b", "c"]),
                                                    max_size=2, unique=True)),
            st.tuples(st.just("properties"),
                      st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=2)),
            st.tuples(st.just("additionalProperties"), inner),
            st.tuples(st.just("items"), inner),
            st.tuples(st.sampled_from(["title", "description", "format"]), st.just("date")),
            # beyond the subset: must be left to jsonschema, never answered
            st.tuples(st.just("not"), inner),
            st.tuples(st.just("anyOf"), st.lists(inner, min_size=1, max_size=2)),
            st.tuples(st.just("multipleOf"), st.just(2)),
            st.tuples(st.just("items"), st.lists(inner, min_size=1, max_size=2)),
        )
        return st.lists(pairs, max_size=4).map(dict)

    return st.recursive(st.booleans() | st.just({}), keywords, max_leaves=6)


_dialects = st.sampled_from([None, "https://json-schema.org/draft/2020-12/schema",
                             "http://json-schema.org/draft-07/schema#",
                             "http://json-schema.org/draft-06/schema#",
                             "http://json-schema.org/draft-04/schema#",
                             "http://json-schema.org/draft-03/schema#"])


@settings(max_examples=3000, deadline=None)
@given(schema=_schemas(), data=_json, dialect=_dialects)
def test_true_only_where_jsonschema_finds_no_error(schema: Any, data: Any,
                                                   dialect: str | None) -> None:
    if dialect is not None and isinstance(schema, dict):
        schema = {**schema, "$schema": dialect}
    if surely_valid(schema, data):
        errors = list(validator_for(schema)(schema).iter_errors(data))
        assert errors == [], (schema, data)


def test_the_common_shapes_are_answered_without_jsonschema() -> None:
    schema = {"type": "object", "required": ["coverage"], "additionalProperties": False,
              "properties": {"coverage": {"type": "number", "minimum": 0, "maximum": 100},
                             "tool": {"type": "string", "maxLength": 20},
                             "tags": {"type": "array", "items": {"enum": ["unit", "e2e"]}}}}
    assert surely_valid(schema, {"coverage": 91.5, "tool": "pytest", "tags": ["unit"]})
    assert not surely_valid(schema, {"coverage": 101})
    assert not surely_valid(schema, {"coverage": 1, "extra": True})
    assert not surely_valid({"$ref": "#/$defs/x"}, {})  # outside the subset: deferred
    assert not surely_valid({"type": "integer"}, 1.0)  # draft-dependent: deferred
    assert not surely_valid({"enum": [1]}, True)  # true is not 1
    # Python's re backtracks: a pattern is left to the RE2 validator, even one that matches.
    assert not surely_valid({"pattern": "^[a-z]+$"}, "pytest")
    assert not surely_valid({"pattern": "^(a+)+$"}, "a" * 50_000 + "!")
