"""The coverage collector's counting rules, on fixtures written after each tool's documented
format (``fixtures/SOURCES.md`` names them) and small files for every quirk."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from affidavit.collect.coverage import lcov, parse_file, parse_files, parse_stream, summarize
from affidavit.models.coverage import CoveragePredicate

FIXTURES = Path(__file__).parent / "fixtures"


def _counts(result: dict[str, Any]) -> tuple[int, int, int, int]:
    return (result["lines"]["covered"], result["lines"]["total"],
            result["branches"]["covered"], result["branches"]["total"])


def _packages(result: dict[str, Any]) -> dict[str, list[int]]:
    return {name: list(counts) for name, counts in result["_packages"].items()}


def _valid(files: list[dict[str, Any]], **policy: Any) -> dict[str, Any]:
    predicate = summarize(files)
    predicate["policy"] = {"min_lines": None, "min_branches": None, **policy}
    CoveragePredicate.model_validate(predicate)
    return predicate


def test_cobertura_java_counts_class_lines_not_method_lines() -> None:
    """Cobertura repeats each line under its method; an inner class shares the file."""
    result = parse_file(FIXTURES / "cobertura-java.xml")
    assert result["format"] == "cobertura" and result["packages_from"] == "package"
    assert _counts(result) == (6, 10, 1, 4)
    assert _packages(result) == {"com.example.calc": [6, 8, 1, 4],
                                 "com.example.util": [0, 2, 0, 0]}
    assert result["declared"] == {"lines_covered": 6, "lines_total": 10, "branches_covered": 1,
                                  "branches_total": 4, "line_rate": 0.6, "branch_rate": 0.25}
    assert result["mismatches"] == [] and result["notes"] == []
    _valid([result])


def test_coveragepy_xml_rounded_rates_are_not_mismatches() -> None:
    result = parse_file(FIXTURES / "coveragepy.xml")
    assert _counts(result) == (7, 9, 3, 4)
    assert _packages(result) == {".": [2, 2, 0, 0], "shop": [5, 7, 3, 4]}
    assert result["declared"]["line_rate"] == 0.7778  # %.4g of 7/9
    assert result["mismatches_total"] == 0


def test_coveragepy_without_branch_measurement_has_no_branch_data() -> None:
    result = parse_file(FIXTURES / "coveragepy-no-branch.xml")
    assert _counts(result) == (2, 3, 0, 0)
    assert result["declared"]["branch_rate"] == 0.0
    predicate = _valid([result])
    assert predicate["summary"]["branches"] == {"covered": 0, "total": 0, "percent": None}
    assert predicate["summary"]["lines"] == {"covered": 2, "total": 3, "percent": 66.67}


def test_jacoco_package_counters_and_a_package_without_branches() -> None:
    result = parse_file(FIXTURES / "jacoco.xml")
    assert result["format"] == "jacoco"
    assert _counts(result) == (10, 17, 3, 4)
    assert _packages(result) == {"org/example/calc": [10, 12, 3, 4],
                                 "org/example/util": [0, 5, 0, 0]}
    assert result["declared"] == {"lines_covered": 10, "lines_total": 17, "branches_covered": 3,
                                  "branches_total": 4, "line_rate": None, "branch_rate": None}
    assert result["mismatches"] == []


def test_jacoco_groups_one_package_in_two_modules_is_summed() -> None:
    result = parse_file(FIXTURES / "jacoco-groups.xml")
    assert _packages(result) == {"org/example/shop": [3, 6, 0, 2],
                                 "org/example/lib": [0, 3, 0, 0]}
    assert _counts(result) == (3, 9, 0, 2)
    assert result["mismatches"] == []


def test_geninfo_tracefile_packages_are_directories() -> None:
    result = parse_file(FIXTURES / "geninfo.info")
    assert result["format"] == "lcov" and result["packages_from"] == "directory"
    assert _counts(result) == (6, 10, 1, 4)
    assert _packages(result) == {"/home/dev/calc/src": [5, 9, 1, 4],
                                 "/home/dev/calc/include": [1, 1, 0, 0]}
    assert result["declared"] == {"lines_covered": 6, "lines_total": 10,
                                  "branches_covered": None, "branches_total": None,
                                  "line_rate": None, "branch_rate": None}  # util.h: no BRF
    assert result["mismatches"] == [] and result["notes"] == []


def test_lcov2_flags_expressions_with_commas_and_new_records() -> None:
    """``e`` branches count, ``U`` (unreachable) ones do not, as lcov leaves them out of BRF."""
    result = parse_file(FIXTURES / "lcov2.info")
    assert _counts(result) == (4, 6, 2, 5)
    assert _packages(result) == {"src": [4, 6, 2, 5]}
    assert result["mismatches"] == [] and result["notes"] == []


def test_several_reports_merge_by_package(tmp_path: Path) -> None:
    again = tmp_path / "again.xml"
    again.write_bytes((FIXTURES / "coveragepy.xml").read_bytes())
    files = parse_files([FIXTURES / "coveragepy.xml", again, FIXTURES / "jacoco.xml"])
    predicate = _valid(files)
    assert [p["name"] for p in predicate["packages"]] == [".", "org/example/calc",
                                                          "org/example/util", "shop"]
    shop = next(p for p in predicate["packages"] if p["name"] == "shop")
    assert shop["lines"] == {"covered": 10, "total": 14, "percent": 71.43}
    assert predicate["summary"]["lines"] == {"covered": 24, "total": 35, "percent": 68.57}
    assert [r["format"] for r in predicate["reports"]] == ["cobertura", "cobertura", "jacoco"]
    assert all("_packages" not in r for r in predicate["reports"])


def test_packages_over_the_cap_keep_the_least_covered() -> None:
    files = [{"path": "a", "sha256": "0" * 64, "format": "lcov", "packages_from": "directory",
              "lines": {"covered": 0, "total": 0}, "branches": {"covered": 0, "total": 0},
              "declared": {}, "mismatches": [], "mismatches_total": 0, "notes": [],
              "_packages": {f"p{i}": [i, 10, 0, 0] for i in range(10)}}]
    predicate = summarize(files, packages_cap=3)
    assert [p["name"] for p in predicate["packages"]] == ["p0", "p1", "p2"]
    assert predicate["packages_total"] == 10
    assert predicate["summary"]["lines"]["covered"] == 45


def _lcov(text: str) -> dict[str, Any]:
    return parse_stream(io.BytesIO(text.encode()), "t.info")


def test_lcov_records_of_one_file_are_merged_as_lcov_merges_them() -> None:
    """Tracefiles of two tests concatenated (geninfo: "simply concatenating"): a line covered
    by either test is covered, once."""
    result = _lcov("TN:a\nSF:s/x.c\nDA:1,1\nDA:2,0\nDA:3,0\nBRDA:2,0,0,-\nBRDA:2,0,1,-\n"
                   "LF:3\nLH:1\nend_of_record\n"
                   "TN:b\nSF:s/x.c\nDA:1,0\nDA:2,7\nDA:4,0\nBRDA:2,0,0,1\nBRDA:2,0,1,0\n"
                   "LF:3\nLH:1\nend_of_record\n")
    assert _counts(result) == (2, 4, 1, 2)
    assert result["notes"] == ["1 source file has several records (tests concatenated): merged "
                               "into one each, as lcov merges them"]
    # each record's own LF/LH agree with it; the report's sum (6 lines) is not the merged 4
    assert result["mismatches"] == [
        {"scope": None, "field": "lines_total", "declared": 6, "counted": 4}]


def test_lcov_repeated_file_in_an_unseekable_stream_is_summed_and_said() -> None:
    class Pipe(io.BytesIO):
        def seekable(self) -> bool:
            return False

    text = b"SF:x.c\nDA:1,1\nend_of_record\nSF:x.c\nDA:1,1\nend_of_record\n"
    result = parse_stream(Pipe(text), "t.info")
    assert _counts(result) == (2, 2, 0, 0)
    assert "summed, not merged" in result["notes"][0]


def test_lcov_duplicate_line_in_one_record_is_one_line() -> None:
    result = _lcov("SF:x.c\nDA:1,0\nDA:1,3\nDA:2,0\nend_of_record\n")
    assert _counts(result) == (1, 2, 0, 0)


def test_lcov_quirks_crlf_bom_comments_blank_lines_no_final_newline() -> None:
    text = ("\ufeff# made by hand\r\n\r\nTN:\r\nSF:a/b.c\r\nDA:1,1\r\nDA:2,0,abcdef\r\n"
            "BRDA:1,0,0,-\r\nBRDA:1,0,1,4\r\n\r\nLF:2\r\nLH:1\r\nend_of_record")
    result = parse_stream(io.BytesIO(text.encode()), "t.info")
    assert _counts(result) == (1, 2, 1, 2)
    assert _packages(result) == {"a": [1, 2, 1, 2]}
    assert result["mismatches"] == []


def test_lcov_without_records_measures_nothing_and_says_so() -> None:
    result = _lcov("TN:\n")
    assert _counts(result) == (0, 0, 0, 0)
    assert result["notes"] == ["the tracefile holds no SF record: nothing was measured"]
    assert result["declared"]["lines_total"] is None


def test_lcov_unknown_record_types_are_skipped_and_counted() -> None:
    result = _lcov("SF:x.c\nXYZ:1,2\nDA:1,1\nXYZ:3\nQQ:1\nend_of_record\n")
    assert _counts(result) == (1, 1, 0, 0)
    assert result["notes"] == ["3 lines of record types this reader does not know were "
                               "skipped (QQ, XYZ)"]


def test_lcov_declared_figures_that_differ_are_listed_per_source_file() -> None:
    result = _lcov("SF:x.c\nDA:1,1\nDA:2,0\nLF:3\nLH:1\nend_of_record\n")
    assert result["mismatches"] == [
        {"scope": "x.c", "field": "lines_total", "declared": 3, "counted": 2},
        {"scope": None, "field": "lines_total", "declared": 3, "counted": 2}]


def test_lcov_packages_of_windows_and_bare_paths() -> None:
    result = _lcov("SF:C:\\src\\app\\x.c\nDA:1,1\nend_of_record\nSF:y.c\nDA:1,0\n"
                   "end_of_record\nSF:/z.c\nDA:1,1\nend_of_record\n")
    assert _packages(result) == {"C:\\src\\app": [1, 1, 0, 0], ".": [0, 1, 0, 0],
                                 "/": [1, 1, 0, 0]}


def test_lcov_large_file_crosses_chunks(tmp_path: Path) -> None:
    """Records cut by the 1 MiB reads, CRLF included, count as one read of the whole."""
    rng = random.Random(7)
    parts, expected = [], [0, 0, 0, 0]
    for i in range(3000):
        lines = rng.randint(1, 200)
        hits = [rng.choice((0, 1, 12)) for _ in range(lines)]
        eol = "\r\n" if i % 5 == 0 else "\n"
        parts.append(eol.join([f"SF:d{i % 7}/f{i}.c", *(f"DA:{n},{h}" for n, h in
                                                        enumerate(hits, 1)),
                               f"BRDA:1,0,0,{hits[0] or '-'}", "end_of_record"]) + eol)
        expected[0] += sum(1 for h in hits if h)
        expected[1] += lines
        expected[2] += 1 if hits[0] else 0
        expected[3] += 1
    path = tmp_path / "big.info"
    path.write_text("".join(parts), encoding="utf-8", newline="")
    assert path.stat().st_size > 2 << 20
    assert list(_counts(parse_file(path))) == expected


_LINES = st.lists(st.one_of(
    st.builds(lambda n, h: f"DA:{n},{h}", st.integers(0, 30), st.integers(0, 3)),
    st.builds(lambda n, b, br, t: f"BRDA:{n},{b},{br},{t}", st.integers(1, 9),
              st.sampled_from(["0", "e0", "U1", "f2", "eU0"]), st.sampled_from(["0", "1", "x,y"]),
              st.sampled_from(["-", "0", "2"])),
    st.sampled_from(["LF:3", "LH:1", "BRF:2", "BRH:0", "FN:1,f", "FNDA:0,f", "FNF:1", "#c", "",
                     "VER:1", "DA:07,1", "FNL:0,1", "XYZ:1"])), max_size=25)


@settings(max_examples=300, deadline=None)
@given(_LINES, st.booleans())
def test_lcov_fast_path_counts_as_the_line_by_line_reader(lines: list[str], crlf: bool) -> None:
    """Whatever a record holds, the whole-record match gives the counts of the slow path."""
    eol = "\r\n" if crlf else "\n"
    piece = ("\n" + eol.join(["TN:", "SF:d/x.c", *lines])).encode()
    fast = lcov._count(piece, 0, "t.info", {})
    slow = lcov._read_record(piece, 0, "t.info", {})
    assert fast[1] == slow.counts()
    assert fast[2] == slow.declared
