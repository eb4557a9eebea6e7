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


def runs_alone(path: Path) -> bool:
    """A chapter that measures time says so in its metadata (``"book": {"runs_alone": true}``)."""
    return bool(json.loads(path.read_text(encoding="utf-8"))["metadata"].get("book", {}).get("runs_alone"))


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "runs_alone: a chapter that measures time; nothing may run beside it")


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb" and runs_alone(path):
            item.add_marker(pytest.mark.runs_alone)
