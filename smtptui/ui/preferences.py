"""What smtptui remembers between runs (the theme), in ``config.toml`` in its config
directory. Nothing secret is ever written here."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import platformdirs


def config_dir() -> Path:
    """smtptui's config directory (``$SMTPTUI_CONFIG_DIR`` overrides it)."""
    override = os.environ.get("SMTPTUI_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir("smtptui"))


def config_file() -> Path:
    return config_dir() / "config.toml"


def remembered_theme() -> str | None:
    """The theme chosen last time, if any (an unreadable file counts as none)."""
    try:
        theme = tomllib.loads(config_file().read_text(encoding="utf-8")).get("theme")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return theme if isinstance(theme, str) else None


def remember_theme(name: str) -> None:
    """Keep ``name`` as the theme for next time; raises OSError if it cannot be written."""
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"theme = {json.dumps(name)}\n", encoding="utf-8")
