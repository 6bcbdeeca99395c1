"""The JSON Schema of every record shape, as ``affidavit schema`` and the server publish it."""

from __future__ import annotations

from typing import Any

from affidavit.errors import UsageError

__all__ = ["schema", "schema_names"]


def schema_names() -> tuple[str, ...]:
    """Every name :func:`schema` accepts."""
    from affidavit.models.schemas import SCHEMA_NAMES

    return SCHEMA_NAMES


def schema(name: str) -> dict[str, Any]:
    """The JSON Schema (by the records' own field spellings) of ``name``."""
    from affidavit.models.schemas import SCHEMA_NAMES, schema_model

    model = schema_model(name)
    if model is None:
        raise UsageError(f"schema {name!r}: choose one of {', '.join(SCHEMA_NAMES)}")
    if hasattr(model, "json_schema"):  # a TypeAdapter (the entry union)
        return dict(model.json_schema(by_alias=True))
    return dict(model.model_json_schema(by_alias=True))
