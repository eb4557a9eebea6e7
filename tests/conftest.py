import builtins
import json
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def hide_package(monkeypatch):
    """``hide_package("gensim")``: from then on, importing that package (or a module in it) raises ImportError."""
    def hide(prefix: str) -> None:
        real_import = builtins.__import__

        def guarded(name, *args, **kwargs):
            if name.startswith(prefix):
                raise ImportError(name)
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", guarded)

    return hide


def runs_alone(path: Path) -> bool:
    """A chapter that measures time says so in its metadata (``"book": {"runs_alone": true}``)."""
    return bool(json.loads(path.read_text(encoding="utf-8"))["metadata"].get("book", {}).get("runs_alone"))


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "runs_alone: a chapter that measures time; nothing may run beside it")


def smoke_seconds() -> dict[str, float]:
    """Each chapter's measured wall time at the smoke budget (the Benchmark page's data), by notebook path."""
    bench = ROOT / "book" / "results" / "bench-smoke.json"
    chapters = json.loads(bench.read_text(encoding="utf-8"))["chapters"] if bench.is_file() else []
    return {str(ROOT / "notebooks" / f"{c['chapter']}.ipynb"): c["wall_s"] for c in chapters}


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb" and runs_alone(path):
            item.add_marker(pytest.mark.runs_alone)
    # The unit tests first, then the chapters longest first: the two workers of `make test` take one file at a
    # time in this order, so they finish together. (A stable sort: a notebook's cells keep their order.)
    seconds = smoke_seconds()
    items.sort(key=lambda item: -seconds.get(str(item.fspath), 0.0) if str(item.fspath).endswith(".ipynb")
               else -float("inf"))
