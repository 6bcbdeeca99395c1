"""Every SARIF and Snyk file of the shared corpus (``$AFFIDAVIT_CORPUS/MANIFEST.tsv``), read in
place, against the numbers its source project asserts -- under the mapping stated here per
source, because each source counts differently (``SOURCES.md``):

``sarif/defectdojo`` (``exp_findings``)
    DefectDojo's SARIF parsers (generic, cppcheck, devskim, mayhem) make one finding per
    *location* of every result whose ``kind`` is ``fail`` (an absent kind is ``fail``), one
    for a result without locations, and keep suppressed results (marked false positive). So:
    the sum over our findings of kind ``fail`` of ``max(1, location_count)``.
``snyk/defectdojo`` (``exp_findings``)
    DefectDojo counts every entry of the top-level ``vulnerabilities`` array (paths, not unique
    ids) and ignores ``applications[]`` and ``infrastructureAsCodeIssues``; for Snyk Code
    SARIF, one finding per result. So: the sum of ``paths`` over our sources (projects) whose
    ``extra.type`` is neither ``container-app`` nor Snyk JSON ``iac``; a SARIF run's ``paths``
    are its results.
``snyk/kosli`` (``notes``: ``runN HX/MY/LZ``, ``tool 'NAME' VERSION``)
    kosli buckets each run's results high/medium/low with Snyk's rule severity (error, high,
    critical -> high; warning, medium -> medium; note, info, low -> low). So: the Snyk
    collector's source N (= run N) ``by_severity``, critical+high / medium / low; the tool
    name and version from the SARIF collector's sources (runs). Its ``snyk.json`` must be refused as
    SARIF (true of every ``snyk-json`` file: Snyk JSON is not SARIF).
``sarif/sarif-sdk``, ``snyk/snyk-to-html``
    no counts: every file parses; a pre-release log and the SDK's 2.1.0 upgrade of it
    (``X.expected.sarif`` beside it) give the same counts and findings.

Rows whose ``notes`` start with ``BAD INPUT`` must raise one clean one-line InputError naming
the file. Every predicate validates with its model. No file name is special-cased: what a row
must satisfy comes from its MANIFEST columns only.
"""

from __future__ import annotations

import csv
import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from affidavit.collect.scans import sarif, snyk
from affidavit.compliance.judge import scan_policy
from affidavit.errors import InputError
from affidavit.models.scans import SarifPredicate, SnykPredicate

CORPUS = os.environ.get("AFFIDAVIT_CORPUS", "")
SKIP = "AFFIDAVIT_CORPUS is not set (point it at ../shared/corpus to run the corpus tests)"
FORMATS = {"sarif", "snyk-json", "snyk-code-sarif"}
BIG = 10**9  # findings cap: keep every finding, for per-location counts


