"""The shapes of everything affidavit records (DESIGN §1-2), kept two ways on purpose.

Writes do not validate with pydantic. ``build`` makes each record as a plain dict from the
constants in ``fields`` and ``predicates``, because importing the pydantic models costs the CLI
about 165 ms per call (``python -c "import affidavit.models.records"`` against ``python -c
pass``, both timed on one 2-core machine), against a budget of five times ``python -c pass``
for a whole command. Those dicts are held to the models by ``tests/models/``, which checks that
every builder's output is accepted by its model and dumps back to the same canonical bytes.

The pydantic models (``records``, plus the predicate models in ``junit`` and ``scans``) are used
where their cost is paid once rather than on every pipeline step: checking a template file on
input, checking each entry of an evidence package in ``verify package``, and publishing the
JSON Schemas that ``affidavit schema`` prints (``schemas``). Entries read back from a ledger
are checked by the proven read's own shape checks (``verify.proven``) and by the one judge
(``compliance.judge``), without pydantic.
"""
