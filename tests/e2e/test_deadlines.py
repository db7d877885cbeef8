"""Slow clients cannot hold connections (issue 10): a deadline from connect
to login that activity does not reset (submission, POP3, IMAP), and a
command timeout that counts from the last whole command, not the last
byte, so a line trickled a byte at a time still times out."""

import socket
import ssl
import time

import pytest

from conftest import client_tls_context, imap_login

DEADLINE = 5


@pytest.fixture(scope="module")
def slow(tls_cert):
    from conftest import Server
    srv = Server(tls_cert, limits={"login_deadline": DEADLINE, "command_timeout": 2})
    srv.start()
    yield srv
    srv.stop()
    srv.assert_clean()
    srv.cleanup()


def busy_until_closed(sock, line, limit):
    """Send `line` every half second until the server closes; returns
    (seconds it took, everything received)."""
    start = time.monotonic()
    sock.settimeout(0.5)
    got = b""
    while time.monotonic() - start < limit:
        time.sleep(0.5)
        try:
            sock.sendall(line)
        except (OSError, ssl.SSLError):
            break
        try:
            d = sock.recv(65536)
            if not d:
                break
            got += d
        except socket.timeout:
            pass
        except (OSError, ssl.SSLError):
            break
    return time.monotonic() - start, got


def tls_conn(port):
    raw = socket.create_connection(("127.0.0.1", port))
    return client_tls_context().wrap_socket(raw, server_hostname="localhost")


@pytest.mark.parametrize("role,greeting,line,goodbye", [
    ("submissions", b"220", b"NOOP\r\n", b"421 4.7.0 Authentication took too long"),
    ("pop3s", b"+OK", b"NOOP\r\n", b"-ERR Login took too long"),   # NOOP is no command before login: -ERR, still activity
    ("imaps", b"* OK", b"a NOOP\r\n", b"* BYE Login took too long"),
])
def test_login_deadline_is_not_reset_by_activity(slow, role, greeting, line, goodbye):
    s = tls_conn(getattr(slow, role))
    s.settimeout(5)
    assert s.recv(4096).startswith(greeting)
    took, got = busy_until_closed(s, line, DEADLINE + 10)
    assert goodbye in got, got[-300:]
    assert DEADLINE - 1 <= took <= DEADLINE + 5, took
    s.close()
    assert "event=deadline" in slow.log_text()


def test_logged_in_sessions_have_no_deadline(slow):
    user, pw = slow.add_user()
    m = imap_login(slow, user, pw)
    time.sleep(DEADLINE + 1)
    assert m.noop()[0] == "OK"
    m.logout()
    with slow.submit_conn(user, pw, role="submissions") as c:
        for _ in range(DEADLINE + 2):      # within the 2 s command timeout
            time.sleep(1)
            assert c.cmd("NOOP").code == 250


def test_trickled_command_line_times_out(slow):
    """One byte every half second never makes a whole line: the 2-second
    command timeout ends the session although bytes keep coming."""
    s = socket.create_connection(("127.0.0.1", slow.smtp))
    s.settimeout(5)
    assert s.recv(4096).startswith(b"220")
    start = time.monotonic()
    got = b""
    s.settimeout(0.5)
    for ch in (b"EHLO " + b"x" * 40):
        try:
            s.sendall(bytes([ch]))
            d = s.recv(4096)
            if not d:
                break
            got += d
            if b"421" in got:
                break
        except socket.timeout:
            continue
        except (BrokenPipeError, ConnectionResetError):
            break
    took = time.monotonic() - start
    assert b"421 4.4.2" in got, got
    assert took < 6, took
    s.close()


def test_whole_commands_keep_the_session(slow):
    """The timeout restarts with each whole command."""
    s = socket.create_connection(("127.0.0.1", slow.smtp))
    s.settimeout(5)
    assert s.recv(4096).startswith(b"220")
    for _ in range(5):
        time.sleep(1.2)
        s.sendall(b"NOOP\r\n")
        assert s.recv(4096).startswith(b"250")
    s.close()
