"""Markdown summaries carry report contents as text, never as HTML (issue 11, item 7): a test
name or failure message reaches ``$GITHUB_STEP_SUMMARY`` escaped."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import Cli

# The failure message is <img src=x onerror="alert(1)"> & <script>x()</script>, XML-escaped.
JUNIT = ('<testsuite name="s" tests="1" failures="1"><testcase classname="c" name="t &lt;b&gt;">'
         '<failure message="&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; '
         '&lt;script&gt;x()&lt;/script&gt;"/></testcase></testsuite>')


def test_failure_messages_are_escaped_in_the_summary(cli: Cli, trail: None,
                                                     tmp_path: Path) -> None:
    report = tmp_path / "TEST-s.xml"
    report.write_text(JUNIT)
    summary = tmp_path / "summary.md"
    result = cli("attest", "junit", "--flow", "demo", "--trail", "t1", "--name", "unit",
                 "--results", report, "--summary-file", summary, "--output", "markdown")
    assert result.code == 0, result.err
    for text in (result.out, summary.read_text()):
        assert "<img" not in text and "<script>" not in text and "<b>" not in text
        assert ('&lt;img src=x onerror="alert(1)"&gt; &amp; &lt;script&gt;x()&lt;/script&gt;'
                in text)
        assert "c.t &lt;b&gt;" in text

