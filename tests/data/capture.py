#!/usr/bin/env python3
"""Record the exact bytes real SMTP servers send, as test vectors.

For every (server, exchange) pair this opens a fresh TCP connection, does the
set-up the exchange needs (greeting, EHLO, STARTTLS, EHLO again), then sends
the exchange's own commands and records every byte the server sends back in
reply to them.  It writes:

  <out>/<server>-<exchange>.bin   only the server's bytes of the exchange,
                                  exactly as received (after TLS: decrypted)
  <out>/<server>-<exchange>.txt   readable twin: "C: " and "S: " lines in
                                  order, CR and LF shown as \\r and \\n
  <out>/index.json                per file: commands sent, reply codes, TLS
                                  state, byte count, sha256

Bytes of the set-up steps are not in the .bin (they are the greeting and EHLO
exchanges, captured on their own).  Nothing is rewritten or replaced.

Standard library only (socket, ssl).  Default targets: Postfix on 2525, Exim on 2526, OpenSMTPD on 2527,
AUTH user alice / wonderland (a throw-away test password).

    python3 capture.py --cafile CA.crt [--host 127.0.0.1] [--out wire]
                       [--servers postfix=2525,exim=2526,opensmtpd=2527]
                       [--only greeting,ehlo-plain,...]
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import socket
import ssl
import sys
import time

USER = "alice"
PASSWORD = "wonderland"  # throw-away test password
WRONG_PASSWORD = "not-the-password"
CLIENT_NAME = "client.interop.test"
SENDER = "sender@example.com"
RCPT1 = "rcpt1@example.com"
RCPT2 = "rcpt2@example.org"
INVALID_RCPT = "<rcpt1@@example..com>"  # two "@", empty domain label
REPLY_TIMEOUT = 15.0  # seconds to wait for one reply
DRAIN_WAIT = 0.4  # after the last reply: wait this long for stray bytes
EOF_TIMEOUT = 5.0  # waiting for the server to close

DEFAULT_SERVERS = "postfix=2525,exim=2526,opensmtpd=2527"
HERE = os.path.dirname(os.path.abspath(__file__))

CONTINUATION = re.compile(rb"^\d{3}-")  # "250-..." : more lines of this reply follow


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


class Closed(Exception):
    pass


class Session:
    """One SMTP connection.  Bytes read while `recording` is on are kept in
    `self.rec`; every send and every received line (recording or not) is kept
    in `self.log` as ("C"|"S", bytes, recorded?)."""

    def __init__(self, host, port, ctx):
        self.host, self.port, self.ctx = host, port, ctx
        self.sock = socket.create_connection((host, port), timeout=REPLY_TIMEOUT)
        self.buf = b""
        self.rec = bytearray()
        self.recording = False
        self.log = []  # (side, bytes, recorded)
        self.eof = False
        self.tls = None  # (version, cipher) once STARTTLS is done
        self.ehlo_lines = []  # text lines of the last EHLO reply
        self.timeouts = 0
        self.recv_sizes = []  # sizes of the recv() results while recording

    # -- low level ---------------------------------------------------------
    def _recv(self, timeout):
        if self.eof:
            return b""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except (TimeoutError, ssl.SSLWantReadError):
            return None
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            data = b""
        if not data:
            self.eof = True
        elif self.recording:
            self.recv_sizes.append(len(data))
        return data

    def _take(self, n):
        out, self.buf = self.buf[:n], self.buf[n:]
        if self.recording:
            self.rec += out
        self.log.append(("S", out, self.recording))
        return out

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.log.append(("C", data, self.recording))
        self.sock.sendall(data)

    def send_bulk(self, data, summary):
        """Send a large block; the .txt shows `summary` instead of its lines."""
        self.log.append(("C*", summary.encode(), self.recording))
        self.sock.sendall(data)

    def line(self, timeout=REPLY_TIMEOUT):
        """One line (up to and including LF), or what is left at EOF."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.timeouts += 1
                return None
            data = self._recv(left)
            if data is None:
                continue
            if data == b"":
                if self.buf:
                    return self._take(len(self.buf))
                raise Closed()
            self.buf += data
        return self._take(self.buf.index(b"\n") + 1)

    def reply(self, timeout=REPLY_TIMEOUT):
        """Read one complete (possibly multi-line) reply; returns its lines."""
        lines = []
        while True:
            ln = self.line(timeout)
            if ln is None:  # timeout: return what we have
                return lines
            lines.append(ln)
            if not CONTINUATION.match(ln):
                return lines

    def replies(self, n):
        out = []
        for _ in range(n):
            try:
                out.append(self.reply())
            except Closed:
                break
        return out

    def drain(self, wait=DRAIN_WAIT):
        """Collect any bytes that arrive within `wait` seconds (normally none)."""
        deadline = time.monotonic() + wait
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            data = self._recv(left)
            if data is None:
                break
            self.buf += data
        if self.buf:
            self._take(len(self.buf))

    def until_eof(self, timeout=EOF_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                self.timeouts += 1
                break
            data = self._recv(left)
            if data:
                self.buf += data
        if self.buf:
            self._take(len(self.buf))

    # -- set-up steps (not recorded) ---------------------------------------
    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def greeting(self):
        return self.reply()

    def ehlo(self):
        r = self.cmd("EHLO " + CLIENT_NAME)
        self.ehlo_lines = [ln.decode("latin-1")[4:].rstrip("\r\n") for ln in r[1:]]
        return r

    def starttls(self):
        r = self.cmd("STARTTLS")
        if not r or not r[-1].startswith(b"220"):
            raise RuntimeError("STARTTLS refused: %r" % r)
        self.upgrade()
        return r

    def upgrade(self):
        assert not self.buf, "bytes after the STARTTLS reply: %r" % self.buf
        self.sock = self.ctx.wrap_socket(self.sock, server_hostname=self.host)
        self.tls = (self.sock.version(), self.sock.cipher()[0])

    def keyword(self, name):
        """Parameters of EHLO keyword `name` (list), or None if not advertised."""
        for ln in self.ehlo_lines:
            parts = ln.split()
            if parts and parts[0].upper() == name:
                return parts[1:]
        return None

    def close(self):
        if not self.eof:
            self.recording = False
            try:
                self.send("QUIT\r\n")
                self.reply(timeout=3)
            except (Closed, OSError):
                pass
        try:
            self.sock.close()
        except OSError:
            pass


# --------------------------------------------------------------------------
# Exchanges.  Each gets a Session after its `setup` and sends its commands
# with recording on.  It returns a dict of notes (may be empty).
#   setup: "none" = connect only, "greeting" = greeting read,
#          "ehlo" = greeting + EHLO, "tls" = + STARTTLS + EHLO
# --------------------------------------------------------------------------
EXCHANGES = []


def exchange(name, setup, title):
    def deco(fn):
        EXCHANGES.append((name, setup, title, fn))
        return fn

    return deco


@exchange("greeting", "none", "220 greeting on connect")
def x_greeting(s):
    s.greeting()


@exchange("helo", "greeting", "HELO (no extensions)")
def x_helo(s):
    s.cmd("HELO " + CLIENT_NAME)


@exchange("ehlo-plain", "greeting", "EHLO before STARTTLS")
def x_ehlo_plain(s):
    s.ehlo()


@exchange("starttls", "ehlo", "STARTTLS reply (the TLS handshake follows)")
def x_starttls(s):
    r = s.cmd("STARTTLS")
    if r and r[-1].startswith(b"220"):
        s.upgrade()  # finish the handshake so that the session ends cleanly


@exchange("ehlo-no-arg", "greeting", "EHLO without its domain argument")
def x_ehlo_no_arg(s):
    s.cmd("EHLO")


@exchange("ehlo-tls", "tls-no-ehlo", "EHLO after STARTTLS")
def x_ehlo_tls(s):
    s.ehlo()


@exchange("starttls-again", "tls", "STARTTLS again inside the TLS session")
def x_starttls_again(s):
    r = s.cmd("STARTTLS")
    if r and r[-1].startswith(b"220"):  # not expected
        s.upgrade()


@exchange("auth-plain-ok", "tls", "AUTH PLAIN with initial response, right password")
def x_auth_plain_ok(s):
    s.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (USER, PASSWORD)))


