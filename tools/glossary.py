"""Keep every chapter's first use of a glossary term linked to the glossary (``book/glossary.md``).

    python tools/glossary.py          # list the first uses that are not links; exit 1 if any
    python tools/glossary.py --fix    # turn each of them into {term}`...` in the notebook

A term's *first use* in a chapter is its first occurrence in the chapter's Markdown prose, in reading order,
outside headings, math, code, links, directive lines and other roles; a plural ("embeddings") counts.
Terms with capitals after the first letter (ReLU, GAN) match with their case, the others in any case.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "book" / "glossary.md"

# Text that is not prose: a use inside it neither counts nor can be linked.
NOT_PROSE = re.compile(
    r"^#.*$"                           # headings
    r"|\$\$[\s\S]*?\$\$|\$[^$]+\$"     # display and inline math (inline math may wrap a line)
    r"|\\begin\{(\w+\*?)\}[\s\S]*?\\end\{\1\}"   # amsmath environments
    r"|```[\s\S]*?```|`[^`\n]*`"       # code (a role's target included)
    r"|\{\w[\w:-]*\}`[^`]*`"           # roles: {cite}`...`, {numref}`...`, {term}`...`
    r"|\[[^\]\n]*\]\([^)\n]*\)"        # links
    r"|^:::.*$|^:\w[\w-]*:.*$"         # directive fences and options
    r"|<[^>\n]+>",                     # HTML tags
    re.M)
TERM_ROLE = re.compile(r"\{term\}`([^`<]*?)(?:\s*<([^>`]+)>)?`")


def terms(glossary: Path = GLOSSARY) -> list[str]:
    """The terms of the glossary page: the unindented lines inside its ``{glossary}`` directive."""
    text = glossary.read_text(encoding="utf-8")
    body = re.search(r"^:::\{glossary\}\n(.*?)^:::$", text, re.M | re.S)
    if body is None:
        raise ValueError(f"{glossary} has no :::{{glossary}} block")
    return [line.strip() for line in body.group(1).splitlines()
            if line.strip() and not line[0].isspace() and not line.startswith(":")]


def _pattern(term: str) -> re.Pattern:
    flags = 0 if any(c.isupper() for c in term[1:]) else re.I
    return re.compile(rf"(?<![\w-]){re.escape(term)}(?:e?s)?(?![\w-])", flags)


def _prose_spans(text: str) -> list[tuple[int, int]]:
    """The stretches of ``text`` between the non-prose parts."""
    spans, last = [], 0
    for m in NOT_PROSE.finditer(text):
        spans.append((last, m.start()))
        last = m.end()
    return spans + [(last, len(text))]


def first_uses(term: str, cells: list[str]) -> tuple[tuple[int, int, int] | None, bool]:
    """(cell index, start, end) of ``term``'s first plain use, and whether a {term} link to it comes earlier."""
    pattern, key = _pattern(term), term.lower()
    for index, text in enumerate(cells):
        linked = [m.start() for m in TERM_ROLE.finditer(text)
                  if (m.group(2) or m.group(1)).strip().lower() == key]
        plain = [(m.start(), m.end()) for s, e in _prose_spans(text) for m in pattern.finditer(text, s, e)]
        if linked and (not plain or min(linked) < plain[0][0]):
            return None, True
        if plain:
            return (index, *plain[0]), False
    return None, False


def markdown_cells(notebook: dict) -> list[dict]:
    return [c for c in notebook["cells"] if c["cell_type"] == "markdown"]


def check(glossary_terms: list[str], notebooks: list[Path]) -> list[str]:
    """'<chapter>: "<term>" first used unlinked: "…context…"' for every such first use."""
    problems = []
    for path in notebooks:
        cells = ["".join(c["source"]) for c in markdown_cells(json.loads(path.read_text(encoding="utf-8")))]
        for term in glossary_terms:
            use, _ = first_uses(term, cells)
            if use is not None:
                index, start, end = use
                context = cells[index][max(0, start - 30):end + 30].replace("\n", " ")
                problems.append(f"{path.stem}: {term!r} first used unlinked: …{context}…")
    return problems


def fix(glossary_terms: list[str], path: Path) -> int:
    """Link each term's first use in ``path``; return how many links were added."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cells = markdown_cells(notebook)
    added = 0
    for term in sorted(glossary_terms, key=len, reverse=True):       # "learning rate" before "rate"
        texts = ["".join(c["source"]) for c in cells]
        use, _ = first_uses(term, texts)
        if use is None:
            continue
        index, start, end = use
        word = texts[index][start:end]
        link = f"{{term}}`{word}`" if word.lower() == term.lower() else f"{{term}}`{word} <{term}>`"
        new = texts[index][:start] + link + texts[index][end:]
        cells[index]["source"] = new.splitlines(keepends=True)
        added += 1
    if added:
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return added


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fix", action="store_true", help="link every unlinked first use")
    args = parser.parse_args()
    notebooks = sorted((ROOT / "notebooks").glob("*/*.ipynb"))
    glossary_terms = terms()
    if args.fix:
        for path in notebooks:
            print(f"{path.stem}: {fix(glossary_terms, path)} links added")
        return 0
    problems = check(glossary_terms, notebooks)
    print("\n".join(problems) or "every first use is linked")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
