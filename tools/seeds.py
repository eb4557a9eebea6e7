"""The seed sweep: every chapter under several values of ``BOOK_SEED``, and every claim's bar checked
against the spread it sees (``make seeds BUDGET=<budget> [SEEDS=5] [CHAPTERS=...]``).

    python tools/seeds.py --budget smoke --seeds 5 [--jobs 2] [chapter ...]

Each (chapter, seed) runs in its own process with one CPU thread, two processes at a time (a chapter
whose notebook metadata says ``"book": {"runs_alone": true}`` — it measures time — runs with nothing
beside it). Per claim it reports the minimum, median and maximum over the seeds, the bar, and the
worst seed's distance to the bar against the margin the calibration rule asks for (:func:`margin_check`,
stated in CONTRIBUTING.md). The results are written to ``book/results/seeds-<budget>.json`` (chapters
not run keep their earlier entry); the Benchmark page's Robustness section and the Scoreboard's seed
ranges are rendered from that file. Exits 1 if a claim misses its bar on any seed, if a bar lies inside
the margin, or if a chapter fails.
"""
from __future__ import annotations

import argparse
import fcntl
import json
import math
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import ROOT, chapter_name, machine, notebooks, run_chapter, runs_alone  # noqa: E402

RESULTS = ROOT / "book" / "results"
MARGIN_SHARE = 0.25  # the calibration rule: a bar sits a quarter of the seed range beyond the worst seed
MINIMUM_SEEDS = {"smoke": 5, "standard": 3, "full": 3}


def results_file(budget: str) -> Path:
    return RESULTS / f"seeds-{budget}.json"


def margin_check(values: list[float], bar: float, higher_is_better: bool) -> dict:
    """The calibration rule applied to one claim's values over the seeds.

    The range and the distances are measured on a logarithmic scale when every value and the bar are
    positive (ratios, errors, accuracies), on a linear scale otherwise (differences). The bar must lie
    beyond the worst seed by at least a quarter of the observed range: ``distance ≥ needed``.
    """
    log = bar > 0 and all(v > 0 for v in values)
    scale = math.log10 if log else (lambda v: v)
    if not all(math.isfinite(v) for v in values):
        return {"scale": "log" if log else "linear", "range": math.inf, "needed": math.inf,
                "distance": -math.inf, "ok": False}
    low, high = scale(min(values)), scale(max(values))
    needed = MARGIN_SHARE * (high - low)
    distance = (low - scale(bar)) if higher_is_better else (scale(bar) - high)
    return {"scale": "log" if log else "linear", "range": high - low, "needed": needed, "distance": distance,
            "ok": distance >= needed - 1e-12}


def summarise(chapter: str, runs: list[dict]) -> dict:
    """One chapter's runs (one per seed) → per-claim value ranges and verdicts."""
    names: list[str] = []
    for run in runs:
        names += [c["name"] for c in run["claims"] if c["name"] not in names]
    claims = []
    for name in names:
        found = [next((c for c in run["claims"] if c["name"] == name), None) for run in runs]
        present = [c for c in found if c is not None]
        last = present[-1]
        values = [c["measured"] for c in present]
        check = margin_check(values, last["bar"], last["higher_is_better"])
        reproduced = [c["reproduced"] for c in present]
        claims.append({
            "name": name, "unit": last["unit"], "bar": last["bar"], "higher_is_better": last["higher_is_better"],
            "statement": last["statement"], "paper": last["paper"], "source": last["source"],
            "values": values, "seeds": [run["seed"] for run, c in zip(runs, found) if c is not None],
            "min": min(values), "median": statistics.median(values), "max": max(values),
            "passed_all": len(present) == len(runs) and all(c["passed"] for c in present),
            "reproduced_on": None if last["statement"] is None else sum(bool(r) for r in reproduced),
            **{f"margin_{k}": v for k, v in check.items()},
        })
    return {"runs": [{k: run[k] for k in ("seed", "wall_s", "peak_mib", "error", "retried")} for run in runs],
            "claims": claims}


def problems_of(chapter: str, summary: dict) -> list[str]:
    problems = [f"{chapter} (BOOK_SEED={r['seed']}): {r['error']}" for r in summary["runs"] if r["error"]]
    for c in summary["claims"]:
        if not c["passed_all"]:
            problems.append(f"{chapter}: {c['name']!r} misses its bar {c['bar']:.4g} on some seed "
                            f"(values {', '.join(f'{v:.4g}' for v in c['values'])})")
        elif not c["margin_ok"]:
            problems.append(f"{chapter}: {c['name']!r}: bar {c['bar']:.4g} lies inside the margin — worst seed "
                            f"{c['margin_distance']:.3g} from it, needs {c['margin_needed']:.3g} "
                            f"({c['margin_scale']} scale; values {c['min']:.4g} … {c['max']:.4g})")
    return problems


