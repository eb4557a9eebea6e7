"""Keep every chapter's Colab install line in step with the repository named in `_config.yml`.

    python tools/colab_links.py          # rewrite the line in every notebook (and CONTRIBUTING.md's example)
    python tools/colab_links.py --check  # exit 1, naming the files, if any line differs

`_config.yml`'s `repository.url` and `repository.branch` are the one place: the launch buttons are built
from them, and the set-up cell of each chapter installs the book's package from that branch. A fork edits
those two values and runs `make colab-links`.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r'%pip install -q "dl-reproduced @ git\+[^"]*"')


def install_line(config: Path = ROOT / "_config.yml") -> str:
    """The set-up cell's install line for the repository and branch of ``config``."""
    repository = yaml.safe_load(config.read_text(encoding="utf-8"))["repository"]
    return f'%pip install -q "dl-reproduced @ git+{repository["url"]}@{repository["branch"]}"'


def files() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("*/*.ipynb")) + [ROOT / "CONTRIBUTING.md"]


def text_of(path: Path) -> str:
    """What a reader sees: a notebook's cell sources, or the file itself."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        return "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
    return text


def update(path: Path, line: str) -> bool:
    """Rewrite ``path``'s install lines to ``line``; True if the file changed."""
    text = path.read_text(encoding="utf-8")

    def replace(s: str) -> str:
        return LINE.sub(lambda _: line, s)         # a function: the line is taken as it is, no escapes

    if path.suffix == ".ipynb":
        notebook = json.loads(text)
        for cell in notebook["cells"]:
            cell["source"] = [replace(s) for s in cell["source"]]
        new = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    else:
        new = replace(text)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report files out of step, change nothing")
    args = parser.parse_args(argv)
    line = install_line()
    stale = [p for p in files() if any(m.group(0) != line for m in LINE.finditer(text_of(p)))]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)}: install line differs from {line}")
        return 1 if stale else 0
    for path in stale:
        update(path, line)
        print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
