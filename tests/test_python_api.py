"""The public Python API: ``geokb.__all__`` resolves, and docs/python-api.md runs as written."""

from __future__ import annotations

import doctest
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import geokb

DOC = Path(__file__).resolve().parents[1] / "docs" / "python-api.md"


def test_python_api_doc_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the doc's mkdtemp lands here
    result = doctest.testfile(str(DOC), module_relative=False, report=True,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 30, "the examples of docs/python-api.md were not found"
    assert result.failed == 0, f"{result.failed} example(s) of {DOC.name} failed (see above)"


@pytest.mark.parametrize("name", geokb.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(geokb, name) is not None
    assert name in dir(geokb)


def test_every_error_is_public() -> None:
    from geokb import errors

    domain = {name for name, value in vars(errors).items()
              if isinstance(value, type) and issubclass(value, errors.GeoKBError)}
    assert domain <= set(geokb.__all__), f"not exported: {sorted(domain - set(geokb.__all__))}"


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        geokb.no_such_thing  # noqa: B018


def test_import_geokb_is_light() -> None:
    # the public names load on first use: a bare import brings neither FastAPI nor pySHACL
    code = ("import sys, geokb; heavy = [m for m in ('fastapi', 'pyshacl', 'pyoxigraph', "
            "'geokb.kb') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.strip() == "[]"
