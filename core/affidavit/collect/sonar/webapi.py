"""The SonarQube / SonarCloud Web API: the Compute Engine task of an upload, the analyses of a
project, and the quality gate of one analysis.

Three documented endpoints, read through the providers' one transport
(:class:`affidavit.collect.pullrequests.http.Api`: timeouts, 429/5xx retried with backoff
honouring ``Retry-After``, bounded bodies):

- ``GET api/ce/task?id=ID`` -> ``{"task": {"id", "status", "analysisId", "componentKey",
  "branch", "branchType", "pullRequest", "errorMessage", …}}``, ``status`` one of
  ``PENDING``, ``IN_PROGRESS``, ``SUCCESS``, ``FAILED``, ``CANCELED``;
- ``GET api/project_analyses/search?project=K[&branch=B|&pullRequest=P]&p=N&ps=100`` ->
  ``{"paging": {"pageIndex", "pageSize", "total"}, "analyses": [{"key", "date", "revision",
  …}]}``, newest first;
- ``GET api/qualitygates/project_status?analysisId=ID`` -> ``{"projectStatus": {"status",
  "ignoredConditions", "conditions": [{"status", "metricKey", "comparator",
  "errorThreshold", "warningThreshold"?, "actualValue"}]}}``, ``status`` one of ``OK``,
  ``WARN`` (SonarQube before 7.6), ``ERROR``, ``NONE`` (no gate).

Errors are SonarQube's ``{"errors": [{"msg": …}]}``. A refused token (401/403) is a
:class:`ProviderError` naming ``--sonar-token`` (exit 3), an unknown task, project or analysis
a :class:`NotFoundError` (exit 2): neither is ever taken for "no analysis".
"""

from __future__ import annotations

import time

from affidavit.errors import NotFoundError, ProviderError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from affidavit.collect.pullrequests.http import Api

__all__ = ["SONARCLOUD", "PENDING", "connect", "task", "wait_for_task", "find_analysis",
           "wait_for_analysis", "quality_gate", "Waited"]

SONARCLOUD = "https://sonarcloud.io"
"""SonarCloud's Web API root (``--organization`` without ``--sonar-url``)."""
PENDING = ("PENDING", "IN_PROGRESS")
"""Compute Engine task states that are not an answer yet."""
PAGE_SIZE = 100
_TOKEN = "--sonar-token or AFFIDAVIT_SONAR_TOKEN"


def connect(server_url: str, token: str | None, *,
            sleep: Callable[[float], None] = time.sleep) -> Api:
    """A session to the server at ``server_url``, the token sent as ``Authorization: Bearer``
    (SonarQube user or project analysis tokens, SonarCloud tokens) to that host only."""
    from affidavit.collect.pullrequests.http import Api
    from affidavit.web import checked_url

    url = checked_url(server_url, "--sonar-url", token_hint=f"give the token in {_TOKEN}")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Api("sonar", url, headers, sleep=sleep)


def _words(body: Any) -> str:
    """SonarQube's messages (``errors[].msg``, all of them), as ``: words``, or ``""``."""
    from affidavit.collect.pullrequests.http import provider_words

    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        said = [str(e["msg"]) for e in body["errors"] if isinstance(e, dict) and e.get("msg")]
        if said:
            return provider_words("; ".join(said))
    return provider_words(body)


