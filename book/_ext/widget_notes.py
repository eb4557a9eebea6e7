"""Sphinx extension: under every interactive control of a chapter, a line saying that it responds only when
the notebook runs, with a button that opens the chapter in Colab.

On the static page a slider is frozen: what a reader sees is the chapter's picture at a representative
setting (the cell before the control, a numbered figure). The Colab address is the one of the page's launch
button: ``launch_buttons.colab_url``, ``repository.url`` and ``repository.branch`` of ``_config.yml``.
"""
from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
NOTE = "This control responds when the notebook runs; on this page it is frozen."


def colab_url(app: Sphinx, docname: str) -> str | None:
    """The address that opens ``docname``'s notebook in Colab, or None when the book names no Colab or repository."""
    options = app.config.html_theme_options
    colab = options.get("launch_buttons", {}).get("colab_url", "").strip("/")
    repository = options.get("repository_url", "").removeprefix("https://github.com/").strip("/")
    if not colab or not repository:
        return None
    return f"{colab}/github/{repository}/blob/{options.get('repository_branch', 'main')}/{docname}.ipynb"


def _cell_of(node: nodes.Node) -> nodes.Element | None:
    while node is not None and not (isinstance(node, nodes.container) and "cell" in node.get("classes", [])):
        node = node.parent
    return node


def note(url: str | None) -> nodes.container:
    paragraph = nodes.paragraph("", NOTE + " ")
    if url:
        paragraph += nodes.reference("", "Open in Colab", refuri=url, classes=["widget-note-launch"])
    return nodes.container("", paragraph, classes=["widget-note", "admonition", "tip"])


def add_widget_notes(app: Sphinx, doctree: nodes.document) -> None:
    docname = app.env.docname
    if not docname.startswith("notebooks/"):
        return
    cells = []
    for raw in doctree.findall(nodes.raw):
        cell = _cell_of(raw) if WIDGET_VIEW in raw.astext() else None
        if cell is not None and cell not in cells:
            cells.append(cell)
    for cell in cells:
        cell.parent.insert(cell.parent.index(cell) + 1, note(colab_url(app, docname)))


def setup(app: Sphinx) -> dict:
    app.connect("doctree-read", add_widget_notes)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
