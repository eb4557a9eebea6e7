"""Sphinx extension: the ``{benchmark}`` directive renders the committed measurements in ``book/results/``.

* ``book-build.json`` (``tools/bench.py --book --write-page``): ``make book``'s own time per budget;
* ``bench-<budget>.json`` (``tools/bench.py --budget B --write-page``): every chapter's wall time, peak
  memory and claims at ``BOOK_SEED=0``, and the two measurements of the shared helpers;
* ``seeds-<budget>.json`` (``tools/seeds.py --budget B``): the Robustness tables — per claim the range over
  the seeds, the bar, and the worst seed's distance to it against the calibration rule's margin.

The page shows the data as committed: nothing is parsed back from Markdown. The same data gives every chapter
page its cost box (time and peak memory at each budget, and the machine), placed under the chapter's title.
"""
from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from utils.claims import html_table

RESULTS = Path(__file__).resolve().parent.parent / "results"
BUDGETS = ("smoke", "standard", "full")


def _load(name: str, results: Path):
    path = results / name
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s" if seconds >= 60 else f"{seconds:.1f} s"


def book_builds(results: Path) -> str:
    builds = _load("book-build.json", results) or {}
    rows = [[f"{b}", _minutes(builds[b]["first_s"]), _minutes(builds[b]["rebuild_s"]), builds[b]["machine"]]
            for b in BUDGETS if b in builds]
    if not rows:
        return "<p><em>Not measured yet.</em></p>"
    return html_table(["budget", "first build, empty cache", "rebuild, nothing changed", "machine, date"], rows,
                      css_class="benchmark")


def chapter_table(budget: str, results: Path) -> str:
    bench = _load(f"bench-{budget}.json", results)
    if bench is None:
        return f"<p><em>Budget <code>{budget}</code> has not been measured yet.</em></p>"
    machine, latest = bench["machine"].rsplit(", ", 1)
    rows = [[c["chapter"], f"{c['wall_s']:.1f}", str(c["peak_mib"]), c["error"] or "ok", c.get("date", latest),
             "; ".join(f"{k['name']}: {k['measured']:.4g} ({'pass' if k['passed'] else 'FAIL'})" for k in c["claims"])]
            for c in bench["chapters"]]
    r = bench["ratios"]
    return (f"<p>Budget <code>{budget}</code> on {machine}, <code>BOOK_SEED=0</code>, one chapter at a time; "
            f"the measurements below the table on {latest}.</p>"
            + html_table(["chapter", "wall (s)", "peak memory (MiB)", "status", "measured on", "claims (measured)"], rows,
                         css_class="benchmark")
            + f"<ul><li>one epoch of 60,000 MNIST-sized tensors in batches of 128: <code>utils.data.batches</code> "
              f"{r['batches_s']:.3f} s, <code>DataLoader</code> {r['dataloader_s']:.3f} s — "
              f"<strong>{r['loader_speedup']:.1f}× faster</strong></li>"
              f"<li>3 epochs of a 784–256–10 MLP on 4,000 digits: <code>utils.train.fit</code> {r['fit_s']:.2f} s, "
              f"bare loop {r['bare_loop_s']:.2f} s — <strong>overhead {100 * r['fit_overhead']:+.1f}%</strong></li></ul>")


def robustness_table(budget: str, results: Path) -> str:
    sweep = _load(f"seeds-{budget}.json", results)
    if sweep is None:
        return f"<p><em>No seed sweep at <code>{budget}</code> yet: its bars are uncalibrated.</em></p>"
    out = []
    for chapter, s in sweep["chapters"].items():
        seeds = ", ".join(str(r["seed"]) for r in s["runs"])
        walls = [r["wall_s"] for r in s["runs"]]
        rows = []
        for c in s["claims"]:
            sign = "≥" if c["higher_is_better"] else "≤"
            ok = c["passed_all"] and c["margin_ok"]
            statement = "—" if c["statement"] is None else f"{c['reproduced_on']} of {len(c['values'])}"
            rows.append([c["name"], f"{c['min']:.4g}", f"{c['median']:.4g}", f"{c['max']:.4g}", f"{sign} {c['bar']:.4g}",
                         f"{c['margin_distance']:.3g} / {c['margin_needed']:.3g} ({c['margin_scale']})",
                         "✅" if ok else "❌", statement])
        retried = sum(bool(r.get("retried")) for r in s["runs"])
        note = f" {retried} run(s) timed out once (a kernel that never answered) and ran again." if retried else ""
        out.append(f"<h3>{chapter}</h3><p>BOOK_SEED {seeds}; {s['machine']}; {s['threads']} thread per process, "
                   f"{s['jobs']} at a time; wall {min(walls):.0f}–{max(walls):.0f} s per run.{note}</p>"
                   + html_table(["claim", "min", "median", "max", "bar", "worst-seed distance / margin needed",
                                 "holds", "paper's statement on"], rows, css_class="benchmark"))
    return f"<p>Calibration rule: {sweep['margin_rule']}.</p>" + "".join(out)


