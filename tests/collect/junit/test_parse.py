"""Tests of affidavit.collect.junit and the modules behind it, on our own fixtures.

One fixture per quirk under ``fixtures/``; the expected numbers are counted by hand from
each fixture under the rules of the module docstring. Hostile inputs are generated, parsed in
a child process, and must be refused within a second with the child's peak RSS (VmHWM) grown
by less than 32 MB.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from affidavit.collect.junit import (
    find_results,
    parse_file,
    parse_files,
    parse_stream,
    summarize,
)
from affidavit.compliance.judge import junit_policy
from affidavit.errors import InputError, UsageError
from affidavit.models.junit import JUNIT, JUNIT_V1, JUnitPredicate, JUnitPredicateV1

FIXTURES = Path(__file__).parent / "fixtures"

# fixture -> (tests, passed, failures, errors, skipped, flaky), declared (t, f, e, s), repaired
COUNTS: dict[str, tuple[tuple[int, ...], tuple[int | None, ...], bool]] = {
    "testsuites-root.xml": ((6, 3, 1, 1, 1, 0), (6, 1, 1, 1), False),
    "testsuite-root.xml": ((3, 2, 1, 0, 0, 0), (3, 1, 0, 0), False),
    "nested-suites.xml": ((5, 3, 1, 0, 1, 0), (5, 1, 0, 1), False),
    "missing-counts.xml": ((4, 1, 1, 1, 1, 0), (None, None, None, None), False),
    "multi-result.xml": ((4, 0, 2, 1, 1, 0), (None, None, None, None), False),
    "surefire-flaky.xml": ((6, 3, 2, 1, 0, 2), (6, 2, 1, 0), False),
    "repeated-cases.xml": ((5, 2, 2, 1, 0, 0), (5, None, None, None), False),
    "bom-utf8.xml": ((1, 1, 0, 0, 0, 0), (None, None, None, None), False),
    "iso-8859-1.xml": ((1, 0, 1, 0, 0, 0), (None, None, None, None), False),
    "windows-1252.xml": ((1, 1, 0, 0, 0, 0), (None, None, None, None), False),
    "utf-16.xml": ((1, 0, 0, 0, 1, 0), (None, None, None, None), False),
    "shift-jis.xml": ((1, 0, 0, 1, 0, 0), (None, None, None, None), False),
    "cdata.xml": ((2, 0, 1, 1, 0, 0), (None, None, None, None), False),
    "computed-time.xml": ((5, 5, 0, 0, 0, 0), (None, None, None, 0), True),
    "almost-xml.xml": ((1, 0, 1, 0, 0, 0), (None, None, None, None), True),
    "disabled-status.xml": ((4, 1, 1, 0, 2, 0), (4, 1, 0, 2), False),
    "cases-outside-suite.xml": ((2, 1, 1, 0, 0, 0), (None, None, None, None), False),
}

# fixture -> what the one-line error says after the file name
BAD = {
    "empty.xml": "file is empty",
    "not-xml.xml": "is not XML (syntax error at line 1, column 1)",
    "not-junit.xml": "not a JUnit XML report (root element <suites>, expected <testsuites> or "
                     "<testsuite>)",
    "truncated.xml": "ends before the XML document is complete (line 4, column 24)",
    "unclosed-tag.xml": "is not well-formed XML (not well-formed (invalid token) at line 3",
}

SUMMARY_KEYS = ("tests", "passed", "failures", "errors", "skipped", "flaky")


def parsed(name: str, **kwargs: Any) -> dict[str, Any]:
    return parse_file(FIXTURES / name, **kwargs)


def predicate_of(*names: str, cap: int = 50, retries: str = "fold") -> dict[str, Any]:
    """The predicate of the fixtures ``names``, with the default policy recorded."""
    files = [parsed(n, failed_cases_cap=cap, retries=retries) for n in names]
    return {**summarize(files, failed_cases_cap=cap, retries=retries),
            "policy": junit_policy(0, 0, None, retries)}


def recorded(predicate: dict[str, Any]) -> dict[str, Any]:
    """``predicate`` as ``attest junit`` records it, with the default policy."""
    return {**predicate, "policy": junit_policy(0, 0)}


# ------------------------------------------------------------------------------------------
# counting


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_counts(name: str) -> None:
    summary, declared, repaired = COUNTS[name]
    result = parsed(name)
    assert tuple(result["summary"][k] for k in SUMMARY_KEYS) == summary
    assert tuple(result["declared"][k] for k in ("tests", "failures", "errors", "skipped")) \
        == declared
    assert result["repaired"] is repaired
    suites = result["suites"]
    for key in ("tests", "failures", "errors", "skipped"):
        assert sum(s[key] for s in suites) == result["summary"][key], "suites add up"
    JUnitPredicate.model_validate(recorded(summarize([result])))


def test_every_fixture_is_listed() -> None:
    on_disk = {p.name for p in FIXTURES.glob("*.xml")}
    assert on_disk == set(COUNTS) | set(BAD)


def test_nested_suites_list_the_suites_holding_cases() -> None:
    result = parsed("nested-suites.xml")
    listed = [(s["name"], s["tests"], s["failures"], s["skipped"]) for s in result["suites"]]
    # module-a only holds a suite: not listed; EmptyLeaf is a leaf without cases: listed
    assert listed == [("project", 1, 0, 0), ("ClassA", 2, 1, 0), ("module-b", 1, 0, 0),
                      ("ClassB", 1, 0, 1), ("EmptyLeaf", 0, 0, 0)]
    # only the top-level suite declares: module-a's failures="7" is not summed
    assert result["declared"] == {"tests": 5, "failures": 1, "errors": 0, "skipped": 1}
    assert result["failed_cases"][0]["suite"] == "ClassA"


def test_declared_ignores_the_testsuites_aggregate() -> None:
    result = parsed("testsuites-root.xml")  # <testsuites tests="99" failures="99">
    assert result["declared"]["tests"] == 6
    assert [s["duration_s"] for s in result["suites"]] == [1.5, 3.0]
    assert result["summary"]["duration_s"] == 4.5


def test_several_results_in_one_case_count_once_by_priority() -> None:
    result = parsed("multi-result.xml", details=True)
    kinds = [(c["name"], c["kind"], c["message"]) for c in result["failed_cases"]]
    assert kinds == [("all three", "error", "teardown broke"),
                     ("skip and fail", "failure", "test failure"),
                     ("three failures", "failure", "one")]
    top = result["top_suites"][0]
    assert top["results"] == {"failure": 5, "error": 1, "skipped": 3}  # raw elements, for mappings
    assert result["failed_but_skipped"] == 2  # what tools that let <skipped> win count apart


def test_surefire_flaky_and_rerun() -> None:
    result = parsed("surefire-flaky.xml")
    assert [(c["name"], c["kind"], c["message"]) for c in result["failed_cases"]] == [
        ("failedEveryRerun", "failure", "run 1"),
        ("onlyRerunFailures", "failure", "rerun failed"),
        ("onlyRerunErrors", "error", "rerun broke"),
    ]
    assert result["summary"]["flaky"] == 2  # passedOnRerun, erroredThenPassed


def test_repeated_cases_count_each_element_in_the_per_file_dict() -> None:
    result = parsed("repeated-cases.xml", details=True)
    assert result["summary"]["tests"] == 5  # the predicate folds them: test_retried_tests_fold


def test_status_disabled_is_skipped_and_status_alone_never_fails() -> None:
    result = parsed("disabled-status.xml", details=True)
    assert result["summary"]["skipped"] == 2
    assert result["failed_cases_total"] == 1  # status="failed" without <failure> passes
    assert result["top_suites"][0]["declared"]["disabled"] == 2


def test_cases_outside_any_suite_are_counted() -> None:
    result = parsed("cases-outside-suite.xml")
    assert [s["name"] for s in result["suites"]] == ["loose", "inside"]
    assert result["failed_cases"][0]["suite"] == "loose"


def test_unnamed_cases_are_counted_and_reported() -> None:
    result = parsed("missing-counts.xml", details=True)
    assert result["unnamed"] == 4
    assert result["failed_cases"][0] == {"suite": None, "classname": None, "name": None,
                                         "kind": "failure", "message": None}


@pytest.mark.parametrize(("name", "suite", "case"), [
    ("bom-utf8.xml", "bom", "café"),
    ("iso-8859-1.xml", "CaféSuite", "naïve"),
    ("windows-1252.xml", "euro", "costs € 5"),
    ("utf-16.xml", "テスト", "ü"),
    ("shift-jis.xml", "テスト", "試験"),
])
def test_encodings_are_decoded(name: str, suite: str, case: str, tmp_path: Path) -> None:
    result = parsed(name)
    assert result["suites"][0]["name"] == suite
    if result["failed_cases"]:
        assert result["failed_cases"][0]["name"] == case
    # the same text written as UTF-8 gives the same counts
    again = tmp_path / "utf8.xml"
    data = (FIXTURES / name).read_bytes()
    again.write_text(_decode(data), encoding="utf-8")
    assert parse_file(again)["summary"] == result["summary"]


def _decode(data: bytes) -> str:
    import re

    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        m = re.match(rb'<\?xml[^>]*encoding="([^"]+)"', data.removeprefix(b"\xef\xbb\xbf"))
        text = data.decode(m.group(1).decode() if m else "utf-8-sig")
    return re.sub(r'encoding="[^"]+"', 'encoding="UTF-8"', text).removeprefix("\ufeff")


def test_iso_8859_1_message_is_decoded() -> None:
    case = parsed("iso-8859-1.xml")["failed_cases"][0]
    assert (case["classname"], case["message"]) == ("Zürich", "échec: ± 1")


def test_messages_from_text_and_cdata() -> None:
    cases = parsed("cdata.xml")["failed_cases"]
    assert [c["message"] for c in cases] == ["expected <a> & <b>\nsecond line", "x < y && z"]


def test_message_is_cut_at_1000_characters() -> None:
    long = "x" * 5000
    data = (f'<testsuite><testcase name="a"><failure message="{long}"/></testcase>'
            f'<testcase name="b"><error>{long}</error></testcase></testsuite>').encode()
    cases = parse_stream(io.BytesIO(data), "long.xml")["failed_cases"]
    assert [len(c["message"]) for c in cases] == [1000, 1000]


def test_lenient_repair_keeps_structure() -> None:
    result = parsed("almost-xml.xml")
    assert result["suites"][0]["name"] == "R&D"
    case = result["failed_cases"][0]
    assert (case["name"], case["message"]) == ("a & b &nbsp; c", "1 < 2 & 3")
    assert parsed("computed-time.xml")["summary"]["duration_s"] == 0.5  # bad times count 0


def test_sha256_is_of_the_file_bytes() -> None:
    for name in ("testsuites-root.xml", "almost-xml.xml", "iso-8859-1.xml", "utf-16.xml"):
        expected = hashlib.sha256((FIXTURES / name).read_bytes()).hexdigest()
        assert parsed(name)["sha256"] == expected


# ------------------------------------------------------------------------------------------
# refused input


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_files_are_one_line_errors_naming_the_file(name: str) -> None:
    path = FIXTURES / name
    with pytest.raises(InputError) as info:
        parse_file(path)
    message = info.value.message
    assert message.startswith(f"{path}: {BAD[name]}")
    assert "\n" not in message


def test_missing_file_and_directory() -> None:
    with pytest.raises(InputError, match=r"nope\.xml: no such file$"):
        parse_file(FIXTURES / "nope.xml")
    with pytest.raises(InputError, match="is a directory"):
        parse_file(FIXTURES)


def test_unknown_encoding() -> None:
    data = b'<?xml version="1.0" encoding="x-klingon"?><testsuite/>'
    with pytest.raises(InputError, match="k.xml: declares an unknown encoding 'x-klingon'"):
        parse_stream(io.BytesIO(data), "k.xml")


class _Pipe(io.RawIOBase):
    """A stream that cannot seek, like a pipe."""

    def __init__(self, data: bytes) -> None:
        self.inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self.inner.readinto(buffer)


def test_non_seekable_stream_gets_no_lenient_second_reading() -> None:
    good = (FIXTURES / "testsuite-root.xml").read_bytes()
    assert parse_stream(_Pipe(good), "-")["summary"]["tests"] == 3  # type: ignore[arg-type]
    almost = (FIXTURES / "almost-xml.xml").read_bytes()
    with pytest.raises(InputError, match="^-: is not well-formed XML"):
        parse_stream(_Pipe(almost), "-")  # type: ignore[arg-type]


HOSTILE = {
    "billion-laughs": b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
               for i in range(1, 10))
    + b']>\n<testsuite name="&lol9;"><testcase name="&lol9;"/></testsuite>\n',
    "external-entity": b'<?xml version="1.0"?>\n<!DOCTYPE t [<!ENTITY xxe SYSTEM '
    b'"file:///etc/passwd">]>\n<testsuite name="&xxe;"/>\n',
    "external-dtd": b'<?xml version="1.0"?>\n<!DOCTYPE testsuite SYSTEM '
    b'"http://example.invalid/junit.dtd">\n<testsuite/>\n',
    "parameter-entity": b'<?xml version="1.0"?>\n<!DOCTYPE t [<!ENTITY % p SYSTEM '
    b'"http://example.invalid/p.dtd"> %p;]>\n<testsuite/>\n',
    # a DTD that defines no entity at all still changes what is counted: a default attribute
    "attribute-defaults": b'<?xml version="1.0"?>\n<!DOCTYPE testsuite [<!ATTLIST testcase '
    b'status CDATA "disabled">]>\n<testsuite><testcase name="t"/></testsuite>\n',
    "unparsed-entity": b'<?xml version="1.0"?>\n<!DOCTYPE t [<!NOTATION gif SYSTEM "gif">'
    b'<!ENTITY img SYSTEM "file:///etc/passwd" NDATA gif>]>\n<testsuite/>\n',
    "public-dtd": b'<?xml version="1.0"?>\n<!DOCTYPE testsuite PUBLIC "-//x//DTD y//EN" '
    b'"http://example.invalid/y.dtd">\n<testsuite/>\n',
    "empty-internal-subset": b'<!DOCTYPE testsuite []><testsuite/>',
    "deep-nesting": b"<testsuites>" + b"<testsuite>" * 10_000 + b"</testsuite>" * 10_000
    + b"</testsuites>",
    "huge-token": b'<testsuite name="' + b"a" * (24 << 20) + b'"/>',
}
REFUSAL = {
    "billion-laughs": "has a DTD", "external-entity": "has a DTD", "external-dtd": "has a DTD",
    "parameter-entity": "has a DTD", "attribute-defaults": "has a DTD",
    "unparsed-entity": "has a DTD", "public-dtd": "has a DTD", "empty-internal-subset": "has a DTD",
    "deep-nesting": "nested deeper than 256 levels",
    "huge-token": "a single XML token is larger than 8 MiB",
}

# Peak RSS from /proc (VmHWM): ru_maxrss of an exec'd child starts at its parent's size.
CHILD = r"""
import json, resource, sys, time
from affidavit.collect.junit import parse_file
from affidavit.errors import InputError

