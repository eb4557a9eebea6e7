"""The reproducibility ledger: a measured number, the budget's bar it must clear, and the paper's statement.

A chapter's ledger is opened by :func:`utils.setup`; each claim then reads::

    chapter.claim("steps to 85% test accuracy, plain / batch-norm", speedup, unit="×",
                  bar=budget.pick(smoke=5.0, standard=8.0, full=8.0),
                  statement=claims.at_least(1.0),
                  paper="14× fewer steps to Inception's 72.2% (ImageNet)", source="Ioffe & Szegedy 2015, §4.2")

Two verdicts are recorded. The **bar** is the budget's regression bar, calibrated over seeds (see
CONTRIBUTING.md): missing it raises :class:`ClaimFailed`, which stops the notebook and fails CI. The
**statement** is what the paper says, as a direction or an interval (:func:`at_least`, :func:`at_most`,
:func:`between`), or ``None`` where there is no published statement (a definition, a check of the code);
whether it was reproduced is recorded, and shown on the Scoreboard, but never raises: a result contrary
to the paper is reported as "not reproduced", not hidden behind a bar.

Each record is appended to a JSON-lines file per chapter under :func:`ledger_dir`; an error that stops
the notebook is recorded there too (see :meth:`Chapter.stop`).
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
# Set only by the seed sweep's calibration mode (tools/seeds.py --calibrate), which measures where bars can
# go: claims are recorded with their verdicts but do not stop the notebook. Nothing else sets it.
CALIBRATE_ENV_VAR = "BOOK_CALIBRATE"


class ClaimFailed(AssertionError):
    """A measured value missed the bar its chapter sets at this budget."""


def _fmt(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


@dataclass(frozen=True)
class Statement:
    """What a paper states about a measured value: it lies in ``[low, high]`` (``None``: unbounded)."""

    low: float | None = None
    high: float | None = None

    def holds(self, value: float) -> bool:
        return (math.isfinite(value) and (self.low is None or value >= self.low)
                and (self.high is None or value <= self.high))

    def __str__(self) -> str:
        if self.low is not None and self.high is not None:
            return f"in [{_fmt(self.low)}, {_fmt(self.high)}]"
        return f"≥ {_fmt(self.low)}" if self.low is not None else f"≤ {_fmt(self.high)}"


def at_least(value: float) -> Statement:
    """The paper's direction: the measured value is at least ``value`` (e.g. a speed-up ≥ 1)."""
    return Statement(low=float(value))


def at_most(value: float) -> Statement:
    """The paper's direction: the measured value is at most ``value`` (e.g. a loss ratio ≤ 1)."""
    return Statement(high=float(value))


def between(low: float, high: float) -> Statement:
    """The paper's number for the same setting, as an interval; say in ``paper`` where it comes from."""
    if not low <= high:
        raise ValueError(f"an interval needs low ≤ high, got [{low}, {high}]")
    return Statement(low=float(low), high=float(high))


@dataclass(frozen=True)
class Record:
    """One checked claim, as stored in the ledger."""

    chapter: str
    name: str
    measured: float
    bar: float
    higher_is_better: bool
    statement: tuple[float | None, float | None] | None
    paper: str
    source: str
    unit: str
    budget: str
    seed: int
    device: str
    seconds: float
    passed: bool
    reproduced: bool | None

    @property
    def comparison(self) -> str:
        """``≥ bar`` or ``≤ bar``, as shown in tables."""
        return ("≥ " if self.higher_is_better else "≤ ") + _fmt(self.bar)

    @property
    def statement_text(self) -> str:
        """The paper's statement as a comparison, or "no published statement"."""
        return "no published statement" if self.statement is None else str(Statement(*self.statement))

    @property
    def reproduced_text(self) -> str:
        return {True: "yes", False: "no", None: "no published statement"}[self.reproduced]


@dataclass(frozen=True)
class Stop:
    """A chapter that stopped before its end: the error that stopped it."""

    chapter: str
    error: str


def ledger_dir() -> Path:
    """Where ledger files go: ``$BOOK_LEDGER_DIR``, else ``~/.cache/dl-book/claims``."""
    if os.environ.get(LEDGER_ENV_VAR):
        return Path(os.environ[LEDGER_ENV_VAR])
    return Path.home() / ".cache" / "dl-book" / "claims"


def _ledger_file(chapter: str, directory: Path) -> Path:
    return directory / (chapter.replace("/", "__") + ".jsonl")


def _entries(directory: Path) -> list[dict]:
    entries = []
    for path in sorted(directory.glob("*.jsonl")):
        entries += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return entries