@exchange("auth-plain-fail", "tls", "AUTH PLAIN with initial response, wrong password")
def x_auth_plain_fail(s):
    s.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (USER, WRONG_PASSWORD)))


@exchange("auth-plain-noir", "tls", "AUTH PLAIN without initial response: empty 334 challenge")
def x_auth_plain_noir(s):
    r = s.cmd("AUTH PLAIN")
    if r and r[-1].startswith(b"334"):
        s.cmd(b64("\0%s\0%s" % (USER, PASSWORD)))


@exchange("auth-plain-notls", "ehlo", "AUTH PLAIN before STARTTLS (not offered there)")
def x_auth_plain_notls(s):
    r = s.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (USER, PASSWORD)))
    if r and r[-1].startswith(b"334"):  # not expected; answer to finish it
        s.cmd("*")
    return {"advertised_before_tls": s.keyword("AUTH")}


@exchange("auth-login", "tls", "AUTH LOGIN: Username: / Password: challenges, then success")
def x_auth_login(s):
    r = s.cmd("AUTH LOGIN")
    if r and r[-1].startswith(b"334"):
        r = s.cmd(b64(USER))
        if r and r[-1].startswith(b"334"):
            s.cmd(b64(PASSWORD))


@exchange("auth-login-cancel", "tls", 'AUTH LOGIN, then "*" to cancel (RFC 4954)')
def x_auth_login_cancel(s):
    r = s.cmd("AUTH LOGIN")
    if r and r[-1].startswith(b"334"):
        s.cmd("*")


