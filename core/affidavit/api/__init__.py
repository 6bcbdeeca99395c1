"""The library face: every operation the CLI or the server offers, as a plain function.

Submodules are imported on demand (``affidavit.api.record`` for writes, ``affidavit.api.query``
for reads) so a CLI call pays only for what it uses.
"""
