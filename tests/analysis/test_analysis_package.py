"""The analysis package as a library: public API, runnable docstring examples, no app imports."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import pytest

import analysis

MODULES = [
    "analysis.items",
    "analysis.rollup",
    "analysis.indices",
    "analysis.compare",
    "analysis.trends",
    "analysis.drivers",
    "analysis.lineage",
    "analysis.multiplicity",
]


def test_public_api_is_named_and_importable() -> None:
    assert len(analysis.__all__) == len(set(analysis.__all__))
    for name in analysis.__all__:
        assert getattr(analysis, name) is not None
    for module in MODULES:
        for name in importlib.import_module(module).__all__:
            assert name in analysis.__all__, f"{module}.{name} is missing from analysis.__all__"


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(
        importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted > 0, f"{module} has no examples"
    assert result.failed == 0


def test_importing_analysis_pulls_in_neither_flask_nor_sqlalchemy() -> None:
    code = (
        "import sys, analysis; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy', 'survey')]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
