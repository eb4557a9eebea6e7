"""Sphinx extension: the ``{scoreboard}`` directive renders the claims ledger as tables, one per part.

The directive leaves a placeholder that is filled when pages are written, i.e. after every
notebook has been executed, so the table shows the claims of this build. The page holding it
is re-read on every build.
"""
from __future__ import annotations

import html
import json
from pathlib import Path

import yaml
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from utils.claims import Record, read_ledger


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


def notebook_title(path: Path) -> str:
    """The text of the notebook's first ``# Title`` line, or its file name."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        first = "".join(cells[0]["source"]).lstrip()
        return first.splitlines()[0].lstrip("# ").strip()
    except (OSError, ValueError, KeyError, IndexError):
        return path.stem


def render(records: list[Record], srcdir: Path, link) -> str:
    """HTML of the scoreboard: one table per part, a row per claim."""
    if not records:
        return ("<p><em>No claims recorded yet: the ledger is filled when the book is built with "
                "notebook execution (<code>make book</code>).</em></p>")
    by_chapter: dict[str, list[Record]] = {}
    for record in records:
        by_chapter.setdefault("notebooks/" + record.chapter, []).append(record)
    passed = sum(r.passed for r in records)
    out = [f"<p class='scoreboard-summary'>{passed} of {len(records)} claims pass.</p>"]
    head = ("<tr><th>chapter</th><th>claim</th><th>paper (source)</th><th>measured</th><th>threshold</th>"
            "<th>budget</th><th>device</th><th>time (s)</th><th>result</th></tr>")
    for caption, docnames in chapters_by_part(srcdir / "_toc.yml"):
        rows = []
        for docname in docnames:
            title = html.escape(notebook_title(srcdir / (docname + ".ipynb")))
            for r in by_chapter.get(docname, []):
                verdict = "✅ pass" if r.passed else "❌ fail"
                cells = [f"<a href='{link(docname)}'>{title}</a>", html.escape(r.name),
                         html.escape(f"{r.paper} ({r.source})"), html.escape(f"{r.measured:.4g} {r.unit}".strip()),
                         html.escape(r.comparison), r.budget, html.escape(r.device), f"{r.seconds:.1f}", verdict]
                rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        if rows:
            out.append(f"<h2>{html.escape(caption)}</h2><table class='scoreboard'>{head}{''.join(rows)}</table>")
    return "\n".join(out)


def fill_placeholders(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for node in list(doctree.findall(scoreboard_placeholder)):
        def link(target: str) -> str:
            return app.builder.get_relative_uri(docname, target)

        text = render(read_ledger(), Path(app.srcdir), link)
        node.replace_self(nodes.raw("", text, format="html"))


def reread_scoreboard(app: Sphinx, env, added, changed, removed) -> list[str]:
    return [name for name in env.found_docs if name.endswith("scoreboard")]


def setup(app: Sphinx) -> dict:
    app.add_node(scoreboard_placeholder)
    app.add_directive("scoreboard", ScoreboardDirective)
    app.connect("doctree-resolved", fill_placeholders)
    app.connect("env-get-outdated", reread_scoreboard)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
