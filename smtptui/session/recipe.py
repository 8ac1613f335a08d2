"""A session as a command: the steps that sent a message, written out for ``smtptui run``,
for swaks and as a Python script using smtplib, so the same message can be sent again.

A :class:`Recipe` holds what is reproduced and nothing secret: the password and OAuth token
never enter it (each command asks for the password, or reads ``$SMTPTUI_PASSWORD``), and no
byte a server sent is in it. What a target cannot do (swaks has no ESMTP parameters, smtplib
no BDAT) is written in the output as a ``# not reproduced: …`` line, never dropped silently.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import shlex
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from smtptui.engine.tls import TLS_VERSIONS, VerifyMode
from smtptui.engine.transport import shown_proxy
from smtptui.protocol.auth import requested_mechanisms
from smtptui.protocol.commands import international
from smtptui.protocol.data import DEFAULT_CHUNK_SIZE, data_payload, encode_message
from smtptui.protocol.envelope import Envelope
from smtptui.session.actions import SendMessage
from smtptui.session.export import ExportFormat
from smtptui.session.message import TOKENS
from smtptui.session.settings import (
    PASSWORD_VARIABLE,
    TOKEN_VARIABLE,
    Security,
    SessionSettings,
)
from smtptui.session.state import SessionState
from smtptui.session.visible import visible

_DEFAULTS = SessionSettings()


@dataclass(frozen=True)
class Recipe:
    """What to do again: connect with ``settings``, greet (EHLO, or HELO unless ``esmtp``),
    TLS as ``settings.security`` says, AUTH if ``settings.username``, then ``send``.

    ``settings`` has no password, no token and no in-memory TLS context; its security,
    verification and username are those the session used when the message was sent
    (STARTTLS configured but never done is ``NONE``; a certificate whose check the user
    skipped is not verified). ``send.message`` is bytes. ``offered`` holds the EHLO keywords
    the server had offered then (None: nothing sent yet, the recipe is what is configured);
    ``pinned``: the session trusted a certificate it held in memory (the demo's), which no
    file holds; ``oauth``: it had an OAuth token for XOAUTH2, which no command carries.
    """

    settings: SessionSettings
    send: SendMessage
    esmtp: bool = True
    offered: frozenset[str] | None = None
    pinned: bool = False
    oauth: bool = False

    @classmethod
    def of(
        cls, settings: SessionSettings, send: SendMessage, state: SessionState | None = None
    ) -> Recipe:
        """The recipe of ``send`` with ``settings``; ``state``: the session's right after
        it sent ``send`` (what it did: TLS, AUTH, EHLO), None for what is configured."""
        security, username = settings.security, settings.username
        verify = settings.verify
        if state is not None:
            if security is not Security.TLS:
                security = Security.STARTTLS if state.tls is not None else Security.NONE
            username = username if state.user is not None else ""
            if verify is VerifyMode.BOTH and state.tls is not None and not state.tls.verified:
                verify = VerifyMode.NONE  # skipped once
        clean = dataclasses.replace(
            settings,
            security=security,
            verify=verify,
            username=username,
            mechanism=settings.mechanism if username else None,
            password="",
            oauth_token="",
            ssl_context=None,
        )
        return cls(
            clean,
            dataclasses.replace(send, message=encode_message(send.message)),
            esmtp=state.esmtp if state is not None else True,
            offered=state.extensions if state is not None else None,
            pinned=settings.ssl_context is not None and security is not Security.NONE,
            oauth=bool(settings.oauth_token and username),
        )

    @property
    def tls(self) -> bool:
        return self.settings.security is not Security.NONE

    @property
    def message(self) -> bytes:
        message = self.send.message
        assert isinstance(message, bytes)  # made so by of()
        return message

    @property
    def pipelined(self) -> bool:
        """Whether MAIL, RCPT and DATA went in one write (asked and offered)."""
        return self.send.pipelining and "PIPELINING" in (self.offered or ())

    def mail_parameters(self) -> list[str]:
        """MAIL FROM's parameters as the session asked for them (no automatic SIZE)."""
        envelope = self.send.envelope or Envelope()
        utf8 = international(self.send.sender, *self.send.recipients)
        words = envelope.mail_options(0, international=utf8, advertised=None)
        return words + [word for word in self.send.mail_options if word not in words]

    def rcpt_parameters(self, recipient: str) -> list[str]:
        envelope = self.send.envelope or Envelope()
        return [*envelope.rcpt_options(recipient), *self.send.rcpt_options]

    def unadvertised(self) -> bool:
        """Whether the envelope held parameters the server had not offered (and the user
        sent them anyway)."""
        envelope = self.send.envelope
        if envelope is None or self.offered is None:
            return False
        return any(keyword not in self.offered for keyword in envelope.needs().values())

    def where(self) -> str:
        """The server: ``host:port``, ``unix:/path``, or the command in backquotes."""
        return self.settings.route(*self.settings.address()).name


# -- smtptui run ---------------------------------------------------------------------------


def as_run(recipe: Recipe, program: str = "smtptui") -> str:
    """A shell command running ``smtptui run`` with the recipe's steps, the message on its
    standard input (``--data -``) from a quoted here-document. ``program`` is the shell
    words that start smtptui (``python3 -m smtptui``), written as given."""
    settings, send = recipe.settings, recipe.send
    notes: list[str] = []
    host = [] if settings.pipe is not None else [recipe.where()]  # the command is the server
    words: list[list[str]] = [[*host, f"--{_RUN_SECURITY[settings.security]}"]]
    if settings.lmtp:
        words.append(["--lmtp"])
    words += _run_transport(settings, notes)
    words += _verification(
        recipe, notes, no_verify="--no-verify", mode="--verify", cafile="--cafile"
    )
    words += _run_tls(recipe)
    if settings.helo_name:
        words.append(["--ehlo", settings.helo_name])
    if not recipe.esmtp:
        words.append(["--helo"])
    if settings.username:
        words.append(["--user", settings.username])
        if settings.mechanism:
            words.append(["--auth", settings.mechanism])
        if settings.authzid:
            words.append(["--authzid", settings.authzid])
        if not settings.login_initial_response:
            words.append(["--no-login-initial-response"])
        if recipe.oauth:
            words.append(["--oauth-token-env", TOKEN_VARIABLE])
        if not recipe.tls:
            words.append(["--plaintext-auth"])
    words.append(["--from", send.sender or "<>"])
    words += [["--to", recipient] for recipient in send.recipients]
    words += _run_envelope(recipe, notes)
    if recipe.unadvertised():
        words.append(["--unadvertised-ok"])
    if send.chunking is not False:
        size = DEFAULT_CHUNK_SIZE if send.chunking is True else send.chunking
        words.append(["--chunking"] if size == DEFAULT_CHUNK_SIZE else ["--chunk-size", str(size)])
    if not send.pipelining:
        words.append(["--no-pipelining"])
    if settings.reply_timeout != _DEFAULTS.reply_timeout:
        words.append(["--timeout", f"{settings.reply_timeout:g}"])
    if settings.connect_timeout != _DEFAULTS.connect_timeout:
        notes.append(f"the connect timeout of {settings.connect_timeout:g} s: run has no flag")
    if found := [token for token in TOKENS if token.encode() in recipe.message]:
        notes.append(f"{', '.join(found)} in the message: run replaces them in --data")
    words.append(["--data", "-"])
    header = [f"smtptui run: {_summary(recipe)}."]
    if settings.username:
        header.append(f"The password comes from ${PASSWORD_VARIABLE}, or run asks for it.")
    if recipe.oauth:
        header.append(f"The OAuth token comes from ${TOKEN_VARIABLE}.")
    return _script(header, notes, recipe.message, [program, "run"], words)


_RUN_SECURITY = {Security.STARTTLS: "starttls", Security.TLS: "tls", Security.NONE: "plain"}


def _run_transport(settings: SessionSettings, notes: list[str]) -> list[list[str]]:
    """run's transport flags for the way the session went; a proxy's password is left out
    (the script is a file), and said so."""
    words: list[list[str]] = []
    if settings.pipe is not None:
        words.append(["--pipe", settings.pipe])
    if settings.via:
        shown = shown_proxy(settings.via)
        words.append(["--via", shown])
        if shown != settings.via:
            notes.append("the proxy's password is not written: add it to --via")
    if settings.source_address:
        words.append(["--source", settings.source_address])
    if settings.family:
        words.append([f"-{settings.family}"])
    return words


def _run_envelope(recipe: Recipe, notes: list[str]) -> list[list[str]]:
    """run's envelope flags for the recipe's envelope and parameters."""
    send = recipe.send
    envelope = send.envelope or Envelope()
    words: list[list[str]] = []
    if envelope.size is not None:
        words.append(["--size", str(envelope.size)])
    if envelope.body:
        words.append(["--body-type", envelope.body.strip(" ").upper()])
    smtputf8 = envelope.smtputf8
    if smtputf8 is None and "SMTPUTF8" in send.mail_options:
        smtputf8 = True
    if smtputf8 is not None:
        words.append(["--smtputf8" if smtputf8 else "--no-smtputf8"])
    if envelope.ret:
        words.append(["--ret", envelope.ret.strip(" ").upper()])
    if envelope.envid:
        words.append(["--envid", envelope.envid])
    if envelope.notify:
        words.append(["--notify", ",".join(envelope.notify)])
    if envelope.requiretls:
        words.append(["--requiretls"])
    orcpts = {envelope.orcpt.get(recipient) for recipient in send.recipients}
    shared = orcpts.pop() if len(orcpts) == 1 else None
    if shared is not None:
        words.append(["--orcpt", shared])
    done: set[str] = set()
    for recipient in send.recipients:
        own = envelope.rcpt.get(recipient)
        orcpt = own.orcpt if own is not None and own.orcpt else None
        orcpt = orcpt or (None if shared else envelope.orcpt.get(recipient))
        params = [f"NOTIFY={','.join(own.notify)}"] if own is not None and own.notify else []
        params += [f"ORCPT={orcpt}"] if orcpt else []
        if not params or recipient in done:
            continue
        done.add(recipient)
        if any(" " in param for param in params):
            notes.append(f"{recipient}'s {' '.join(params)}: run takes no space in a value")
        else:
            words.append(["--rcpt-params", " ".join([recipient, *params])])
    if others := [word for word in send.mail_options if word != "SMTPUTF8"]:
        notes.append(f"the MAIL FROM parameters {' '.join(others)}: run has no flag for them")
    if send.rcpt_options:
        notes.append(f"the RCPT TO parameters {' '.join(send.rcpt_options)}: run has no flag")
    return words


# -- swaks ---------------------------------------------------------------------------------


def as_swaks(recipe: Recipe) -> str:
    """A bash command running swaks with the recipe's steps. The message is DATA's payload
    with ``--no-data-fixup`` (no tokens replaced, dots doubled here, its ``.`` line
    included: swaks sends it as it is), from a file (``<(…)``): swaks asks for the password
    on its standard input (``--auth-password`` is left out)."""
    settings, send = recipe.settings, recipe.send
    notes: list[str] = []
    words: list[list[str]] = [["--server", recipe.where()]]
    if settings.security is Security.STARTTLS:
        words.append(["--tls"])
    elif settings.security is Security.TLS:
        words.append(["--tls-on-connect"])
    # swaks does not verify the certificate unless told to
    words += _verification(recipe, notes, verify="--tls-verify", cafile="--tls-ca-path")
    notes += _tls_limits(recipe, "swaks", versions=True, ciphers=True)
    if settings.client_cert:
        words.append(["--tls-cert", settings.client_cert])
    if settings.client_key:
        words.append(["--tls-key", settings.client_key])
    if settings.helo_name:
        words.append(["--ehlo", settings.helo_name])
    if settings.lmtp:
        words.append(["--protocol", "LMTP"])
    elif not recipe.esmtp:
        words.append(["--protocol", "SMTP"])
    if settings.username:
        words.append(["--auth-user", settings.username])
        words.append(["--auth", settings.mechanism] if settings.mechanism else ["--auth"])
        if not recipe.tls:
            words.append(["--auth-plaintext"])
    _oauth(recipe, "swaks", notes)
    words.append(["--from", send.sender or "<>"])
    if any("," in recipient for recipient in send.recipients):
        notes.append("a recipient with a comma: swaks splits --to at commas")
    words.append(["--to", ",".join(send.recipients)])
    if send.pipelining:
        words.append(["--pipeline"])
    if parameters := recipe.mail_parameters():
        notes.append(f"the MAIL FROM parameters {' '.join(parameters)}: swaks has no flag")
    for recipient in dict.fromkeys(send.recipients):
        if parameters := recipe.rcpt_parameters(recipient):
            notes.append(f"RCPT TO:<{recipient}> {' '.join(parameters)}: swaks has no flag")
    if send.chunking is not False:
        notes.append("BDAT (CHUNKING): swaks sends the message with DATA")
    if settings.reply_timeout != _DEFAULTS.reply_timeout:
        words.append(["--timeout", str(max(1, round(settings.reply_timeout)))])
    words.append(["--no-data-fixup"])
    header = [
        f"swaks: {_summary(recipe)}.",
        "For bash: below, DATA's payload as smtptui sent it (dots doubled, its '.' line last).",
    ]
    if settings.username:
        header.append("swaks asks for the password (or reads $SWAKS_OPT_auth_password).")
    payload = data_payload(recipe.message).removesuffix(b"\r\n")  # swaks adds the last CRLF
    return _script(header, notes, payload, ["swaks"], words, data_file="--data")


# -- Python --------------------------------------------------------------------------------


def as_python(recipe: Recipe) -> str:
    """A short Python script sending the message again with smtplib: the message as a
    bytes literal, the password from ``$SMTPTUI_PASSWORD`` or asked for."""
    settings, send = recipe.settings, recipe.send
    notes: list[str] = []
    host, port = settings.address()
    if not settings.route(host, port).plain:
        way = settings.route(host, port).describe()
        notes.append(f"smtplib connects by TCP alone: this script does not connect {way}")
    imports = ["smtplib"]
    setup = [f"HOST = {host!r}", f"PORT = {port}"]
    if settings.username:
        imports += ["getpass", "os"]
        setup += [
            f"USER = {settings.username!r}",
            f'password = os.environ.get("{PASSWORD_VARIABLE}") or getpass.getpass('
            'f"Password for {USER}: ")',
        ]
    if recipe.tls:
        imports.append("ssl")
        setup += _python_context(recipe, notes)
    setup += [
        f"SENDER = {send.sender!r}",
        f"RECIPIENTS = {list(send.recipients)!r}",
        f"MESSAGE = {_bytes_literal(recipe.message)}",
    ]
    arguments = ["HOST", "PORT"]
    if settings.helo_name:
        arguments.append(f"local_hostname={settings.helo_name!r}")
    arguments.append(f"timeout={settings.reply_timeout:g}")
    if settings.security is Security.TLS:
        arguments.append("context=context")
    smtp = "SMTP_SSL" if settings.security is Security.TLS else "SMTP"
    if settings.lmtp:
        if settings.security is Security.TLS:
            notes.append("LMTP over implicit TLS: smtplib has no LMTP_SSL")
        else:
            smtp = "LMTP"
        notes.append("each recipient's reply to the message: smtplib.LMTP reads the first only")
    greet = "smtp.ehlo()" if recipe.esmtp else "smtp.helo()"
    steps = [greet]
    if settings.security is Security.STARTTLS:
        steps += ["smtp.starttls(context=context)", greet]
    if settings.username:
        steps += _python_login(recipe, notes)
    _oauth(recipe, "smtplib", notes)
    mail = recipe.mail_parameters()
    if recipe.send.envelope is not None and recipe.send.envelope.size is not None:
        notes.append("SIZE=…: smtplib declares the message's own size when SIZE is offered")
        mail = [word for word in mail if not word.startswith("SIZE=")]
    rcpt = [recipe.rcpt_parameters(recipient) for recipient in send.recipients]
    if any(each != rcpt[0] for each in rcpt):
        notes.append("RCPT TO parameters that differ: sendmail gives all the first one's")
    send_args = ["SENDER", "RECIPIENTS", "MESSAGE"]
    if mail or (rcpt and rcpt[0]):
        send_args.append(repr(mail))
    if rcpt and rcpt[0]:
        send_args.append(repr(rcpt[0]))
    steps.append(f"refused = smtp.sendmail({', '.join(send_args)})")
    if send.chunking is not False:
        notes.append("BDAT (CHUNKING): smtplib sends the message with DATA")
    if recipe.pipelined:
        notes.append("PIPELINING: smtplib sends one command at a time")
    if settings.connect_timeout != _DEFAULTS.connect_timeout:
        notes.append(f"the connect timeout of {settings.connect_timeout:g} s")
    lines = [
        "#!/usr/bin/env python3",
        _comment(f"smtplib: {_summary(recipe)}."),
        *(_comment(f"not reproduced: {note}") for note in notes),
        *(f"import {name}" for name in sorted(set(imports))),
        "",
        *setup,
        "",
        f"with smtplib.{smtp}({', '.join(arguments)}) as smtp:  # QUIT when done",
        *(f"    {step}" for step in steps),
        "if refused:",
        '    print("refused:", refused)',
    ]
    return "\n".join(lines) + "\n"


def _python_context(recipe: Recipe, notes: list[str]) -> list[str]:
    settings = recipe.settings
    cafile = f"cafile={settings.cafile!r}" if settings.cafile else ""
    lines = [f"context = ssl.create_default_context({cafile})"]
    unverified = ["context.check_hostname = False", "context.verify_mode = ssl.CERT_NONE"]
    if recipe.pinned:
        lines = [_comment(_PINNED), *lines, *unverified]
    elif settings.verify is VerifyMode.NONE:
        lines += unverified
    elif settings.verify is VerifyMode.CA:
        lines.append(unverified[0])
    elif settings.verify is VerifyMode.HOST:
        notes.append("the name alone checked: this checks the chain too")
    for name, version in (("minimum", settings.tls_min), ("maximum", settings.tls_max)):
        if version:
            lines.append(f"context.{name}_version = ssl.TLSVersion.{TLS_VERSIONS[version].name}")
    if settings.ciphers:
        lines.append(f"context.set_ciphers({settings.ciphers!r})")
    notes += _tls_limits(recipe, "smtplib")
    if settings.client_cert:
        key = f", {settings.client_key!r}" if settings.client_key else ""
        lines.append(f"context.load_cert_chain({settings.client_cert!r}{key})")
    elif settings.client_key:
        notes.append("a client key without its certificate")
    return lines


_SMTPLIB_AUTH = {"PLAIN": "auth_plain", "LOGIN": "auth_login", "CRAM-MD5": "auth_cram_md5"}


def _python_login(recipe: Recipe, notes: list[str]) -> list[str]:
    """AUTH with the mechanism asked for, when smtplib has it; else ``login``, which picks
    among those the server offers."""
    mechanism = recipe.settings.mechanism
    names = requested_mechanisms(mechanism) if mechanism else []
    if len(names) == 1 and names[0].upper() in _SMTPLIB_AUTH:
        name = names[0].upper()
        return [
            "smtp.user, smtp.password = USER, password",
            f"smtp.auth({name!r}, smtp.{_SMTPLIB_AUTH[name]})",
        ]
    if mechanism:
        notes.append(f"AUTH {mechanism}: smtplib's login() picks among those offered")
    return ["smtp.login(USER, password)"]


def _bytes_literal(message: bytes) -> str:
    """``message`` as parenthesised bytes literals, one per line of it."""
    if not message:
        return 'b""'
    pieces = message.splitlines(keepends=True)
    return "(\n" + "".join(f"    {piece!r}\n" for piece in pieces) + ")"


# -- shared --------------------------------------------------------------------------------

_PINNED = (
    "the certificate the session trusted from memory (as the demo trusts its server's "
    "self-signed one), which no file holds: this does not verify the certificate"
)
_CRLF_JOIN = """awk 'NR > 1 { printf "\\r\\n" } { printf "%s", $0 }'"""
"""Joins the here-document's lines with CRLF, as the bytes it stands for (POSIX awk)."""
_BASE64_NOTE = "The message is in base64: a here-document of text would not give its bytes."


def _verification(
    recipe: Recipe,
    notes: list[str],
    *,
    verify: str = "",
    no_verify: str = "",
    mode: str = "",
    cafile: str,
) -> list[list[str]]:
    """The flags that say how the certificate is checked: ``verify`` (and ``cafile`` with
    the CA file) when it is, ``mode`` and the mode when only the chain or the name is (a
    note where there is no such flag), ``no_verify`` when nothing is, or when it was
    trusted from memory (said in a note)."""
    settings = recipe.settings
    if not recipe.tls:
        return []
    if recipe.pinned:
        notes.append(_PINNED)
    if recipe.pinned or settings.verify is VerifyMode.NONE:
        return [[no_verify]] if no_verify else []
    flags = [[verify]] if verify else []
    if settings.verify is not VerifyMode.BOTH:
        if mode:
            flags = [[mode, settings.verify.value]]
        else:
            notes.append(f"verification of the {settings.verify.value} alone: this checks both")
    return flags + ([[cafile, settings.cafile]] if settings.cafile else [])


def _run_tls(recipe: Recipe) -> list[list[str]]:
    """``run``'s flags for the client certificate, SNI, verify name, versions, ciphers."""
    settings = recipe.settings
    if not recipe.tls:
        return []
    flags = {
        "--cert": settings.client_cert,
        "--key": settings.client_key,
        "--sni": settings.sni,
        "--verify-name": settings.verify_name,
        "--tls-min": settings.tls_min,
        "--tls-max": settings.tls_max,
        "--ciphers": settings.ciphers,
    }
    return [[flag, value] for flag, value in flags.items() if value is not None]


def _tls_limits(
    recipe: Recipe, target: str, *, versions: bool = False, ciphers: bool = False
) -> list[str]:
    """Notes for the TLS settings ``target`` cannot be given here: the SNI and the verify
    name, and (when ``versions``, ``ciphers``) the TLS versions and cipher string."""
    settings = recipe.settings
    if not recipe.tls:
        return []
    missing = {
        "the SNI": settings.sni is not None,
        "the verify name": settings.verify_name is not None,
        "the TLS versions": versions and bool(settings.tls_min or settings.tls_max),
        "the cipher string": ciphers and bool(settings.ciphers),
    }
    return [f"{what}: {target} is not told it here" for what, given in missing.items() if given]


def _oauth(recipe: Recipe, target: str, notes: list[str]) -> None:
    """What swaks and smtplib cannot take: an OAuth token, an authorisation identity."""
    if recipe.oauth:
        notes.append(f"the OAuth token (XOAUTH2): {target} takes a password instead")
    if recipe.settings.authzid and recipe.settings.username:
        notes.append(f"the authorisation identity: {target} has no way to send one")


def _summary(recipe: Recipe) -> str:
    settings, send = recipe.settings, recipe.send
    steps = {Security.STARTTLS: "STARTTLS", Security.TLS: "implicit TLS"}
    done = [steps[settings.security]] if settings.security in steps else ["no TLS"]
    if settings.lmtp:
        done.insert(0, "LMTP")
    if settings.username:
        done.append(f"AUTH as {settings.username}")
    count = len(send.recipients)
    done.append(f"a message from <{send.sender}> to {count} recipient{'s' * (count != 1)}")
    when = "as the session sent it" if recipe.offered is not None else "as configured"
    return f"{recipe.where()}, {', '.join(done)}, {when}"


def _comment(text: str) -> str:
    """One comment line: whatever the text holds, it cannot end the comment."""
    return "# " + visible(text, one_line=True)


def _here_text(data: bytes) -> str | None:
    """``data`` as the lines of a here-document, one per CRLF line (the last one
    unterminated, often empty); None unless that is text fit for a shell script (UTF-8, no
    control character but tab, no bare CR or LF)."""
    try:
        lines = [line.decode("utf-8") for line in data.split(b"\r\n")]
    except UnicodeDecodeError:
        return None
    text = "".join(line + "\n" for line in lines)
    return text if visible(text) == text and text.count("\n") == len(lines) else None


def _base64(data: bytes) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return "".join(line + "\n" for line in textwrap.wrap(encoded, 76))


def _script(
    header: Sequence[str],
    notes: Iterable[str],
    data: bytes,
    program: Sequence[str],
    words: Sequence[Sequence[str]],
    data_file: str = "",
) -> str:
    """Comment lines, then the command, a group of ``words`` a line, reading ``data`` from a
    quoted here-document (its CRLF lines joined back by awk, else base64 decoded): piped
    into its standard input, or with ``data_file``, given as ``data_file @FILE`` (bash's
    ``<(…)``), which leaves standard input free for a password prompt."""
    text = _here_text(data)
    body = text if text is not None else _base64(data)
    end = _delimiter(body)
    feed = f"{_CRLF_JOIN if text is not None else 'base64 -d'} <<'{end}'"
    first, *rest = [shlex.join(group) for group in words]
    command = f"{' '.join(program)} {first}"
    lines = [command, *(f"    {group}" for group in rest)]
    if data_file:
        lines.append(f"    {data_file} @<({feed}")
        body += f"{end}\n)"
    else:
        lines[0] = f"{feed} | {command}"
        body += end
    comments = [*header, *([_BASE64_NOTE] if text is None else [])]
    comments += [f"not reproduced: {note}" for note in notes]
    script = [*map(_comment, comments), " \\\n".join(lines)]
    return "\n".join(script) + "\n" + body + "\n"


def _delimiter(body: str) -> str:
    """A here-document delimiter found nowhere in ``body``."""
    end, number = "EOF", 0
    while end in body:
        number += 1
        end = f"EOF_{number}"
    return end


RENDERERS: dict[ExportFormat, Callable[[Recipe], str]] = {
    ExportFormat.RUN: as_run,
    ExportFormat.SWAKS_COMMAND: as_swaks,
    ExportFormat.PYTHON: as_python,
}
"""The export formats that write the session as a command, and what writes each."""


def write_recipe(path: Path, recipe: Recipe, fmt: ExportFormat) -> None:
    """Write ``recipe`` to ``path`` in the command format ``fmt`` (readable by all: it holds
    no secret); raises OSError."""
    descriptor = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o644)
    with open(descriptor, "w", encoding="utf-8", newline="") as file:
        file.write(RENDERERS[fmt](recipe))