@exchange("auth-cram-md5", "tls", "AUTH CRAM-MD5: challenge, then success")
def x_auth_cram(s):
    notes = {"advertised": "CRAM-MD5" in [m.upper() for m in (s.keyword("AUTH") or [])]}
    r = s.cmd("AUTH CRAM-MD5")
    if r and r[-1].startswith(b"334"):
        challenge = base64.b64decode(r[-1][4:].strip())
        notes["challenge_decoded"] = challenge.decode("latin-1")
        digest = hmac.new(PASSWORD.encode(), challenge, hashlib.md5).hexdigest()
        s.cmd(b64("%s %s" % (USER, digest)))
    return notes


@exchange("mail-size-too-big", "ehlo", "MAIL FROM with SIZE= one byte over the advertised SIZE")
def x_mail_size(s):
    size = s.keyword("SIZE")
    limit = int(size[0]) if size else 10240000
    s.cmd("MAIL FROM:<%s> SIZE=%d" % (SENDER, limit + 1))
    return {"advertised_size": limit, "sent_size": limit + 1}


@exchange("rcpt-invalid", "ehlo", "MAIL FROM, then RCPT TO with a syntactically invalid address")
def x_rcpt_invalid(s):
    s.cmd("MAIL FROM:<%s>" % SENDER)
    s.cmd("RCPT TO:%s" % INVALID_RCPT)


@exchange("rcpt-no-mail", "ehlo", "RCPT TO before MAIL FROM (bad sequence)")
def x_rcpt_no_mail(s):
    s.cmd("RCPT TO:<%s>" % RCPT1)


@exchange("data-no-rcpt", "ehlo", "MAIL FROM, then DATA without a recipient (bad sequence)")
def x_data_no_rcpt(s):
    s.cmd("MAIL FROM:<%s>" % SENDER)
    r = s.cmd("DATA")
    if r and r[-1].startswith(b"354"):  # not expected; end the message
        s.send(".\r\n")
        s.reply()


