"""Colab's runtime packages, and a check that installing the book's package there changes none of them.

    python tools/colab_packages.py --check     # resolve the book's package against the committed list
    python tools/colab_packages.py --refresh   # replace the list by Colab's current one (needs github.com)

The list is Colab's own `pip freeze` of its GPU runtime (googlecolab/backend-info, `pip-freeze.gpu.txt`),
committed as `tests/data/colab-pip-freeze-gpu.txt` with a header naming its source, commit and Python.
The check runs pip's resolver without installing anything (``--dry-run``) for Colab's Python and platform,
with every Colab package pinned to Colab's version: if the book's package needed any of them changed, pip
finds no solution and the check names the package. torch stands in as an empty local wheel at Colab's
version (its bound is compared as text), so no multi-gigabyte wheel is fetched. Needs the package index.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import tomllib
import urllib.request
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
COLAB_FILE = ROOT / "tests" / "data" / "colab-pip-freeze-gpu.txt"
SOURCE_REPO = "googlecolab/backend-info"
SOURCE_FILE = "pip-freeze.gpu.txt"
TORCH_FAMILY = ("torch", "torchvision", "torchaudio", "torchcodec")
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "linux_x86_64", "any")


def canonical(name: str) -> str:
    """The normalised form of a distribution name (PEP 503): ``Jinja2`` → ``jinja2``, ``ruamel_yaml`` → ``ruamel-yaml``."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class ColabList:
    """Colab's packages: ``versions`` (name → public version, local labels such as ``+cu128`` stripped),
    ``urls`` (packages installed from a URL, which no index can pin) and the file's ``header`` fields."""

    versions: dict[str, str]
    urls: set[str] = field(default_factory=set)
    header: dict[str, str] = field(default_factory=dict)

    @property
    def python(self) -> str:
        return self.header.get("python", "3.12")


def parse(text: str) -> ColabList:
    """Read a `pip freeze` listing with an optional header of ``# key: value`` lines."""
    versions, urls, header = {}, set(), {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#"):
            key, colon, value = line.lstrip("# ").partition(": ")
            if colon and key.isidentifier():
                header[key] = value.strip()
            continue
        if not line:
            continue
        if " @ " in line:
            urls.add(canonical(line.split(" @ ")[0]))
            continue
        name, equals, version = line.partition("==")
        if not equals:
            raise ValueError(f"not a `name==version` or `name @ url` line: {line!r}")
        versions[canonical(name)] = version.split("+")[0]
    return ColabList(versions, urls, header)


def read(path: Path = COLAB_FILE) -> ColabList:
    return parse(path.read_text(encoding="utf-8"))


def package_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The dependencies the book's package declares, i.e. what the Colab install line asks pip for."""
    return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]


def direct_conflicts(requirements: list[str], colab: ColabList) -> list[str]:
    """Each declared requirement whose bound excludes the version Colab ships, as a readable line."""
    found = []
    for line in requirements:
        requirement = Requirement(line)
        shipped = colab.versions.get(canonical(requirement.name))
        if shipped is not None and not requirement.specifier.contains(Version(shipped), prereleases=True):
            found.append(f"{requirement.name}: the book asks for {requirement.specifier}, Colab ships {shipped}")
    return found


def _stub_wheel(folder: Path, name: str, version: str) -> None:
    """An empty wheel ``name==version+colab``: pip prefers it (a local version sorts above the public one)."""
    dist = f"{name}-{version}+colab.dist-info"
    with zipfile.ZipFile(folder / f"{name}-{version}+colab-py3-none-any.whl", "w") as wheel:
        wheel.writestr(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}+colab\n")
        wheel.writestr(f"{dist}/WHEEL", "Wheel-Version: 1.0\nGenerator: book\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{dist}/RECORD", "")


