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


def test_a_claim_above_its_bar_passes_and_is_recorded(chapter):
    chapter.claim("accuracy", 0.97, bar=0.9, statement=claims.at_least(0.95), paper="99%", source="Someone 2020",
                  show=False)
    [record] = claims.read_ledger(chapter.directory)
    assert record == chapter.records[0]
    assert record.passed and record.reproduced and record.budget == "smoke" and record.device
    assert record.statement == (0.95, None) and record.statement_text == "≥ 0.95"


def test_a_claim_below_its_bar_fails_and_is_recorded(chapter):
    with pytest.raises(claims.ClaimFailed, match=r"measured 0.8, needed ≥ 0.9"):
        chapter.claim("accuracy", 0.8, bar=0.9, statement=None, paper="99%", source="Someone 2020", show=False)
    assert [r.passed for r in claims.read_ledger(chapter.directory)] == [False]


def test_a_bar_that_passes_against_the_papers_statement_is_not_reproduced(chapter):
    """A regression bar may guard a result contrary to the paper: it passes, and says so."""
    chapter.claim("Transformer / LSTM", 1.07, bar=1.12, higher_is_better=False, statement=claims.at_most(1.0),
                  paper="Transformer ahead", source="Vaswani et al. 2017", show=False)
    [record] = claims.read_ledger(chapter.directory)
    assert record.passed and record.reproduced is False and record.reproduced_text == "no"


def test_a_claim_without_published_statement_says_so(chapter):
    chapter.claim("gradient check", 1e-10, bar=1e-6, higher_is_better=False, statement=None, paper="", source="",
                  show=False)
    assert chapter.records[0].reproduced is None
    assert chapter.records[0].reproduced_text == "no published statement"


def test_statements():
    assert claims.between(10, 20).holds(14.8) and not claims.between(10, 20).holds(9)
    assert str(claims.between(10, 20)) == "in [10, 20]" and str(claims.at_most(1)) == "≤ 1"
    assert not claims.at_least(0).holds(float("nan"))
    with pytest.raises(ValueError):
        claims.between(2, 1)


def test_the_statement_is_required(chapter):
    with pytest.raises(TypeError):
        chapter.claim("x", 1.0, bar=0.5, paper="", source="", show=False)
    with pytest.raises(TypeError, match="statement"):
        chapter.claim("x", 1.0, bar=0.5, statement=1.0, paper="", source="", show=False)


def test_lower_is_better(chapter):
    chapter.claim("error", 0.01, bar=0.05, higher_is_better=False, statement=None, paper="", source="", show=False)
    with pytest.raises(claims.ClaimFailed, match="≤ 0.05"):
        chapter.claim("error", 0.06, bar=0.05, higher_is_better=False, statement=None, paper="", source="",
                      show=False)


def test_nan_never_passes(chapter):
    with pytest.raises(claims.ClaimFailed):
        chapter.claim("loss", float("nan"), bar=1.0, higher_is_better=False, statement=None, paper="", source="",
                      show=False)


def test_non_numbers_are_rejected(chapter):
    with pytest.raises(TypeError, match="must be a number"):
        chapter.claim("x", "high", bar=1.0, statement=None, paper="", source="", show=False)


def test_a_stop_is_recorded(chapter):
    chapter.stop("ValueError: boom")
    assert claims.read_stops(chapter.directory) == [claims.Stop("01_foundations/99_test", "ValueError: boom")]
    assert claims.read_ledger(chapter.directory) == []


def test_the_calibration_mode_records_without_stopping(chapter, monkeypatch):
    monkeypatch.setenv("BOOK_CALIBRATE", "1")
    chapter.claim("accuracy", 0.1, bar=0.9, statement=None, paper="", source="", show=False)
    assert [r.passed for r in claims.read_ledger(chapter.directory)] == [False]


def test_reopening_a_chapter_clears_its_old_claims(chapter, tmp_path):
    chapter.claim("a", 1.0, bar=0.0, statement=None, paper="", source="", show=False)
    claims.Chapter("01_foundations/99_test", directory=tmp_path)
    assert claims.read_ledger(tmp_path) == []


def test_chapter_name_is_validated(tmp_path):
    with pytest.raises(ValueError, match="<part>/<NN_slug>"):
        claims.Chapter("backprop", directory=tmp_path)


def test_html_table(chapter):
    chapter.claim("a <b>", 1.0, bar=0.5, statement=None, paper="x", source="y", show=False)
    table = claims.record_table(chapter.records)
    assert "a &lt;b&gt;" in table and "pass" in table and "≥ 0.5" in table and "no published statement" in table
    assert "<a href='x'>" in claims.html_table(["h"], [[claims.Html("<a href='x'>")]])


def test_ledger_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_LEDGER_DIR", str(tmp_path))
    assert claims.ledger_dir() == tmp_path


def _notebook(path, measured):
    cells = [nbformat.v4.new_code_cell(
        "from utils import setup\n"
        "chapter = setup('01_foundations/98_nbval')\n"
        f"chapter.claim('value', {measured}, bar=0.5, statement=None, paper='p', source='s')")]
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
    entries = [json.loads(line) for f in env_ledger.glob("*.jsonl") for line in f.read_text().splitlines()]
    assert [e["passed"] for e in entries if e["kind"] == "claim"] == [not fails]
    assert [e["kind"] for e in entries] == (["claim", "stop"] if fails else ["claim"])
