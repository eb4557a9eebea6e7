"""Sphinx extension: the ``{scoreboard}`` directive renders the claims ledger, one table per part.

Per claim it shows two verdicts: whether the paper's statement was reproduced at this budget (yes / no /
no published statement) and whether the budget's regression bar passed — marked *uncalibrated* when no
seed sweep of this budget covers the claim. With a sweep (``book/results/seeds-<budget>.json``, written by
``tools/seeds.py``) the seed range stands beside each measured value. A chapter that stopped early is
shown as stopped, with the error and the claims it never reached.

The directive leaves a placeholder that is filled when pages are written, i.e. after every notebook has
been executed, so the tables show the claims of this build. The page holding it is re-read on every build.
"""
from __future__ import annotations

import html
import json
from pathlib import Path

import yaml
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from utils.claims import Html, Record, Stop, read_ledger, read_stops, verdict

RESULTS = Path(__file__).resolve().parent.parent / "results"


class scoreboard_placeholder(nodes.General, nodes.Element):
    """Replaced by the ledger's tables once all notebooks have run."""


class ScoreboardDirective(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        return [scoreboard_placeholder()]


def chapters_by_part(toc_file: Path) -> list[tuple[str, list[str]]]:
    """``[(part caption, [docname, ...]), ...]`` in the order of ``_toc.yml``."""
    def files(entries: list[dict]) -> list[str]:
        found = []
        for entry in entries:
            found += [entry["file"]] if "file" in entry else []
            found += files(entry.get("sections", []))
        return found

    toc = yaml.safe_load(toc_file.read_text(encoding="utf-8"))
    return [(part["caption"], files(part.get("chapters", []))) for part in toc.get("parts", [])]


def sweep_of(budget: str, results: Path = RESULTS) -> dict:
    """The seed sweep of ``budget``: ``{chapter: {claim name: summary}}`` (empty without one)."""
    path = results / f"seeds-{budget}.json"
    if not path.is_file():
        return {}
    chapters = json.loads(path.read_text(encoding="utf-8"))["chapters"]
    return {chapter: {c["name"]: {**c, "n_seeds": len(s["runs"])} for c in s["claims"]}
            for chapter, s in chapters.items()}


def _value(r: Record, swept: dict | None) -> str:
    text = f"{r.measured:.4g} {r.unit}".strip()
    if swept:
        text += f" ({swept['n_seeds']} seeds: {swept['min']:.4g} … {swept['max']:.4g})"
    return text


def _bar(r: Record, swept: dict | None) -> str:
    return f"{r.comparison}: {verdict(r.passed)}" + ("" if swept else " (uncalibrated)")


def _reproduced(r: Record, swept: dict | None) -> str:
    if r.statement is None:
        return "no published statement"
    text = f"{r.statement_text}: {'✅ yes' if r.reproduced else '✖ not reproduced'}"
    if swept and swept.get("reproduced_on") is not None:
        text += f" ({swept['reproduced_on']} of {swept['n_seeds']} seeds)"
    return text


CLAIM_HEADER = ["claim", "measured (range over the seeds)", "bar", "paper's statement reproduced?"]


def _row(cells: list[str], css_class: str = "") -> str:
    """One table row of plain-text cells (escaped) or ``Html`` cells."""
    tds = "".join(f"<td>{c if isinstance(c, Html) else html.escape(str(c))}</td>" for c in cells)
    return f"<tr class='{css_class}'>{tds}</tr>" if css_class else f"<tr>{tds}</tr>"


def _claim_rows(r: Record, swept: dict | None) -> str:
    """A claim on the Scoreboard and at the end of its chapter: a row with its name, value and both verdicts,
    then a row across the table with what the paper reported and, apart, where."""
    paper = Html(f"<span class='paper'>Paper: {html.escape(r.paper)}</span> · "
                 f"<span class='source'>{html.escape(r.source)}</span>")
    return (_row([r.name, _value(r, swept), _bar(r, swept), _reproduced(r, swept)], "claim")
            + f"<tr class='paper'><td colspan='{len(CLAIM_HEADER)}'>{paper}</td></tr>")


def _table(header: list[str], body: str, css_class: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    return f"<table class='{css_class}'><tr>{head}</tr>{body}</table>"


def _chapter_verdicts(claims: list[dict]) -> str:
    """'k of n' paper statements reproduced on every seed (and how many on some), n = claims with a statement."""
    stated = [c for c in claims if c.get("statement") is not None]
    if not stated:
        return "no published statement"
    every = sum(c["reproduced_on"] == c["n_seeds"] for c in stated)
    some = sum(0 < c["reproduced_on"] < c["n_seeds"] for c in stated)
    return f"{every} of {len(stated)}" + (f" ({some} on some seeds)" if some else "")


NAME_SHOWN = 40   # characters of a claim's name in the summary's "tightest bar" cell (the whole name on hover)


def _tightest(claims: list[dict]) -> str:
    """The claim whose worst seed lies closest to its bar, as distance / the margin the rule needs."""
    scored = [c for c in claims if "margin_distance" in c]
    if not scored:
        return "—"
    c = min(scored, key=lambda c: c["margin_distance"] / c["margin_needed"] if c["margin_needed"] else float("inf"))
    ok = "✅" if c.get("passed_all") and c.get("margin_ok") else "❌"
    name = c["name"] if len(c["name"]) <= NAME_SHOWN else c["name"][:NAME_SHOWN - 1].rstrip() + "…"
    return Html(f"{ok} {c['margin_distance']:.3g} / {c['margin_needed']:.3g} "
                f"<span class='claim-name' title='{html.escape(c['name'], quote=True)}'>({html.escape(name)})</span>")


def chapter_summary(srcdir: Path, title, link, results: Path = RESULTS) -> str:
    """One row per chapter: claims, paper statements reproduced on every seed and the tightest bar, per budget."""
    sweeps = {b: sweep_of(b, results) for b in ("smoke", "standard")}
    rows = []
    for _, docnames in chapters_by_part(srcdir / "_toc.yml"):
        for docname in (d for d in docnames if d.startswith("notebooks/")):
            chapter = docname.removeprefix("notebooks/")
            cells = [Html(f"<a href='{link(docname)}'>{html.escape(title(docname))}</a>")]
            for budget, sweep in sweeps.items():
                claims = list(sweep.get(chapter, {}).values())
                cells += ([str(len(claims)), _chapter_verdicts(claims), _tightest(claims)] if claims
                          else ["—", "no seed sweep", "—"])
            rows.append(_row(cells))
    header = ["chapter", "claims (smoke)", "paper reproduced, every seed (smoke)", "tightest bar (smoke)",
              "claims (standard)", "paper reproduced, every seed (standard)", "tightest bar (standard)"]
    return ("<h2>Chapter by chapter</h2><p>From the seed sweeps (5 seeds at smoke, 3 at standard). "
            "<em>Tightest bar</em>: the claim whose worst seed lies closest to its bar — that distance against the "
            "margin the calibration rule needs.</p>" + _table(header, "".join(rows), "scoreboard-summary"))


def render(records: list[Record], stops: list[Stop], srcdir: Path, title, link, results: Path = RESULTS) -> str:
    """HTML of the scoreboard: a summary line, the chapter-by-chapter table, then one table per part with a
    heading row per chapter and two rows per claim."""
    if not records and not stops:
        return ("<p><em>No claims recorded yet: the ledger is filled when the book is built with "
                "notebook execution (<code>make book</code>).</em></p>")
    budgets = sorted({r.budget for r in records})
    sweeps = {b: sweep_of(b, results) for b in budgets}
    stated = [r for r in records if r.statement is not None]
    reproduced = sum(bool(r.reproduced) for r in stated)
    calibrated = [b for b in budgets if sweeps[b]]
    out = [f"<p class='scoreboard-summary'><strong>{reproduced} of {len(stated)} paper statements reproduced</strong> "
           f"at budget {', '.join(budgets) or '—'}; {sum(r.passed for r in records)} of {len(records)} regression bars "
           f"pass; {len(records) - len(stated)} claims have no published statement. "
           + (f"Bars calibrated by the seed sweep of {', '.join(calibrated)}." if calibrated
              else "No seed sweep covers this budget: its bars are uncalibrated.") + "</p>",
           chapter_summary(srcdir, title, link, results), "<h2>Every claim of this build</h2>"]
    by_chapter: dict[str, list[Record]] = {}
    for record in records:
        by_chapter.setdefault(record.chapter, []).append(record)
    stopped = {s.chapter: s.error for s in stops}
    for caption, docnames in chapters_by_part(srcdir / "_toc.yml"):
        body = []
        for docname in docnames:
            chapter = docname.removeprefix("notebooks/")
            chapter_records = by_chapter.get(chapter, [])
            if not chapter_records and chapter not in stopped:
                continue
            body.append(f"<tr class='chapter'><th colspan='{len(CLAIM_HEADER)}'>"
                        f"<a href='{link(docname)}'>{html.escape(title(docname))}</a></th></tr>")
            for r in chapter_records:
                body.append(_claim_rows(r, sweeps.get(r.budget, {}).get(chapter, {}).get(r.name)))
            if chapter in stopped:
                seen = {r.name for r in chapter_records}
                missing = [n for b in budgets for n in sweeps[b].get(chapter, {}) if n not in seen]
                body.append(_row([Html(f"<strong>stopped</strong>: {html.escape(stopped[chapter])}"),
                                  "not reached: " + ("; ".join(missing) if missing else "(no sweep lists them)"),
                                  "❌ stopped", "—"], "claim"))
        if body:
            out.append(f"<h3>{caption}</h3>" + _table(CLAIM_HEADER, "".join(body), "scoreboard"))
    return "\n".join(out)


def chapter_claims(chapter: str, records: list[Record], scoreboard_uri: str, results: Path = RESULTS) -> str:
    """The end of a chapter page: its Scoreboard rows — each claim's value, seed range and both verdicts."""
    mine = [r for r in records if r.chapter == chapter]
    if not mine:
        return ""
    budgets = sorted({r.budget for r in mine})
    swept = {b: sweep_of(b, results).get(chapter, {}) for b in budgets}
    body = "".join(_claim_rows(r, swept[r.budget].get(r.name)) for r in mine)
    return (f"<h2>How this chapter fared</h2><p>Its rows of the <a href='{scoreboard_uri}'>Scoreboard</a>, "
            f"from this build at budget {', '.join(budgets)}.</p>"
            + _table(CLAIM_HEADER, body, "scoreboard chapter-claims"))


def add_chapter_claims(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    section = next(iter(doctree.findall(nodes.section)), None)
    if docname.startswith("notebooks/") and section is not None:
        text = chapter_claims(docname.removeprefix("notebooks/"), read_ledger(),
                              app.builder.get_relative_uri(docname, "book/scoreboard"))
        if text:
            section.append(nodes.raw("", text, format="html"))


def fill_placeholders(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for node in list(doctree.findall(scoreboard_placeholder)):
        def link(target: str) -> str:
            return app.builder.get_relative_uri(docname, target)

        def title(target: str) -> str:
            found = app.env.titles.get(target)
            return found.astext() if found is not None else target

        text = render(read_ledger(), read_stops(), Path(app.srcdir), title, link)
        node.replace_self(nodes.raw("", text, format="html"))


def reread_scoreboard(app: Sphinx, env, added, changed, removed) -> list[str]:
    return [name for name in env.found_docs if name.endswith("scoreboard")]


def setup(app: Sphinx) -> dict:
    app.add_node(scoreboard_placeholder)
    app.add_directive("scoreboard", ScoreboardDirective)
    app.connect("doctree-resolved", fill_placeholders)
    app.connect("doctree-resolved", add_chapter_claims)
    app.connect("env-get-outdated", reread_scoreboard)
    return {"version": "2.1", "env_version": 2, "parallel_read_safe": True, "parallel_write_safe": True}
