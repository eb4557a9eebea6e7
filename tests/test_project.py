"""Checks of the project's own files: pins, notebooks, table of contents, CI entry point."""
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))


def requirement_pins() -> dict[str, str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    pins = [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]
    return dict(pin.split("==") for pin in pins)


def test_every_requirement_is_pinned():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        assert not line or re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.\-+]+", line), line


def test_environment_yml_pins_equal_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert dict(pin.split("==") for pin in pip_section) == requirement_pins()


def test_lock_agrees_with_requirements():
    lock = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line)
    lock = {name.lower(): version for name, version in lock.items()}
    for name, version in requirement_pins().items():
        assert lock.get(name.lower()) == version, name


def test_notebooks_are_committed_clean_and_listed():
    toc = (ROOT / "_toc.yml").read_text()
    assert NOTEBOOKS, "no chapters found"
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        rel = path.relative_to(ROOT).with_suffix("").as_posix()
        assert f"file: {rel}" in toc, f"{rel} is not in _toc.yml"
        assert nb["metadata"]["kernelspec"]["name"] == "python3"
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell["outputs"] and cell["execution_count"] is None, f"{rel} has outputs"


def test_colab_install_points_at_the_configured_repository():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    for path in NOTEBOOKS:
        setup = "".join(json.loads(path.read_text())["cells"][1]["source"])
        assert "google.colab" in setup and f"git+{url}" in setup, path.name


def code_cells(path: Path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def test_each_notebook_starts_its_own_chapter_with_one_setup_call():
    for path in NOTEBOOKS:
        rel = path.relative_to(ROOT / "notebooks").with_suffix("").as_posix()
        setup, *rest = code_cells(path)
        assert re.search(rf'^chapter = setup\("{re.escape(rel)}"(, threads=1)?\)$', setup, re.M), path.name
        for done_by_setup in ("seed_everything(", "use_book_style(", "set_num_threads(", "claims.Chapter("):
            assert done_by_setup not in setup, f"{path.name}: the set-up cell calls {done_by_setup}"
        assert not any("setup(" in cell for cell in rest), path.name


LITERAL_SEED = re.compile(r"manual_seed\(|default_rng\(|seed_everything\(\s*\d|random_state=\d|\bseed=\d")


def test_no_notebook_types_a_seed():
    """Every seed comes from utils.repro (BOOK_SEED, chapter, purpose); a literal would bypass BOOK_SEED."""
    for path in NOTEBOOKS:
        for cell in code_cells(path):
            found = LITERAL_SEED.search(cell)
            assert not found, f"{path.name}: {cell[max(0, found.start() - 40):found.end() + 20]!r}"


def test_every_claim_states_the_papers_statement():
    for path in NOTEBOOKS:
        calls = "\n".join(code_cells(path)).split("chapter.claim(")[1:]
        assert calls, path.name
        for call in calls:
            assert "statement=" in call and "bar=" in call, f"{path.name}: {call[:80]!r}"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make book" in readme and "make test" in readme


def test_booklint_reports_no_problem():
    lint = ROOT.parent / "shared" / "tools" / "booklint.py"
    if not lint.exists():
        import pytest
        pytest.skip("the conventions checker lives beside the checkout, in ../shared")
    out = subprocess.run([sys.executable, str(lint), "--repo", str(ROOT), "--strict"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout


MAX_CELL_LINES = 40
MAX_SETUP_LINES = 24


def test_cells_are_short_enough_to_read():
    for path in NOTEBOOKS:
        setup, *rest = code_cells(path)
        assert len(setup.splitlines()) <= MAX_SETUP_LINES, f"{path.name}: set-up cell of {len(setup.splitlines())} lines"
        for cell in rest:
            n = len(cell.splitlines())
            assert n <= MAX_CELL_LINES, f"{path.name}: a code cell of {n} lines, starting {cell[:60]!r}"


def test_no_dead_test_markers():
    """With outputs stripped and --nbval-lax, nbval compares no output: its markers would do nothing."""
    for path in NOTEBOOKS:
        assert "NBVAL_" not in "\n".join(code_cells(path)), path.name
