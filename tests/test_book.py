"""The book's structure builds without warnings, and the Scoreboard renders the ledger."""
import json
import subprocess
import sys
from pathlib import Path

from utils import claims

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import scoreboard  # noqa: E402


def record(chapter: str, passed: bool = True, measured: float = 3.5, statement=(1.0, None), name="speed-up"
           ) -> claims.Record:
    reproduced = None if statement is None else claims.Statement(*statement).holds(measured)
    return claims.Record(chapter=chapter, name=name, measured=measured, bar=2.0, higher_is_better=True,
                         statement=statement, paper="6x", source="Krizhevsky et al. 2012", unit="×", budget="smoke",
                         seed=0, device="cpu", seconds=12.0, passed=passed, reproduced=reproduced)


def render(records, stops=(), results=None):
    return scoreboard.render(records, list(stops), ROOT, lambda d: d.split("/")[-1], lambda d: d + ".html",
                             results=results or ROOT / "no-results")


def test_scoreboard_groups_claims_by_part():
    records = [record("02_milestones/04_alexnet_relu_dropout"),
               record("01_foundations/01_backprop_from_scratch", passed=False)]
    page = render(records)
    assert page.index("Part 1") < page.index("Part 2")
    assert "2 of 2 paper statements reproduced" in page and "1 of 2 regression bars pass" in page
    detail = [t.split("</table>")[0] for t in page.split("<table class='scoreboard'>")[1:]]
    assert len(detail) == 2 and sum(t.count("<tr class='claim'>") for t in detail) == 2
    assert all(t.count("<tr class='chapter'>") == 1 and t.count("<tr class='paper'>") == 1 for t in detail)
    assert "Paper: 6x</span> · <span class='source'>Krizhevsky et al. 2012" in page
    assert "notebooks/02_milestones/04_alexnet_relu_dropout.html" in page
    assert "04_alexnet_relu_dropout" in page and "3.5 ×" in page and "❌ FAIL" in page and "uncalibrated" in page


def test_a_passing_bar_against_the_paper_is_rendered_not_reproduced():
    page = render([record("02_milestones/11_transformer", measured=1.07, statement=(None, 1.0))])
    assert "0 of 1 paper statements reproduced" in page and "not reproduced" in page and "✅ pass" in page


def test_seed_ranges_come_from_the_sweep(tmp_path):
    sweep = {"budget": "smoke", "margin_rule": "r", "chapters": {"02_milestones/04_alexnet_relu_dropout": {
        "runs": [{"seed": s} for s in range(5)],
        "claims": [{"name": "speed-up", "min": 2.5, "max": 4.25, "reproduced_on": 5}]}}}
    (tmp_path / "seeds-smoke.json").write_text(json.dumps(sweep))
    page = render([record("02_milestones/04_alexnet_relu_dropout")], results=tmp_path)
    assert "5 seeds: 2.5 … 4.25" in page and "5 of 5 seeds" in page and "uncalibrated" not in page.split("</p>", 1)[1]


def test_the_summary_gives_each_chapter_its_verdicts_and_tightest_bar(tmp_path):
    claim = {"statement": [1.0, None], "passed_all": True, "margin_ok": True, "margin_needed": 0.1}
    sweep = {"budget": "smoke", "margin_rule": "r", "chapters": {"02_milestones/09_batchnorm": {
        "runs": [{"seed": s} for s in range(5)],
        "claims": [{**claim, "name": "speed-up", "min": 9, "max": 15, "reproduced_on": 5, "margin_distance": 0.5},
                   {**claim, "name": "accuracy", "min": 0.8, "max": 0.9, "reproduced_on": 4, "margin_distance": 0.2}]}}}
    (tmp_path / "seeds-smoke.json").write_text(json.dumps(sweep))
    page = render([record("02_milestones/09_batchnorm")], results=tmp_path)
    summary = page.split("<table class='scoreboard-summary'>")[1].split("</table>")[0]
    row = next(r for r in summary.split("<tr>") if "09_batchnorm" in r)
    assert "1 of 2 (1 on some seeds)" in row and "✅ 0.2 / 0.1 <span class='claim-name' title='accuracy'>(accuracy)</span>" in row and "no seed sweep" in row
    assert summary.count("<tr>") == 1 + sum(1 for _ in (ROOT / "notebooks").rglob("*.ipynb"))


def test_a_stopped_chapter_shows_the_claims_it_never_reached(tmp_path):
    sweep = {"budget": "smoke", "margin_rule": "r", "chapters": {"02_milestones/09_batchnorm": {
        "runs": [{"seed": 0}], "claims": [{"name": "speed-up", "min": 9, "max": 15, "reproduced_on": 1},
                                          {"name": "accuracy at lr 31.6", "min": 0.8, "max": 0.9, "reproduced_on": 1}]}}}
    (tmp_path / "seeds-smoke.json").write_text(json.dumps(sweep))
    stop = claims.Stop("02_milestones/09_batchnorm", "ClaimFailed: ...")
    page = render([record("02_milestones/09_batchnorm")], [stop], results=tmp_path)
    assert "stopped" in page and "not reached: accuracy at lr 31.6" in page


def test_empty_ledger_says_how_to_fill_it():
    assert "make book" in render([])


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


def test_every_chapter_has_its_cost_box_from_the_committed_measurements():
    import results
    for chapter in [d.removeprefix("notebooks/") for _, docs in scoreboard.chapters_by_part(ROOT / "_toc.yml")
                    for d in docs if d.startswith("notebooks/")]:
        box = results.cost_box(chapter, "benchmark.html")
        assert "What this chapter costs" in box
        for budget in ("smoke", "standard"):
            assert f"{budget} 20" in box, f"{chapter} has no {budget} measurement: run tools/bench.py --budget {budget} --write-page"


def test_a_cost_box_says_what_was_not_measured(tmp_path):
    import results
    bench = {"budget": "smoke", "machine": "x86_64 with 2 cores, 2026-12-03",
             "chapters": [{"chapter": "02_milestones/09_batchnorm", "wall_s": 75.0, "peak_mib": 1200, "date": "2026-12-02"}]}
    (tmp_path / "bench-smoke.json").write_text(json.dumps(bench))
    box = results.cost_box("02_milestones/09_batchnorm", "../../book/benchmark.html", tmp_path)
    assert "href='../../book/benchmark.html'" in box and "1 min 15 s" in box and "1,200 MiB" in box and "on x86_64 with 2 cores (smoke 2026-12-02)" in box
    assert box.count("not measured yet") == 2 and "standard 20" not in box


def test_a_chapter_page_ends_with_its_own_claims_only():
    records = [record("02_milestones/09_batchnorm", name="steps, plain / batch-norm"),
               record("02_milestones/10_resnet", name="depth gain")]
    end = scoreboard.chapter_claims("02_milestones/09_batchnorm", records, "scoreboard.html", ROOT / "no-results")
    assert "How this chapter fared" in end and "steps, plain / batch-norm" in end and "depth gain" not in end
    assert end.count("<tr class='claim'>") == 1 and "href='scoreboard.html'" in end
    assert scoreboard.chapter_claims("02_milestones/07_adam", records, "scoreboard.html") == ""
