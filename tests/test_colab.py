"""The set-up cell installs the book's package on Colab and does nothing elsewhere — tested offline."""
import json
import shlex
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
import yaml
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))
REPO_URL = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]


def setup_cell(path: Path) -> str:
    """The install part of the set-up cell (up to the first import of utils), as plain Python."""
    source = "".join(json.loads(path.read_text())["cells"][1]["source"])
    install = source.split("from utils import")[0]
    return TransformerManager().transform_cell(install)


def run_setup(code: str, on_colab: bool, monkeypatch) -> list[str]:
    """Execute the set-up code with a recording stand-in for IPython's %pip; return the pip lines."""
    calls = []
    shell = types.SimpleNamespace(run_line_magic=lambda name, line: calls.append(f"{name} {line}"))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(code, "setup-cell", "exec"), {"get_ipython": lambda: shell})
    return calls


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_setup_installs_only_on_colab(path, monkeypatch):
    code = setup_cell(path)
    assert run_setup(code, on_colab=False, monkeypatch=monkeypatch) == []
    calls = run_setup(code, on_colab=True, monkeypatch=monkeypatch)
    assert len(calls) == 1 and calls[0].startswith("pip install") and f"git+{REPO_URL}" in calls[0]


def test_the_install_command_works_from_a_local_path(tmp_path, monkeypatch):
    """The same pip line, pointed at this checkout instead of the repository, in a fresh environment."""
    source = tmp_path / "checkout"          # a copy: building in place would write into the checkout
    shutil.copytree(ROOT / "utils", source / "utils", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    calls = run_setup(setup_cell(NOTEBOOKS[0]), on_colab=True, monkeypatch=monkeypatch)
    line = calls[0].replace(f"git+{REPO_URL}", source.as_uri()).removeprefix("pip ")
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # the package's own files only: Colab already has torch, numpy, matplotlib, ...
    *options, requirement = shlex.split(line)
    args = options + ["--no-deps", requirement]
    result = subprocess.run([str(python), "-m", "pip", *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    shown = subprocess.run([str(python), "-m", "pip", "show", "-f", "dl-reproduced"], capture_output=True, text=True)
    assert "utils/claims.py" in shown.stdout and "utils/data.py" in shown.stdout
