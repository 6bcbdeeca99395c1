"""The DORA measures on synthetic histories with answers worked out by hand."""

from __future__ import annotations

from typing import Any

from affidavit.compliance import dora

H = 3600.0
DAY = 86400.0


def shot(entry: int, hours: float, **running: str) -> tuple[int, float, list[dict[str, Any]]]:
    return entry, hours * H, [{"name": n, "fingerprint": f * 64} for n, f in running.items()]


def never(*_: Any) -> bool:
    return False


def always(*_: Any) -> bool:
    return True


def test_a_deployment_is_a_name_running_a_fingerprint_it_did_not_run_before() -> None:
    baseline = shot(1, 0, api="a", web="w")
    shots = [shot(2, 1, api="a", web="w"), shot(3, 2, api="b", web="w", worker="k"),
             shot(4, 3, api="b")]
    assert [(d["name"], d["fingerprint"][0], d["entry"]) for d in
            dora.deployments(baseline, shots)] == [("api", "b", 3), ("worker", "k", 3)]
    # without a baseline, what the first snapshot shows arrived then
    assert len(dora.deployments(None, shots)) == 4


def test_frequency_lead_time_failure_rate_and_restore() -> None:
    history = [shot(1, 10, app="1"), shot(2, 20, app="2"), shot(3, 30, app="3"),
               shot(4, 31, app="2"), shot(5, 40, app="4")]
    ran = {("app", "2" * 64): 4}  # app ran 2 before entry 4 (at entry 2)
    committed = {"1" * 64: 9 * H, "2" * 64: 12 * H, "3" * 64: 29 * H}
    found = dora.measures(
        dora.deployments(None, history), since=0, until=2 * DAY,
        ran_before=lambda name, fp, entry: ran.get((name, fp), 99) <= entry,
        compliant_on_arrival=lambda fp, entry: fp != "4" * 64,
        commit_time=committed.get)
    assert found["deployments"] == 5
    assert found["deployment_frequency_per_day"] == 2.5
    # lead times 1 h, 8 h, 1 h and 19 h (the rollback's commit is 2's); 4 has no commit time
    assert found["lead_time"] == {"median_seconds": 1 * H, "p90_seconds": 19 * H,
                                  "measured": 4}
    # 3 was rolled back (restored 1 h later, by the rollback); 4 arrived not compliant and
    # nothing came after it
    assert [(r["fingerprint"][0], r["failed_because"], r["restored_after_seconds"])
            for r in found["per_deployment"] if r["failed"]] == [
        ("3", "rolled back", 1 * H), ("4", "not compliant on arrival", None)]
    assert found["change_failure_rate"] == 2 / 5
    assert found["time_to_restore"] == {"median_seconds": 1 * H, "restored": 1,
                                        "unrestored": 1}


def test_only_the_deployment_a_rollback_replaced_failed() -> None:
    history = [shot(1, 1, app="1"), shot(2, 2, app="2"), shot(3, 3, app="3"),
               shot(4, 4, app="2")]
    found = dora.measures(dora.deployments(None, history), since=0, until=DAY,
                          ran_before=lambda name, fp, entry: fp == "2" * 64 and entry == 4,
                          compliant_on_arrival=always, commit_time=lambda fp: None)
    assert [(r["fingerprint"][0], r["failed"]) for r in found["per_deployment"]] == [
        ("1", False), ("2", False), ("3", True), ("2", False)]


def test_no_deployments() -> None:
    found = dora.measures([], since=0, until=DAY, ran_before=never,
                          compliant_on_arrival=always, commit_time=lambda fp: None)
    assert found["change_failure_rate"] is None
    assert found["lead_time"] == {"median_seconds": None, "p90_seconds": None, "measured": 0}


def test_nearest_rank_percentiles() -> None:
    assert dora.percentile([5, 1, 3], 0.5) == 3
    assert dora.percentile(list(range(1, 11)), 0.9) == 9
    assert dora.percentile([7], 0.9) == 7
    assert dora.percentile([], 0.5) is None