def render(results: Path = RESULTS) -> str:
    parts = ["<h2>Building the book</h2>", book_builds(results)]
    for budget in BUDGETS:
        parts += [f"<h2>Budget <code>{budget}</code></h2>", chapter_table(budget, results)]
    parts.append("<h2>Robustness</h2>")
    for budget in BUDGETS:
        parts += [f"<h3>Seed sweep at <code>{budget}</code></h3>", robustness_table(budget, results)]
    return "\n".join(parts)


def _where(measured: list[tuple[str, str, str]]) -> str:
    """'on <machine> (smoke 2026-12-02, standard 2026-12-03)', or one machine per budget when they differ."""
    if not measured:
        return "(not yet)"
    if len({m for _, m, _ in measured}) == 1:
        return f"on {measured[0][1]} (" + ", ".join(f"{b} {d}" for b, _, d in measured) + ")"
    return "; ".join(f"{b} on {m}, {d}" for b, m, d in measured)


def cost_box(chapter: str, benchmark_uri: str, results: Path = RESULTS) -> str:
    """HTML of the small box under a chapter's title: its time and peak memory at each budget, and where measured."""
    times, memory, where = [], [], []
    for budget in BUDGETS:
        bench = _load(f"bench-{budget}.json", results)
        row = next((c for c in bench["chapters"] if c["chapter"] == chapter), None) if bench else None
        if row is None:
            times.append("not measured yet")
            memory.append("—")
            continue
        machine, latest = bench["machine"].rsplit(", ", 1)
        times.append(_minutes(row["wall_s"]))
        memory.append(f"{row['peak_mib']:,} MiB")
        where.append((budget, machine, row.get("date", latest)))
    table = html_table(["", *BUDGETS], [["run time", *times], ["peak memory", *memory]], css_class="table chapter-cost")
    return ("<div class='admonition note chapter-cost' style='font-size: 0.85em'>"
            "<p class='admonition-title'>What this chapter costs</p>" + table
            + f"<p>Measured alone with <code>BOOK_SEED=0</code> {_where(where)}. Every chapter on the "
              f"<a href='{benchmark_uri}'>Benchmark</a> page.</p></div>")


def add_cost_box(app: Sphinx, doctree: nodes.document) -> None:
    """Under the title of every chapter page (``notebooks/...``), its cost box; the page depends on the data."""
    docname = app.env.docname
    section = next(iter(doctree.findall(nodes.section)), None)
    if not docname.startswith("notebooks/") or section is None:
        return
    for path in sorted(RESULTS.glob("*.json")):          # the cost box, and the seed ranges of its claims
        app.env.note_dependency(str(path))
    box = cost_box(docname.removeprefix("notebooks/"), app.builder.get_relative_uri(docname, "book/benchmark"))
    section.insert(1, nodes.raw("", box, format="html"))


class BenchmarkDirective(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        for path in sorted(RESULTS.glob("*.json")):
            self.env.note_dependency(str(path))
        return [nodes.raw("", render(), format="html")]


def setup(app: Sphinx) -> dict:
    app.add_directive("benchmark", BenchmarkDirective)
    app.connect("doctree-read", add_cost_box)
    return {"version": "1.1", "env_version": 4, "parallel_read_safe": True, "parallel_write_safe": True}
