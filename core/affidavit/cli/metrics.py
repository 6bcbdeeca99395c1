"""``metrics ENV``: map flags onto ``affidavit.api.metrics`` and print the measures as a table,
JSON, markdown, or a one-page HTML report with charts (inline SVG: nothing to install, nothing
fetched when a manager opens it)."""

from __future__ import annotations

import argparse
import sys

from affidavit.cli import options as opt
from affidavit.cli.output import emit_json, key_values
from affidavit.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["metrics"]

_FORMATS = ("table", "json", "markdown", "html")


def metrics(p: argparse.ArgumentParser) -> None:
    """``metrics ENV [--since 30d] [--output table|json|markdown|html FILE]``."""
    p.add_argument("environment", help="a physical environment")
    opt.add(p, "--since", metavar="AGE_OR_TIME",
            help="start of the window: an age like 30d or a UTC time (default 30d)")
    opt.add(p, "--output", nargs="+", metavar="FORMAT",
            help="table (default), json, markdown, or `html FILE` for a one-page report")
    opt.add_ledger(p)
    p.set_defaults(handler=_metrics)


def _format(values: list[str] | str | None) -> tuple[str, str | None]:
    given = [values] if isinstance(values, str) else list(values or ["table"])
    if len(given) == 1 and given[0] in _FORMATS:
        given = given[0].split(None, 1) if " " in given[0] else given
    kind = given[0]
    if kind not in _FORMATS:
        raise UsageError(f"--output {kind!r}: expected one of {', '.join(_FORMATS)}")
    if kind == "html":
        if len(given) != 2:
            raise UsageError("--output html needs the file to write: --output html report.html")
        return kind, given[1]
    if len(given) != 1:
        raise UsageError(f"--output {kind} takes no file (only html does)")
    return kind, None


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _rows(found: dict[str, Any]) -> list[tuple[str, Any]]:
    lead, restore = found["lead_time"], found["time_to_restore"]
    rate = found["change_failure_rate"]
    return [
        ("Environment", found["environment"]),
        ("Window", f"{found['since']} to {found['until']}"),
        ("Deployments", found["deployments"]),
        ("Deployment frequency", f"{found['deployment_frequency_per_day']:.2f} per day"),
        ("Lead time (median)", _duration(lead["median_seconds"])),
        ("Lead time (p90)", _duration(lead["p90_seconds"])),
        ("Lead time measured", f"{lead['measured']} of {found['deployments']}"),
        ("Change failure rate", "-" if rate is None else f"{rate:.0%}"),
        ("Time to restore (median)", _duration(restore["median_seconds"])),
        ("Failures not restored", restore["unrestored"]),
    ]


def _metrics(args: argparse.Namespace) -> int:
    from affidavit.api.ledgers import open_ledger
    from affidavit.api.metrics import environment_metrics

    kind, path = _format(args.output)
    found = environment_metrics(open_ledger(args.ledger),
                                opt.required(args.environment, "environment name"),
                                since=args.since or "30d")
    if kind == "json":
        emit_json(found)
    elif kind == "markdown":
        sys.stdout.write("| measure | value |\n|---|---|\n" + "".join(
            f"| {k} | {v} |\n" for k, v in _rows(found)))
    elif kind == "html":
        from affidavit.cli.metrics_html import render

        assert path is not None
        try:
            with open(path, "w", encoding="utf-8") as out:
                out.write(render(found, _rows(found)))
        except OSError as exc:
            raise UsageError(f"--output html {path}: {exc.strerror}") from None
        sys.stdout.write(f"wrote {path}\n")
    else:
        sys.stdout.write(key_values(_rows(found)) + "\n")
    return 0
