"""The scanner's ``report-task.txt``: which server, project and Compute Engine task an analysis
went to (a pure collector: bytes in, fields out).

Every SonarScanner (the CLI, Maven, Gradle, .NET, the CI extensions) writes it after uploading
its report, one ``key=value`` line each, in the working directory of the scan:
``.scannerwork/`` for the CLI, ``target/sonar/`` for Maven, ``build/sonar/`` for Gradle. Its
keys: ``organization`` (SonarCloud), ``projectKey``, ``serverUrl``, ``serverVersion``,
``branch`` (newer scanners, when ``sonar.branch.name`` is set), ``dashboardUrl``, ``ceTaskId``,
``ceTaskUrl``. The scanner writes the values unescaped; a file written through Java's
``Properties.store`` escapes ``:`` and ``=``; both read the same here.
"""

from __future__ import annotations

from affidavit.errors import InputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["DEFAULT_PATHS", "MAX_SIZE", "parse"]

DEFAULT_PATHS = (".scannerwork/report-task.txt", "target/sonar/report-task.txt",
                 "build/sonar/report-task.txt")
"""Where the scanner CLI, Maven and Gradle put the file, relative to the scan's directory."""

MAX_SIZE = 1 << 20
"""Bytes the file may have: a real one has eight short lines."""

_KEYS = {"projectKey": "project_key", "serverUrl": "server_url", "ceTaskId": "ce_task_id",
         "ceTaskUrl": "ce_task_url", "dashboardUrl": "dashboard_url",
         "organization": "organization", "serverVersion": "server_version", "branch": "branch"}
_REQUIRED = ("projectKey", "serverUrl", "ceTaskId")
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _unescape(text: str) -> str:
    """Java properties escapes: ``\\:`` ``\\=`` ``\\\\`` ``\\t``… and ``\\uXXXX``."""
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        char = text[i]
        if char != "\\" or i + 1 == len(text):
            out.append(char)
            i += 1
            continue
        following = text[i + 1]
        if following == "u" and len(text) >= i + 6:
            try:
                out.append(chr(int(text[i + 2:i + 6], 16)))
                i += 6
                continue
            except ValueError:
                pass
        out.append(_ESCAPES.get(following, following))
        i += 2
    return "".join(out)


def _split(line: str) -> tuple[str, str]:
    """A line's key and value: the first unescaped ``=`` or ``:`` separates them."""
    i = 0
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        if line[i] in "=:":
            return line[:i].strip(), line[i + 1:].strip()
        i += 1
    return line.strip(), ""


def parse(data: bytes, source: str) -> dict[str, Any]:
    """The fields of a ``report-task.txt`` (``source`` names it in errors), by the names the
    predicate uses: ``project_key``, ``server_url``, ``ce_task_id``, ``ce_task_url``,
    ``dashboard_url``, ``organization``, ``server_version``, ``branch`` and ``pull_request``
    (the last from the dashboard URL, the only place the scanner writes it), each None when
    the file does not say. A file without ``projectKey``, ``serverUrl`` or ``ceTaskId`` is an
    :class:`InputError`: it is not the scanner's report of an upload."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("latin-1")  # what Properties.store writes
        except UnicodeDecodeError:  # pragma: no cover -- latin-1 decodes every byte
            raise InputError(f"{source}: not text") from None
    if "\x00" in text:
        raise InputError(f"{source}: not text (it holds NUL bytes)")
    found: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        key, value = _split(line)
        key, value = _unescape(key), _unescape(value)
        if key in _KEYS and value:
            found[key] = value
    missing = [key for key in _REQUIRED if key not in found]
    if missing:
        raise InputError(f"{source}: no {', '.join(missing)} (not a SonarScanner "
                         "report-task.txt?)",
                         remedy="give the report-task.txt the scanner wrote after its upload, "
                                "or --project-key with the commit")
    out: dict[str, Any] = {name: found.get(key) for key, name in _KEYS.items()}
    out["pull_request"] = _query(found.get("dashboardUrl"), "pullRequest")
    if out["branch"] is None:
        out["branch"] = _query(found.get("dashboardUrl"), "branch")
    return out


def _query(url: str | None, name: str) -> str | None:
    from urllib.parse import parse_qs, urlsplit

    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values and values[0] else None
