"""Memory stays bounded for clients that send and never read, and large
replies arrive whole (issue 10: output backpressure in net/conn.c, one test
per protocol).

A flooding client pipelines commands as fast as the socket takes them and
reads nothing; the server must stop reading from it once its replies pile
up, instead of growing.  Its peak memory is read from /proc while the flood
runs; before the change one such connection grew the process by hundreds of
MiB within seconds."""

import os
import select
import socket
import ssl
import time

import pytest

from conftest import Conn, client_tls_context, imap_login

FLOOD_SECONDS = 3.0
FLOOD_MAX_BYTES = 256 << 20          # bounded in count as well as in time
# the server may grow by this much at most; AddressSanitizer keeps freed
# memory in quarantine (256 MiB by default), so its builds get more room
GROWTH_LIMIT = (96 if os.environ.get("YUBIN_SANITIZED") == "1" else 16) << 20


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def flood(server, sock, command, seconds=FLOOD_SECONDS):
    """Send whole copies of command without reading, for `seconds` (or
    FLOOD_MAX_BYTES); returns (commands sent, peak server RSS)."""
    chunk = command * max(1, 16384 // len(command))
    sock.setblocking(False)
    sent_bytes = 0
    pending = b""
    peak = rss(server.proc.pid)
    end = time.monotonic() + seconds
    while time.monotonic() < end and sent_bytes < FLOOD_MAX_BYTES:
        if not pending:
            pending = chunk
        try:
            n = sock.send(pending)
            sent_bytes += n
            pending = pending[n:]
        except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
            select.select([], [sock], [], 0.05)
        peak = max(peak, rss(server.proc.pid))
    # a command may be left half sent: the server waits for its end, which
    # is fine, as only the replies before it are read
    for _ in range(10):
        peak = max(peak, rss(server.proc.pid))
        time.sleep(0.05)
    return sent_bytes // len(command), peak


def small_window(port):
    """A connection whose receive window stays small, so the server's
    replies back up in the server rather than in the kernel's buffers."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    return s


def read_some(sock, seconds=1.0):
    sock.settimeout(0.5)
    data = b""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            d = sock.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            continue
        if not d:
            break
        data += d
    return data


def check_bounded(server, before, peak, what):
    grown = peak - before
    print(f"{what}: grew by {grown >> 10} KiB")
    assert grown < GROWTH_LIMIT, f"{what}: the server grew by {grown >> 20} MiB while a client did not read"
    assert server.alive()


def other_client_is_served(server):
    with server.conn("smtp") as c:
        c.ehlo()
        c.quit()


def imap_lines_whole(data):
    # every line ends in CRLF and is a CAPABILITY response or its OK
    lines = data.split(b"\r\n")[:-1]
    assert len(lines) > 100
    for line in lines:
        assert line.startswith(b"* CAPABILITY IMAP4rev1") or line == b"a OK CAPABILITY completed", line[:80]


def pop3_replies_whole(data):
    assert data.count(b"+OK Capability list follows\r\n") > 10


@pytest.mark.parametrize("role,greeting,command,check", [
    ("imap", b"* OK", b"a CAPABILITY\r\n", imap_lines_whole),
    ("pop3", b"+OK", b"CAPA\r\n", pop3_replies_whole),
])
def test_flood_before_login(server, role, greeting, command, check):
    before = rss(server.proc.pid)
    s = small_window(getattr(server, role))
    assert s.recv(4096).startswith(greeting)
    n, peak = flood(server, s, command)
    check_bounded(server, before, peak, f"{role} {command.strip().decode()}")
    other_client_is_served(server)
    check(read_some(s))   # the replies that do come are whole
    s.close()


def test_smtp_ehlo_flood(make_server):
    # below this limit the flood goes on (past it the session is closed);
    # EHLO's reply is long enough for 100,000 of them to fill the kernel's
    # socket buffers and then the server's
    srv = make_server(limits={"commands_before_mail": 100000})
    before = rss(srv.proc.pid)
    s = small_window(srv.smtp)
    s.settimeout(5)
    assert s.recv(4096).startswith(b"220")
    n, peak = flood(srv, s, b"EHLO flood.example\r\n")
    check_bounded(srv, before, peak, "SMTP EHLO")
    other_client_is_served(srv)
    data = read_some(s)
    assert data.count(b"250 SMTPUTF8\r\n") > 10 or data.count(b"250 ") > 100
    s.close()


def make_messages(server, user, count, size):
    new = server.maildir(user) / "new"
    new.mkdir(parents=True, exist_ok=True)
    body = (b"x" * 76 + b"\n") * (size // 77)
    for i in range(count):
        msg = (f"From: a@example.net\nTo: {user}\nSubject: m{i}\n"
               f"Message-ID: <m{i}@example.net>\n\n").encode() + body
        (new / f"1700000000.M{i}P1.test").write_bytes(msg)


def test_imap_fetch_all_bodies_pipelined_after_login(server):
    user, pw = server.add_user()
    make_messages(server, user, 100, 40000)      # 4 MB per FETCH 1:* BODY.PEEK[]
    m = imap_login(server, user, pw)
    m.select("INBOX")                             # takes the messages in
    m.logout()
    before = rss(server.proc.pid)
    raw = small_window(server.imaps)
    s = client_tls_context().wrap_socket(raw, server_hostname="localhost")
    s.settimeout(10)
    assert s.recv(4096).startswith(b"* OK")
    s.sendall(f'l LOGIN "{user}" "{pw}"\r\ns SELECT INBOX\r\n'.encode())
    got = b""
    while b"s OK" not in got:
        got += s.recv(65536)
    n, peak = flood(server, s, b"f FETCH 1:* BODY.PEEK[]\r\n", seconds=4)
    check_bounded(server, before, peak, "IMAP FETCH 1:* BODY.PEEK[]")
    other_client_is_served(server)
    # what arrives is the first FETCH, whole and in order
    s.settimeout(10)
    data = b""
    while data.count(b"f OK FETCH completed") < 1:
        d = s.recv(1 << 20)
        assert d, "connection closed"
        data += d
    first = data[:data.index(b"f OK FETCH completed")]
    assert first.count(b"* ") >= 100 and b"* 100 FETCH (BODY[] {" in first
    s.close()


def test_large_unsolicited_flag_updates_are_whole(server):
    """3,000 FETCH FLAGS lines after another session's bulk STORE: about
    100 KiB, more than the old 64 KiB reply buffer that cut them off."""
    user, pw = server.add_user()
    make_messages(server, user, 3000, 100)
    a = imap_login(server, user, pw)
    b = imap_login(server, user, pw)
    assert a.select("INBOX")[1] == [b"3000"]
    assert b.select("INBOX")[1] == [b"3000"]
    typ, _ = a.store("1:*", "+FLAGS.SILENT", "(\\Flagged)")
    assert typ == "OK"
    typ, data = b.noop()
    assert typ == "OK"
    fetches = [r for r in b.untagged_responses.get("FETCH", [])]
    b.untagged_responses.clear()
    assert len(fetches) == 3000, len(fetches)
    assert all(b"\\Flagged" in f for f in fetches)
    typ, data = b.search(None, "FLAGGED")
    assert typ == "OK" and len(data[0].split()) == 3000
    a.logout()
    b.logout()
