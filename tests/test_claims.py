import json
import subprocess
import sys

import nbformat
import pytest

from utils import claims


@pytest.fixture
def chapter(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_BUDGET", "smoke")
    return claims.Chapter("01_foundations/99_test", directory=tmp_path)


def test_a_claim_above_its_threshold_passes_and_is_recorded(chapter):
    record = chapter.claim("accuracy", 0.97, threshold=0.9, paper="99%", source="Someone 2020", show=False)
    assert record.passed and record.budget == "smoke" and record.device
    assert claims.read_ledger(chapter.directory) == [record]


def test_a_claim_below_its_threshold_fails_and_is_recorded(chapter):
    with pytest.raises(claims.ClaimFailed, match=r"measured 0.8, needed ≥ 0.9"):
        chapter.claim("accuracy", 0.8, threshold=0.9, paper="99%", source="Someone 2020", show=False)
    assert [r.passed for r in claims.read_ledger(chapter.directory)] == [False]


def test_lower_is_better(chapter):
    chapter.claim("error", 0.01, threshold=0.05, higher_is_better=False, paper="", source="", show=False)
    with pytest.raises(claims.ClaimFailed, match="≤ 0.05"):
        chapter.claim("error", 0.06, threshold=0.05, higher_is_better=False, paper="", source="", show=False)


def test_nan_never_passes(chapter):
    with pytest.raises(claims.ClaimFailed):
        chapter.claim("loss", float("nan"), threshold=1.0, higher_is_better=False, paper="", source="", show=False)


def test_non_numbers_are_rejected(chapter):
    with pytest.raises(TypeError, match="must be a number"):
        chapter.claim("x", "high", threshold=1.0, paper="", source="", show=False)


def test_reopening_a_chapter_clears_its_old_claims(chapter, tmp_path):
    chapter.claim("a", 1.0, threshold=0.0, paper="", source="", show=False)
    claims.Chapter("01_foundations/99_test", directory=tmp_path)
    assert claims.read_ledger(tmp_path) == []


def test_chapter_name_is_validated(tmp_path):
    with pytest.raises(ValueError, match="<part>/<NN_slug>"):
        claims.Chapter("backprop", directory=tmp_path)


def test_html_table(chapter):
    record = chapter.claim("a <b>", 1.0, threshold=0.5, paper="x", source="y", show=False)
    table = claims.html_table([record])
    assert "a &lt;b&gt;" in table and "pass" in table and "≥ 0.5" in table


def test_ledger_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_LEDGER_DIR", str(tmp_path))
    assert claims.ledger_dir() == tmp_path


def _notebook(path, measured):
    cells = [nbformat.v4.new_code_cell(
        "from utils import claims\n"
        "chapter = claims.Chapter('01_foundations/98_nbval')\n"
        f"chapter.claim('value', {measured}, threshold=0.5, paper='p', source='s')")]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.mark.parametrize("measured, fails", [(0.9, False), (0.1, True)])
def test_nbval_fails_exactly_when_a_claim_fails(tmp_path, root, measured, fails):
    path = tmp_path / "chapter.ipynb"
    _notebook(path, measured)
    env_ledger = tmp_path / "ledger"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "--nbval-lax", "-q", str(path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "BOOK_LEDGER_DIR": str(env_ledger), "PYTHONPATH": str(root)})
    assert (result.returncode != 0) == fails, result.stdout[-2000:]
    if fails:
        assert "ClaimFailed" in result.stdout
    records = [json.loads(line) for f in env_ledger.glob("*.jsonl") for line in f.read_text().splitlines()]
    assert [r["passed"] for r in records] == [not fails]