def _get(api: Api, path: str, params: Mapping[str, Any], field: str, *, what: str,
         remedy: str) -> dict[str, Any]:
    """The JSON object one GET answers, which must have ``field`` (an object or a list); a
    404 is :class:`NotFoundError` saying ``what`` was not found, with ``remedy``."""
    answer = api.request("GET", path, params=params, statuses=(401, 403, 404))
    assert answer is not None
    said = _words(answer.body)
    if answer.status in (401, 403):
        asked = ("check the token and that it may browse the project"
                 if "Authorization" in api.session.headers else "the server wants a token")
        raise ProviderError(f"sonar: the token was refused for {path} (HTTP {answer.status})"
                            f"{said}", remedy=f"{asked}: {_TOKEN}")
    if answer.status == 404:
        raise NotFoundError(f"sonar: {what} was not found at {api.base_url} (HTTP 404){said}",
                            remedy=remedy)
    body = answer.body
    if not isinstance(body, dict) or not isinstance(body.get(field), (dict, list)):
        raise ProviderError(f"sonar: {path} did not answer an object with {field!r}")
    return body


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def task(api: Api, task_id: str) -> dict[str, Any]:
    """The Compute Engine task ``task_id``, as ``{id, status, analysis_id, project_key,
    branch, pull_request, error}``."""
    found = _get(api, "/api/ce/task", {"id": task_id}, "task",
                 what=f"analysis task {task_id!r}",
                 remedy="check --report-task (a report-task.txt of this server) and "
                        "--sonar-url; a task is kept only as long as the server's "
                        "housekeeping allows")["task"]
    status = found.get("status") if isinstance(found, dict) else None
    if not isinstance(status, str) or not status:
        raise ProviderError(f"sonar: analysis task {task_id!r} has no status")
    pull_request = _text(found.get("pullRequest"))
    return {"id": _text(found.get("id")) or task_id, "status": status,
            "analysis_id": _text(found.get("analysisId")),
            "project_key": _text(found.get("componentKey")),
            "branch": None if pull_request else _text(found.get("branch")),
            "pull_request": pull_request,
            "error": _text(found.get("errorMessage"))}


class Waited:
    """What a wait ended with (``value``, None when the time ran out), after ``polls`` asks
    over ``waited`` seconds."""

    def __init__(self, value: Any, polls: int, waited: float) -> None:
        self.value = value
        self.polls = polls
        self.waited = waited


def _wait(ask: Callable[[int], Any], done: Callable[[Any], bool], max_wait: float,
          sleep: Callable[[float], None], clock: Callable[[], float]) -> Waited:
    """Ask until ``done`` says the answer is final, pausing 1, 2, 4 then every 5 seconds, and
    never sleeping past ``max_wait`` seconds from the first ask: then the last answer is
    returned as it stands. ``ask`` gets the poll's number (0 first)."""
    start = clock()
    pause = 1.0
    polls = 0
    while True:
        asked = clock()
        answer = ask(polls)
        polls += 1
        if done(answer):
            return Waited(answer, polls, round(asked - start, 1))
        left = max_wait - (clock() - start)
        if left <= 0:
            return Waited(answer, polls, round(clock() - start, 1))
        sleep(min(pause, left))
        pause = min(pause * 2, 5.0)


def wait_for_task(api: Api, task_id: str, *, max_wait: float,
                  sleep: Callable[[float], None] = time.sleep,
                  clock: Callable[[], float] = time.monotonic) -> Waited:
    """The task once it has ended (SUCCESS, FAILED, CANCELED), or as it still stood (PENDING,
    IN_PROGRESS) when ``max_wait`` seconds ran out."""
    return _wait(lambda _: task(api, task_id), lambda t: t["status"] not in PENDING, max_wait,
                 sleep, clock)


def _scope(branch: str | None, pull_request: str | None) -> dict[str, str]:
    if pull_request:
        return {"pullRequest": pull_request}
    return {"branch": branch} if branch else {}


def _analysis(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict) or not _text(item.get("key")):
        return None
    return {"id": item["key"], "revision": _text(item.get("revision")),
            "date": _text(item.get("date"))}


