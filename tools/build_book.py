"""Build the book into _build/html.

    python tools/build_book.py               # execute every chapter, at $BOOK_BUDGET or the default
    python tools/build_book.py --structure   # no execution: checks toc, cross-references and citations

Both run Sphinx with warnings as errors (``-W -n --keep-going``): a notebook that raises, a broken
link or an unknown citation fails the build. Chapters are executed when Sphinx reads them: all of
them on a first build or a budget change, only the changed ones on a rebuild (see _config.yml for why
not through jupyter-cache). Everything written goes under ``_build/``.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from utils import budget  # noqa: E402


def write_config(execute: str, cache: str, path: Path) -> Path:
    """A copy of _config.yml with the execution mode and cache folder set."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    config["execute"]["execute_notebooks"] = execute
    config["execute"]["cache"] = cache
    extensions = config["sphinx"]["local_extensions"]  # resolved from the config's folder: make them absolute
    config["sphinx"]["local_extensions"] = {name: str(ROOT / path) for name, path in extensions.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def build(structure: bool, budget_name: str | None = None, output: Path | None = None) -> int:
    build_dir = ROOT / "_build"
    env = dict(os.environ)
    if structure:
        config = write_config("off", "_build/.jupyter_cache", build_dir / "config-structure.yml")
        output = build_dir / "structure"
        env["BOOK_LEDGER_DIR"] = str(build_dir / "structure" / "claims")
    else:
        name = budget.validate(budget_name) if budget_name else budget.current()
        env["BOOK_BUDGET"] = name
        config = write_config("force", f"_build/.jupyter_cache/{name}", build_dir / f"config-{name}.yml")
        output = output or ROOT
        env["BOOK_LEDGER_DIR"] = str(build_dir / "claims" / name)
        print(f"building the book at budget {name!r}", flush=True)
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT), "--config", str(config),
               "--path-output", str(output), "-W", "-n", "--keep-going"]
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structure", action="store_true", help="build without executing notebooks")
    parser.add_argument("--budget", help="smoke, standard or full (default: $BOOK_BUDGET, else by hardware)")
    parser.add_argument("--output", type=Path, help="folder that receives _build/html (default: the book's root)")
    args = parser.parse_args()
    return build(args.structure, args.budget, args.output)


if __name__ == "__main__":
    sys.exit(main())