def sweep(budget: str, paths: list[Path], seeds: list[int], jobs: int, calibrate: bool = False
          ) -> dict[str, list[dict]]:
    """Run every (chapter, seed); chapters that run alone go last, one process at a time."""
    ledger = ROOT / "_build" / "seeds" / budget
    tasks = [(p, s) for p in paths if not runs_alone(p) for s in seeds]
    alone = [(p, s) for p in paths if runs_alone(p) for s in seeds]

    def one(task):
        path, seed = task
        result = run_chapter(path, budget, ledger / f"seed-{seed}", seed=seed, threads=1,
                             env_extra={"BOOK_CALIBRATE": "1"} if calibrate else None)
        print(f"{result['chapter']} BOOK_SEED={seed}: {result['wall_s']} s, {result['peak_mib']} MiB "
              f"{result['error']}", flush=True)
        return result

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(one, tasks))
    results += [one(task) for task in alone]
    by_chapter: dict[str, list[dict]] = {}
    for result in results:
        by_chapter.setdefault(result["chapter"], []).append(result)
    return {chapter: sorted(runs, key=lambda r: r["seed"]) for chapter, runs in by_chapter.items()}


def report(chapter: str, summary: dict) -> str:
    lines = [chapter]
    for c in summary["claims"]:
        sign = "≥" if c["higher_is_better"] else "≤"
        lines.append(f"  {c['name']}: min {c['min']:.4g}, median {c['median']:.4g}, max {c['max']:.4g} | bar {sign} "
                     f"{c['bar']:.4g} | worst-seed distance {c['margin_distance']:.3g} (needs {c['margin_needed']:.3g}, "
                     f"{c['margin_scale']}) {'ok' if c['margin_ok'] and c['passed_all'] else 'PROBLEM'}")
    return "\n".join(lines)


def merge(target: Path, budget: str, summaries: dict) -> None:
    """Replace these chapters' entries of ``target`` (others keep theirs), under a lock: sweeps of different
    chapters may finish at the same time."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        previous = json.loads(target.read_text(encoding="utf-8")) if target.is_file() else {"chapters": {}}
        chapters = {**previous.get("chapters", {}), **summaries}
        order = [chapter_name(p) for p in notebooks()]
        payload = {"budget": budget, "margin_rule": f"{MARGIN_SHARE:g} of the seed range beyond the worst seed",
                   "chapters": {c: chapters[c] for c in order if c in chapters}}
        target.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="smoke", choices=["smoke", "standard", "full"])
    parser.add_argument("--seeds", type=int, default=5, help="BOOK_SEED = 0 … N-1 (default 5)")
    parser.add_argument("--jobs", type=int, default=2, help="processes at a time (default 2, one per core)")
    parser.add_argument("--calibrate", action="store_true",
                        help="claims record but do not stop the notebook, to see where bars can go; results go "
                             "to _build/seeds/calibrate-<budget>.json, never to the book")
    parser.add_argument("chapters", nargs="*", help="notebooks or chapter ids (default: every chapter)")
    args = parser.parse_args()
    paths = notebooks()
    if args.chapters:
        wanted = {Path(c).with_suffix("").as_posix().removeprefix("notebooks/") for c in args.chapters}
        paths = [p for p in paths if chapter_name(p) in wanted]
        if len(paths) != len(wanted):
            raise SystemExit(f"unknown chapters: {sorted(wanted - {chapter_name(p) for p in paths})}")
    seeds = list(range(args.seeds))
    runs = sweep(args.budget, paths, seeds, args.jobs, args.calibrate)
    target = (ROOT / "_build" / "seeds" / f"calibrate-{args.budget}.json") if args.calibrate else results_file(args.budget)
    summaries, problems = {}, []
    for chapter, chapter_runs in runs.items():
        summaries[chapter] = summarise(chapter, chapter_runs)
        summaries[chapter].update(machine=machine(), seeds=seeds, threads=1, jobs=args.jobs)
        print(report(chapter, summaries[chapter]))
        problems += problems_of(chapter, summaries[chapter])
    if len(seeds) < MINIMUM_SEEDS[args.budget]:
        problems.append(f"{len(seeds)} seeds: the calibration rule asks for {MINIMUM_SEEDS[args.budget]} "
                        f"at {args.budget!r} (results not written)")
    else:
        merge(target, args.budget, summaries)
        print(f"wrote {target.relative_to(ROOT)}")
    for problem in problems:
        print("PROBLEM:", problem)
    print(f"seed sweep at {args.budget!r}: {len(runs)} chapters × {len(seeds)} seeds, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
