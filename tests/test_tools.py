"""The maintainers' scripts: the benchmark page keeps one section per budget; the book's execution
cache is keyed by budget and by the code the chapters import."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import bench  # noqa: E402
import build_book  # noqa: E402


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


def test_book_build_rows_are_kept_per_budget_beside_the_chapter_tables(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "PAGE", tmp_path / "benchmark.md")
    bench.write_page("smoke", "smoke table")
    bench.write_book_row("standard", "| `standard` | 12 min 0 s | 8.0 s | m |")
    bench.write_book_row("smoke", "| `smoke` | 4 min 0 s | 7.0 s | m |")
    bench.write_book_row("standard", "| `standard` | 11 min 0 s | 7.5 s | m |")
    page = bench.PAGE.read_text()
    book = page.split("## Building the book")[1].split("\n## ")[0]
    assert "smoke table" in page and page.index("## Building the book") < page.index("## Budget `smoke`")
    assert book.index("| `smoke` | 4 min") < book.index("| `standard` | 11 min") and "12 min" not in book
    bench.write_page("smoke", "smoke table v2")
    assert "| `standard` | 11 min" in bench.PAGE.read_text()


def test_the_committed_page_times_the_book_at_standard():
    book = bench.page_sections().get(bench.BOOK_SECTION, "")
    assert "| `standard` |" in book, "run `python tools/bench.py --book --budget standard --write-page` and commit it"


def test_the_committed_page_measures_every_chapter_at_smoke():
    smoke = bench.PAGE.read_text().split("## Budget `smoke`")[1].split("\n## ")[0]
    missing = [bench.chapter_name(nb) for nb in bench.notebooks() if f"| {bench.chapter_name(nb)} |" not in smoke]
    assert not missing, f"not on the benchmark page, run `python tools/bench.py --budget smoke --write-page` and commit it: {missing}"


def fake_checkout(root: Path) -> Path:
    (root / "utils").mkdir(parents=True)
    (root / "utils" / "data.py").write_text("SIZE = 5000\n")
    (root / "constraints.txt").write_text("torch==2.13.0\n")
    (root / "requirements.txt").write_text("torch\n")
    return root


def test_execution_cache_changes_with_utils_budget_and_pins(tmp_path):
    root = fake_checkout(tmp_path)
    smoke = build_book.cache_folder("smoke", root)
    assert smoke.parent == root / "_build" / ".jupyter_cache" and smoke.name.startswith("smoke-")
    assert build_book.cache_folder("smoke", root) == smoke                  # same inputs, same cache
    assert build_book.cache_folder("standard", root).name.startswith("standard-")
    (root / "utils" / "data.py").write_text("SIZE = 60000\n")
    after_utils = build_book.cache_folder("smoke", root)
    assert after_utils != smoke                                             # utils changed: run again
    (root / "utils" / "notes.txt").write_text("not code")
    assert build_book.cache_folder("smoke", root) == after_utils            # only Python sources count
    (root / "constraints.txt").write_text("torch==2.14.0\n")
    assert build_book.cache_folder("smoke", root) != after_utils            # new pins: run again


def test_stale_caches_of_the_same_budget_are_dropped(tmp_path):
    caches = tmp_path / "_build" / ".jupyter_cache"
    for name in ("smoke-old", "standard-old", "smoke-new"):
        build_book.ledger_folder(caches / name).mkdir(parents=True)
    dropped = build_book.drop_stale_caches(caches / "smoke-new")
    assert [p.name for p in dropped] == ["smoke-old"]
    assert sorted(p.name for p in caches.iterdir()) == ["smoke-new", "standard-old"]


def test_a_cache_without_its_ledger_is_dropped(tmp_path):
    cache = tmp_path / "_build" / ".jupyter_cache" / "smoke-abc"
    (cache / "executed").mkdir(parents=True)
    assert build_book.drop_stale_caches(cache) == [cache] and not cache.exists()
    assert build_book.drop_stale_caches(cache) == []             # nothing there yet: nothing to drop
