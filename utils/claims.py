"""The reproducibility ledger: a measured number beside the paper's, checked.

A chapter opens its ledger once and then states each claim::

    chapter = claims.Chapter("02_milestones/04_alexnet_relu_dropout")
    chapter.claim("ReLU speed-up to 10% training error", measured=ratio,
                  threshold=budget.pick(smoke=1.5, standard=2.0, full=3.0),
                  paper="6x (CIFAR-10, 25% error)", source="Krizhevsky et al. 2012, Fig. 1")

Each claim is shown as a small table, appended to the ledger (one JSON-lines
file per chapter under :func:`ledger_dir`) and raises :class:`ClaimFailed` when
the measured value misses its threshold. The book's Scoreboard page is
generated from the ledger at build time.
"""
from __future__ import annotations

import html
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from utils import budget, repro

LEDGER_ENV_VAR = "BOOK_LEDGER_DIR"


class ClaimFailed(AssertionError):
    """A measured value missed the threshold its chapter claims."""


@dataclass(frozen=True)
class Record:
    """One checked claim, as stored in the ledger."""

    chapter: str
    name: str
    measured: float
    threshold: float
    higher_is_better: bool
    paper: str
    source: str
    unit: str
    budget: str
    device: str
    seconds: float
    passed: bool

    @property
    def comparison(self) -> str:
        """``≥ threshold`` or ``≤ threshold``, as shown in tables."""
        return ("≥ " if self.higher_is_better else "≤ ") + _fmt(self.threshold)


def _fmt(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def ledger_dir() -> Path:
    """Where ledger files go: ``$BOOK_LEDGER_DIR``, else ``_build/claims`` of the book's checkout,
    else ``~/.cache/dl-book/claims`` (a pip-installed ``utils`` outside a checkout, e.g. on Colab)."""
    if os.environ.get(LEDGER_ENV_VAR):
        return Path(os.environ[LEDGER_ENV_VAR])
    root = Path(__file__).resolve().parent.parent
    if (root / "_config.yml").is_file():
        return root / "_build" / "claims"
    return Path.home() / ".cache" / "dl-book" / "claims"


def _ledger_file(chapter: str, directory: Path) -> Path:
    return directory / (chapter.replace("/", "__") + ".jsonl")


def read_ledger(directory: Path | None = None) -> list[Record]:
    """Every record in the ledger, in chapter order then in the order claimed."""
    directory = directory or ledger_dir()
    records = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                records.append(Record(**json.loads(line)))
    return records


def html_table(records: list[Record]) -> str:
    """An HTML table of records (what a notebook shows after each claim)."""
    head = ["claim", "measured", "threshold", "paper", "budget", "device", "time (s)", "result"]
    rows = []
    for r in records:
        verdict = "✅ pass" if r.passed else "❌ FAIL"
        cells = [r.name, f"{_fmt(r.measured)} {r.unit}".strip(), r.comparison,
                 f"{r.paper} ({r.source})", r.budget, r.device, f"{r.seconds:.1f}", verdict]
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    header = "<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"
    return f"<table class='claims'>{header}{''.join(rows)}</table>"


class Chapter:
    """The claims of one chapter; opening it clears that chapter's old ledger entries.

    ``chapter`` is the notebook's path under ``notebooks/`` without suffix,
    e.g. ``"01_foundations/01_backprop_from_scratch"``.
    """

    def __init__(self, chapter: str, directory: Path | None = None) -> None:
        parts = chapter.split("/")
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"chapter must look like '<part>/<NN_slug>', got {chapter!r}")
        self.chapter = chapter
        self.directory = Path(directory) if directory is not None else ledger_dir()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = _ledger_file(chapter, self.directory)
        self.path.write_text("", encoding="utf-8")
        self.records: list[Record] = []
        self._started = time.perf_counter()

    def claim(self, name: str, measured: float, *, threshold: float, paper: str, source: str,
              higher_is_better: bool = True, unit: str = "", show: bool = True) -> Record:
        """Record a measured value; raise :class:`ClaimFailed` if it misses ``threshold``.

        ``threshold`` is the bar for the current budget (choose it with ``budget.pick``);
        ``paper`` and ``source`` give the published number it is set beside.
        """
        try:
            value = float(measured)
        except (TypeError, ValueError):
            raise TypeError(f"claim {name!r}: measured value must be a number, got {measured!r}") from None
        passed = math.isfinite(value) and (value >= threshold if higher_is_better else value <= threshold)
        record = Record(chapter=self.chapter, name=name, measured=value, threshold=float(threshold),
                        higher_is_better=higher_is_better, paper=paper, source=source, unit=unit,
                        budget=budget.current(), device=repro.device_name(),
                        seconds=round(time.perf_counter() - self._started, 1), passed=passed)
        self.records.append(record)
        with self.path.open("a", encoding="utf-8") as ledger:
            ledger.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
        if show:
            _display([record])
        if not passed:
            raise ClaimFailed(
                f"claim {name!r} of {self.chapter} failed at budget {record.budget!r}: "
                f"measured {_fmt(value)}{' ' + unit if unit else ''}, needed {record.comparison} "
                f"(paper: {paper}, {source})"
            )
        return record

    def summary(self) -> None:
        """Show every claim of this chapter so far as one table."""
        _display(self.records)


def _display(records: list[Record]) -> None:
    try:
        from IPython.display import HTML, display
    except ImportError:  # plain Python: print a line per record
        for r in records:
            print(f"{'PASS' if r.passed else 'FAIL'} {r.name}: {_fmt(r.measured)} {r.comparison}")
        return
    display(HTML(html_table(records)))