def read_ledger(directory: Path | None = None) -> list[Record]:
    """Every claim in the ledger, in chapter order then in the order claimed."""
    records = []
    for entry in _entries(directory or ledger_dir()):
        if entry.pop("kind") == "claim":
            statement = entry.pop("statement")
            records.append(Record(statement=tuple(statement) if statement is not None else None, **entry))
    return records


def read_stops(directory: Path | None = None) -> list[Stop]:
    """Every chapter of the ledger that stopped before its end, with its error."""
    return [Stop(e["chapter"], e["error"]) for e in _entries(directory or ledger_dir()) if e["kind"] == "stop"]


class Html(str):
    """Table cell content that is already HTML (e.g. a link), so :func:`html_table` does not escape it."""


def html_table(header: list[str], rows: list[list[str]], css_class: str = "claims") -> str:
    """An HTML table: ``header`` cells, then one row per list of cells (plain text is escaped)."""
    def cell(tag: str, text: str) -> str:
        return f"<{tag}>{text if isinstance(text, Html) else html.escape(str(text))}</{tag}>"

    head = "<tr>" + "".join(cell("th", h) for h in header) + "</tr>"
    body = "".join("<tr>" + "".join(cell("td", c) for c in row) + "</tr>" for row in rows)
    return f"<table class='{css_class}'>{head}{body}</table>"


def verdict(passed: bool) -> str:
    return "✅ pass" if passed else "❌ FAIL"


def record_table(records: list[Record]) -> str:
    """The table a notebook shows after each claim: a row with the value and both verdicts, then a row across
    the table with what the paper reported and where."""
    header = ["claim", "measured", "bar", "paper's statement reproduced?", "budget"]
    head = "<tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr>"
    body = ""
    for r in records:
        reproduced = (r.statement_text if r.statement is None
                      else f"{r.statement_text}: {'✅ yes' if r.reproduced else '✖ not reproduced'}")
        cells = [r.name, f"{_fmt(r.measured)} {r.unit}".strip(), f"{r.comparison}: {verdict(r.passed)}", reproduced,
                 f"{r.budget}, BOOK_SEED={r.seed}"]
        body += ("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
                 f"<tr class='paper'><td colspan='{len(header)}'>Paper: {html.escape(r.paper)} · "
                 f"{html.escape(r.source)}</td></tr>")
    return f"<table class='claims'>{head}{body}</table>"


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

    def _append(self, entry: dict) -> None:
        with self.path.open("a", encoding="utf-8") as ledger:
            ledger.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def claim(self, name: str, measured: float, *, bar: float, statement: Statement | None, paper: str,
              source: str, higher_is_better: bool = True, unit: str = "", show: bool = True) -> None:
        """Record a measured value; raise :class:`ClaimFailed` if it misses ``bar``.

        ``bar`` is the regression bar of the current budget (``budget.pick`` when it differs by budget);
        ``statement`` the paper's direction or interval, or ``None`` when there is no published statement;
        ``paper`` and ``source`` what the paper reported and where.
        """
        try:
            value = float(measured)
        except (TypeError, ValueError):
            raise TypeError(f"claim {name!r}: measured value must be a number, got {measured!r}") from None
        if statement is not None and not isinstance(statement, Statement):
            raise TypeError(f"claim {name!r}: statement must come from claims.at_least/at_most/between or be None")
        passed = math.isfinite(value) and (value >= bar if higher_is_better else value <= bar)
        record = Record(chapter=self.chapter, name=name, measured=value, bar=float(bar),
                        higher_is_better=higher_is_better,
                        statement=None if statement is None else (statement.low, statement.high),
                        paper=paper, source=source, unit=unit, budget=budget.current(), seed=repro.book_seed(),
                        device=repro.device_name(), seconds=round(time.perf_counter() - self._started, 1),
                        passed=passed, reproduced=None if statement is None else statement.holds(value))
        self.records.append(record)
        self._append({"kind": "claim", **asdict(record)})
        if show:
            _display(record_table([record]))
        if not passed and os.environ.get(CALIBRATE_ENV_VAR) != "1":
            raise ClaimFailed(
                f"claim {name!r} of {self.chapter} failed at budget {record.budget!r} (BOOK_SEED={record.seed}): "
                f"measured {_fmt(value)}{' ' + unit if unit else ''}, needed {record.comparison} "
                f"(paper: {paper}, {source})"
            )

    def stop(self, error: str) -> None:
        """Record that the chapter stopped here (``utils.setup`` calls it when a cell raises)."""
        self._append({"kind": "stop", "chapter": self.chapter, "error": error})


def _display(table: str) -> None:
    try:
        from IPython.display import HTML, display
    except ImportError:  # plain Python
        print(table)
        return
    display(HTML(table))
