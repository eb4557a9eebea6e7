"""The book's structure builds without warnings, and the Scoreboard renders the ledger."""
import subprocess
import sys
from pathlib import Path

from utils import claims

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import scoreboard  # noqa: E402


def record(chapter: str, passed: bool = True) -> claims.Record:
    return claims.Record(chapter=chapter, name="speed-up", measured=3.5, threshold=2.0, higher_is_better=True,
                         paper="6x", source="Krizhevsky et al. 2012", unit="×", budget="smoke", device="cpu",
                         seconds=12.0, passed=passed)


def test_scoreboard_groups_claims_by_part():
    records = [record("02_milestones/04_alexnet_relu_dropout"),
               record("01_foundations/01_backprop_from_scratch", passed=False)]
    page = scoreboard.render(records, ROOT, lambda docname: docname + ".html")
    assert page.index("Part 1") < page.index("Part 2")
    assert "1 of 2 claims pass" in page and page.count("<tr>") == 4
    assert "notebooks/02_milestones/04_alexnet_relu_dropout.html" in page
    assert "AlexNet" in page and "3.5 ×" in page and "❌ fail" in page


def test_empty_ledger_says_how_to_fill_it():
    assert "make book" in scoreboard.render([], ROOT, str)


def test_every_toc_chapter_is_in_a_part():
    files = [f for _, docs in scoreboard.chapters_by_part(ROOT / "_toc.yml") for f in docs]
    for nb in (ROOT / "notebooks").rglob("*.ipynb"):
        assert nb.relative_to(ROOT).with_suffix("").as_posix() in files


def snapshot() -> dict[str, float]:
    """Modification times of every file outside _build/ and .venv/."""
    skip = {"_build", ".venv", ".git"}
    return {str(p.relative_to(ROOT)): p.stat().st_mtime for p in ROOT.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(ROOT).parts) and "__pycache__" not in p.parts}


def test_clean_removes_only_build_outputs():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nclean:")[1].strip().splitlines()[0].strip()
    assert recipe == "rm -rf _build"


def test_book_structure_builds_without_warnings():
    before = snapshot()
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py"), "--structure"],
                            cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    html = ROOT / "_build" / "structure" / "_build" / "html"
    assert (html / "index.html").is_file() and (html / "book" / "scoreboard.html").is_file()
    for nb in (ROOT / "notebooks").rglob("*.ipynb"):
        assert (html / nb.relative_to(ROOT).with_suffix(".html")).is_file()
    assert snapshot() == before, "the build wrote or changed files outside _build/"
