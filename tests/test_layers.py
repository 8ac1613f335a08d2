"""The layers stay in order: import-linter's contracts (``[tool.importlinter]`` in
pyproject.toml) hold, and the core still runs without Textual."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def test_import_contracts_are_kept() -> None:
    script = shutil.which("lint-imports", path=Path(sys.executable).parent)
    if script is None:
        pytest.fail(f"lint-imports is not installed beside {sys.executable}: pip install '.[test]'")
    result = subprocess.run(
        [script, "pyproject.toml", "--no-cache"],
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
        },  # this checkout's smtptui, not an installed one
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_importing_the_core_does_not_import_textual() -> None:
    """What the contracts cannot see: the modules loaded at run time, through other packages
    or by name, as ``smtptui run`` loads them."""
    code = (
        "import sys, smtptui.protocol, smtptui.engine, smtptui.session, smtptui.server;"
        "import smtptui.cli;"
        "print(sorted({name.split('.')[0] for name in sys.modules} & {'textual', 'rich'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
