"""Time every chapter notebook at a budget and record its peak memory and claims.

    python tools/bench.py [--budget smoke] [notebooks ...]

Each notebook runs in a fresh process (so its peak memory is its own); the table is printed and
written to ``_build/bench/<budget>.md``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_one(path: Path) -> None:
    """Execute one notebook (in this process's child kernel) and print wall time and peak memory as JSON."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    error = ""
    try:
        NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    except Exception as err:  # report the failure in the table instead of stopping the benchmark
        error = f"{type(err).__name__}: {str(err).strip().splitlines()[-1][:120]}"
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"wall_s": round(wall, 1), "peak_mib": round(peak_kib / 1024), "error": error}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="smoke", choices=["smoke", "standard", "full"])
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("notebooks", nargs="*")
    args = parser.parse_args()
    if args.one:
        run_one(Path(args.one))
        return 0
    paths = [Path(p) for p in args.notebooks] or sorted((ROOT / "notebooks").rglob("*.ipynb"))
    ledger = ROOT / "_build" / "bench" / "claims" / args.budget
    env = {**os.environ, "BOOK_BUDGET": args.budget, "BOOK_LEDGER_DIR": str(ledger), "HF_HUB_OFFLINE": "1"}
    rows = []
    for path in paths:
        out = subprocess.run([sys.executable, __file__, "--one", str(path.resolve())], env=env,
                             capture_output=True, text=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        name = path.resolve().relative_to(ROOT / "notebooks").with_suffix("").as_posix()
        ledger_file = ledger / (name.replace("/", "__") + ".jsonl")
        records = [json.loads(l) for l in ledger_file.read_text().splitlines()] if ledger_file.exists() else []
        claims = "; ".join(f"{r['name']}: {r['measured']:.4g} ({'pass' if r['passed'] else 'FAIL'})" for r in records)
        rows.append(f"| {name} | {result['wall_s']} | {result['peak_mib']} | {result['error'] or 'ok'} | {claims} |")
        print(rows[-1], flush=True)
    import torch

    header = [f"Budget `{args.budget}` on {platform.machine()} with {os.cpu_count()} cores, "
              f"torch {torch.__version__}, {time.strftime('%Y-%m-%d')}.", "",
              "| chapter | wall (s) | peak memory (MiB) | status | claims |", "|---|---|---|---|---|"]
    table = "\n".join(header + rows) + "\n"
    target = ROOT / "_build" / "bench" / f"{args.budget}.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
