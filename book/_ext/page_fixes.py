"""Sphinx extension: one fix to the pages Jupyter Book 1.x writes, so a browser shows no error.

Jupyter Book registers the Thebe configuration script twice, and a browser stops on
"Identifier 'THEBE_JS_URL' has already been declared": keep the first copy of each identical
script (same file, or same inline body — an inline script's file name is None or ""). (The theme's
colour mode is a stock setting: ``html_context: {default_mode: auto}`` in ``_config.yml``.)
"""
from __future__ import annotations

from sphinx.application import Sphinx


def drop_duplicate_scripts(context: dict) -> None:
    seen, kept = set(), []
    for script in context.get("script_files", []):
        key = (getattr(script, "filename", None) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def fix_page(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    drop_duplicate_scripts(context)


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", fix_page, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
