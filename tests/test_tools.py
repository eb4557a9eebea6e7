"""The maintainers' scripts: the benchmark page keeps one section per budget."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import bench  # noqa: E402


def test_benchmark_page_keeps_the_other_budgets(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "PAGE", tmp_path / "benchmark.md")
    bench.write_page("standard", "standard table v1")
    bench.write_page("smoke", "smoke table v1")
    bench.write_page("standard", "standard table v2")
    page = bench.PAGE.read_text()
    assert page.startswith(bench.PAGE_HEADER)
    assert "smoke table v1" in page and "standard table v2" in page and "v1\n\n## Budget `standard`" in page
    assert "standard table v1" not in page
    assert page.index("## Budget `smoke`") < page.index("## Budget `standard`")


def test_the_committed_page_measures_every_chapter_at_smoke():
    smoke = bench.PAGE.read_text().split("## Budget `smoke`")[1].split("\n## ")[0]
    missing = [bench.chapter_name(nb) for nb in bench.notebooks() if f"| {bench.chapter_name(nb)} |" not in smoke]
    assert not missing, f"not on the benchmark page, run `python tools/bench.py --budget smoke --write-page` and commit it: {missing}"
