"""What a reader gets on every chapter page, checked in the notebooks' sources (no execution needed):
exercises with collapsed solutions, numbered figures with captions and alt text, honest widgets, glossary links."""
import ast
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))
sys.path.insert(0, str(ROOT / "tools"))

import glossary  # noqa: E402

EXERCISE = re.compile(r"^:::\{exercise\}[^\n]*\n:label: (\S+)", re.M)
SOLUTION_START = re.compile(r"^:::\{solution-start\} (\S+)\n((?::\w[\w-]*:[^\n]*\n)*)", re.M)
SOLUTION_END = re.compile(r"^:::\{solution-end\}", re.M)
PLOTS = re.compile(r"\bplt\.(subplots|figure|show|imshow|plot)\(|\bplot\.\w+\(|\.imshow\(")
WIDGET = re.compile(r"widgets\.interact(?:_manual)?(?:\.options\([^)]*\))?\(\s*(\w+)")


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def pending(path: Path) -> bool:
    """A chapter not yet given its exercises, captions and static widget picture says so in its metadata
    (``"book": {"reader_pages_pending": true}``): its checks below are expected to fail, and pass once the
    flag is removed."""
    return bool(json.loads(path.read_text(encoding="utf-8"))["metadata"].get("book", {}).get("reader_pages_pending"))


def chapters(strict: bool = False):
    """Every chapter, those still pending marked as expected failures (``strict``: a pending chapter that passes
    is an error — its flag must go)."""
    return [pytest.param(p, id=p.stem, marks=[pytest.mark.xfail(strict=strict, reason="reader pages pending")]
                         if pending(p) else []) for p in NOTEBOOKS]


@pytest.mark.parametrize("path", chapters(strict=True))
def test_every_exercise_has_a_collapsed_solution(path):
    """`{exercise}` directives, each followed by its gated `{solution-start}` … `{solution-end}` with
    ``:class: dropdown``; code cells between them are the executed solution."""
    exercises, solved, open_solution, solution_code = [], [], None, 0
    for cell in cells(path):
        text = source(cell)
        if cell["cell_type"] == "code":
            solution_code += open_solution is not None
            continue
        events = sorted([(m.start(), "exercise", m.group(1), "") for m in EXERCISE.finditer(text)]
                        + [(m.start(), "start", m.group(1), m.group(2)) for m in SOLUTION_START.finditer(text)]
                        + [(m.start(), "end", "", "") for m in SOLUTION_END.finditer(text)])
        for _, kind, label, options in events:
            if kind == "exercise":
                assert open_solution is None, f"{path.name}: exercise {label} inside the solution of {open_solution}"
                exercises.append(label)
            elif kind == "start":
                assert open_solution is None, f"{path.name}: solution {label} opens inside {open_solution}"
                assert ":class: dropdown" in options, f"{path.name}: the solution of {label} is not collapsed"
                open_solution = label
            else:
                assert open_solution is not None, f"{path.name}: a solution-end without its start"
                solved.append(open_solution)
                open_solution = None
    assert open_solution is None, f"{path.name}: the solution of {open_solution} is never closed"
    assert len(exercises) >= 2, f"{path.name}: {len(exercises)} exercises"
    assert sorted(solved) == sorted(exercises), f"{path.name}: exercises {exercises}, solutions {solved}"
    assert all(label.startswith(f"ex-{path.stem[:2]}-") for label in exercises), f"{path.name}: labels {exercises}"
    assert solution_code >= 1, f"{path.name}: no solution computes anything"


def plotting_functions(sources: list[str]) -> set[str]:
    """Names of the functions a notebook defines that draw (directly, or through another one that draws)."""
    defs = {}
    for text in sources:
        for node in ast.parse(_python(text)).body:
            if isinstance(node, ast.FunctionDef):
                defs[node.name] = ast.get_source_segment(_python(text), node)
    drawing = {name for name, body in defs.items() if PLOTS.search(body)}
    for _ in range(3):
        drawing |= {name for name, body in defs.items() if any(re.search(rf"\b{f}\(", body) for f in drawing)}
    return drawing


def _python(text: str) -> str:
    return re.sub(r"^(\s*)[%!].*$", r"\1pass", text, flags=re.M)       # IPython magics


def draws(text: str, drawing: set[str]) -> bool:
    """Whether a cell's own statements (not the bodies of the functions it defines) draw a figure."""
    code = _python(text)
    top = [ast.get_source_segment(code, n) for n in ast.parse(code).body
           if not isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom))]
    return any(PLOTS.search(s) or any(re.search(rf"\b{f}\(", s) for f in drawing) for s in top)


@pytest.mark.parametrize("path", chapters())
def test_every_figure_has_a_numbered_caption_alt_text_and_a_reference(path):
    all_cells = cells(path)
    codes = [source(c) for c in all_cells if c["cell_type"] == "code"]
    prose = "\n".join(source(c) for c in all_cells if c["cell_type"] == "markdown")
    drawing = plotting_functions(codes)
    for cell in all_cells:
        text = source(cell)
        if cell["cell_type"] != "code" or WIDGET.search(text):
            continue
        figure = cell["metadata"].get("mystnb", {}).get("figure")
        if draws(text, drawing) or figure:
            where = f"{path.name}: the cell {text[:60]!r}"
            assert figure and figure.get("caption", "").strip(), f"{where} draws a figure without a caption"
            assert figure.get("name", "").startswith(f"fig-{path.stem[:2]}-"), f"{where}: name fig-{path.stem[:2]}-..."
            assert cell["metadata"]["mystnb"].get("image", {}).get("alt", "").strip(), f"{where} has no alt text"
            assert f"`{figure['name']}`" in prose, f"{path.name}: the prose never refers to {figure['name']}"


def test_figure_names_are_unique_in_the_book():
    names = [c["metadata"]["mystnb"]["figure"]["name"] for p in NOTEBOOKS for c in cells(p)
             if c["metadata"].get("mystnb", {}).get("figure", {}).get("name")]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})


@pytest.mark.parametrize("path", chapters())
def test_every_widget_comes_after_a_static_picture_of_one_setting(path):
    """On the static page a control is frozen: the code cells just before it (after the last Markdown cell) call its
    function once, or the notebook functions it calls, so the page shows a representative setting (the book's
    extension adds the note and the launch button under the control)."""
    all_cells, found = cells(path), 0
    bodies = {node.name: ast.get_source_segment(_python(text), node) for text in
              (source(c) for c in all_cells if c["cell_type"] == "code")
              for node in ast.parse(_python(text)).body if isinstance(node, ast.FunctionDef)}
    for i, cell in enumerate(all_cells):
        for function in (WIDGET.findall(source(cell)) if cell["cell_type"] == "code" else []):
            found += 1
            before = []
            for earlier in reversed(all_cells[:i]):
                if earlier["cell_type"] == "markdown":
                    break
                before.append(source(earlier))
            calls = {function} | {f for f in re.findall(r"\b(\w+)\(", bodies.get(function, "")) if f in bodies}
            assert any(re.search(rf"\b{f}\(", "\n".join(before)) for f in calls), \
                f"{path.name}: no static call of {function} before its widget"
    assert found, f"{path.name} has no interactive control"


def test_glossary_terms_are_linked_from_their_first_use():
    problems = glossary.check(glossary.terms(), NOTEBOOKS)
    assert not problems, "\n".join(problems[:20]) + "\n(`python tools/glossary.py --fix` links them)"
