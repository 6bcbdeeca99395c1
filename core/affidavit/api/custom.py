"""Custom attestation types: a JSON Schema for the data and rules that decide compliance.

A type is versioned in the log like a flow: every ``create attestation-type`` of a name is a
new entry, and an attestation records the entry (version) it was checked against, so the same
data judged later by a changed type is still explained by the version in force at the time.
"""

from __future__ import annotations

from affidavit.api import inputs
from affidavit.api.record import CheckedClaim, Claim, Recorded, _append, attest, check_claim
from affidavit.errors import InputError, NotFoundError
from affidavit.ledger import index
from affidavit.models import build
from affidavit.models.fields import check_name

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from affidavit.api.inputs import PathArg
    from affidavit.ledger.base import Ledger
    from affidavit.verify.proven import Proven

__all__ = ["create_attestation_type", "latest_type", "attest_custom"]


def create_attestation_type(
    ledger: Ledger,
    *,
    name: str,
    schema_file: PathArg,
    rules: Sequence[str] = (),
    description: str | None = None,
    dry_run: bool = False,
) -> Recorded:
    """Record a new version of type ``name``; the schema and every rule are checked first,
    and a schema that could fetch, hang or recurse forever is refused before anything is
    written (see :mod:`affidavit.compliance.safe_schema`)."""
    from jsonschema import SchemaError
    from jsonschema.validators import validator_for

    from affidavit.compliance import safe_schema
    from affidavit.compliance.rules import parse

    check_name(name, "attestation type")
    schema = inputs.read_json_file(schema_file, "schema")
    if not isinstance(schema, dict):
        raise InputError(f"schema file {schema_file}: a JSON Schema is an object")
    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(top level)"
        raise InputError(f"schema file {schema_file}: not a valid JSON Schema at {where}: "
                         f"{exc.message}") from None
    except RecursionError:
        raise InputError(f"schema file {schema_file}: nested too deeply") from None
    safe_schema.check(schema, f"schema file {schema_file}")
    texts = [parse(rule).text for rule in rules]
    record = build.attestation_type(name=name, schema=schema, rules=texts,
                                    description=description)
    return _append(ledger, build.entry("attestation_type", record), dry_run)


def latest_type(source: Ledger | Proven, name: str) -> tuple[int, dict[str, Any]]:
    """The entry index and record of the current version of type ``name``, proven."""
    from affidavit.verify.proven import proven

    with proven(source) as view:
        versions = view.under(index.type_key(name))
    if not versions:
        raise NotFoundError(f"attestation type {name!r} does not exist",
                            remedy="run `affidavit create attestation-type`")
    position, entry = versions[-1]
    return position, entry["record"]


def attest_custom(
    ledger: Ledger, claim: Claim | CheckedClaim, *, type_name: str, data_file: PathArg
) -> Recorded:
    """Check data against the type's schema (a mismatch is bad input, exit 2), then judge it
    by the type's rules: compliant iff every rule holds."""
    from affidavit.compliance.plain_schema import surely_valid
    from affidavit.compliance.rules import parse
    from affidavit.models.predicates import CUSTOM

    check_name(type_name, "--type")
    claim = check_claim(claim)
    version, kind = latest_type(ledger, type_name)
    data = inputs.read_json_file(data_file, "attestation data")
    error = None
    if not surely_valid(kind["schema"], data):  # else no need to import jsonschema (80 ms)
        from affidavit.compliance.safe_schema import first_error

        error = first_error(kind["schema"], data,
                            f"attestation data {data_file} for type {type_name!r} "
                            f"(version {version})")
    if error is not None:
        where = "/".join(str(p) for p in error.path) or "(top level)"
        raise InputError(f"attestation data {data_file}: does not match type {type_name!r} "
                         f"(version {version}) at {where}: {error.message}")
    outcomes = []
    for text in kind.get("rules", []):
        holds, reason = parse(text).evaluate(data)
        outcomes.append({"rule": text, "holds": holds, "reason": reason})
    predicate = {"type": type_name, "type_entry": version, "data": data, "rules": outcomes}
    return attest(ledger, claim, type=f"custom:{type_name}", predicate=predicate,
                  predicate_type=CUSTOM, type_version=kind)