def _rows() -> list[dict[str, str]]:
    if not CORPUS:
        return []
    with open(Path(CORPUS) / "MANIFEST.tsv", encoding="utf-8", newline="") as manifest:
        rows = list(csv.DictReader(manifest, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [row for row in rows if row["format"] in FORMATS]


ROWS = _rows()


def source(row: dict[str, str]) -> str:
    return "/".join(row["local_path"].split("/")[:2])


def path_of(row: dict[str, str]) -> Path:
    return Path(CORPUS) / row["local_path"]


def is_bad(row: dict[str, str]) -> bool:
    return row["notes"].startswith("BAD INPUT")


def sarif_predicate(path: Path) -> dict[str, Any]:
    pred = sarif.summarize([sarif.parse_file(path, findings_cap=BIG)], findings_cap=BIG)
    pred["policy"] = scan_policy("high", None, False)
    assert SarifPredicate.model_validate(pred).model_dump(mode="json") == pred
    return pred


def snyk_predicate(path: Path) -> dict[str, Any]:
    pred = snyk.summarize([snyk.parse_file(path, findings_cap=BIG)], findings_cap=BIG)
    pred["policy"] = scan_policy("high", None, False)
    assert SnykPredicate.model_validate(pred).model_dump(mode="json") == pred
    return pred


def defectdojo_sarif(pred: dict[str, Any]) -> int:
    return sum(max(1, f["location_count"]) for f in pred["findings"] if f["kind"] == "fail")


def defectdojo_snyk(pred: dict[str, Any]) -> int:
    skipped = {"container-app", "iac"} if pred["files"][0]["format"] == "snyk-json" else set()
    return sum(s["paths"] for s in pred["sources"] if s["extra"]["type"] not in skipped)


BUCKETS = re.compile(r"run(\d+) H(\d+)/M(\d+)/L(\d+)")
TOOL = re.compile(r"tool '([^']+)'(?: ([0-9][0-9.]*))?")


def checks(row: dict[str, str]) -> list[tuple[str, object, object]]:
    """``(what, ours, theirs)`` for every number the row's source asserts; [] if none."""
    path, where, kind = path_of(row), source(row), row["format"]
    out: list[tuple[str, object, object]] = []
    if row["exp_findings"]:
        expected = int(row["exp_findings"])
        if where.startswith("sarif/"):
            out.append(("findings", defectdojo_sarif(sarif_predicate(path)), expected))
        else:
            out.append(("findings", defectdojo_snyk(snyk_predicate(path)), expected))
    buckets = BUCKETS.findall(row["notes"])
    if buckets and kind != "snyk-json":
        sources = snyk_predicate(path)["sources"]
        for run, high, medium, low in buckets:
            sev = sources[int(run)]["by_severity"]
            out.append((f"run{run} H/M/L", (sev["critical"] + sev["high"], sev["medium"],
                                            sev["low"]), (int(high), int(medium), int(low))))
    tool = TOOL.search(row["notes"])
    if tool and kind != "snyk-json":
        runs = sarif_predicate(path)["sources"]
        out.append(("tool", {r["tool"] for r in runs}, {tool.group(1)}))
        if tool.group(2):
            out.append(("tool version", {r["version"] for r in runs}, {tool.group(2)}))
    return out


ids = [row["local_path"] for row in ROWS]


def test_corpus_is_present() -> None:
    if not CORPUS:
        pytest.skip(SKIP)
    assert ROWS, f"no SARIF or Snyk rows in {CORPUS}/MANIFEST.tsv"


@pytest.mark.skipif(not CORPUS, reason=SKIP)
@pytest.mark.parametrize("row", ROWS, ids=ids)
def test_file(row: dict[str, str]) -> None:
    path = path_of(row)
    assert path.is_file(), f"listed in MANIFEST.tsv but missing: {path}"
    if is_bad(row):
        for collector in (sarif, snyk):
            with pytest.raises(InputError) as err:
                collector.parse_file(path)
            assert err.value.message.startswith(f"{path}: ")
            assert "\n" not in err.value.diagnostics()
        return
    if row["format"] == "snyk-json":
        with pytest.raises(InputError, match="not a SARIF log") as err:
            sarif.parse_file(path)
        assert "attest snyk" in err.value.diagnostics()
        snyk_predicate(path)
    else:  # SARIF, from any source: both collectors read it and agree on the results
        generic, snyk_view = sarif_predicate(path), snyk_predicate(path)
        assert snyk_view["summary"]["total"] == generic["summary"]["total"]
        assert [s["total"] for s in snyk_view["sources"]] == [
            s["total"] for s in generic["sources"]]
    for what, ours, theirs in checks(row):
        assert ours == theirs, f"{row['local_path']}: {what}: ours {ours}, {source(row)} {theirs}"


def _golden_pairs() -> list[tuple[str, Path]]:
    pairs = []
    for row in ROWS:
        path = path_of(row)
        golden = path.with_name(path.name.removesuffix(".sarif") + ".expected.sarif")
        if row["format"] == "sarif" and path.suffix == ".sarif" and golden.is_file():
            pairs.append((row["local_path"], golden))
    return pairs


@pytest.mark.skipif(not CORPUS, reason=SKIP)
@pytest.mark.parametrize(("local", "golden"), _golden_pairs(), ids=[p[0] for p in
                                                                    _golden_pairs()])
def test_prerelease_log_reads_like_its_2_1_0_upgrade(local: str, golden: Path) -> None:
    ours, upgraded = sarif_predicate(Path(CORPUS) / local), sarif_predicate(golden)
    assert ours["summary"] == upgraded["summary"]
    assert ours["actionable"] == upgraded["actionable"]
    keys = ("rule_id", "level", "severity", "kind", "suppressed", "baseline_state",
            "location_count")
    assert [{k: f[k] for k in keys} for f in ours["findings"]] == [
        {k: f[k] for k in keys} for f in upgraded["findings"]]
    for mine, theirs in zip(ours["findings"], upgraded["findings"], strict=True):
        assert [loc["uri"] for loc in mine["locations"]] == [loc["uri"] for loc in
                                                             theirs["locations"]]


def _refused(collector: Any, path: Path) -> bool:
    try:
        collector.parse_file(path)
    except InputError as err:
        return err.message.startswith(f"{path}: ")
    return False


@pytest.mark.skipif(not CORPUS, reason=SKIP)
def test_agreement_per_source(capsys: pytest.CaptureFixture[str]) -> None:
    """The per-source tally the collectors' report quotes (``pytest -s`` shows it)."""
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in ROWS:
        counts = tally[source(row)]
        counts[2] += 1
        if is_bad(row):
            counts[3] += all(_refused(collector, path_of(row)) for collector in (sarif, snyk))
            continue
        found = checks(row)
        counts[3] += 1  # parsed (and validated) without error
        if found:
            counts[1] += 1
            counts[0] += all(ours == theirs for _, ours, theirs in found)
    with capsys.disabled():
        for name in sorted(tally):
            agree, counted, listed, ok = tally[name]
            print(f"\n  {name}: counts agree {agree}/{counted}, parsed or refused as "
                  f"expected {ok}/{listed}", end="")
        print()
    assert all(agree == counted and ok == listed
               for agree, counted, listed, ok in tally.values())
