"""The library face: every operation the CLI or the server offers, as a plain function.

The CLI imports nothing else of the package (``make lint`` holds it to that), so whatever a
command does, a program can do with the same call:

- ``ledgers``: open a ledger by URL, create one, its verifier key, rebuild its indexes;
- ``record``: create a flow, begin a trail, report an artifact, record a generic attestation
  (``Claim`` carries what every attestation shares, as plain values);
- ``scans``, ``custom``, ``approvals``: JUnit/SARIF/Snyk results, custom types, approvals,
  decisions and approval requests;
- ``query``, ``explain``: proven reads of flows, trails, artifacts, attestations and the log;
- ``gate``: the ``assert`` answers, with their reasons;
- ``evidence``, ``verification``: evidence out of the vault, packages, offline verification;
- ``fingerprints``, ``schemas``, ``context``, ``durations``: artifact fingerprints, the JSON
  Schemas, CI defaults, and the one grammar for durations and times.

Submodules are imported on demand so a CLI call pays only for what it uses.
"""