def peak_kb():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

before = peak_kb()
start = time.perf_counter()
try:
    result = parse_file(sys.argv[1])
    error = None
except InputError as exc:
    result, error = None, exc.message
seconds = time.perf_counter() - start
grown = peak_kb() - before
print(json.dumps({"error": error, "seconds": seconds, "grown_kb": grown,
                  "summary": result and result["summary"]}))
"""


def _in_child(path: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True,
                         text=True, check=True, timeout=120)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_xml_is_refused_fast_with_bounded_memory(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.xml"
    path.write_bytes(HOSTILE[name])
    report = _in_child(path)
    assert report["error"] is not None and report["error"].startswith(f"{path}: ")
    assert REFUSAL[name] in report["error"]
    assert report["seconds"] < 1.0
    assert report["grown_kb"] < 32 * 1024, "peak RSS grew more than 32 MB"


DTD_CASES = sorted(name for name, refusal in REFUSAL.items() if refusal == "has a DTD")


@pytest.mark.parametrize("name", DTD_CASES)
def test_what_is_refused_as_a_dtd_defusedxml_refuses_too(name: str) -> None:
    """The reader applies defusedxml's rules without its parser: every file refused here for its
    DTD, defusedxml's own SAX reader refuses with forbid_dtd=True, and its entity and external
    reference rules (on by default) refuse the entity attacks even with DTDs allowed."""
    from xml.sax.handler import ContentHandler

    from defusedxml import DefusedXmlException, DTDForbidden
    from defusedxml.expatreader import create_parser

    def read(**forbid: bool) -> None:
        reader = create_parser(**forbid)
        reader.setContentHandler(ContentHandler())
        reader.feed(HOSTILE[name])
        reader.close()

    with pytest.raises(DTDForbidden):
        read(forbid_dtd=True)
    if name in ("billion-laughs", "external-entity", "parameter-entity", "unparsed-entity"):
        with pytest.raises(DefusedXmlException):
            read(forbid_dtd=False)


def test_big_valid_file_is_streamed_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    noise = "<system-out><![CDATA[" + "log line\n" * 20_000 + "]]></system-out>"
    with open(path, "w", encoding="utf-8") as f:
        f.write("<testsuites>")
        for s in range(200):
            f.write(f'<testsuite name="S{s}">')
            for c in range(100):
                fail = '<failure message="m">trace</failure>' if c == 0 else ""
                f.write(f'<testcase classname="S{s}" name="t{c}" time="0.001">{fail}</testcase>')
            f.write(noise + "</testsuite>")
        f.write("</testsuites>")
    assert path.stat().st_size > 30_000_000
    report = _in_child(path)
    assert report["error"] is None
    assert report["summary"]["tests"] == 20_000 and report["summary"]["failures"] == 200
    assert report["grown_kb"] < 24 * 1024, "peak RSS grew with the file size"


def test_import_is_cheap() -> None:
    code = ("import sys, affidavit.collect.junit; "
            "print(sorted(m for m in ('pydantic', 'typing', 'defusedxml', 'glob', "
            "'affidavit.collect.junit.repair') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------------------------------
# finding files


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for rel in ("results/TEST-b.xml", "results/TEST-a.xml", "results/sub/deep/TEST-c.xml",
                "results/notes.txt", "results/sub/report.XML", "other/x.xml", "empty/.keep"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("<testsuite/>")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_results_dir_means_every_xml_below_it_sorted(tree: Path) -> None:
    assert [str(p) for p in find_results("results", [])] == [
        os.path.join("results", "TEST-a.xml"), os.path.join("results", "TEST-b.xml"),
        os.path.join("results", "sub", "deep", "TEST-c.xml")]


def test_results_files_globs_and_dirs(tree: Path) -> None:
    found = find_results(None, ["other/x.xml", "results/**/TEST-*.xml", "results/sub"])
    assert [p.as_posix() for p in found] == [
        "other/x.xml", "results/TEST-a.xml", "results/TEST-b.xml",
        "results/sub/deep/TEST-c.xml"]


def test_duplicates_are_removed(tree: Path) -> None:
    found = find_results("results", ["results/TEST-a.xml", "./results/TEST-a.xml",
                                     str(tree / "results" / "TEST-b.xml")])
    assert len(found) == 3


@pytest.mark.parametrize(("results_dir", "results", "message"), [
    ("missing", [], "--results-dir missing: no such directory"),
    ("other/x.xml", [], "--results-dir other/x.xml: not a directory"),
    ("empty", [], "--results-dir empty: no *.xml file below it"),
    (None, ["results/nope.xml"], "--results results/nope.xml: no such file"),
    (None, ["results/**/*.json"], "--results results/**/*.json: matches no file"),
])
def test_missing_locations_are_input_errors(tree: Path, results_dir: str | None,
                                            results: list[str], message: str) -> None:
    with pytest.raises(InputError) as info:
        find_results(results_dir, results)
    assert info.value.message == message


def test_a_location_is_required(tree: Path) -> None:
    with pytest.raises(UsageError, match="no test results given"):
        find_results(None, [])
    with pytest.raises(UsageError, match="empty value"):
        find_results(None, [""])


# ------------------------------------------------------------------------------------------
# the predicate and the verdict


def test_summarize_adds_files_up() -> None:
    predicate = predicate_of("testsuites-root.xml", "missing-counts.xml", "surefire-flaky.xml")
    # Surefire's two flaky cases are flaky, not passed; its 7 rerun children are runs
    assert predicate["summary"] == {"tests": 16, "passed": 5, "flaky": 2, "failed": 4,
                                    "errors": 3, "skipped": 2, "runs": 23, "duration_s": 10.5}
    # missing-counts.xml declares nothing: the others' declarations are summed
    assert predicate["declared"] == {"tests": 12, "failures": 3, "errors": 2, "skipped": 1}
    assert [f["path"] for f in predicate["files"]] == [
        str(FIXTURES / n) for n in ("testsuites-root.xml", "missing-counts.xml",
                                    "surefire-flaky.xml")]
    assert predicate["failed_cases_total"] == 7 and len(predicate["failed_cases"]) == 7
    assert len(predicate["suites"]) == 4
    JUnitPredicate.model_validate(predicate)


FOLDED_KEYS = ("tests", "passed", "flaky", "failed", "errors", "skipped", "runs")


@pytest.mark.parametrize(("names", "retries", "expected"), [
    # R.flaky failed then passed: flaky; R.broken failed then errored: errors; Other.flaky
    # has another classname and file: a test of its own
    (("repeated-cases.xml",), "fold", (3, 1, 1, 0, 1, 0, 5)),
    (("repeated-cases.xml",), "count", (5, 2, 0, 2, 1, 0, 5)),
    # flakyFailure/flakyError alone: flaky; failure + rerunFailures and rerun*-only: failed
    # every run; 6 elements and 7 rerun children
    (("surefire-flaky.xml",), "fold", (6, 1, 2, 2, 1, 0, 13)),
    (("surefire-flaky.xml",), "count", (6, 1, 2, 2, 1, 0, 13)),
    # unnamed cases are never folded, even with each other
    (("missing-counts.xml", "missing-counts.xml"), "fold", (8, 2, 0, 2, 2, 2, 8)),
    # the same tests in two files (a second attempt): one test each, every run kept
    (("testsuites-root.xml", "testsuites-root.xml"), "fold", (6, 3, 0, 1, 1, 1, 12)),
    (("testsuites-root.xml", "testsuites-root.xml"), "count", (12, 6, 0, 2, 2, 2, 12)),
])
def test_retried_tests_fold(names: tuple[str, ...], retries: str,
                            expected: tuple[int, ...]) -> None:
    predicate = predicate_of(*names, retries=retries)
    assert tuple(predicate["summary"][k] for k in FOLDED_KEYS) == expected
    JUnitPredicate.model_validate(predicate)


def test_folded_failed_cases_are_the_tests_that_never_passed() -> None:
    predicate = predicate_of("repeated-cases.xml")
    # R.flaky passed on its second run; R.broken's error outranks its failure
    assert predicate["failed_cases"] == [{"suite": "Retries", "classname": "R",
                                          "name": "broken", "kind": "error",
                                          "message": "attempt 2"}]
    assert predicate["failed_cases_total"] == 1


def test_a_failure_and_its_passing_retry_in_another_file_are_one_flaky_test(
        tmp_path: Path) -> None:
    """Bazel writes every attempt to its own file; whichever order the files come in."""
    first = tmp_path / "attempt_1.xml"
    first.write_text('<testsuite name="//pkg:t"><testcase classname="T" name="a">'
                     '<failure message="boom"/></testcase><testcase classname="T" name="b"/>'
                     '</testsuite>')
    last = tmp_path / "test.xml"
    last.write_text('<testsuite name="//pkg:t"><testcase classname="T" name="a"/>'
                    '<testcase classname="T" name="b"/></testsuite>')
    for order in ((first, last), (last, first)):
        files = parse_files(order)
        predicate = summarize(files)
        assert tuple(predicate["summary"][k] for k in FOLDED_KEYS) == (2, 1, 1, 0, 0, 0, 4)
        assert predicate["failed_cases"] == [] and predicate["failed_cases_total"] == 0
        counted = summarize(parse_files(order, retries="count"), retries="count")
        assert counted["summary"]["failed"] == 1 and counted["failed_cases_total"] == 1


def test_a_disabled_test_is_skipped_even_with_a_failure_child() -> None:
    xml = (b'<testsuite name="s"><testcase name="off" status="disabled">'
           b'<failure message="would fail"/></testcase>'
           b'<testcase name="not run" status="NotRun"><error/></testcase>'
           b'<testcase name="ran" status="run"><failure message="did fail"/></testcase>'
           b'</testsuite>')
    folded = summarize([parse_stream(io.BytesIO(xml), "r.xml")])
    assert tuple(folded["summary"][k] for k in FOLDED_KEYS) == (3, 0, 0, 1, 0, 2, 3)
    assert [c["name"] for c in folded["failed_cases"]] == ["ran"]
    counted = summarize([parse_stream(io.BytesIO(xml), "r.xml", retries="count")],
                        retries="count")  # the element's result wins, as before folding
    assert tuple(counted["summary"][k] for k in FOLDED_KEYS) == (3, 0, 0, 2, 1, 0, 3)


def test_a_run_that_failed_and_a_rerun_that_errored_make_an_errored_test() -> None:
    """Folded, a Surefire case counts every run's kind (errors if any run errored); counted,
    the primary result decides, as before."""
    xml = (b'<testsuite name="s"><testcase classname="C" name="t">'
           b'<failure message="assert"/><rerunError message="setup broke"/></testcase>'
           b'</testsuite>')
    folded = summarize([parse_stream(io.BytesIO(xml), "r.xml")])
    assert (folded["summary"]["errors"], folded["summary"]["failed"]) == (1, 0)
    assert folded["failed_cases"][0]["kind"] == "error"
    assert folded["failed_cases"][0]["message"] == "setup broke"
    counted = summarize([parse_stream(io.BytesIO(xml), "r.xml", retries="count")],
                        retries="count")
    assert (counted["summary"]["errors"], counted["summary"]["failed"]) == (0, 1)


def test_fold_needs_files_parsed_for_it() -> None:
    with pytest.raises(ValueError, match="retries='fold'"):
        summarize([parsed("bom-utf8.xml", retries="count")])
    with pytest.raises(ValueError, match="'fold' or 'count'"):
        parsed("bom-utf8.xml", retries="sometimes")


def test_declared_is_null_when_nobody_declares() -> None:
    predicate = predicate_of("missing-counts.xml", "cdata.xml")
    assert predicate["declared"] == dict.fromkeys(("tests", "failures", "errors", "skipped"))


def test_failed_cases_are_capped_and_the_cap_stated() -> None:
    predicate = predicate_of("testsuites-root.xml", "multi-result.xml", "surefire-flaky.xml",
                             cap=4)
    assert predicate["failed_cases_total"] == 8
    assert predicate["failed_cases_cap"] == 4
    assert [c["name"] for c in predicate["failed_cases"]] == [
        "fails", "breaks", "all three", "skip and fail"]
    JUnitPredicate.model_validate(predicate)


def verdict(predicate: dict[str, Any], *, max_failures: int = 0, max_errors: int = 0,
            max_flaky: int | None = None) -> tuple[bool, list[str]]:
    """The judge's verdict of ``predicate`` recorded with these limits."""
    from affidavit.compliance.judge import junit_verdict

    policy = {**predicate["policy"], "max_failures": max_failures, "max_errors": max_errors,
              "max_flaky": max_flaky}
    return junit_verdict({**predicate, "policy": policy})


