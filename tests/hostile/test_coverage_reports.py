"""Hostile and broken coverage reports: each refused with exit 2, one line naming the file and
(where there is one) the line, quickly and in bounded memory; nothing recorded.

The XML rules are defusedxml's with doctypes allowed (``forbid_entities``, ``forbid_external``):
each entity attack refused here, defusedxml refuses too, and the doctypes JaCoCo and Cobertura
write, which defusedxml accepts, are accepted here -- without ever reading the DTD they name.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from affidavit.collect.coverage import parse_file
from affidavit.errors import InputError
from tests.conftest import FLOW, TRAIL
from tests.helpers import Cli, Home, assert_error, state

FIXTURES = Path(__file__).resolve().parents[1] / "collect" / "coverage" / "fixtures"

_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE coverage [\n <!ENTITY lol "lol">\n'
           + b"".join(b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1
                                                        else b"&lol;") * 10)
                      for i in range(1, 10))
           + b']>\n<coverage><packages><package name="&lol9;"/></packages></coverage>\n')

HOSTILE = {
    "billion-laughs": (_LAUGHS, "line 2: has an internal DTD subset"),
    "external-entity": (b'<?xml version="1.0"?>\n<!DOCTYPE report [<!ENTITY xxe SYSTEM '
                        b'"file:///etc/passwd">]>\n<report name="&xxe;"/>\n',
                        "has an internal DTD subset"),
    "parameter-entity": (b'<?xml version="1.0"?>\n<!DOCTYPE report [<!ENTITY % p SYSTEM '
                         b'"http://example.invalid/p.dtd"> %p;]>\n<report/>\n',
                         "has an internal DTD subset"),
    # a DTD without entities still changes what is counted: every line would be covered
    "attribute-defaults": (b'<?xml version="1.0"?>\n<!DOCTYPE coverage [<!ATTLIST line hits '
                           b'CDATA "1">]>\n<coverage><packages><package name="p"><classes>'
                           b'<class name="c"><lines><line number="1"/></lines></class>'
                           b'</classes></package></packages></coverage>\n',
                           "has an internal DTD subset"),
    "unparsed-entity": (b'<?xml version="1.0"?>\n<!DOCTYPE report [<!NOTATION gif SYSTEM "gif">'
                        b'<!ENTITY img SYSTEM "file:///etc/passwd" NDATA gif>]>\n<report/>\n',
                        "has an internal DTD subset"),
    "empty-internal-subset": (b"<!DOCTYPE report []><report/>", "has an internal DTD subset"),
    "undefined-entity": (b'<?xml version="1.0"?>\n<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report '
                         b'1.1//EN" "report.dtd">\n<report name="r">\n&xxe;</report>\n',
                         "line 4: references the entity &xxe; that no DTD here defines"),
    "deep-nesting": (b"<report>" + b"<group>" * 10_000 + b"</group>" * 10_000 + b"</report>",
                     "line 1: elements nest deeper than 256 levels"),
    "huge-token": (b'<report name="' + b"a" * (24 << 20) + b'"/>',
                   "a single XML token is larger than 8 MiB"),
    "not-a-report": (b"<testsuite><testcase/></testsuite>",
                     "is XML but not a coverage report: its root is <testsuite>"),
    "clover": (b'<coverage generated="1" clover="4.4.1"><project/></coverage>',
               "is a Clover XML report"),
    "truncated-xml": ((FIXTURES / "jacoco.xml").read_bytes()[:900],
                      "ends before the XML document is complete (line 1"),
    "not-xml-nor-lcov": (b"hello, world\n", "is neither a coverage XML report"),
    "binary": (bytes(range(256)) * 4, "is neither a coverage XML report"),
    "empty": (b"", "file is empty"),
    "cobertura-negative-hits": (b'<coverage>\n<packages><package name="p"><classes><class>'
                                b'<lines>\n<line number="1" hits="-1"/></lines></class>'
                                b'</classes></package></packages></coverage>',
                                "line 3: <line> hits -1 is negative"),
    "cobertura-word-hits": (b'<coverage><packages><package name="p"><classes><class><lines>'
                            b'<line number="1" hits="many"/></lines></class></classes>'
                            b'</package></packages></coverage>',
                            "line 1: <line> hits 'many' is not a whole number"),
    "cobertura-overflow-hits": (b'<coverage><packages><package name="p"><classes><class><lines>'
                                b'<line number="1" hits="18446744073709551616"/></lines>'
                                b'</class></classes></package></packages></coverage>',
                                "hits 18446744073709551616 overflows a 64-bit count"),
    "cobertura-missing-hits": (b'<coverage><packages><package name="p"><classes><class>'
                               b'<lines><line number="1"/></lines></class></classes></package>'
                               b'</packages></coverage>', "line 1: <line> hits is missing"),
    "cobertura-more-covered-than-total": (
        b'<coverage><packages><package name="p"><classes><class><lines><line number="1" '
        b'hits="1" branch="true" condition-coverage="150% (3/2)"/></lines></class></classes>'
        b'</package></packages></coverage>', "says 3 of 2 branches were covered"),
    "jacoco-negative-counter": (b'<report name="r">\n<package name="p">\n<counter type="LINE" '
                                b'missed="1" covered="-3"/></package></report>',
                                'line 3: <counter type="LINE"> covered -3 is negative'),
    "lcov-da-garbage": (b"TN:\nSF:a.c\nDA:x\nend_of_record\n",
                        "line 3: DA needs <line>,<count>, not 'x'"),
    "lcov-da-word": (b"SF:a.c\nDA:1,2\nDA:x,1\nend_of_record\n",
                     "line 3: the DA line number 'x' is not a whole number"),
    "lcov-da-negative": (b"SF:a.c\nDA:1,-5\nend_of_record\n",
                         "line 2: the DA execution count -5 is negative"),
    "lcov-da-overflow": (b"SF:a.c\nDA:1,99999999999999999999999\nend_of_record\n",
                         "line 2: the DA execution count 99999999999999999999999 overflows"),
    "lcov-brda-short": (b"SF:a.c\nBRDA:1,0,0\nend_of_record\n",
                        "line 2: BRDA needs <line>,<block>,<branch>,<taken>"),
    "lcov-brda-negative": (b"SF:a.c\nBRDA:1,0,0,-3\nend_of_record\n",
                           "line 2: the BRDA taken count -3 is negative"),
    "lcov-lf-word": (b"SF:a.c\nDA:1,1\nLF:one\nend_of_record\n",
                     "line 3: LF 'one' is not a whole number"),
    "lcov-data-before-sf": (b"TN:\nDA:1,1\nSF:a.c\nend_of_record\n",
                            "line 2: DA: outside a record (no SF: line before it)"),
    "lcov-sf-inside-record": (b"SF:a.c\nDA:1,1\nSF:b.c\nDA:1,1\nend_of_record\n",
                              "line 3: SF: inside the record of the SF: on line 1"),
    "lcov-truncated": (b"SF:a.c\nDA:1,1\nend_of_record\nSF:b.c\nDA:1,1\nDA:2,",
                       "ends inside the record of SF: b.c (line 4) without its end_of_record"),
    "lcov-end-without-sf": (b"TN:\nend_of_record\n",
                            "line 2: end_of_record without an SF: line before it"),
    "lcov-not-a-record": (b"SF:a.c\nDA:1,1\nthis is not lcov\nend_of_record\n",
                          "line 3: 'this is not lcov' is not an lcov record"),
    "lcov-end-of-record-suffix": (b"SF:a.c\nDA:1,1\nend_of_recordz\n",
                                  "line 3: end_of_record followed by 'z'"),
}

# Peak RSS from /proc (VmHWM): ru_maxrss of an exec'd child starts at its parent's size.
CHILD = r"""
import json, sys, time
from affidavit.collect.coverage import parse_file
from affidavit.errors import InputError

