"""The import contracts of pyproject.toml ([tool.importlinter]) hold, and they can fail.

lint-imports checks three contracts: the layers (an import may only go down), the front
doors (cli and http call the KnowledgeBase, nothing below it) and no import cycles among
the modules of a subpackage. The negative tests copy ``src/geokb`` into a temporary
directory, add one bad import there, and run lint-imports on the copy (PYTHONPATH puts
it ahead of the installed package) to show that the contract named breaks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "pyproject.toml"
LAYERS = "Layers: cli > http > kb"
FRONT_DOORS = "Front doors call the KnowledgeBase and nothing below it"
ACYCLIC = "No import cycles between the modules of a subpackage"


def _lint_imports(*, cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).parent / "lint-imports"
    if not tool.exists():
        pytest.fail("lint-imports is not installed (pip install -e '.[dev]')")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([str(tool), "--no-cache", "--no-logo", str(CONFIG)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_import_contracts_are_kept() -> None:
    result = _lint_imports(cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in (LAYERS, FRONT_DOORS, ACYCLIC):
        assert name in " ".join(result.stdout.split()), result.stdout


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the package to break; returns the directory to put on PYTHONPATH."""
    shutil.copytree(REPO / "src" / "geokb", tmp_path / "geokb",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _add_import(copy: Path, module: str, line: str) -> None:
    path = copy / "geokb" / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")


def test_an_unchanged_copy_passes(copy: Path, tmp_path: Path) -> None:
    # the control for the tests below: the copy itself is what gets checked, and is clean
    result = _lint_imports(cwd=tmp_path, pythonpath=copy)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("module", "line", "contract", "names"), [
    # the log climbing to a front door
    ("log/events.py", "import geokb.cli", LAYERS, "geokb.log.events -> geokb.cli"),
    # a lower layer reaching the facade
    ("projection/quads.py", "from geokb import kb", LAYERS, "geokb.projection.quads -> geokb.kb"),
    # siblings of one layer are independent
    ("read/status.py", "import geokb.write.updates", LAYERS,
     "geokb.read.status -> geokb.write.updates"),
    # the HTTP app going round the facade
    ("http/cache.py", "import geokb.projection.store", FRONT_DOORS,
     "geokb.http.cache -> geokb.projection.store"),
    # a cycle inside a subpackage
    ("log/events.py", "import geokb.log.codec", ACYCLIC, "geokb.log"),
])
def test_a_bad_import_breaks_its_contract(copy: Path, tmp_path: Path, module: str, line: str,
                                          contract: str, names: str) -> None:
    _add_import(copy, module, line)
    result = _lint_imports(cwd=tmp_path, pythonpath=copy)
    out = " ".join(result.stdout.split())  # rich wraps long names across lines
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{contract}" in out and "BROKEN" in out, result.stdout
    assert names in out, result.stdout


def test_a_new_top_level_module_must_be_given_a_layer(copy: Path, tmp_path: Path) -> None:
    (copy / "geokb" / "helpers.py").write_text('"""A module no layer names."""\n',
                                                encoding="utf-8")
    result = _lint_imports(cwd=tmp_path, pythonpath=copy)
    assert result.returncode != 0
    assert "geokb.helpers" in " ".join((result.stdout + result.stderr).split())
