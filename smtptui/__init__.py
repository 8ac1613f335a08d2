"""smtptui: an interactive terminal debugger for SMTP."""

__version__ = "0.1.0"

VERSION_LINE = f"smtptui, version {__version__}"
"""What ``smtptui --version`` prints: by :mod:`smtptui.__main__` before the CLI is loaded,
and by click's version option when it is asked after other words."""
