"""Reliability checks of the whole book at the smoke budget (``make reliability``).

1. Determinism: the suite runs twice; the claims ledgers must be identical except for wall times
   (``seconds``), which measure the machine, not the result.
2. Resource ceiling: each chapter's peak memory must stay under 3 GB; an offender is named.
3. No flaky CI: nbval over every chapter passes ``--repeats`` times in a row (default 5).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import ROOT, run_suite  # noqa: E402

MEMORY_CEILING_MIB = 3 * 1024
EXCLUDED_FIELDS = ("seconds",)


def comparable(results: list[dict]) -> dict[str, list[dict]]:
    return {r["chapter"]: [{k: v for k, v in c.items() if k not in EXCLUDED_FIELDS} for c in r["claims"]]
            for r in results}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="nbval runs in a row (default 5)")
    args = parser.parse_args()
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        first = run_suite("smoke", Path(tmp) / "run1")
        second = run_suite("smoke", Path(tmp) / "run2")
    a, b = comparable(first), comparable(second)
    for chapter in a:
        if a[chapter] != b[chapter]:
            problems.append(f"{chapter}: claims differ between two runs: {a[chapter]} vs {b[chapter]}")
        if not a[chapter]:
            problems.append(f"{chapter}: recorded no claim")
    for r in first + second:
        if r["error"]:
            problems.append(f"{r['chapter']}: {r['error']}")
        if r["peak_mib"] > MEMORY_CEILING_MIB:
            problems.append(f"{r['chapter']}: peak memory {r['peak_mib']} MiB over {MEMORY_CEILING_MIB} MiB")
    print(f"determinism and memory: {len(first)} chapters run twice, {len(problems)} problems", flush=True)
    env = {**os.environ, "BOOK_BUDGET": "smoke", "HF_HUB_OFFLINE": "1",
           "BOOK_LEDGER_DIR": str(ROOT / "_build" / "claims" / "reliability")}
    for run in range(1, args.repeats + 1):
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "--nbval-lax", "--nbval-cell-timeout=300",
                                 "notebooks"], cwd=ROOT, env=env, capture_output=True, text=True)
        summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-300:]
        print(f"nbval run {run}/{args.repeats}: {summary}", flush=True)
        if result.returncode != 0:
            problems.append(f"nbval run {run} failed: {summary}")
    for problem in problems:
        print("PROBLEM:", problem)
    print(f"reliability: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
