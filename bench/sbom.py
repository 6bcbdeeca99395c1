"""Benchmark: the SBOM collector against cyclonedx-python-lib loading the same CycloneDX JSON.

Builds (once) a CycloneDX 1.6 JSON SBOM of about 50 MB -- 2 MB with ``--quick`` -- under
``$AFFIDAVIT_BENCH_DIR`` or the system temp dir: a container as ``metadata.component``, then
components with a supplier, version, purl, two hashes, external references, properties and a
licence (an SPDX id, an expression, a name, or none), every twentieth with two nested
components, and a ``dependencies`` entry per top-level component. Then, each in a fresh
process timing its own work after its imports (as the CLI runs once per process):

- ours: ``affidavit.collect.sbom.parse_file`` with ``--deny-license GPL-3.0-only`` (streamed;
  every component checked against the official 1.6 JSON schema, counted, its licences matched);
- the anchor: ``json.load`` and ``cyclonedx.model.bom.Bom.from_json`` (cyclonedx-python-lib's
  JSON deserialisation, which validates nothing), its components then walked and counted.

Both must count the same components. Prints the best time of each, and the peak RSS of each
(``VmHWM``; ``ru_maxrss`` would not do, an exec'd child inherits its parent's high-water mark):

    sbom-50mb: ours 1.9s, anchor 88s, 46x faster than cyclonedx-python-lib (...)
    sbom-50mb-peak-rss: ours 60 MB, anchor 1400 MB, 23x less than cyclonedx-python-lib (...)

Run: ``PYTHONPATH=core python3 bench/sbom.py [--quick]``. Targets: at least 2x faster; peak
RSS bounded by streaming (below the file's size, where the anchor holds it several times).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import in_child, report, work_dir  # noqa: E402

FULL_MB, QUICK_MB = 50, 2
SEED = 20240502
RUNS, ANCHOR_RUNS = 3, 2

CHILD = r"""
import json, sys
which, target = sys.argv[1:3]
if which == "ours":
    from affidavit.collect.sbom import parse_file

    def work():
        found = parse_file(target, denied={"gpl-3.0-only": "GPL-3.0-only"})
        return found["summary"]["components"]
else:
    from cyclonedx.model.bom import Bom

    def work():
        with open(target, encoding="utf-8") as source:
            bom = Bom.from_json(json.load(source))

        def count(components):
            return sum(1 + count(c.components) for c in components)

        return count(bom.components)

