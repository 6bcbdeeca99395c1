"""Turn the JSON result of one `affidavit … --output json` call into step outputs.

Usage: python outputs.py RESULT.json — appends `entry-index`, `compliant` and `fingerprint` to
$GITHUB_OUTPUT. (The job summary is written by the core itself, `--summary-file`.)
"""

import json
import os
import sys


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


if __name__ == "__main__":
    main(sys.argv[1])
