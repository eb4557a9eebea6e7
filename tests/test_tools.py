"""The maintainers' scripts: the benchmark data and page, the seed sweep's calibration rule, and the
book's execution cache, keyed by budget and by the code the chapters import."""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))

import bench  # noqa: E402
import build_book  # noqa: E402
import results  # noqa: E402
import seeds  # noqa: E402


def test_the_committed_results_time_the_book_at_standard():
    builds = json.loads((bench.RESULTS / "book-build.json").read_text())
    assert "standard" in builds, "run `python tools/bench.py --book --budget standard --write-page` and commit it"


def test_the_committed_results_measure_every_chapter_at_smoke():
    measured = {c["chapter"] for c in json.loads((bench.RESULTS / "bench-smoke.json").read_text())["chapters"]}
    missing = [bench.chapter_name(nb) for nb in bench.notebooks() if bench.chapter_name(nb) not in measured]
    assert not missing, f"run `python tools/bench.py --budget smoke --write-page` and commit it: {missing}"


def test_a_partial_benchmark_run_keeps_the_other_chapters_and_their_dates():
    first, second = (bench.chapter_name(nb) for nb in bench.notebooks()[:2])
    earlier = {"machine": "x86_64 with 2 cores, torch 2.13.0+cpu, 2026-11-30",
               "chapters": [{"chapter": second, "wall_s": 9.0}, {"chapter": first, "wall_s": 5.0}]}
    merged = bench.merge_chapters(earlier, [{"chapter": second, "wall_s": 7.0, "date": "2026-12-02"}])
    assert merged == [{"chapter": first, "wall_s": 5.0, "date": "2026-11-30"},
                      {"chapter": second, "wall_s": 7.0, "date": "2026-12-02"}]


def test_the_benchmark_page_renders_the_committed_data():
    page = results.render()
    assert "Building the book" in page and "Robustness" in page
    for nb in bench.notebooks():
        assert bench.chapter_name(nb) in page


@pytest.mark.parametrize("values, bar, higher, ok", [
    ([1.0, 2.0], 0.75, True, True),          # log range 0.30, needs 0.075; distance log10(1/0.75) = 0.125
    ([1.0, 2.0], 0.9, True, False),          # distance 0.046 < 0.075: inside the margin
    ([0.78, 0.89], 0.8, True, False),        # the bar inside the observed range
    ([-0.1, 0.3], -0.2, True, True),         # linear: range 0.4, needs 0.1, distance 0.1
    ([-0.1, 0.3], -0.15, True, False),
    ([1e-11, 1e-11], 1e-6, False, True),     # no spread: outside the range is enough
    ([10, 10], 10, True, True),              # a count at its maximum
    ([1.36e5, 1.9e8], 1e3, True, True),      # ratios spanning decades: measured on a log scale
])
def test_the_calibration_rule(values, bar, higher, ok):
    assert seeds.margin_check(values, bar, higher)["ok"] is ok


def test_a_sweep_summary_flags_a_missed_bar_and_a_bar_inside_the_margin():
    def run(seed, value):
        claim = {"name": "ratio", "measured": value, "bar": 1.0, "higher_is_better": True, "statement": [1.0, None],
                 "paper": "p", "source": "s", "unit": "", "passed": value >= 1.0, "reproduced": value >= 1.0}
        return {"seed": seed, "wall_s": 1.0, "peak_mib": 1, "error": "", "retried": [], "claims": [claim]}

    fine = seeds.summarise("c", [run(0, 2.0), run(1, 3.0)])
    assert seeds.problems_of("c", fine) == [] and fine["claims"][0]["reproduced_on"] == 2
    assert "inside the margin" in seeds.problems_of("c", seeds.summarise("c", [run(0, 1.01), run(1, 3.0)]))[0]
    assert "misses its bar" in seeds.problems_of("c", seeds.summarise("c", [run(0, 0.5), run(1, 3.0)]))[0]


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


def test_nbclient_patch_polls_in_short_slices(monkeypatch):
    """A lost wake-up costs one slice, not the whole cell timeout; a real timeout still ends in Empty."""
    import asyncio
    from queue import Empty

    from jupyter_client.channels import AsyncZMQSocketChannel

    import nbclient_patch

    asked = []

    async def fake_get_msg(self, timeout=None):       # a reply that is only seen on the third poll
        asked.append(timeout)
        if len(asked) < 3:
            raise Empty
        return {"msg_type": "execute_reply"}

    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", fake_get_msg)
    nbclient_patch.apply()
    nbclient_patch.apply()                            # idempotent: wraps once
    assert asyncio.run(AsyncZMQSocketChannel.get_msg(None, timeout=600))["msg_type"] == "execute_reply"
    assert len(asked) == 3 and all(t <= nbclient_patch.POLL_S for t in asked)

    async def never(self, timeout=None):
        raise Empty

    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", never)
    nbclient_patch.apply()
    with pytest.raises(Empty):
        asyncio.run(AsyncZMQSocketChannel.get_msg(None, timeout=0.05))


def test_bench_ratios_run():
    """The benchmark's two helper measurements run (they are otherwise only run by `make bench`)."""
    measured = bench.ratios()
    assert measured["loader_speedup"] > 0 and measured["fit_s"] > 0 and measured["bare_loop_s"] > 0
