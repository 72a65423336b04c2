"""Docs that are generated from code stay in sync; public API is documented."""

import inspect
import subprocess
import sys
from pathlib import Path

import graphdl as gd

ROOT = Path(__file__).resolve().parent.parent


def test_ops_reference_is_up_to_date():
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "make_ops_doc.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_public_callable_has_a_docstring():
    missing = [name for name in dir(gd) if not name.startswith("_")
               and callable(getattr(gd, name)) and not inspect.getdoc(getattr(gd, name))]
    assert not missing, f"public API without docstrings: {missing}"


def test_readme_leads_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    head = readme[:600]
    assert "make demo" in head and "make test" in head
