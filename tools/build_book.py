"""Build the book into _build/html.

    python tools/build_book.py               # execute every chapter, at $BOOK_BUDGET or the default
    python tools/build_book.py --structure   # no execution: checks toc, cross-references and citations
    python tools/build_book.py --structure --execute-only notebooks/01_foundations/01_backprop_from_scratch.ipynb
                                             # the same, with one chapter executed at the smoke budget

Both run Sphinx with warnings as errors (``-W -n --keep-going``): a notebook that raises, a broken
link or an unknown citation fails the build. A full build executes chapters through Jupyter Book's
execution cache (jupyter-cache), one cache per budget and per version of ``utils`` and of the pinned
stack (:func:`cache_folder`): a rebuild re-executes only the chapters that changed, every chapter
after a change to ``utils``, and none when nothing changed. Everything written goes under ``_build/``.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from utils import budget  # noqa: E402


# What the chapters' results depend on besides the notebooks themselves.
CACHE_INPUTS = ("utils", "constraints.txt", "requirements.txt")


def cache_folder(budget_name: str, root: Path = ROOT) -> Path:
    """The execution cache of ``budget_name``: ``_build/.jupyter_cache/<budget>-<digest>``.

    jupyter-cache matches a notebook by its code alone. The digest covers what else decides a
    chapter's results (``CACHE_INPUTS``: the ``utils`` sources and the pinned requirements), and the
    budget is part of the name, so a smoke result is never shown in a standard build.
    """
    digest = hashlib.sha256()
    for name in CACHE_INPUTS:
        path = root / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(root).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return root / "_build" / ".jupyter_cache" / f"{budget_name}-{digest.hexdigest()[:12]}"


def ledger_folder(cache: Path) -> Path:
    """The claims ledger of the build that uses ``cache``, kept inside it: a chapter taken from the cache
    keeps the claims it recorded when it ran, a chapter that runs again replaces them, and a dropped
    cache takes its claims with it."""
    return cache / "claims"


def drop_stale_caches(current: Path) -> list[Path]:
    """Delete the other caches of the same budget (older versions of ``utils``), and ``current`` itself
    when it has lost its claims ledger (its chapters would be missing from the Scoreboard); return them."""
    budget_name = current.name.rsplit("-", 1)[0]
    stale = [p for p in current.parent.glob(f"{budget_name}-*") if p != current and p.is_dir()]
    if current.is_dir() and not ledger_folder(current).is_dir():
        stale.append(current)
    for path in stale:
        shutil.rmtree(path)
    return stale


def write_config(execute: str, path: Path, not_executed: list[str] = (), cache: Path | None = None) -> Path:
    """A copy of _config.yml with the execution mode set and ``not_executed`` notebooks left unexecuted
    (and, for ``execute="cache"``, the cache folder)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    config["execute"]["execute_notebooks"] = execute
    if cache is not None:
        config["execute"]["cache"] = str(cache)
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
        cache = cache_folder(name)
        for path in drop_stale_caches(cache):
            print(f"dropped the execution cache {path.name}: utils or the requirements changed, or its "
                  "claims ledger is gone", flush=True)
        config = write_config("cache", build_dir / f"config-{name}.yml", cache=cache)
        output = output or ROOT
        env["BOOK_LEDGER_DIR"] = str(ledger_folder(cache))
        print(f"building the book at budget {name!r} (execution cache {cache.relative_to(ROOT)})", flush=True)
    # --all: Sphinx re-reads every page, so a chapter whose cache entry is gone (utils changed) runs
    # again even though its file did not change; a chapter found in the cache costs under a second.
    command = [sys.executable, str(ROOT / "tools" / "nbclient_patch.py"), "build", str(ROOT), "--config", str(config),
               "--path-output", str(output), "-W", "-n", "--keep-going", *([] if structure else ["--all"])]
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