MESSAGE = (
    "From: <%s>\r\n"
    "To: <%s>\r\n"
    "Subject: wire capture test\r\n"
    "\r\n"
    "hello\r\n"
    "..this line starts with a dot (dot-stuffed on the wire)\r\n"
) % (SENDER, RCPT1)


@exchange("data", "ehlo", "MAIL, RCPT, DATA (354), message, final dot (250)")
def x_data(s):
    s.cmd("MAIL FROM:<%s>" % SENDER)
    s.cmd("RCPT TO:<%s>" % RCPT1)
    r = s.cmd("DATA")
    if r and r[-1].startswith(b"354"):
        s.send(MESSAGE + ".\r\n")
        s.reply()


@exchange(
    "data-too-big",
    "ehlo",
    "MAIL (no SIZE=), RCPT, DATA, then a message larger than the advertised SIZE",
)
def x_data_too_big(s):
    size = s.keyword("SIZE")
    limit = int(size[0]) if size else 10240000
    line = b"x" * 998 + b"\r\n"
    n = limit // (len(line) - 1) + 2  # stays over the limit when stored with LF only
    s.cmd("MAIL FROM:<%s>" % SENDER)
    s.cmd("RCPT TO:<%s>" % RCPT1)
    r = s.cmd("DATA")
    if r and r[-1].startswith(b"354"):
        body = b"Subject: too big\r\n\r\n" + line * n
        s.send_bulk(
            body,
            "(a message of %d bytes: a Subject header, an empty line and %d lines"
            " of 998 'x' + CRLF; not shown)" % (len(body), n),
        )
        s.send(".\r\n")
        s.reply()
    return {"advertised_size": limit}


@exchange("vrfy", "ehlo", "VRFY")
def x_vrfy(s):
    s.cmd("VRFY postmaster")


@exchange("expn", "ehlo", "EXPN")
def x_expn(s):
    s.cmd("EXPN postmaster")


@exchange("help", "ehlo", "HELP")
def x_help(s):
    s.cmd("HELP")


@exchange("noop", "ehlo", "NOOP")
def x_noop(s):
    s.cmd("NOOP")


@exchange("rset", "ehlo", "RSET")
def x_rset(s):
    s.cmd("RSET")


@exchange("unknown-command", "ehlo", "an unknown command")
def x_unknown(s):
    s.cmd("XYZZY frobnicate")


@exchange("mail-before-ehlo", "greeting", "MAIL FROM before any HELO/EHLO")
def x_mail_before_ehlo(s):
    s.cmd("MAIL FROM:<%s>" % SENDER)


BDAT_CHUNK1 = "From: <%s>\r\nTo: <%s>\r\nSubject: BDAT capture test\r\n\r\n" % (SENDER, RCPT1)
BDAT_CHUNK2 = "hello\r\n.\r\n.a line starting with a dot, not stuffed in BDAT\r\n"


@exchange("bdat", "ehlo", "MAIL, RCPT, BDAT n (chunk 1), BDAT n LAST (chunk 2)")
def x_bdat(s):
    advertised = s.keyword("CHUNKING") is not None
    s.cmd("MAIL FROM:<%s>" % SENDER)
    s.cmd("RCPT TO:<%s>" % RCPT1)
    if advertised:
        # RFC 3030: the chunk follows its BDAT command without waiting.
        s.send("BDAT %d\r\n%s" % (len(BDAT_CHUNK1), BDAT_CHUNK1))
        s.reply()
        s.send("BDAT %d LAST\r\n%s" % (len(BDAT_CHUNK2), BDAT_CHUNK2))
        s.reply()
    else:
        # Not advertised: send the command line alone to record the refusal.
        r = s.cmd("BDAT %d LAST" % len(BDAT_CHUNK2))
        if r and r[-1].startswith(b"250"):  # accepted after all: send the chunk
            s.send(BDAT_CHUNK2)
            s.reply()
    return {"advertised": advertised}


