"""smtptui: an interactive terminal debugger for SMTP."""

__version__ = "0.1.0"
