"""The package as a user gets it: the wheel built from this checkout, installed in a fresh
virtual environment, run from there; its themes inside it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from smtptui import __version__

ROOT = Path(__file__).parents[2]  # the repository
SHIPPED = {"dark", "light", "high-contrast", "solarized-dark"}

pytestmark = pytest.mark.timeout(110)


def outside(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``args`` as a user would, away from this checkout: no PYTHONPATH (it points the
    tests at the checkout) and another directory (Python puts the current one on the path)."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [str(arg) for arg in args], capture_output=True, text=True, timeout=60, env=env, cwd=cwd
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    pip_wheel = (sys.executable, "-m", "pip", "wheel", "-q", "--no-deps")
    built = outside(*pip_wheel, "-w", out, ROOT, cwd=out)
    assert built.returncode == 0, built.stderr
    [path] = out.glob("smtptui-*.whl")
    return path


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed (its dependencies from this
    machine's site-packages: no network); its bin directory."""
    home = tmp_path_factory.mktemp("venv")
    made = outside(sys.executable, "-m", "venv", "--system-site-packages", home / "env", cwd=home)
    assert made.returncode == 0, made.stderr
    bin_dir = home / "env" / ("Scripts" if os.name == "nt" else "bin")
    install = (bin_dir / "python", "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall")
    installed = outside(*install, "--no-index", wheel, cwd=home)
    assert installed.returncode == 0, installed.stderr
    return bin_dir


def test_the_wheel_holds_the_four_themes(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"smtptui/themes/{name}.toml" for name in SHIPPED} <= names


def test_the_wheel_holds_the_servers_default_rules(wheel: Path) -> None:
    assert "smtptui/server/default-rules.toml" in zipfile.ZipFile(wheel).namelist()


def test_the_venv_runs_the_wheels_smtptui_not_the_checkouts(venv: Path) -> None:
    probe = "import smtptui, smtptui.ui.themes as t; print(smtptui.__file__, t.builtin_dir())"
    result = outside(venv / "python", "-c", probe, cwd=venv)
    assert result.returncode == 0, result.stderr
    package, themes = map(Path, result.stdout.split())
    env = venv.parent
    assert package.is_relative_to(env), package  # not the editable install, not ROOT
    assert themes == package.parent / "themes"
    assert {path.stem for path in themes.glob("*.toml")} == SHIPPED


def test_the_installed_command_shows_its_version(venv: Path) -> None:
    result = outside(venv / "smtptui", "--version", cwd=venv)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"smtptui, version {__version__}"


def test_the_installed_command_loads_its_themes(venv: Path) -> None:
    probe = "from smtptui.ui.themes import load_themes; print(sorted(load_themes()[0]))"
    result = outside(venv / "python", "-c", probe, cwd=venv)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(sorted(SHIPPED))


def test_the_installed_command_runs_the_demo(venv: Path) -> None:
    result = outside(venv / "smtptui", "run", "--demo", "--no-color", cwd=venv)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "=== The server received" in result.stdout
    assert "Traceback" not in result.stderr