def test_verdict_thresholds() -> None:
    predicate = predicate_of("testsuites-root.xml")  # 1 failure, 1 error
    assert verdict(predicate) == (False, [
        "1 test failed, more than --max-failures 0",
        "1 test had an error, more than --max-errors 0"])
    assert verdict(predicate, max_failures=1) == (False, [
        "1 test had an error, more than --max-errors 0"])
    assert verdict(predicate, max_failures=1, max_errors=1) == (True, [])
    assert verdict(predicate_of("bom-utf8.xml")) == (True, [])
    flaky = predicate_of("surefire-flaky.xml")
    assert verdict(flaky, max_failures=1, max_errors=5)[1] == [
        "2 tests failed, more than --max-failures 1"]
    assert verdict(flaky, max_failures=2, max_errors=1, max_flaky=1)[1] == [
        "2 tests were flaky (failed on one run, passed on another), more than --max-flaky 1"]
    assert verdict(flaky, max_failures=2, max_errors=1, max_flaky=2) == (True, [])
    counted = predicate_of("repeated-cases.xml", retries="count")  # each element a test case
    assert verdict(counted, max_failures=1, max_errors=1) == (False, [
        "2 test cases failed, more than --max-failures 1"])
    with pytest.raises(InputError):
        verdict(predicate, max_failures=-1)