def peak_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

before = peak_kb()
start = time.perf_counter()
try:
    result = parse_file(sys.argv[1])
    error = None
except InputError as exc:
    result, error = None, exc.message
print(json.dumps({"error": error, "seconds": time.perf_counter() - start,
                  "grown_kb": peak_kb() - before,
                  "lines": result and result["lines"]}))
"""


def _in_child(path: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True,
                         text=True, check=True, timeout=300)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_report_is_refused_naming_file_and_line(name: str, tmp_path: Path) -> None:
    data, refusal = HOSTILE[name]
    path = tmp_path / f"{name}.report"
    path.write_bytes(data)
    with pytest.raises(InputError) as caught:
        parse_file(path)
    message = caught.value.message
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert refusal in message, message


@pytest.mark.parametrize("name", ["billion-laughs", "huge-token", "deep-nesting"])
def test_attacks_fail_fast_in_bounded_memory(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.xml"
    path.write_bytes(HOSTILE[name][0])
    report = _in_child(path)
    assert report["error"] is not None
    assert report["seconds"] < 1.0
    assert report["grown_kb"] < 32 * 1024, "peak RSS grew more than 32 MB"


@pytest.mark.parametrize("name", ["billion-laughs", "external-entity", "parameter-entity",
                                  "unparsed-entity", "undefined-entity"])
def test_what_is_refused_defusedxml_refuses_too(name: str) -> None:
    """defusedxml's defaults (DTDs allowed, entities and external references forbidden)."""
    import defusedxml.ElementTree as DefusedET
    from defusedxml import DefusedXmlException

    with pytest.raises((DefusedXmlException, DefusedET.ParseError)):
        DefusedET.fromstring(HOSTILE[name][0])


