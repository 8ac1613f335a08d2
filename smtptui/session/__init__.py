"""The session: settings, actions, state and transcript, driven by one controller.

Nothing here imports Textual: the TUI and the headless commands drive the same controller.
"""

from smtptui.session.actions import (
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
    Quit,
    Raw,
    RcptTo,
    Reset,
    Risk,
    RunAll,
    SendData,
    SendMessage,
    StartTls,
    Verify,
)
from smtptui.session.controller import SessionController, Update
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
from smtptui.session.settings import Security, SessionSettings
from smtptui.session.state import Phase, SessionState, suggestions
from smtptui.session.transcript import Entry, EntryKind, Transcript
from smtptui.session.visible import visible, visible_bytes, visible_tls

__all__ = [
    "READS_SETTINGS",
    "Action",
    "Authenticate",
    "Connect",
    "Disconnect",
    "Ehlo",
    "EndMessage",
    "Entry",
    "EntryKind",
    "Expand",
    "ExportFormat",
    "Helo",
    "Help",
    "MailFrom",
    "MessageLine",
    "Noop",
    "Outcome",
    "Phase",
    "Quit",
    "Raw",
    "RcptTo",
    "Reset",
    "Risk",
    "RunAll",
    "Security",
    "SendData",
    "SendMessage",
    "SessionController",
    "SessionSettings",
    "SessionState",
    "StartTls",
    "Transcript",
    "Update",
    "Verify",
    "default_filename",
    "explanation",
    "export",
    "suggestions",
    "swaks_lines",
    "to_jsonl",
    "to_swaks",
    "visible",
    "visible_bytes",
    "visible_tls",
    "write_export",
]
