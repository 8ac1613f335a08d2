"""The ``smtptui`` command (and ``python -m smtptui``).

``smtptui --version`` is answered here, before :mod:`smtptui.cli` is imported: click and
the option tables cost about 70 ms, more than twice the interpreter's own start-up, and a
script that checks the version pays it on every call."""

from __future__ import annotations

import sys

from smtptui import VERSION_LINE


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        print(VERSION_LINE)
        return
    from smtptui.cli import main as cli

    cli(prog_name="smtptui")  # not "python -m smtptui": the same usage lines and completion


if __name__ == "__main__":
    main()
