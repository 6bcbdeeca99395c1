"""Security-scan collectors: SARIF (any producer), Snyk (its JSON or its SARIF), and Trivy's
and Grype's own JSON (``vulns``).

Each counts findings per severity and keeps a bounded sample of them; none decides whether a
scan passes (that is :mod:`affidavit.compliance.judge`, from the counts recorded here).
"""
