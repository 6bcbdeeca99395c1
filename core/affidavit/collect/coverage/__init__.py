"""The coverage collector: Cobertura XML, JaCoCo XML and lcov tracefiles in, the ``coverage``
predicate's counts out.

How the format is found and how reports merge: :mod:`affidavit.collect.coverage.parse`; how
each format is counted: its own module. Importing this package stays cheap (no reader is
loaded until a file is read), because the CLI imports it for ``attest coverage``.
"""

from __future__ import annotations

from affidavit.collect.coverage.parse import parse_file, parse_files, parse_stream, summarize

__all__ = ["parse_file", "parse_files", "parse_stream", "summarize"]
