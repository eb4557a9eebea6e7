"""Build the book into _build/html.

    python tools/build_book.py               # execute every chapter, at $BOOK_BUDGET or the default
    python tools/build_book.py --structure   # no execution: checks toc, cross-references and citations
    python tools/build_book.py --structure --execute-only notebooks/01_foundations/01_backprop_from_scratch.ipynb
                                             # the same, with one chapter executed at the smoke budget

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


def write_config(execute: str, path: Path, not_executed: list[str] = ()) -> Path:
    """A copy of _config.yml with the execution mode set and ``not_executed`` notebooks left unexecuted."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    config["execute"]["execute_notebooks"] = execute
    config["execute"]["exclude_patterns"] = list(not_executed)
    extensions = config["sphinx"]["local_extensions"]  # resolved from the config's folder: make them absolute
    config["sphinx"]["local_extensions"] = {name: str(ROOT / path) for name, path in extensions.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def toc_notebooks() -> list[str]:
    """Every chapter notebook under notebooks/, as a path relative to the book's root."""
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "notebooks").rglob("*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts)


def build(structure: bool, budget_name: str | None = None, output: Path | None = None,
          execute_only: list[str] = ()) -> int:
    build_dir = ROOT / "_build"
    env = dict(os.environ)
    if structure:
        chapters = toc_notebooks()
        unknown = sorted(set(execute_only) - set(chapters))
        if unknown:
            raise SystemExit(f"--execute-only: no such chapter notebook: {', '.join(unknown)}")
        output = output or build_dir / "structure"
        if execute_only:
            env["BOOK_BUDGET"] = "smoke"
            others = [nb for nb in chapters if nb not in execute_only]
            config = write_config("force", output / "config.yml", others)
        else:
            config = write_config("off", output / "config.yml")
        env["BOOK_LEDGER_DIR"] = str(output / "claims")
    else:
        name = budget.validate(budget_name) if budget_name else budget.current()
        env["BOOK_BUDGET"] = name
        config = write_config("force", build_dir / f"config-{name}.yml")
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
    parser.add_argument("--output", type=Path, help="folder that receives _build/html (default: the book's root; "
                                                     "with --structure, _build/structure)")
    parser.add_argument("--execute-only", nargs="+", default=[], metavar="NOTEBOOK",
                        help="with --structure: execute these chapters at the smoke budget, no others")
    args = parser.parse_args()
    if args.execute_only and not args.structure:
        parser.error("--execute-only goes with --structure")
    return build(args.structure, args.budget, args.output, args.execute_only)


if __name__ == "__main__":
    sys.exit(main())
