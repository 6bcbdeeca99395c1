"""The shapes of everything affidavit records (DESIGN §1-2).

``fields`` and ``predicates`` are plain constants and ``build`` makes canonical records from them
without importing pydantic, so the CLI's write path starts fast; ``records`` holds the pydantic
models that validate anything read back or received, and that ``affidavit schema`` publishes.
"""
