"""The session: settings, actions, state and transcript, driven by one controller.

Nothing here imports Textual: the TUI and the headless commands drive the same controller.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

from smtptui import lazy

if TYPE_CHECKING:
    from smtptui.engine.tls import VerifyMode
    from smtptui.protocol.dialogue import Command
    from smtptui.session.actions import (
        QUIT_STOPS,
        READS_SETTINGS,
        Action,
        Authenticate,
        Connect,
        Disconnect,
        Ehlo,
        EndMessage,
        Expand,
        Helo,
        Help,
        MailFrom,
        MessageLine,
        Noop,
        Outcome,
        Pipeline,
        Quit,
        Raw,
        RcptTo,
        Reset,
        Risk,
        RunAll,
        SendBdat,
        SendData,
        SendMessage,
        StartTls,
        Stop,
        Verify,
        Xclient,
    )
    from smtptui.session.controller import SessionController, Update
    from smtptui.session.exits import Exit
    from smtptui.session.explain import explanation
    from smtptui.session.export import (
        ExportFormat,
        default_filename,
        export,
        swaks_lines,
        to_jsonl,
        to_swaks,
        write_export,
    )
    from smtptui.session.findings import Finding, Level, Section
    from smtptui.session.pem import save_chain
    from smtptui.session.policies import dane_section, mta_sts_section
    from smtptui.session.probe import (
        DEFAULT_PORTS,
        PROBE_COLUMNS,
        ProbeReport,
        ProbeTarget,
        parse_probe_target,
        probe_cells,
        probe_host,
        probe_json,
    )
    from smtptui.session.recipe import Recipe, as_python, as_run, as_swaks
    from smtptui.session.settings import Security, SessionSettings
    from smtptui.session.state import Phase, SessionState, Transfer, suggestions
    from smtptui.session.summary import Summary, summarize
    from smtptui.session.transcript import Entry, EntryKind, Transcript
    from smtptui.session.transcript_model import TranscriptModel
    from smtptui.session.visible import visible, visible_bytes, visible_tls

__all__ = [
    "DEFAULT_PORTS",
    "PROBE_COLUMNS",
    "QUIT_STOPS",
    "READS_SETTINGS",
    "Action",
    "Authenticate",
    "Command",
    "Connect",
    "Disconnect",
    "Ehlo",
    "EndMessage",
    "Entry",
    "EntryKind",
    "Exit",
    "Expand",
    "ExportFormat",
    "Finding",
    "Helo",
    "Help",
    "Level",
    "MailFrom",
    "MessageLine",
    "Noop",
    "Outcome",
    "Phase",
    "Pipeline",
    "ProbeReport",
    "ProbeTarget",
    "Quit",
    "Raw",
    "RcptTo",
    "Recipe",
    "Reset",
    "Risk",
    "RunAll",
    "Section",
    "Security",
    "SendBdat",
    "SendData",
    "SendMessage",
    "SessionController",
    "SessionSettings",
    "SessionState",
    "StartTls",
    "Stop",
    "Summary",
    "Transcript",
    "TranscriptModel",
    "Transfer",
    "Update",
    "Verify",
    "VerifyMode",
    "Xclient",
    "as_python",
    "as_run",
    "as_swaks",
    "dane_section",
    "default_filename",
    "explanation",
    "export",
    "mta_sts_section",
    "parse_probe_target",
    "probe_cells",
    "probe_host",
    "probe_json",
    "save_chain",
    "suggestions",
    "summarize",
    "swaks_lines",
    "to_jsonl",
    "to_swaks",
    "visible",
    "visible_bytes",
    "visible_tls",
    "write_export",
]

_HOMES = {
    "DEFAULT_PORTS": "smtptui.session.probe",
    "PROBE_COLUMNS": "smtptui.session.probe",
    "ProbeReport": "smtptui.session.probe",
    "ProbeTarget": "smtptui.session.probe",
    "parse_probe_target": "smtptui.session.probe",
    "probe_cells": "smtptui.session.probe",
    "probe_host": "smtptui.session.probe",
    "probe_json": "smtptui.session.probe",
    "QUIT_STOPS": "smtptui.session.actions",
    "Action": "smtptui.session.actions",
    "Authenticate": "smtptui.session.actions",
    "Command": "smtptui.protocol.dialogue",
    "Connect": "smtptui.session.actions",
    "Disconnect": "smtptui.session.actions",
    "Ehlo": "smtptui.session.actions",
    "EndMessage": "smtptui.session.actions",
    "Entry": "smtptui.session.transcript",
    "EntryKind": "smtptui.session.transcript",
    "Exit": "smtptui.session.exits",
    "Finding": "smtptui.session.findings",
    "Level": "smtptui.session.findings",
    "Section": "smtptui.session.findings",
    "Expand": "smtptui.session.actions",
    "ExportFormat": "smtptui.session.export",
    "Helo": "smtptui.session.actions",
    "Help": "smtptui.session.actions",
    "MailFrom": "smtptui.session.actions",
    "MessageLine": "smtptui.session.actions",
    "Noop": "smtptui.session.actions",
    "Outcome": "smtptui.session.actions",
    "Phase": "smtptui.session.state",
    "Pipeline": "smtptui.session.actions",
    "Quit": "smtptui.session.actions",
    "READS_SETTINGS": "smtptui.session.actions",
    "Raw": "smtptui.session.actions",
    "RcptTo": "smtptui.session.actions",
    "Recipe": "smtptui.session.recipe",
    "Reset": "smtptui.session.actions",
    "Risk": "smtptui.session.actions",
    "RunAll": "smtptui.session.actions",
    "Security": "smtptui.session.settings",
    "SendBdat": "smtptui.session.actions",
    "SendData": "smtptui.session.actions",
    "SendMessage": "smtptui.session.actions",
    "SessionController": "smtptui.session.controller",
    "SessionSettings": "smtptui.session.settings",
    "SessionState": "smtptui.session.state",
    "Transfer": "smtptui.session.state",
    "StartTls": "smtptui.session.actions",
    "Stop": "smtptui.session.actions",
    "Summary": "smtptui.session.summary",
    "Transcript": "smtptui.session.transcript",
    "TranscriptModel": "smtptui.session.transcript_model",
    "Update": "smtptui.session.controller",
    "Verify": "smtptui.session.actions",
    "VerifyMode": "smtptui.engine.tls",
    "Xclient": "smtptui.session.actions",
    "as_python": "smtptui.session.recipe",
    "as_run": "smtptui.session.recipe",
    "as_swaks": "smtptui.session.recipe",
    "dane_section": "smtptui.session.policies",
    "default_filename": "smtptui.session.export",
    "explanation": "smtptui.session.explain",
    "export": "smtptui.session.export",
    "mta_sts_section": "smtptui.session.policies",
    "save_chain": "smtptui.session.pem",
    "suggestions": "smtptui.session.state",
    "summarize": "smtptui.session.summary",
    "swaks_lines": "smtptui.session.export",
    "to_jsonl": "smtptui.session.export",
    "to_swaks": "smtptui.session.export",
    "visible": "smtptui.session.visible",
    "visible_bytes": "smtptui.session.visible",
    "visible_tls": "smtptui.session.visible",
    "write_export": "smtptui.session.export",
}
"""The module each exported name lives in (see :mod:`smtptui.lazy`)."""

__getattr__, __dir__ = lazy.exports(__name__, _HOMES)


class _Package(types.ModuleType):
    """This package, keeping ``export`` and ``visible`` the functions: they are also the
    names of the modules that hold them, and importing a module sets its package's
    attribute of that name to the module."""

    def __setattr__(self, name: str, value: object) -> None:
        if isinstance(value, types.ModuleType) and _HOMES.get(name) == value.__name__:
            return  # the function, from __getattr__, stays what the name means
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
