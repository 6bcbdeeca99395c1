"""The web UI's environment pages: what runs where (each snapshot's artifacts with their
provenance and the policies' decisions), what changed between two snapshots, and how fast an
environment receives changes (the four DORA measures over time). Every read is an ``api/``
call through :class:`~affidavit.server.ui_site.Site`, so it is proven and judged exactly as the
CLI's ``get snapshot``, ``diff``, ``assert snapshot`` and ``metrics`` are."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from affidavit.api import browse, environments, metrics, policies
from affidavit.server.charts import bars
from affidavit.server.ui_site import Site, not_found, number, status_badge
from affidavit.server.ui_site import page as page_of

__all__ = ["add_routes"]

_MEASURES = (
    ("deployment_frequency_per_day", "Deployment frequency", "deployments a day", ""),
    ("lead_time", "Lead time for changes", "median, commit to running", "s"),
    ("change_failure_rate", "Change failure rate", "deployments that failed", "%"),
    ("time_to_restore", "Time to restore service", "median, failure to restored", "s"),
)


def _plain(name: str) -> bool:
    """Whether ``name`` in a path can name an environment, so it is not a snapshot address
    (``prod~1``, ``prod#3``, ``prod@{...}``): a page builds its own address from it."""
    from affidavit.errors import UsageError

    try:
        environments.check_environment_name(name)
    except UsageError:
        return False
    return True


def _day_end(day: str) -> float | None:
    """The end of UTC day ``day`` (YYYY-MM-DD) as a POSIX time, or None: not a day."""
    import re
    from datetime import UTC, datetime

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
        return None
    try:
        return datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp() + 86400
    except ValueError:
        return None


def _charts(series: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One chart a measure, a bar a period (labelled by the day it ends)."""
    out = []
    for key, title, what, unit in _MEASURES:
        points: list[tuple[str, float | None]] = []
        for period in series:
            value = period[key]
            if isinstance(value, dict):
                value = value["median_seconds"]
            points.append((period["until"][:10], value))
        out.append({"key": key, "title": title, "what": what, "unit": unit,
                    "chart": bars(points, unit)})
    return out


def add_routes(router: APIRouter, site: Site) -> None:
    """The environment pages and the environment badge, on ``router``."""
    @router.get("/environments")
    async def listing(request: Request) -> Response:
        return await site.show(request, "environments.html", environments.list_environments,
                               "environments", title="Environments")

    @router.get("/environments/{env}")
    async def environment(request: Request, env: str, page: str = "1") -> Response:
        wanted = number(page)
        if wanted is None:
            return not_found(request, f"no page {page[:20]!r}")
        return await site.show(request, "environment.html",
                               lambda led: browse.environment_page(led, env, wanted), "env",
                               title=f"Environment {env}")

    @router.get("/environments/{env}/snapshots/{which}")
    async def snapshot(request: Request, env: str, which: str) -> Response:
        if not _plain(env):
            return not_found(request, "no such environment")
        if which == "latest":
            address = env
        elif number(which) is None:
            return not_found(request, f"no snapshot {which[:20]!r}")
        else:
            address = f"{env}#{which}"
        return await site.show(request, "snapshot.html",
                               lambda led: policies.snapshot_compliance(led, address), "snapshot",
                               title=f"Snapshot {address}")

    @router.get("/environments/{env}/diff")
    async def diff(request: Request, env: str) -> Response:
        if not _plain(env):
            return not_found(request, "no such environment")
        given = request.query_params
        first, second = number(given.get("from", "")), number(given.get("to", ""))
        if first is None or second is None:
            return page_of(request, "error.html", 400, title="Which snapshots?",
                         message="compare two snapshots by number: ?from=N&to=M")
        return await site.show(request, "diff.html", lambda led: environments.diff_snapshots(
            led, f"{env}#{first}", f"{env}#{second}"), "diff", title=f"{env}: #{first} → #{second}",
            env=env)

    @router.get("/environments/{env}/metrics")
    async def measures(request: Request, env: str, weeks: str = "12",
                       until: str = "") -> Response:
        periods = number(weeks)
        if periods is None or periods > 104:
            return not_found(request, f"no chart of {weeks[:20]!r} weeks")
        end = _day_end(until) if until else None
        if until and end is None:
            return page_of(request, "error.html", 400, title="Until when?",
                         message=f"{until[:40]!r} is not a day (YYYY-MM-DD)")

        def read(led: Any) -> dict[str, Any]:
            found = metrics.metrics_series(led, env, periods=periods, days=7, now=end)
            return {**found, "charts": _charts(found["series"])}

        return await site.show(request, "metrics.html", read, "metrics",
                               title=f"Metrics of {env}", env=env, weeks=periods, until=until)

    @router.get("/badge/{env}.svg")
    async def badge(request: Request, env: str) -> Response:
        return await status_badge(site, request,
                                  lambda led: policies.environment_status(led, env))