@exchange("pipelining", "ehlo", "MAIL, RCPT, RCPT, DATA in one write; then message and dot")
def x_pipelining(s):
    advertised = s.keyword("PIPELINING") is not None
    s.send("MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n" % (SENDER, RCPT1, RCPT2))
    rs = s.replies(4)
    if len(rs) == 4 and rs[-1] and rs[-1][-1].startswith(b"354"):
        s.send(MESSAGE + ".\r\n")
        s.reply()
    else:
        s.until_eof()
    return {"advertised": advertised}


@exchange(
    "pipelining-mixed",
    "ehlo",
    "one write: MAIL, RCPT ok, RCPT invalid, RCPT ok, DATA; then message and dot",
)
def x_pipelining_mixed(s):
    advertised = s.keyword("PIPELINING") is not None
    s.send(
        "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nRCPT TO:%s\r\nRCPT TO:<%s>\r\nDATA\r\n"
        % (SENDER, RCPT1, INVALID_RCPT, RCPT2)
    )
    rs = s.replies(5)
    if len(rs) == 5 and rs[-1] and rs[-1][-1].startswith(b"354"):
        s.send(MESSAGE + ".\r\n")
        s.reply()
    else:
        s.until_eof()
    return {"advertised": advertised}


@exchange("quit", "ehlo", "QUIT (server closes the connection)")
def x_quit(s):
    s.cmd("QUIT")
    s.until_eof()


# --------------------------------------------------------------------------
def setup_session(s, setup):
    if setup == "none":
        return
    s.greeting()
    if setup == "greeting":
        return
    s.ehlo()
    if setup == "ehlo":
        return
    s.starttls()
    if setup == "tls-no-ehlo":
        return
    s.ehlo()


SETUP_TEXT = {
    "none": "connect",
    "greeting": "connect, read greeting",
    "ehlo": "connect, read greeting, EHLO",
    "tls-no-ehlo": "connect, read greeting, EHLO, STARTTLS, TLS handshake",
    "tls": "connect, read greeting, EHLO, STARTTLS, TLS handshake, EHLO",
}


def esc(b):
    """Bytes -> printable text: \\r \\n \\t and \\xNN shown, backslash doubled."""
    out = []
    for c in b:
        if c == 0x0D:
            out.append("\\r")
        elif c == 0x0A:
            out.append("\\n")
        elif c == 0x09:
            out.append("\\t")
        elif c == 0x5C:
            out.append("\\\\")
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out)


def split_lines(b):
    parts = re.findall(rb"[^\n]*\n|[^\n]+$", b)
    return parts or ([b] if b else [])


def parse_replies(b):
    """Group raw server bytes into replies (for index.json only)."""
    out, cur = [], []
    for ln in split_lines(b):
        text = ln.decode("latin-1").rstrip("\r\n")
        cur.append(text)
        if not re.match(r"^\d{3}-", text):
            m = re.match(r"^(\d{3})", cur[0])
            out.append({"code": m.group(1) if m else None, "lines": cur})
            cur = []
    if cur:
        out.append({"code": None, "lines": cur, "incomplete": True})
    return out