"""

_LICENCES = ([{"license": {"id": "MIT"}}], [{"license": {"id": "Apache-2.0"}}],
             [{"license": {"id": "BSD-3-Clause"}}], [{"expression": "MIT OR Apache-2.0"}],
             [{"license": {"id": "GPL-3.0-only"}}], [{"license": {"name": "Acme EULA"}}], None)


def _component(rng: random.Random, n: int, nested: bool) -> dict[str, object]:
    name = f"package-{n:06d}"
    version = f"{rng.randrange(0, 20)}.{rng.randrange(0, 50)}.{rng.randrange(0, 10)}"
    purl = f"pkg:npm/%40acme/{name}@{version}"
    component: dict[str, object] = {
        "type": "library", "bom-ref": purl, "name": name, "version": version, "purl": purl,
        "group": "@acme", "supplier": {"name": f"Supplier {n % 97}",
                                       "url": [f"https://supplier{n % 97}.example.com"]},
        "description": f"The {name} library, which does one thing well.",
        "hashes": [{"alg": "SHA-256", "content": f"{rng.getrandbits(256):064x}"},
                   {"alg": "SHA-1", "content": f"{rng.getrandbits(160):040x}"}],
        "externalReferences": [
            {"type": "vcs", "url": f"https://git.example.com/acme/{name}.git"},
            {"type": "website", "url": f"https://www.example.com/{name}"}],
        "properties": [{"name": "syft:package:foundBy", "value": "javascript-lock-cataloger"},
                       {"name": "syft:location:0:path", "value": f"/app/node_modules/{name}"}]}
    licences = rng.choice(_LICENCES)
    if licences is not None:
        component["licenses"] = licences
    if nested:
        component["components"] = [
            {"type": "file", "bom-ref": f"{purl}#file-{k}", "name": f"{name}/lib/{k}.js",
             "hashes": [{"alg": "SHA-256", "content": f"{rng.getrandbits(256):064x}"}]}
            for k in range(2)]
    return component


def build(base: Path, megabytes: int) -> tuple[Path, int]:
    """``base/sbom.cdx.json`` of about ``megabytes`` MB and its component count, made once."""
    path, marker = base / "sbom.cdx.json", base / "COMPLETE"
    spec = f"mb={megabytes} seed={SEED} v2\n"
    if marker.exists() and marker.read_text().startswith(spec):
        return path, int(marker.read_text().split()[-1])
    marker.unlink(missing_ok=True)
    rng = random.Random(SEED)
    target = megabytes * 1_000_000
    head = {"bomFormat": "CycloneDX", "specVersion": "1.6",
            "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79", "version": 1,
            "metadata": {"timestamp": "2024-05-02T10:20:30Z",
                         "tools": {"components": [{"type": "application", "name": "bench",
                                                   "version": "1"}]},
                         "component": {"type": "container", "bom-ref": "image",
                                       "name": "registry.example.com/shop",
                                       "hashes": [{"alg": "SHA-256",
                                                   "content": f"{rng.getrandbits(256):064x}"}]}}}
    refs: list[str] = []
    counted = 0
    with open(path, "w", encoding="utf-8") as out:
        out.write(json.dumps(head, indent=2)[:-2] + ',\n  "components": [\n')
        written, n = 0, 0
        while written < target * 0.85:
            component = _component(rng, n, nested=n % 20 == 0)
            counted += 1 + len(component.get("components", []))  # type: ignore[arg-type]
            text = ("" if n == 0 else ",\n") + json.dumps(component, indent=2)
            out.write(text)
            written += len(text)
            refs.append(str(component["bom-ref"]))
            n += 1
        out.write('\n  ],\n  "dependencies": [\n')
        for i, ref in enumerate(refs):
            deps = sorted({refs[(i + 1) % len(refs)], refs[(i * 7 + 3) % len(refs)]} - {ref})
            out.write(("" if i == 0 else ",\n") + json.dumps({"ref": ref, "dependsOn": deps}))
        out.write("\n  ]\n}\n")
    marker.write_text(f"{spec}{counted}")
    return path, counted


def run(which: str, target: Path) -> dict[str, float]:
    """One fresh process doing one contender's work; its report."""
    return in_child(CHILD, which, str(target))  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 2 MB SBOM (CI smoke)")
    args = parser.parse_args(argv)
    megabytes = QUICK_MB if args.quick else FULL_MB
    base = work_dir(f"sbom-{megabytes}")
    path, components = build(base, megabytes)
    mine = [run("ours", path) for _ in range(RUNS)]
    theirs = [run("anchor", path) for _ in range(ANCHOR_RUNS)]
    counted = {int(r["counted"]) for r in mine + theirs}
    if counted != {components}:
        raise SystemExit(f"component counts differ from {components}: {sorted(counted)}")
    size = path.stat().st_size / 1e6
    report(f"sbom-{megabytes}mb", min(r["seconds"] for r in mine),
           min(r["seconds"] for r in theirs), than="cyclonedx-python-lib",
           note=f"{components:,} components in {size:.1f} MB of CycloneDX 1.6 JSON; ours "
                "validated against the 1.6 schema, theirs only deserialised; target: at least "
                "2x faster")
    ours_mb = max(r["peak_kb"] for r in mine) / 1024
    theirs_mb = max(r["peak_kb"] for r in theirs) / 1024
    factor = (f"{theirs_mb / ours_mb:.2f}x less than" if ours_mb <= theirs_mb
              else f"{ours_mb / theirs_mb:.2f}x more than")
    print(f"sbom-{megabytes}mb-peak-rss: ours {ours_mb:.4g}MB, anchor {theirs_mb:.4g}MB, "
          f"{factor} cyclonedx-python-lib (peak RSS of the whole process, interpreter "
          f"included; the file is {size:.1f} MB; target: bounded by streaming, below the "
          "file's size)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
