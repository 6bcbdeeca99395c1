"""The JUnit XML collector: result files in, the ``junit`` predicate's counts out.

The counting rules are documented in :mod:`affidavit.collect.junit.parse`; which files are
read in :mod:`affidavit.collect.junit.files`. Importing this package stays cheap (no XML
library is loaded until a file is read), because the CLI imports it for every ``attest``.
"""

from __future__ import annotations

from affidavit.collect.junit.files import find_result_names, find_results
from affidavit.collect.junit.parse import parse_file, parse_files, parse_stream, summarize

__all__ = ["find_result_names", "find_results", "parse_file", "parse_files", "parse_stream",
           "summarize"]