def run_one(host, server, port, ctx, name, setup, title, fn, outdir):
    s = Session(host, port, ctx)
    notes = {}
    error = None
    try:
        setup_session(s, setup)
        s.recording = True
        if setup == "none":
            s.log.append(("C", b"", True))  # marker: "(connect)"
        notes = fn(s) or {}
        s.drain()
    except Closed:
        notes["closed_early"] = True
    except Exception as e:  # keep what was captured
        error = "%s: %s" % (type(e).__name__, e)
    finally:
        closed_by_server = s.eof
        s.close()

    data = bytes(s.rec)
    base = os.path.join(outdir, "%s-%s" % (server, name))
    with open(base + ".bin", "wb") as f:
        f.write(data)

    rec_log = [(side, b) for side, b, recorded in s.log if recorded]
    lines = [
        "# server: %s, %s port %d" % (server, host, port),
        "# exchange: %s -- %s" % (name, title),
        "# set-up before this (not in the .bin): %s" % SETUP_TEXT[setup],
        "# TLS: %s" % ("%s %s" % s.tls if s.tls and setup.startswith("tls") else "none"),
        "# %s.bin: %d bytes = the S: lines below, concatenated"
        % (os.path.basename(base), len(data)),
        "# (C: what the client sent, S: what the server sent; CR LF shown as \\r\\n)",
    ]
    if closed_by_server:
        lines.append("# the server closed the connection")
    if error:
        lines.append("# capture error: %s" % error)
    lines.append("")
    for side, b in rec_log:
        if side == "C" and b == b"":
            lines.append("C: (connect)")
            continue
        if side == "C*":
            lines.append("# C: " + b.decode())
            continue
        for ln in split_lines(b):
            lines.append("%s: %s" % (side, esc(ln)))
    with open(base + ".txt", "w", encoding="ascii") as f:
        f.write("\n".join(lines) + "\n")

    sent = []
    for side, b in rec_log:
        if side == "C":
            sent += [esc(ln) for ln in split_lines(b)]
        elif side == "C*":
            sent.append(b.decode())
    entry = {
        "file": os.path.basename(base) + ".bin",
        "server": server,
        "port": port,
        "exchange": name,
        "title": title,
        "setup": SETUP_TEXT[setup],
        "tls": ("%s %s" % s.tls) if s.tls and setup.startswith("tls") else None,
        "client_sent": sent,
        "replies": parse_replies(data),
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "closed_by_server": closed_by_server,
        "recv_sizes": s.recv_sizes,
        "timeouts": s.timeouts,
    }
    if notes:
        entry["notes"] = notes
    if error:
        entry["error"] = error
    return entry


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--cafile", required=True, help="CA certificate the servers' certificates chain to"
    )
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument(
        "--servers", default=DEFAULT_SERVERS, help="name=port,... (default %(default)s)"
    )
    ap.add_argument(
        "--out",
        default=os.path.join(HERE, "wire"),
        help="output folder (default: wire/ beside this script)",
    )
    ap.add_argument("--only", default="", help="comma-separated exchange names")
    args = ap.parse_args()

    ctx = ssl.create_default_context(cafile=args.cafile)
    os.makedirs(args.out, exist_ok=True)
    only = set(filter(None, args.only.split(",")))
    servers = [(n, int(p)) for n, p in (x.split("=") for x in args.servers.split(","))]

    index_path = os.path.join(args.out, "index.json")
    index = []
    if only and os.path.exists(index_path):  # partial run: keep the other entries
        with open(index_path) as f:
            index = json.load(f)["files"]
    for server, port in servers:
        for name, setup, title, fn in EXCHANGES:
            if only and name not in only:
                continue
            t0 = time.monotonic()
            entry = run_one(args.host, server, port, ctx, name, setup, title, fn, args.out)
            index = [e for e in index if e["file"] != entry["file"]] + [entry]
            codes = " ".join(str(r["code"]) for r in entry["replies"])
            print(
                "%-10s %-18s %5d bytes  %-24s %.2fs%s"
                % (
                    server,
                    name,
                    entry["bytes"],
                    codes,
                    time.monotonic() - t0,
                    "  ERROR " + entry["error"] if "error" in entry else "",
                )
            )
    order = {n: i for i, (n, *_rest) in enumerate(EXCHANGES)}
    sorder = {n: i for i, (n, _p) in enumerate(servers)}
    index.sort(key=lambda e: (sorder.get(e["server"], 99), order.get(e["exchange"], 99)))
    with open(index_path, "w") as f:
        json.dump({"client_name": CLIENT_NAME, "files": index}, f, indent=1)
        f.write("\n")
    return 1 if any("error" in e for e in index) else 0


if __name__ == "__main__":
    sys.exit(main())
