"""Turn the JSON result of one `affidavit … --output json` call into step outputs and a summary.

Usage: python outputs.py RESULT.json — appends `entry-index`, `compliant` and `fingerprint` to
$GITHUB_OUTPUT and the core's own markdown rendering of the same result to $GITHUB_STEP_SUMMARY.
"""

import json
import os
import sys
from types import SimpleNamespace


def main(path: str) -> None:
    with open(path, encoding="utf-8") as handle:
        result = json.load(handle)
    record = result["entry"]["record"]
    compliant = record.get("compliant")
    target = record.get("target") or {}
    outputs = {
        "entry-index": "" if result.get("dry_run") else result.get("index", ""),
        "compliant": "" if compliant is None else str(bool(compliant)).lower(),
        "fingerprint": record.get("fingerprint") or target.get("fingerprint") or "",
    }
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
        out.writelines(f"{key}={value}\n" for key, value in outputs.items())

    from affidavit.cli.markdown import render

    recorded = SimpleNamespace(
        entry=result["entry"],
        reasons=result.get("reasons") or [],
        dry_run=bool(result.get("dry_run")),
        entry_index=result.get("index"),
    )
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as out:
            out.write(render(recorded) + "\n\n")


if __name__ == "__main__":
    main(sys.argv[1])