def test_v1_records_are_still_judged_as_they_were_written() -> None:
    """Records written before folding have no ``retries`` in their policy, ``failures`` in
    their summary, and possibly no policy at all: the judge reads them as v1."""
    from affidavit.compliance.judge import junit_verdict

    v1 = {"summary": {"tests": 3, "passed": 1, "failures": 1, "errors": 1, "skipped": 0,
                      "flaky": 0, "duration_s": 0.0},
          "declared": dict.fromkeys(("tests", "failures", "errors", "skipped")),
          "suites": [], "failed_cases": [], "failed_cases_total": 2, "failed_cases_cap": 50,
          "files": [{"path": "r.xml", "sha256": "0" * 64}]}
    JUnitPredicateV1.model_validate(v1)
    assert junit_verdict(v1) == (False, ["1 test case failed, more than --max-failures 0",
                                         "1 test case had an error, more than --max-errors 0"])
    limits = {"max_failures": 1, "max_errors": 1}
    assert junit_verdict({**v1, "policy": limits}) == (True, [])
    assert JUNIT_V1 == "https://affidavit.dev/predicate/junit/v1"
    # a v2 summary is never judged without its policy, nor a v2 policy without max_flaky
    folded = predicate_of("testsuites-root.xml")
    for broken in ({k: v for k, v in folded.items() if k != "policy"},
                   {**folded, "policy": {**limits, "retries": "fold"}},
                   {**folded, "policy": {**folded["policy"], "retries": "sometimes"}},
                   {**folded, "policy": {**folded["policy"], "max_flaky": "3"}},
                   {**folded, "summary": {**folded["summary"], "flaky": -1},
                    "policy": {**folded["policy"], "max_flaky": 0}},
                   {**folded, "policy": limits}):
        with pytest.raises(InputError):
            junit_verdict(broken)


