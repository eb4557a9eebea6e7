"""The executed book, opened in headless Chromium as a reader would: pages, figures, math, links, Scoreboard."""
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser import check_book, find_chromium, prose_in_math  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "browser"
HTML = OUT / "_build" / "html"
ARTIFACTS = ROOT / "_build" / "test-artifacts"
sys.path.insert(0, str(ROOT / "book" / "_ext"))
sys.path.insert(0, str(ROOT / "tools"))

import build_book  # noqa: E402
import scoreboard  # noqa: E402

from utils import claims  # noqa: E402


def toc_pages() -> list[str]:
    files = ["book/intro"] + [f for _, docs in scoreboard.chapters_by_part(ROOT / "_toc.yml") for f in docs]
    return [f + ".html" for f in files]


EXECUTE = os.environ.get("BOOK_BROWSER_EXECUTE") == "1"
# Without BOOK_BROWSER_EXECUTE (``make test``) one chapter is executed, the others are rendered unexecuted.
SAMPLE_CHAPTER = "notebooks/01_foundations/01_backprop_from_scratch"
SAMPLE = ROOT / "_build" / "browser-sample"
# where the build under test reads its claims (tools/build_book.py sets BOOK_LEDGER_DIR to these)
LEDGER = build_book.ledger_folder(build_book.cache_folder("smoke")) if EXECUTE else SAMPLE / "claims"


def executed(page: str) -> bool:
    """Whether the build under test executed this page's notebook."""
    return page.startswith("notebooks/") and (EXECUTE or page == SAMPLE_CHAPTER + ".html")


def sample_ledger(directory: Path) -> list[claims.Record]:
    """For each unexecuted chapter of the toc, its claims as the committed smoke seed sweep has them (the value
    of its first seed), written where the build reads the ledger: the Scoreboard shows the real names, papers
    and sources at their real lengths. A chapter that no sweep covers gets one sample claim."""
    directory.mkdir(parents=True, exist_ok=True)
    sweep = json.loads((ROOT / "book" / "results" / "seeds-smoke.json").read_text())["chapters"]
    records = []
    for rel in toc_pages():
        if rel.startswith("notebooks/") and not executed(rel):
            chapter = rel.removeprefix("notebooks/").removesuffix(".html")
            ledger = claims.Chapter(chapter, directory=directory)
            swept = sweep.get(chapter, {}).get("claims") or [dict(
                name="sample claim", values=[1.0], bar=0.5, higher_is_better=True, statement=[0.9, None],
                paper="p", source="s", unit="")]
            for c in swept:
                statement = None if c["statement"] is None else claims.Statement(*c["statement"])
                ledger.claim(c["name"], c["values"][0], bar=c["bar"], higher_is_better=c["higher_is_better"],
                             statement=statement, paper=c["paper"], source=c["source"], unit=c["unit"], show=False)
            records += ledger.records
    return records


@pytest.fixture(scope="module")
def built_book() -> Path:
    """The book as a reader gets it. By default the structure build with one chapter executed at the
    smoke budget and a sample ledger for the others; with BOOK_BROWSER_EXECUTE=1 (``make browser``)
    every chapter executed at the smoke budget."""
    if EXECUTE:
        command, output = ["--budget", "smoke", "--output", str(OUT)], HTML
    else:
        sample_ledger(LEDGER)
        command = ["--structure", "--execute-only", SAMPLE_CHAPTER + ".ipynb", "--output", str(SAMPLE)]
        output = SAMPLE / "_build" / "html"
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py"), *command],
                            cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return output


def test_every_page_loads_with_its_figures_math_and_links(built_book):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages = toc_pages()
    chapter = SAMPLE_CHAPTER + ".html"               # executed in both modes: the screenshot shows figures
    pages = [p for p in pages if p != chapter] + [chapter]
    results = check_book(built_book, pages, screenshot=ARTIFACTS / "chapter.png")
    problems = [f"{r['url']}: {e}" for r in results for e in r["errors"]]
    assert not problems, "\n".join(problems)
    for page, r in zip(pages, results):
        if executed(page):
            assert r["images"] >= 2, f"{r['url']}: {r['images']} figures"
    assert any(r["math"] for r in results if "01_backprop" in r["url"]), "the backprop chapter shows no math"
    assert (ARTIFACTS / "chapter.png").stat().st_size > 10_000


def test_every_chapter_page_shows_its_cost_box_and_ends_with_its_claims(built_book):
    for page in (p for p in toc_pages() if p.startswith("notebooks/")):
        text = (built_book / page).read_text()
        article = text.index("<article")
        box, first_heading = text.find("What this chapter costs", article), text.find("<h2", article)
        assert box > 0, f"{page} has no cost box"
        assert first_heading < 0 or box < first_heading, f"{page}: the cost box is not under the title"
        assert "How this chapter fared" in text, f"{page} does not end with its claims"


def test_scoreboard_has_a_row_per_claim(built_book):
    entries = [json.loads(line) for f in LEDGER.glob("*.jsonl") for line in f.read_text().splitlines()]
    claims = [e for e in entries if e["kind"] == "claim"]
    assert not [e for e in entries if e["kind"] == "stop"], "a chapter stopped"
    chapters = {c["chapter"] for c in claims}
    assert chapters == {p.removeprefix("notebooks/").removesuffix(".html") for p in toc_pages() if p.startswith("notebooks/")}
    page = (built_book / "book" / "scoreboard.html").read_text()
    detail = [t.split("</table>")[0] for t in page.split("<table class='scoreboard'>")[1:]]
    assert sum(t.count("<tr class='claim'>") for t in detail) == len(claims)
    for claim in claims:
        assert html.escape(claim["name"]) in page


