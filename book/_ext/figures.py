"""Sphinx extension: every figure of a chapter has a caption and alt text, or the build fails.

A figure comes from a code cell's metadata (myst-nb)::

    "mystnb": {"figure": {"caption": "...", "name": "fig-09-rates"}, "image": {"alt": "..."}}

which numbers it (``numfig``) and lets the prose refer to it with ``{numref}`fig-09-rates```. An image of a
notebook without a caption or without alt text is a warning, and ``make book`` / ``make test`` build with
warnings as errors.

A chapter built without executing it (``tools/build_book.py --structure``) has no figures: a ``{numref}`` to one
of its own figures is then left as plain text instead of a missing reference.
"""
from __future__ import annotations

import json
from fnmatch import fnmatch
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def figure_problems(doctree: nodes.document) -> list[tuple[nodes.image, str]]:
    """Each image of ``doctree`` that has no alt text or stands outside a captioned figure, with what it lacks."""
    problems = []
    for image in doctree.findall(nodes.image):
        figure = image.parent
        while figure is not None and not isinstance(figure, (nodes.figure, nodes.section)):
            figure = figure.parent                # myst-nb wraps the image in a mime bundle's containers
        figure = figure if isinstance(figure, nodes.figure) else None
        lacks = [what for what, missing in (
            ("alt text", not image.get("alt", "").strip()),
            ("a caption", figure is None or not any(isinstance(c, nodes.caption) for c in figure.children)))
            if missing]
        if lacks:
            problems.append((image, " and ".join(lacks)))
    return problems


def _notebook(app: Sphinx, docname: str) -> dict:
    return json.loads(Path(app.env.doc2path(docname)).read_text(encoding="utf-8"))


def pending(app: Sphinx, docname: str) -> bool:
    """A chapter whose captions are still to be written says so (``"book": {"reader_pages_pending": true}`` in
    its metadata; ``tests/test_pages.py`` lists it as an expected failure until the flag goes)."""
    return bool(_notebook(app, docname).get("metadata", {}).get("book", {}).get("reader_pages_pending"))


def check_figures(app: Sphinx, doctree: nodes.document) -> None:
    if not app.env.docname.startswith("notebooks/") or pending(app, app.env.docname):
        return
    for image, lacks in figure_problems(doctree):
        logger.warning(f"a figure without {lacks} (set the cell's metadata mystnb.figure.caption and "
                       f"mystnb.image.alt)", location=image)


def executed(app: Sphinx, docname: str) -> bool:
    """Whether ``docname``'s page shows outputs: this build executes its notebook (myst-nb's execution mode and
    exclude patterns), or the notebook was saved with them."""
    path = str(app.env.doc2path(docname, False))
    if app.config.nb_execution_mode != "off" and not any(
            fnmatch(path, pattern) for pattern in app.config.nb_execution_excludepatterns):
        return True
    return any(cell.get("outputs") for cell in _notebook(app, docname).get("cells", []))


def unexecuted_figure(app: Sphinx, env, node: nodes.Element, contnode: nodes.Element) -> nodes.Element | None:
    """A reference to a figure of a chapter this build does not execute: its text, unlinked."""
    if (node.get("reftype") == "numref" and node.get("reftarget", "").startswith("fig-")
            and node.get("refdoc", "").startswith("notebooks/") and not executed(app, node["refdoc"])):
        return contnode
    return None


def setup(app: Sphinx) -> dict:
    app.connect("doctree-read", check_figures)
    app.connect("missing-reference", unexecuted_figure)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