def find_analysis(api: Api, project_key: str, *, revision: str | None = None,
                  analysis_id: str | None = None, branch: str | None = None,
                  pull_request: str | None = None, pages: int | None = None
                  ) -> dict[str, Any] | None:
    """The newest analysis of ``project_key`` (on ``branch`` or ``pull_request``, else the
    main branch) whose revision is ``revision`` (compared without case) or whose key is
    ``analysis_id``, as ``{id, revision, date}``; None when no page has it. Every page is read
    unless ``pages`` bounds them (a poll after the first: new analyses come first)."""
    from affidavit.collect.pullrequests.http import MAX_PAGES

    wanted = revision.lower() if revision else None
    params = {"project": project_key, **_scope(branch, pull_request), "ps": PAGE_SIZE}
    seen = 0
    for page in range(1, min(pages or MAX_PAGES, MAX_PAGES) + 1):
        body = _get(api, "/api/project_analyses/search", {**params, "p": page}, "analyses",
                    what=f"project {project_key!r}" + (
                        f" (pull request {pull_request})" if pull_request else
                        f" (branch {branch})" if branch else ""),
                    remedy="check --project-key, --branch or --pull-request and --sonar-url, "
                           "and that the token may browse the project")
        found = body["analyses"]
        if not isinstance(found, list):
            raise ProviderError("sonar: api/project_analyses/search did not answer a list of "
                                "analyses")
        for item in found:
            analysis = _analysis(item)
            if analysis is None:
                raise ProviderError("sonar: api/project_analyses/search answered an analysis "
                                    "without a key")
            if (wanted is not None and (analysis["revision"] or "").lower() == wanted) or (
                    analysis_id is not None and analysis["id"] == analysis_id):
                return analysis
        seen += len(found)
        paging = body.get("paging")
        total = paging.get("total") if isinstance(paging, dict) else None
        last = (seen >= total if isinstance(total, int) and not isinstance(total, bool)
                else len(found) < PAGE_SIZE)
        if not found or last:
            return None
    if pages is not None:
        return None
    raise ProviderError(f"sonar: project {project_key!r} has more than {MAX_PAGES} pages of "
                        "analyses; refusing a list that may never end")


def wait_for_analysis(api: Api, project_key: str, revision: str, *, max_wait: float,
                      branch: str | None = None, pull_request: str | None = None,
                      sleep: Callable[[float], None] = time.sleep,
                      clock: Callable[[], float] = time.monotonic) -> Waited:
    """The analysis of ``revision``, asked again while the server has none (its report may
    still be queued) until ``max_wait`` seconds have passed; ``value`` None then. The first
    ask reads every page; later ones only the first, where a new analysis appears."""
    return _wait(lambda poll: find_analysis(api, project_key, revision=revision, branch=branch,
                                            pull_request=pull_request,
                                            pages=None if poll == 0 else 1),
                 lambda found: found is not None, max_wait, sleep, clock)


def _condition(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or not _text(item.get("metricKey")) or not _text(
            item.get("status")):
        raise ProviderError("sonar: api/qualitygates/project_status answered a condition "
                            "without metricKey or status")
    return {"metric_key": item["metricKey"], "comparator": _text(item.get("comparator")),
            "error_threshold": _text(item.get("errorThreshold")),
            "warning_threshold": _text(item.get("warningThreshold")),
            "actual_value": _text(item.get("actualValue")), "status": item["status"]}


def quality_gate(api: Api, analysis_id: str) -> dict[str, Any]:
    """The quality gate of analysis ``analysis_id``: ``{status, ignored_conditions,
    conditions: [{metric_key, comparator, error_threshold, warning_threshold, actual_value,
    status}]}``."""
    found = _get(api, "/api/qualitygates/project_status", {"analysisId": analysis_id},
                 "projectStatus", what=f"analysis {analysis_id!r}",
                 remedy="the analysis may have been deleted by the server's housekeeping"
                 )["projectStatus"]
    status = found.get("status") if isinstance(found, dict) else None
    if not isinstance(status, str) or not status:
        raise ProviderError(f"sonar: the quality gate of analysis {analysis_id!r} has no "
                            "status")
    conditions = found.get("conditions") or []
    if not isinstance(conditions, list):
        raise ProviderError("sonar: api/qualitygates/project_status answered conditions "
                            "that are not a list")
    ignored = found.get("ignoredConditions")
    return {"status": status,
            "ignored_conditions": ignored if isinstance(ignored, bool) else None,
            "conditions": [_condition(c) for c in conditions]}
