"""The incremental reply parser: framing, limits, odd bytes, and every real server's bytes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smtptui.protocol.errors import ProtocolError
from smtptui.protocol.replies import (
    MAX_LINE_LENGTH,
    MAX_REPLY_LINES,
    EnhancedCode,
    Reply,
    ReplyParser,
    parse_enhanced,
)

from support.fixtures import wire_files, wire_index
from support.fuzz import examples


def feed_all(data: bytes, parser: ReplyParser | None = None) -> list[Reply]:
    parser = parser or ReplyParser()
    replies = parser.feed(data)
    parser.eof()
    return replies


def feed_bytewise(data: bytes, parser: ReplyParser | None = None) -> list[Reply]:
    parser = parser or ReplyParser()
    replies: list[Reply] = []
    for i in range(len(data)):
        replies += parser.feed(data[i : i + 1])
    parser.eof()
    return replies


def feed_split(data: bytes, cuts: list[int]) -> list[Reply]:
    parser = ReplyParser()
    replies: list[Reply] = []
    start = 0
    for cut in [*sorted(cuts), len(data)]:
        replies += parser.feed(data[start:cut])
        start = cut
    parser.eof()
    return replies


# -- framing ----------------------------------------------------------------------------


def test_single_line_reply() -> None:
    [reply] = feed_all(b"220 mx.example ESMTP ready\r\n")
    assert reply.code == 220
    assert reply.lines == (b"mx.example ESMTP ready",)
    assert reply.raw == b"220 mx.example ESMTP ready\r\n"
    assert reply.as_tuple() == (220, b"mx.example ESMTP ready")
    assert reply.kind == 2 and reply.ok and not reply.bare_lf


def test_multi_line_reply() -> None:
    data = b"250-mx.example Hello\r\n250-SIZE 1000\r\n250-8BITMIME\r\n250 STARTTLS\r\n"
    [reply] = feed_all(data)
    assert reply.code == 250
    assert reply.lines == (b"mx.example Hello", b"SIZE 1000", b"8BITMIME", b"STARTTLS")
    assert reply.message == b"mx.example Hello\nSIZE 1000\n8BITMIME\nSTARTTLS"
    assert reply.raw == data


def test_multi_line_reply_is_not_complete_until_its_last_line() -> None:
    parser = ReplyParser()
    assert parser.feed(b"250-first\r\n250-second\r\n") == []
    assert parser.pending == b"250-first\r\n250-second\r\n"
    [reply] = parser.feed(b"250 last\r\n")
    assert reply.lines == (b"first", b"second", b"last")
    assert parser.pending == b""


def test_several_replies_in_one_chunk() -> None:
    data = (
        b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250-x\r\n250 y\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
    )
    replies = ReplyParser().feed(data)
    assert [r.code for r in replies] == [250, 250, 250, 354]
    assert replies[2].lines == (b"x", b"y")
    assert b"".join(r.raw for r in replies) == data


def test_chunk_ending_mid_reply_keeps_the_rest() -> None:
    parser = ReplyParser()
    [first] = parser.feed(b"250 one\r\n25")
    assert first.lines == (b"one",)
    assert parser.pending == b"25"
    [second] = parser.feed(b"0 two\r\n")
    assert second.as_tuple() == (250, b"two")


def test_code_with_no_text() -> None:
    # Every MTA in the fixtures sends the empty PLAIN challenge as "334 \r\n".
    [with_space, without] = feed_all(b"334 \r\n250\r\n")
    assert with_space.as_tuple() == (334, b"")
    assert without.as_tuple() == (250, b"")


def test_split_at_every_byte_boundary_gives_the_same_replies() -> None:
    data = (
        b"220 mx.example ESMTP\r\n"
        b"250-mx.example\r\n250-PIPELINING\r\n250 SIZE 10240000\r\n"
        b"550-5.1.1 The email account that you tried to reach does not exist.\r\n"
        b"550 5.1.1 https://support.google.com/mail/?p=NoSuchUser\r\n"
    )
    whole = feed_all(data)
    assert len(whole) == 3
    assert feed_bytewise(data) == whole
    for cut in range(len(data) + 1):
        assert feed_split(data, [cut]) == whole, cut


def test_bare_lf_is_tolerated_and_flagged() -> None:
    [lf, crlf] = feed_all(b"250-one\n250 two\r\n250 three\r\n")
    assert lf.lines == (b"one", b"two")
    assert lf.bare_lf is True
    assert lf.raw == b"250-one\n250 two\r\n"
    assert crlf.bare_lf is False
    [only_lf] = feed_all(b"221 bye\n")
    assert only_lf.as_tuple() == (221, b"bye") and only_lf.bare_lf


def test_lone_cr_is_not_a_line_end() -> None:
    parser = ReplyParser()
    assert parser.feed(b"250 a\rb\r") == []
    [reply] = parser.feed(b"\n")
    assert reply.lines == (b"a\rb",)


def test_non_utf8_is_kept_raw_and_escaped_in_text() -> None:
    data = b"550 5.7.1 Mensaje rechazado: \xe9t\xe9 \xff\r\n"
    [reply] = feed_all(data)
    assert reply.raw == data
    assert reply.lines == (b"5.7.1 Mensaje rechazado: \xe9t\xe9 \xff",)
    assert reply.text == "5.7.1 Mensaje rechazado: \\xe9t\\xe9 \\xff"
    assert reply.utf8 is False
    [good] = feed_all("250 ça va\r\n".encode())
    assert good.text == "ça va" and good.utf8


def test_exim_bdat_leading_space_after_hyphen() -> None:
    data = b"250- 60 byte chunk, total 143\r\n250 OK id=1xXPEn-0003j6-1T\r\n"
    [reply] = feed_bytewise(data)
    assert reply.lines == (b" 60 byte chunk, total 143", b"OK id=1xXPEn-0003j6-1T")
    # smtplib strips each line: the message has no leading space.
    assert reply.message == b"60 byte chunk, total 143\nOK id=1xXPEn-0003j6-1T"
    assert reply.enhanced is None


# -- enhanced status codes ----------------------------------------------------------------


def test_enhanced_code_single_line() -> None:
    [reply] = feed_all(b"250 2.0.0 Ok\r\n")
    assert reply.enhanced == EnhancedCode(2, 0, 0)
    assert str(reply.enhanced) == "2.0.0"
    assert reply.message == b"2.0.0 Ok"  # the text is untouched, as smtplib leaves it


def test_enhanced_code_multi_line() -> None:
    data = (
        b"550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n"
        b"550-5.1.1 double-checking the recipient's email address for typos or\r\n"
        b"550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser\r\n"
    )
    [reply] = feed_all(data)
    assert reply.code == 550
    assert reply.enhanced == EnhancedCode(5, 1, 1)
    assert len(reply.lines) == 3


@pytest.mark.parametrize(
    ("code", "text", "expected"),
    [
        (250, b"2.1.5 Ok", "2.1.5"),
        (451, b"4.7.1 Try again later", "4.7.1"),
        (535, b"5.7.8 Username and Password not accepted", "5.7.8"),
        (554, b"5.7.1 ", "5.7.1"),
        (250, b"2.0.0", "2.0.0"),
        (421, b"4.4.2\tidle", "4.4.2"),
        (550, b"5.123.456 big numbers", "5.123.456"),
        (250, b"5.0.0 class does not match the code", None),
        (550, b"2.0.0 class does not match the code", None),
        (354, b"3.0.0 there is no class 3", None),
        (250, b"2.0.0.1 one part too many", None),
        (250, b"2.0 too few parts", None),
        (250, b"2.1234.0 subject too long", None),
        (250, b"2.0.0Ok no separator", None),
        (250, b"Ok 2.0.0 not at the start", None),
        (250, b"", None),
    ],
)
def test_parse_enhanced(code: int, text: bytes, expected: str | None) -> None:
    result = parse_enhanced(code, text)
    assert (None if result is None else str(result)) == expected


def test_enhanced_class_must_match_in_a_parsed_reply() -> None:
    [reply] = feed_all(b"250 5.0.0 odd\r\n")
    assert reply.enhanced is None


# -- malformed input ------------------------------------------------------------------------


def test_mixed_codes_raise_with_the_offending_bytes() -> None:
    parser = ReplyParser()
    parser.feed(b"250-first\r\n")
    with pytest.raises(ProtocolError, match="250 to 251") as info:
        parser.feed(b"251 second\r\n")
    assert info.value.data == b"250-first\r\n251 second\r\n"
    assert parser.pending == b""  # emptied after the error
    assert parser.feed(b"250 fine again\r\n")[0].lines == (b"fine again",)


@pytest.mark.parametrize(
    "line",
    [
        b"hello\r\n",  # no code
        b"\r\n",  # empty line
        b"25 two digits\r\n",
        b"25\r\n",
        b"2500 four digits\r\n",
        b"250_bad separator\r\n",
        b"250:bad separator\r\n",
        b"250\tbad separator\r\n",
        b"abc text\r\n",
        b"600 out of range\r\n",
        b"099 out of range\r\n",
        b" 250 leading space\r\n",
        "२५० non-ASCII digits\r\n".encode(),
    ],
)
def test_malformed_line_raises_with_the_bytes(line: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        ReplyParser().feed(line)
    assert info.value.data == line


def test_malformed_line_after_good_reply_in_same_chunk() -> None:
    parser = ReplyParser()
    with pytest.raises(ProtocolError) as info:
        parser.feed(b"250 ok\r\nnonsense\r\n")
    assert info.value.data == b"nonsense\r\n"


def test_eof_mid_reply_raises() -> None:
    parser = ReplyParser()
    parser.feed(b"250-first\r\n250 par")
    with pytest.raises(ProtocolError, match="middle of a reply") as info:
        parser.eof()
    assert info.value.data == b"250-first\r\n250 par"
    parser.eof()  # cleared: a second eof has nothing pending


def test_eof_mid_line_raises() -> None:
    parser = ReplyParser()
    parser.feed(b"220 greeting without line end")
    with pytest.raises(ProtocolError) as info:
        parser.eof()
    assert info.value.data == b"220 greeting without line end"


def test_eof_between_replies_is_fine() -> None:
    parser = ReplyParser()
    parser.feed(b"221 bye\r\n")
    parser.eof()


# -- limits -------------------------------------------------------------------------------


def test_default_limits() -> None:
    parser = ReplyParser()
    assert parser.max_line_length == MAX_LINE_LENGTH == 8192
    assert parser.max_lines == MAX_REPLY_LINES


def test_line_at_the_length_limit_is_accepted() -> None:
    limit = 64
    line = b"250 " + b"x" * (limit - 6) + b"\r\n"
    assert len(line) == limit
    [reply] = ReplyParser(max_line_length=limit).feed(line)
    assert reply.raw == line


def test_complete_line_over_the_length_limit_raises() -> None:
    limit = 64
    line = b"250 " + b"x" * (limit - 5) + b"\r\n"
    with pytest.raises(ProtocolError, match="longer than 64") as info:
        ReplyParser(max_line_length=limit).feed(line)
    assert info.value.data == line


def test_unterminated_line_over_the_length_limit_raises_before_its_end() -> None:
    limit = 64
    parser = ReplyParser(max_line_length=limit)
    parser.feed(b"250 " + b"x" * (limit - 4))  # exactly the limit, still open: fine
    with pytest.raises(ProtocolError, match="longer than 64") as info:
        parser.feed(b"x")
    assert info.value.data.startswith(b"250 xxx")
    assert parser.pending == b""


def test_huge_line_fed_in_pieces_stays_bounded() -> None:
    parser = ReplyParser()
    piece = b"x" * 4096
    parser.feed(b"250 ")
    with pytest.raises(ProtocolError):
        for _ in range(1024):  # 4 MB if nothing stopped it
            parser.feed(piece)
            assert len(parser.pending) <= MAX_LINE_LENGTH
    assert parser.pending == b""


def test_lines_per_reply_limit() -> None:
    parser = ReplyParser(max_lines=5)
    [ok] = parser.feed(b"250-a\r\n" * 4 + b"250 e\r\n")
    assert len(ok.lines) == 5
    parser.feed(b"250-a\r\n" * 4)
    with pytest.raises(ProtocolError, match="longer than 5 lines") as info:
        parser.feed(b"250-a\r\n")
    assert info.value.data.startswith(b"250-a\r\n")


def test_never_ending_reply_stops_at_the_default_line_limit() -> None:
    parser = ReplyParser()
    with pytest.raises(ProtocolError, match="lines"):
        parser.feed(b"250-more\r\n" * (MAX_REPLY_LINES + 5))


# -- the real servers' bytes -------------------------------------------------------------


def _expected(entry: dict) -> list[tuple[int, list[bytes]]]:
    return [
        (int(reply["code"]), [line.encode("utf-8") for line in reply["lines"]])
        for reply in entry["replies"]
    ]


def _actual(replies: list[Reply]) -> list[tuple[int, list[bytes]]]:
    return [(r.code, [line.rstrip(b"\r\n") for line in r.raw.splitlines(True)]) for r in replies]


WIRE = wire_files()


def test_there_are_93_wire_fixtures_all_indexed() -> None:
    assert len(WIRE) == 93
    assert {path.name for path in WIRE} == set(wire_index())


@pytest.mark.parametrize("path", WIRE, ids=[p.stem for p in WIRE])
def test_wire_fixture_parses_to_the_indexed_replies(path) -> None:
    data = path.read_bytes()
    entry = wire_index()[path.name]
    expected = _expected(entry)
    whole = feed_all(data)
    assert _actual(whole) == expected
    assert b"".join(r.raw for r in whole) == data
    assert all(not r.bare_lf for r in whole)
    assert feed_bytewise(data) == whole
    # Fed in the sizes the capture's recv() calls returned, too.
    cuts, total = [], 0
    for size in entry["recv_sizes"][:-1]:
        total += size
        cuts.append(total)
    assert feed_split(data, cuts) == whole


def test_wire_fixture_exim_bdat() -> None:
    [path] = wire_files("exim-bdat.bin")
    replies = feed_bytewise(path.read_bytes())
    last = replies[-1]
    assert last.lines[0] == b" 60 byte chunk, total 143"
    assert last.message.startswith(b"60 byte chunk, total 143\nOK id=")


def test_wire_fixture_enhanced_codes() -> None:
    [path] = wire_files("postfix-rcpt-no-mail.bin")
    [reply] = feed_all(path.read_bytes())
    assert reply.code == 503 and reply.enhanced is not None and reply.enhanced.klass == 5
    [exim] = wire_files("exim-rcpt-no-mail.bin")
    assert all(r.enhanced is None for r in feed_all(exim.read_bytes()))


# -- properties -----------------------------------------------------------------------------


@st.composite
def splits(draw, data: bytes) -> list[int]:
    return draw(st.lists(st.integers(0, len(data)), max_size=8))


smtp_like = st.lists(
    st.sampled_from(
        [b"250", b"220", b"-", b" ", b"\r\n", b"\n", b"\r", b"2.0.0", b"\xff", b"x", b"55", b"\0"]
    ),
    max_size=60,
).map(b"".join)
"""Bytes that look like SMTP more often than random ones do."""


@settings(max_examples=examples(300), suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(st.binary(max_size=300), smtp_like),
    st.data(),
    st.sampled_from([(8, 2), (16, 5), (64, 3), (200, 5), (MAX_LINE_LENGTH, MAX_REPLY_LINES)]),
)
def test_any_bytes_any_split_raise_only_protocol_error(
    blob: bytes, data, limits: tuple[int, int]
) -> None:
    """Whatever arrives, however split: replies within the limits, or a ProtocolError holding
    bytes that did arrive; every byte accounted for; never more held than the limits allow."""
    max_line_length, max_lines = limits
    parser = ReplyParser(max_line_length=max_line_length, max_lines=max_lines)
    fed = b""  # since the parser was last empty
    out = b""  # the raw bytes of the replies it made since then
    start = 0
    for cut in [*sorted(data.draw(splits(blob))), len(blob)]:
        piece, start = blob[start:cut], cut
        fed += piece
        try:
            replies = parser.feed(piece)
        except ProtocolError as error:
            assert error.data and error.data in fed
            assert parser.pending == b""
            fed = out = b""
            continue
        for reply in replies:
            assert 100 <= reply.code <= 599 and reply.raw.endswith(b"\n")
            assert 1 <= len(reply.lines) <= max_lines
            assert all(len(line) < max_line_length for line in reply.raw.split(b"\n"))
            assert isinstance(reply.text, str) and isinstance(reply.message, bytes)
            assert reply.enhanced is None or reply.enhanced.klass == reply.kind
            out += reply.raw
        assert out + parser.pending == fed
        assert len(parser.pending) <= max_lines * max_line_length
    try:
        parser.eof()
    except ProtocolError as error:
        assert error.data == fed[len(out) :]


_text = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


@st.composite
def well_formed_replies(draw) -> bytes:
    code = draw(st.integers(200, 599)) if draw(st.booleans()) else draw(st.integers(100, 599))
    lines = draw(st.lists(_text, min_size=1, max_size=6))
    ending = draw(st.sampled_from([b"\r\n", b"\n"]))
    out = b""
    for i, text in enumerate(lines):
        sep = b"-" if i < len(lines) - 1 else b" "
        out += str(code).encode() + sep + text + ending
    return out


@settings(max_examples=examples(100))
@given(st.lists(well_formed_replies(), min_size=1, max_size=4), st.data())
def test_well_formed_replies_round_trip(blobs, data) -> None:
    stream = b"".join(blobs)
    cuts = data.draw(splits(stream))
    replies = feed_split(stream, cuts)
    assert [r.raw for r in replies] == blobs
    for blob, reply in zip(blobs, replies, strict=True):
        assert reply.code == int(blob[:3])
        assert reply.lines == tuple(line.rstrip(b"\r\n")[4:] for line in blob.splitlines(True))
        assert reply.bare_lf == (b"\r\n" not in blob)


@pytest.mark.parametrize(
    ("data", "codes", "rest"),
    [
        (b"250 ok\r\nnonsense\r\n", [250], b"nonsense\r\n"),
        (b"220 hi\r\n250 a\r\n250-b\r\n251 c\r\nmore", [220, 250], b"250-b\r\n251 c\r\nmore"),
        (b"junk\r\n250 ok\r\n", [], b"junk\r\n250 ok\r\n"),
    ],
)
def test_an_error_carries_the_replies_before_it_and_the_rest(
    data: bytes, codes: list[int], rest: bytes
) -> None:
    parser = ReplyParser()
    with pytest.raises(ProtocolError) as info:
        parser.feed(data)
    assert [reply.code for reply in info.value.replies] == codes
    assert info.value.rest == rest
    assert b"".join(reply.raw for reply in info.value.replies) + rest == data
    assert parser.pending == b""


@settings(max_examples=examples(300), suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(st.binary(max_size=300), smtp_like, st.lists(well_formed_replies()).map(b"".join)),
    st.data(),
    st.sampled_from([(8, 2), (16, 3), (64, 3), (200, 5)]),
)
def test_replies_and_rest_add_up_to_the_bytes_fed(
    blob: bytes, data, limits: tuple[int, int]
) -> None:
    """Up to an error, however the bytes are split: the replies returned, those the error
    carries and its ``rest`` are exactly the bytes fed, each byte once."""
    max_line_length, max_lines = limits
    parser = ReplyParser(max_line_length=max_line_length, max_lines=max_lines)
    fed = out = b""
    start = 0
    for cut in [*sorted(data.draw(splits(blob))), len(blob)]:
        piece, start = blob[start:cut], cut
        fed += piece
        try:
            out += b"".join(reply.raw for reply in parser.feed(piece))
        except ProtocolError as error:
            assert out + b"".join(reply.raw for reply in error.replies) + error.rest == fed
            return
    assert out + parser.pending == fed


def test_the_rest_after_too_many_lines_holds_each_byte_once() -> None:
    parser = ReplyParser(max_lines=3)
    with pytest.raises(ProtocolError, match="longer than 3 lines") as info:
        parser.feed(b"250 ok\r\n250-a\r\n250-b\r\n250-c\r\n250 d\r\n")
    assert [reply.raw for reply in info.value.replies] == [b"250 ok\r\n"]
    assert info.value.rest == b"250-a\r\n250-b\r\n250-c\r\n250 d\r\n"
