"""Security-scan collectors: SARIF (any producer) and Snyk (its JSON or its SARIF).

Both count findings per severity and keep a bounded sample of them; neither decides whether a
scan passes (that is :mod:`affidavit.compliance.judge`, from the counts recorded here).
"""
