"""The SonarQube / SonarCloud quality gate of one commit's analysis (predicate ``sonar/v1``;
model ``affidavit.models.sonar``; verdict ``affidavit.compliance.sonar``; docs/predicates.md).

Two ways to the analysis, both ending at its quality gate:

- :func:`by_task`: the Compute Engine task the scanner's ``report-task.txt`` names
  (:mod:`.report_task`), asked again while it is PENDING or IN_PROGRESS, its ``analysisId``
  once it is SUCCESS; the analysis's revision is then read from the project's analyses;
- :func:`by_revision`: the newest analysis of the project (its branch or pull request) whose
  ``revision`` is the commit, every page read, asked again while there is none.

Both wait at most ``max_wait`` seconds (:mod:`.webapi`). What is not an answer -- a task that
FAILED or was CANCELED, one still pending, no analysis of the commit when the time ran out --
is recorded as it stands, with ``quality_gate`` null, and the verdict is "not compliant". What
makes any answer unknown -- a refused token, an unknown project or task, an outage -- is an
error, and nothing is recorded.
"""

from __future__ import annotations

import time

from affidavit.collect.sonar import webapi
from affidavit.errors import InputError, ProviderError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from affidavit.collect.pullrequests.http import Api

    Record = dict[str, Any]

__all__ = ["by_task", "by_revision", "dashboard_url"]


def dashboard_url(server_url: str, project_key: str, branch: str | None,
                  pull_request: str | None) -> str:
    """The project's page for the analysed branch or pull request, as the scanner writes it."""
    from urllib.parse import urlencode

    query = {"id": project_key}
    if pull_request:
        query["pullRequest"] = pull_request
    elif branch:
        query["branch"] = branch
    return f"{server_url}/dashboard?{urlencode(query)}"


def _predicate(api: Api, *, organization: str | None, project_key: str, branch: str | None,
               pull_request: str | None, commit: str | None, lookup: Record,
               analysis: Record | None, gate: Record | None, dashboard: str | None) -> Record:
    return {"server_url": api.base_url, "organization": organization,
            "project_key": project_key, "branch": branch, "pull_request": pull_request,
            "commit": commit, "lookup": lookup, "analysis": analysis, "quality_gate": gate,
            "dashboard_url": dashboard or dashboard_url(api.base_url, project_key, branch,
                                                        pull_request)}


def by_task(api: Api, task_id: str, *, project_key: str, organization: str | None = None,
            branch: str | None = None, pull_request: str | None = None,
            commit: str | None = None, dashboard: str | None = None, max_wait: float,
            sleep: Callable[[float], None] = time.sleep,
            clock: Callable[[], float] = time.monotonic) -> Record:
    """The predicate for the analysis of Compute Engine task ``task_id`` of ``project_key``
    (as the report-task.txt says it), waiting up to ``max_wait`` seconds for the task."""
    waited = webapi.wait_for_task(api, task_id, max_wait=max_wait, sleep=sleep, clock=clock)
    task = waited.value
    if task["project_key"] and task["project_key"] != project_key:
        raise InputError(f"sonar: analysis task {task_id!r} is of project "
                         f"{task['project_key']!r}, not {project_key!r}",
                         remedy="the report-task.txt and --project-key disagree")
    branch = task["branch"] or (None if task["pull_request"] else branch)
    pull_request = task["pull_request"] or pull_request
    analysis = gate = None
    if task["status"] == "SUCCESS":
        analysis_id = task["analysis_id"]
        if analysis_id is None:
            raise ProviderError(f"sonar: analysis task {task_id!r} succeeded without an "
                                "analysisId")
        analysis = webapi.find_analysis(api, project_key, analysis_id=analysis_id,
                                        branch=branch, pull_request=pull_request) or {
            "id": analysis_id, "revision": None, "date": None}
        gate = webapi.quality_gate(api, analysis_id)
    lookup = {"by": "task", "task_id": task["id"], "task_status": task["status"],
              "task_error": task["error"], "polls": waited.polls,
              "waited_seconds": waited.waited, "max_wait_seconds": float(max_wait)}
    return _predicate(api, organization=organization, project_key=project_key, branch=branch,
                      pull_request=pull_request, commit=commit, lookup=lookup,
                      analysis=analysis, gate=gate, dashboard=dashboard)


def by_revision(api: Api, project_key: str, commit: str, *, organization: str | None = None,
                branch: str | None = None, pull_request: str | None = None, max_wait: float,
                sleep: Callable[[float], None] = time.sleep,
                clock: Callable[[], float] = time.monotonic) -> Record:
    """The predicate for the newest analysis of ``commit`` in ``project_key``, waiting up to
    ``max_wait`` seconds for one to appear."""
    waited = webapi.wait_for_analysis(api, project_key, commit, max_wait=max_wait,
                                      branch=branch, pull_request=pull_request, sleep=sleep,
                                      clock=clock)
    analysis = waited.value
    gate = None if analysis is None else webapi.quality_gate(api, analysis["id"])
    lookup = {"by": "revision", "task_id": None, "task_status": None, "task_error": None,
              "polls": waited.polls, "waited_seconds": waited.waited,
              "max_wait_seconds": float(max_wait)}
    return _predicate(api, organization=organization, project_key=project_key,
                      branch=None if pull_request else branch, pull_request=pull_request,
                      commit=commit, lookup=lookup, analysis=analysis, gate=gate,
                      dashboard=None)