def resolve(requirements: list[str], colab: ColabList, timeout: int = 900) -> dict[str, str]:
    """What pip would install for ``requirements`` on Colab, every Colab package held at Colab's version.

    Returns the packages Colab lacks (name → version). Raises ``RuntimeError`` with pip's explanation when no
    solution keeps Colab's packages as they are.
    """
    direct = direct_conflicts(requirements, colab)
    if direct:
        raise RuntimeError("; ".join(direct))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pins = [f"{name}=={version}" for name, version in sorted(colab.versions.items())]
        for name in TORCH_FAMILY:
            if name in colab.versions:
                _stub_wheel(tmp, name, colab.versions[name])
        (tmp / "constraints.txt").write_text("\n".join(pins) + "\n")
        wanted = [r for r in requirements if canonical(Requirement(r).name) not in TORCH_FAMILY]
        abi = "cp" + colab.python.replace(".", "")
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                   "--target", str(tmp / "target"), "--python-version", colab.python, "--implementation", "cp",
                   "--abi", abi, "--abi", "abi3", "--abi", "none", "--only-binary=:all:", "--find-links", str(tmp),
                   "--report", str(tmp / "report.json"), "-c", str(tmp / "constraints.txt"),
                   *(arg for platform in PLATFORMS for arg in ("--platform", platform)), *wanted]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            errors = [line for line in result.stderr.splitlines() if not line.startswith("WARNING: Location")]
            raise RuntimeError("pip found no install that leaves Colab's packages as they are:\n" + "\n".join(errors))
        report = json.loads((tmp / "report.json").read_text())
    installed = {canonical(item["metadata"]["name"]): item["metadata"]["version"] for item in report["install"]}
    changed = {n: v for n, v in installed.items() if n in colab.versions and v.split("+")[0] != colab.versions[n]}
    if changed:
        raise RuntimeError("pip would change Colab's " + ", ".join(
            f"{n} {colab.versions[n]} → {v}" for n, v in sorted(changed.items())))
    return {n: v for n, v in installed.items() if n not in colab.versions}


def python_of(listing: str) -> str | None:
    """Colab's Python version, read off the ``cpXY`` tags of the wheels it installs from URLs."""
    tags = set(re.findall(r"-cp3(\d+)-", listing))
    return f"3.{tags.pop()}" if len(tags) == 1 else None


def refresh(path: Path = COLAB_FILE) -> None:
    """Download Colab's current list and write it with a header (needs github.com)."""
    api = f"https://api.github.com/repos/{SOURCE_REPO}/commits?path={SOURCE_FILE}&per_page=1"
    with urllib.request.urlopen(api, timeout=30) as response:
        commit = json.load(response)[0]
    sha, when = commit["sha"], commit["commit"]["committer"]["date"][:10]
    raw = f"https://raw.githubusercontent.com/{SOURCE_REPO}/{sha}/{SOURCE_FILE}"
    with urllib.request.urlopen(raw, timeout=30) as response:
        listing = response.read().decode("utf-8")
    python = python_of(listing) or read(path).python
    header = [f"# source: https://github.com/{SOURCE_REPO}/blob/{sha}/{SOURCE_FILE}",
              f"# commit: {sha}", f"# committed: {when}", f"# read: {date.today().isoformat()}",
              f"# python: {python}", "# Refreshed by `python tools/colab_packages.py --refresh`; Colab's own lines follow."]
    path.write_text("\n".join(header) + "\n" + listing, encoding="utf-8")
    parse(path.read_text(encoding="utf-8"))       # fail now, not in the next test run, if the format changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refresh", action="store_true", help="download Colab's current package list first")
    parser.add_argument("--check", action="store_true", help="resolve the book's package against the list")
    args = parser.parse_args(argv)
    if args.refresh:
        refresh()
        print(f"wrote {COLAB_FILE.relative_to(ROOT)}")
    if args.check or not args.refresh:
        colab = read()
        try:
            added = resolve(package_requirements(), colab)
        except RuntimeError as err:
            print(err)
            return 1
        print(f"Colab (Python {colab.python}, {len(colab.versions)} packages): the book's package changes none of "
              f"them and adds {', '.join(f'{n} {v}' for n, v in sorted(added.items()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