def test_widget_state_is_saved_in_the_executed_pages(built_book):
    pages = [rel for rel in toc_pages() if executed(rel)]
    assert pages, "no executed chapter to check"
    for rel in pages:
        notebook = ROOT / rel.replace(".html", ".ipynb")
        if "widgets.interact" in notebook.read_text():
            page = (built_book / rel).read_text()
            assert "application/vnd.jupyter.widget-state+json" in page, rel


def test_every_widget_of_an_executed_page_says_it_is_frozen_with_a_launch_button(built_book):
    for rel in (r for r in toc_pages() if executed(r)):
        page = (built_book / rel).read_text()
        widgets = page.count('<script type="application/vnd.jupyter.widget-view+json">')
        notes = re.findall(r"widget-note.*?</div>", page, re.S)
        assert widgets and len(notes) == widgets, f"{rel}: {widgets} widgets, {len(notes)} notes"
        assert all("responds when the notebook runs" in n and "colab.research.google.com" in n for n in notes), rel


SEED_RANGE = re.compile(r"\(\d+ seeds: [^)]*\)")


def appearances(value: float, text: str) -> int:
    """How often ``value`` is written in ``text``, in the forms a chapter prints it (4 or 3 significant digits)."""
    forms = {f"{value:.4g}", f"{value:.3g}"}
    return max(len(re.findall(rf"(?<![\d.]){re.escape(form)}(?![\d])", text)) for form in forms)


def test_a_claims_value_appears_at_most_twice_on_its_page(built_book):
    """Its claim cell and the chapter's closing summary; a print that repeats it would be a third time."""
    ledger = [json.loads(line) for f in LEDGER.glob("*.jsonl") for line in f.read_text().splitlines()]
    for rel in (r for r in toc_pages() if executed(r)):
        chapter = rel.removeprefix("notebooks/").removesuffix(".html")
        page = (built_book / rel).read_text()
        text = SEED_RANGE.sub("", html.unescape(re.sub(r"<[^>]+>", " ", page[page.index("<article"):])))
        for claim in (e for e in ledger if e["kind"] == "claim" and e["chapter"] == chapter):
            if abs(claim["measured"]) >= 1e-3 and len(f"{claim['measured']:.3g}") >= 3:   # a distinctive number
                n = appearances(claim["measured"], text)
                assert n <= 2, f"{rel}: {claim['name']!r} = {claim['measured']:.4g} appears {n} times"


def test_the_checker_catches_a_broken_page(tmp_path):
    (tmp_path / "good.html").write_text("<html><body><main><p>fine</p><a href='good.html'>self</a></main></body></html>")
    (tmp_path / "bad.html").write_text(
        "<html><body><main><img src='missing.png'><a href='nowhere.html'>dead</a>"
        "<script>undefinedFunction()</script></main></body></html>")
    good, bad = check_book(tmp_path, ["good.html", "bad.html"])
    assert good["errors"] == []
    text = " ".join(bad["errors"])
    assert "broken image" in text and "dead link" in text and "script error" in text


def test_the_checker_catches_a_figure_without_alt_an_open_solution_and_a_tall_cell(tmp_path):
    long = " ".join(["a paper value that goes on and on"] * 12)
    (tmp_path / "page.html").write_text(
        "<html><body><main><article>"
        "<img src='data:image/gif;base64,R0lGODlhAQABAAAAACw=' alt='../_images/plot.png'>"
        "<div class='exercise admonition' id='ex-01-one'><p class='admonition-title'>Exercise 1</p></div>"
        "<div class='solution dropdown admonition'><p class='admonition-title'><a href='#ex-01-one'>Solution</a></p>"
        "<section><p>shown</p></section></div>"
        "<div class='exercise admonition' id='ex-01-two'><p class='admonition-title'>Exercise 2</p></div>"
        f"<table class='scoreboard' style='width: 300px'><tr><td>{long}</td></tr></table>"
        "</article></main></body></html>")
    (result,) = check_book(tmp_path, ["page.html"])
    text = " ".join(result["errors"])
    assert "without alt text" in text and "ex-01-one has no collapsed solution" in text
    assert "ex-01-two has no collapsed solution" in text and "wraps to" in text


def test_prose_typeset_as_math_is_caught():
    run_on = ('<p>a <span class="math notranslate nohighlight">\\(x\\) is the input and the output of '
              'the layer is \\(y\\)</span> end</p>')
    fine = ('<span class="math notranslate nohighlight">\\(\\mathrm{softmax}(QK^\\top / \\sqrt{d_k}) V, '
            '\\text{where the mask hides the future}\\)</span>'
            '<div class="math notranslate nohighlight">\\[y = \\gamma \\hat x + \\beta\\]</div>')
    assert prose_in_math(run_on) and not prose_in_math(fine)


def test_a_missing_browser_is_an_error_that_says_how_to_get_one(monkeypatch, tmp_path):
    monkeypatch.setenv("BOOK_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(FileNotFoundError, match="snap install chromium"):
        find_chromium()
    browser = tmp_path / "chrome"
    browser.write_text("")
    monkeypatch.setenv("BOOK_CHROMIUM", str(browser))
    assert find_chromium() == str(browser)
