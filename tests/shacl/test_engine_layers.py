"""The SHACL layer and the whole-KB checks import in one direction: no cycle between the
engines and their results, and ``ops`` below the ``KnowledgeBase`` facade."""

from __future__ import annotations

import subprocess
import sys

import pytest


def imported_after(module: str) -> set[str]:
    """The ``geokb`` modules a fresh interpreter has loaded after importing ``module``."""
    code = (f"import sys, {module}\n"
            "print('\\n'.join(m for m in sys.modules if m.startswith('geokb')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    return set(out.split())


@pytest.mark.parametrize("module", ["geokb.shacl.results", "geokb.shacl.compiled",
                                    "geokb.shacl.engines", "geokb.ops.validate",
                                    "geokb.ops.checks"])
def test_the_module_loads_on_its_own_without_the_kb(module: str) -> None:
    loaded = imported_after(module)
    assert "geokb.kb" not in loaded
    assert "geokb.shacl.validation" not in loaded  # the old home is only kept for callers


def test_the_results_need_no_engine() -> None:
    assert not {m for m in imported_after("geokb.shacl.results")
                if m.startswith("geokb.shacl.") and m != "geokb.shacl.results"}


def test_the_old_names_still_answer() -> None:
    from geokb.shacl import validation
    from geokb.shacl.results import ShapeReport

    assert validation.ShapeReport is ShapeReport
