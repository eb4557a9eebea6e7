"""Run chapters against Colab's package versions: a maintainer's check, too slow for `make test`.

    python tools/colab_check.py [notebook ...]     # default: chapters 1, 4 and 13

Builds a fresh virtual environment under `_build/colab-env` holding Colab's versions (read from
`tests/data/colab-pip-freeze-gpu.txt`) of the packages the book imports — numpy, pandas, scikit-learn,
matplotlib, scipy, mlxtend, ipywidgets, transformers, datasets, tqdm, ipykernel, ipython — with the pinned
CPU build of torch in place of Colab's CUDA one; installs the book's package the way the set-up cell does
(with its dependencies, from a copy of this checkout); fails if that install changed any of Colab's
versions; then runs the chapters at `smoke` under nbval with `HF_HUB_OFFLINE=1`. This machine's Python
stands in for Colab's (the header of the list says which Colab runs).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import colab_packages

ROOT = Path(__file__).resolve().parent.parent
ENV = ROOT / "_build" / "colab-env"
COLAB_VERSIONS_OF = ("numpy", "pandas", "scikit-learn", "matplotlib", "scipy", "mlxtend", "ipywidgets",
                     "transformers", "datasets", "tqdm", "ipykernel", "ipython", "huggingface-hub",
                     "sentence-transformers", "pillow")
TORCH = "torch==2.13.0"         # the pinned CPU build (requirements.txt) instead of Colab's CUDA build
TOOLS = ("pytest==9.2.0", "nbval==0.11.0")
DEFAULT_CHAPTERS = ("notebooks/01_foundations/01_backprop_from_scratch.ipynb",
                    "notebooks/02_milestones/04_alexnet_relu_dropout.ipynb",
                    "notebooks/02_milestones/13_bert_finetuning.ipynb")


def copy_package(folder: Path) -> Path:
    """The files the book's package is built from (utils/, pyproject.toml, README.md), copied into ``folder``:
    a source to install from without building inside the checkout."""
    shutil.copytree(ROOT / "utils", folder / "utils", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, folder / name)
    return folder


def pip(python: Path, *args: str) -> None:
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *args], check=True)


def frozen(python: Path) -> dict[str, str]:
    lines = subprocess.run([str(python), "-m", "pip", "freeze"], capture_output=True, text=True, check=True).stdout
    return colab_packages.parse("\n".join(l for l in lines.splitlines() if "==" in l or " @ " in l)).versions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", default=list(DEFAULT_CHAPTERS))
    args = parser.parse_args(argv)
    colab = colab_packages.read()
    pinned = [f"{name}=={colab.versions[name]}" for name in COLAB_VERSIONS_OF]
    shutil.rmtree(ENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(ENV)], check=True)
    python = ENV / "bin" / "python"
    print(f"Colab's versions (list of {colab.header.get('read', '?')}, Colab on Python {colab.python}; "
          f"here {sys.version.split()[0]}): {' '.join(pinned)}")
    pip(python, TORCH, *pinned)
    before = frozen(python)
    with tempfile.TemporaryDirectory() as tmp:         # the set-up cell's line, pointed at a copy of the checkout
        pip(python, f"dl-reproduced @ {copy_package(Path(tmp) / 'book').as_uri()}")
    after = frozen(python)
    changed = {n: (v, after.get(n)) for n, v in before.items() if after.get(n) != v}
    if changed:
        print("the install changed " + ", ".join(f"{n} {a} → {b}" for n, (a, b) in changed.items()))
        return 1
    print("the book's install changed none of them; it added "
          + ", ".join(f"{n} {v}" for n, v in sorted(after.items()) if n not in before))
    pip(python, *TOOLS)
    env = dict(os.environ, BOOK_BUDGET="smoke", HF_HUB_OFFLINE="1", BOOK_THREADS="1",
               BOOK_LEDGER_DIR=str(ROOT / "_build" / "claims" / "colab-check"))
    test = subprocess.run([str(python), "-m", "pytest", "-p", "no:cacheprovider", "--nbval-lax",
                           "--nbval-cell-timeout=300", "-q", *args.notebooks], cwd=ROOT, env=env)
    return test.returncode


if __name__ == "__main__":
    sys.exit(main())
