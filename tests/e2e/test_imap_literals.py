"""IMAP limits that depend on the session's state, and LITERAL+ / LITERAL-
(RFC 7888), byte by byte on raw sockets.

Before login a command with its literals is at most 8 KiB: a synchronizing
literal beyond that gets a tagged BAD [TOOBIG], no "+", and the connection is
closed (so octets a misbehaving client sends anyway are never run as
commands); a non-synchronizing literal beyond LITERAL-'s 4096 octets, or a
flood of small ones past 8 KiB, is cut the same way.  After login the large
limits apply: LITERAL+ of any size up to the literal limit, APPEND of 25 MB."""

import socket
import time

import pytest

from conftest import Conn
from test_imap_rfc import Raw, capability_set, check_response, quote

# room for the 25 MB APPEND
SERVER_LIMITS = {"message_size": 27 * 1024 * 1024, "errors": 1000}


@pytest.fixture(scope="module")
def srv(server):
    return server


def plain(srv):
    """The clear port, before STARTTLS: no login possible, limits the same."""
    return Raw(srv, plain=True)


def refused_and_closed(c, tag):
    """The tagged BAD [TOOBIG] for tag, then a BYE, then the close; no "+"."""
    r = c.response()
    assert r.startswith(tag + b" BAD [TOOBIG] "), r
    check_response(r, tag)
    r = c.response()
    assert r.startswith(b"* BYE "), r
    assert c.closed(), "the connection stays open"


def test_capabilities_literal_minus_then_plus(srv):
    user, pw = srv.add_user()
    c = Raw(srv)
    caps = capability_set(c, b"a")
    assert b"LITERAL-" in caps and b"LITERAL+" not in caps, caps
    c.login(user, pw)
    caps = capability_set(c, b"b")
    assert b"LITERAL+" in caps and b"LITERAL-" not in caps, caps
    c.close()


def test_preauth_big_synchronizing_literal_gets_no_continuation(srv):
    c = plain(srv)
    c.send(b"a LOGIN {100000}\r\n")
    refused_and_closed(c, b"a")
    assert b"+" not in c.buf
    c.close()


def test_preauth_literal_bytes_sent_anyway_are_not_commands(srv):
    """The client sends the octets without waiting for "+": the server has
    closed, so the CREATE inside is never run."""
    user, pw = srv.add_user()
    c = plain(srv)
    payload = b"x\r\nb CAPABILITY\r\nc LOGOUT\r\n" + b"y" * 9000
    c.send(b"a LOGIN {%d}\r\n" % len(payload))
    try:
        c.send(payload + b"\r\n")
    except OSError:
        pass
    refused_and_closed(c, b"a")
    assert b"CAPABILITY" not in c.buf and b"LOGOUT" not in c.buf, c.buf
    c.close()


def test_preauth_literal_within_limit_works(srv):
    """8000 octets fit: the "+" comes and the command runs (LOGIN on the
    clear port is refused for privacy, not for size)."""
    c = plain(srv)
    c.send(b"a LOGIN {8000}\r\n")
    r = c.response()
    assert r.startswith(b"+"), r
    c.send(b"u" * 8000 + b" pw\r\n")
    _, tagged = c.until_tagged(b"a")
    assert tagged.startswith(b"a NO [PRIVACYREQUIRED]"), tagged
    c.ok(b"b NOOP")
    c.close()


def test_preauth_literal_minus_4096_and_4097(srv):
    c = plain(srv)
    c.send(b"a LOGIN {4096+}\r\n" + b"u" * 4096 + b" pw\r\n")
    _, tagged = c.until_tagged(b"a")
    assert tagged.startswith(b"a NO "), tagged
    c.ok(b"b NOOP")
    c.send(b"c LOGIN {4097+}\r\n" + b"u" * 4097 + b" pw\r\n")
    refused_and_closed(c, b"c")
    c.close()


def test_preauth_nonsync_flood_is_cut(srv):
    """Many small LITERAL- literals in one command: cut at 8 KiB, not read
    on until the timeout."""
    c = plain(srv)
    start = time.monotonic()
    chunk = b"{4000+}\r\n" + b"z" * 4000 + b" "
    try:
        c.send(b"a ID (")
        for _ in range(200):
            c.send(chunk)
    except OSError:
        pass  # closed under our feet: that is the point
    r = c.response()
    assert r.startswith(b"a BAD [TOOBIG] "), r
    r = c.response()
    assert r.startswith(b"* BYE "), r
    assert c.closed()
    assert time.monotonic() - start < 5
    c.close()


def test_preauth_long_line_is_cut(srv):
    c = plain(srv)
    try:
        c.send(b"a LOGIN " + b"u" * 9000 + b" pw\r\nb NOOP\r\n")
    except OSError:
        pass
    refused_and_closed(c, b"a")
    assert b"b OK" not in c.buf
    c.close()


def test_after_login_literal_plus_large(srv):
    user, pw = srv.add_user()
    c = Raw(srv)
    c.login(user, pw)
    msg = b"Subject: big nonsync\r\n\r\n" + (b"x" * 998 + b"\r\n") * 200
    c.send(b"a APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
    _, tagged = c.until_tagged(b"a")
    assert tagged.startswith(b"a OK "), tagged
    files = srv.mail_files(user)
    assert len(files) == 1
    c.close()


def test_after_login_append_25mb(srv):
    user, pw = srv.add_user()
    c = Raw(srv, timeout=120)
    c.login(user, pw)
    body = (b"y" * 1022 + b"\r\n") * (25 * 1024)
    msg = b"Subject: 25 MB\r\n\r\n" + body
    _, tagged = c.literal_cmd(b"a APPEND INBOX", msg)
    assert tagged.startswith(b"a OK "), tagged
    files = srv.mail_files(user)
    assert len(files) == 1
    assert files[0].stat().st_size == len(msg.replace(b"\r\n", b"\n"))
    assert f",W={len(msg)}" in files[0].name
    c.close()


def test_after_login_literal_over_limit_stays_open(srv):
    """After login a refused synchronizing literal keeps the session: the
    client sends nothing, the next command is read."""
    user, pw = srv.add_user()
    c = Raw(srv)
    c.login(user, pw)
    c.send(b"a APPEND INBOX {999999999999}\r\n")
    r = c.response()
    assert r.startswith(b"a BAD [TOOBIG] "), r
    c.ok(b"b NOOP")
    c.close()


def test_preauth_sasl_response_line_is_bounded(srv):
    """The AUTHENTICATE response line is pre-login input too: 8 KiB."""
    c = Raw(srv)
    c.send(b"a AUTHENTICATE PLAIN\r\n")
    assert c.response().startswith(b"+")
    try:
        c.send(b"A" * 9000 + b"\r\nb NOOP\r\n")
    except OSError:
        pass
    r = c.response()
    assert r.startswith(b"* BYE "), r
    assert c.closed()
    c.close()
