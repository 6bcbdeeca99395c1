"""The field table of the scan predicate in docs/predicates.md names every field of the model
that ``affidavit schema sarif|snyk`` prints, and nothing else: the docs cannot drift from the
shape recorded."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from affidavit.models.scans import SarifPredicate, SnykPredicate

DOC = Path(__file__).resolve().parents[3] / "docs" / "predicates.md"
EXPANDED = {"summary", "sources", "findings"}  # documented field by field


def _is_list(model: type[BaseModel], name: str) -> bool:
    return typing.get_origin(model.model_fields[name].annotation) is list


def _item(model: type[BaseModel], name: str) -> type[BaseModel]:
    annotation = model.model_fields[name].annotation
    inner = typing.get_args(annotation)[0] if _is_list(model, name) else annotation
    assert isinstance(inner, type) and issubclass(inner, BaseModel)
    return inner


def _model_paths(model: type[BaseModel]) -> set[str]:
    out = set()
    for name in model.model_fields:
        shown = name + ("[]" if _is_list(model, name) else "")
        out.add(shown)
        if name in EXPANDED:
            inner = _item(model, name)
            out |= {f"{shown}.{sub}" + ("[]" if _is_list(inner, sub) else "")
                    for sub in inner.model_fields}
    return out - {"summary"}


def _documented() -> set[str]:
    text = DOC.read_text(encoding="utf-8")
    table = text[text.index("## The scan predicate"):text.index("### `sarif`")]
    out = set()
    for line in table.splitlines():
        if not line.startswith("| `"):
            continue
        names = re.findall(r"`([^`]+)`", line.split(" | ")[0])
        prefix = names[0].rsplit(".", 1)[0] if "." in names[0] else ""
        out.add(names[0])
        out |= {prefix + name for name in names[1:]}
    return out


def test_the_field_table_is_the_model() -> None:
    assert _model_paths(SarifPredicate) == _model_paths(SnykPredicate)  # one shape
    assert _documented() == _model_paths(SnykPredicate)
