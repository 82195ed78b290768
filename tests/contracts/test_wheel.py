"""The built wheel is a working geokb on its own: no checkout, no editable install.

How the test stays fast and honest: the wheel is built without build isolation (hatchling
comes from the dev venv, so no download), and installed with ``--no-deps`` into a fresh
``python -m venv --without-pip``. That venv sees the *dependencies* (pyoxigraph, rdflib,
FastAPI, …) through one ``.pth`` line naming the dev venv's site-packages: a path line in a
``.pth`` adds that directory to ``sys.path`` but does not run the ``.pth`` files inside it,
so the dev venv's editable-install hook (which points at ``src/``) stays inert, and geokb
itself can only come from the wheel. The test asserts exactly that before it trusts an
answer. Then it copies ``kb/`` elsewhere and asks ``geokb --kb <copy> status Tartus`` from
an unrelated directory.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    built = _run([sys.executable, "-m", "build", "--wheel", "--no-isolation",
                  "--outdir", str(out), str(REPO)], cwd=REPO)
    assert built.returncode == 0, built.stdout + built.stderr
    (path,) = out.glob("geokb-*.whl")
    return path


def test_wheel_holds_the_data_the_code_reads(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {"geokb/py.typed", "geokb/resources.py",
                "geokb/http/static/index.html", "geokb/http/static/app.js",
                "geokb/http/static/app.css"}
    expected |= {f"geokb/data/ontology/{p.name}" for p in (REPO / "ontology").glob("*.ttl")}
    expected |= {f"geokb/data/shapes/{p.name}" for p in (REPO / "shapes").glob("*.ttl")}
    assert expected <= names, f"missing from the wheel: {sorted(expected - names)}"
    # and nothing of the checkout that is not the package
    assert not [n for n in names if n.startswith(("kb/", "tests/", "bench/", "src/"))]


def _environment(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "GEOKB_HOME", "VIRTUAL_ENV", "PYTHONHOME"}}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("venv")
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=venv)
    assert made.returncode == 0, made.stderr
    purelib = Path(_run([str(venv / "bin" / "python"), "-c",
                         "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=venv).stdout.strip())
    # the dependencies, from the dev venv (see the module docstring)
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"],
            *site.getsitepackages()}
    (purelib / "_dev_dependencies.pth").write_text(
        "".join(f"{d}\n" for d in sorted(deps) if d), encoding="utf-8")
    pip = _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                "install", "--no-deps", "--no-index", "--quiet", str(wheel)],
               cwd=venv, env=_environment(venv))
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return venv


def test_installed_geokb_comes_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    probe = ("import geokb, geokb.resources as r; print(geokb.__file__); "
             "print(r.ontology_dir()); print(r.shapes_dir())")
    result = _run([str(installed / "bin" / "python"), "-c", probe], cwd=tmp_path,
                  env=_environment(installed))
    assert result.returncode == 0, result.stderr
    module, ontology, shapes = (Path(line) for line in result.stdout.split())
    for path in (module, ontology, shapes):
        assert path.is_relative_to(installed), f"{path} is not inside the fresh venv"
        assert not path.resolve().is_relative_to(REPO), f"{path} comes from the checkout"
    assert ontology.name == "ontology" and ontology.parent.name == "data"
    assert (ontology / "geokb.ttl").is_file() and any(shapes.glob("*.ttl"))


def test_installed_geokb_answers_about_a_copied_kb(installed: Path, tmp_path: Path) -> None:
    copy = tmp_path / "somewhere" / "kb"
    shutil.copytree(REPO / "kb", copy, ignore=shutil.ignore_patterns(".lock", ".pending"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = _run([str(installed / "bin" / "geokb"), "--kb", str(copy), "status", "Tartus"],
                  cwd=elsewhere, env=_environment(installed))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Tartus naval base" in result.stdout, result.stdout


def test_geokb_home_overrides_the_packaged_data(installed: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(REPO / "ontology", home / "ontology")
    (home / "shapes").mkdir()  # no shapes: the override is used, and says what is missing
    env = _environment(installed) | {"GEOKB_HOME": str(home)}
    result = _run([str(installed / "bin" / "python"), "-c",
                   "from geokb.resources import shapes_dir; print(shapes_dir())"],
                  cwd=tmp_path, env=env)
    assert result.returncode == 0 and Path(result.stdout.strip()) == home / "shapes"
    (home / "shapes").rmdir()
    shutil.copytree(REPO / "kb", tmp_path / "kb",
                    ignore=shutil.ignore_patterns(".lock", ".pending"))
    result = _run([str(installed / "bin" / "geokb"), "--kb", str(tmp_path / "kb"), "status",
                   "Tartus"],
                  cwd=tmp_path, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "GEOKB_HOME" in result.stderr and "shapes/" in result.stderr
    assert "Traceback" not in result.stderr