@pytest.mark.parametrize("fixture", ["jacoco.xml", "jacoco-groups.xml", "cobertura-java.xml"])
def test_the_doctypes_tools_write_are_accepted_as_defusedxml_accepts_them(fixture: str) -> None:
    import defusedxml.ElementTree as DefusedET

    data = (FIXTURES / fixture).read_bytes()
    assert b"<!DOCTYPE" in data
    DefusedET.fromstring(data)
    assert parse_file(FIXTURES / fixture)["lines"]["total"] > 0


def test_a_named_dtd_is_never_read(tmp_path: Path) -> None:
    """A DTD that would default every line's hits to 1 sits where the doctype points: it is not
    read, so the line without hits is an error, not a covered line."""
    dtd = tmp_path / "coverage-04.dtd"
    dtd.write_text('<!ATTLIST line hits CDATA "1">\n<!ENTITY secret "leaked">\n')
    report = tmp_path / "coverage.xml"
    report.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE coverage SYSTEM "{dtd.as_uri()}">\n'
                      '<coverage><packages><package name="p"><classes><class><lines>\n'
                      '<line number="1"/></lines></class></classes></package></packages>'
                      '</coverage>\n')
    with pytest.raises(InputError, match="line 4: <line> hits is missing"):
        parse_file(report)


def test_lcov_record_without_end_runs_out_at_the_limit(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from affidavit.collect.coverage import lcov

    monkeypatch.setattr(lcov, "MAX_RECORD", 1 << 20)
    monkeypatch.setattr(lcov, "_CHUNK", 64 << 10)
    path = tmp_path / "endless.info"
    path.write_bytes(b"SF:a.c\n" + b"DA:1,1\n" * 400_000)
    with pytest.raises(InputError, match="record starting at line 1 runs past 1 MiB"):
        parse_file(path)


def test_big_tracefile_is_read_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.info"
    record = "".join(f"DA:{n},{n % 3}\n" for n in range(1, 401))
    with open(path, "w", encoding="utf-8") as f:
        for i in range(6000):
            f.write(f"SF:src/m{i % 50}/f{i}.c\n{record}LF:400\nLH:267\nend_of_record\n")
    assert path.stat().st_size > 20_000_000
    report = _in_child(path)
    assert report["error"] is None
    assert report["lines"] == {"covered": 6000 * 267, "total": 6000 * 400}
    assert report["grown_kb"] < 48 * 1024, "peak RSS grew more than 48 MB"


@pytest.mark.parametrize("name", ["billion-laughs", "lcov-da-garbage", "lcov-truncated",
                                  "not-xml-nor-lcov"])
def test_cli_exits_2_naming_the_file_and_records_nothing(name: str, cli: Cli, home: Home,
                                                         trail: Any, tmp_path: Path) -> None:
    data, refusal = HOSTILE[name]
    path = tmp_path / "coverage.report"
    path.write_bytes(data)
    before = state(home)
    result = cli("attest", "coverage", "--flow", FLOW, "--trail", TRAIL, "--name", "cov",
                 "--report", path, "--min-lines", "80")
    assert_error(result, 2, str(path), refusal)
    assert state(home) == before