def test_model_rejects_inconsistent_predicates() -> None:
    from pydantic import ValidationError

    good = predicate_of("testsuites-root.xml")
    JUnitPredicate.model_validate(good)
    for broken in (
        {**good, "summary": {**good["summary"], "passed": 4}},
        {**good, "summary": {**good["summary"], "flaky": 9}},
        {**good, "summary": {**good["summary"], "runs": 5}},
        {**good, "policy": {**good["policy"], "retries": "often"}},
        {k: v for k, v in good.items() if k != "policy"},
        {**good, "failed_cases_cap": 1},
        {**good, "failed_cases_total": 5},
        {**good, "files": []},
        {**good, "extra": 1},
        {**good, "summary": {**good["summary"], "tests": "6"}},
    ):
        with pytest.raises(ValidationError):
            JUnitPredicate.model_validate(broken)


def test_schema_is_published() -> None:
    schema = JUnitPredicate.model_json_schema()
    assert set(schema["required"]) == {"summary", "declared", "suites", "failed_cases",
                                        "failed_cases_total", "failed_cases_cap", "files",
                                        "policy"}
    assert JUNIT == "https://affidavit.dev/predicate/junit/v2"


def test_details_are_only_computed_when_asked() -> None:
    plain = parsed("repeated-cases.xml", retries="count")
    assert not {"unnamed", "top_suites", "_passed", "_runs", "_failing"} & set(plain)
    detailed = parsed("repeated-cases.xml", details=True)
    assert {k: v for k, v in detailed.items() if k in plain} == plain


# ------------------------------------------------------------------------------------------
# several files: in order, the first bad one reported


def test_files_are_parsed_in_order_and_the_first_bad_one_is_reported(tmp_path: Path) -> None:
    good = (FIXTURES / "testsuite-root.xml").read_bytes()
    paths = []
    for i in range(6):
        path = tmp_path / f"TEST-{i}.xml"
        path.write_bytes(good if i not in (3, 4) else b"not xml")
        paths.append(path)
    with pytest.raises(InputError) as info:
        parse_files(paths)
    assert info.value.message.startswith(f"{paths[3]}: is not XML")
    parsed_files = parse_files(paths[:3] + [FIXTURES / "iso-8859-1.xml"])
    assert [f["path"] for f in parsed_files] == [str(p) for p in paths[:3]] + [
        str(FIXTURES / "iso-8859-1.xml")]
    assert [f["summary"]["tests"] for f in parsed_files] == [3, 3, 3, 1]
