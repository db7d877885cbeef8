"""POP3 (RFC 1939, CAPA RFC 2449, STLS RFC 2595, AUTH RFC 5034) on the real
server, driven by Python's poplib, curl and fetchmail: STLS before any
password, AUTH PLAIN / LOGIN, STAT / LIST / UIDL / RETR / TOP byte for byte
against what delivery wrote, deletions only at QUIT (a dropped connection
deletes nothing), one session per mailbox, UIDL stable across sessions,
and the bad paths."""

import base64
import os
import poplib
import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import (client_tls_context, deliver_local, read_until_closed, stored_crlf,
                      wait_until)

CURL = shutil.which("curl")
FETCHMAIL = shutil.which("fetchmail")






def pop3_login(srv, user, pw):
    p = poplib.POP3(HOST, srv.pop3, timeout=10)
    p.stls(client_tls_context())
    p.user(user)
    p.pass_(pw)
    return p


def pop3s_login(srv, user, pw):
    p = poplib.POP3_SSL(HOST, srv.pop3s, context=client_tls_context(), timeout=10)
    p.user(user)
    p.pass_(pw)
    return p


HOST = "localhost"


@pytest.fixture
def box(server):
    user, pw = server.add_user()
    return server, user, pw


def test_stls_before_password(box):
    srv, user, pw = box
    p = poplib.POP3(HOST, srv.pop3, timeout=10)
    try:
        assert p.getwelcome().startswith(b"+OK")
        caps = p.capa()
        assert "STLS" in caps and "USER" not in caps and "SASL" not in caps, caps
        with pytest.raises(poplib.error_proto, match=r"\[AUTH\].*STLS"):
            p.user(user)
        with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
            p._shortcmd("AUTH PLAIN " + base64.b64encode(f"\0{user}\0{pw}".encode()).decode())
        p.stls(client_tls_context())
        caps = p.capa()
        assert "STLS" not in caps and "USER" in caps, caps
        assert caps.get("SASL") == ["PLAIN", "LOGIN"], caps
        assert {"TOP", "UIDL", "RESP-CODES", "PIPELINING"} <= set(caps), caps
        p.user(user)
        assert p.pass_(pw).startswith(b"+OK")
    finally:
        p.quit()


def test_stls_drops_pipelined_plaintext(box):
    """Commands sent in the clear right behind STLS are never run inside TLS."""
    srv, user, pw = box
    s = socket.create_connection(("127.0.0.1", srv.pop3), timeout=10)
    try:
        assert s.recv(512).startswith(b"+OK")
        s.sendall(b"STLS\r\nUSER " + user.encode() + b"\r\n")
        assert s.recv(512).startswith(b"+OK Begin TLS")
        t = client_tls_context().wrap_socket(s, server_hostname=HOST)
        t.sendall(b"NOOP\r\n")
        assert t.recv(512).startswith(b"-ERR"), "the injected USER ran inside TLS"
        t.sendall(b"PASS " + pw.encode() + b"\r\n")
        assert t.recv(512).startswith(b"-ERR USER first")
        t.close()
    finally:
        s.close()


def test_retr_byte_for_byte(box):
    srv, user, pw = box
    bodies = [["first message", ".leading dot", "..", ".", "end"],
              ["second", "x" * 990, "", "Unicode: naïve café"]]
    for i, body in enumerate(bodies):
        deliver_local(srv, user, f"pop {i}", body)
    want = stored_crlf(srv, user)
    p = pop3_login(srv, user, pw)
    try:
        count, size = p.stat()
        assert count == 2 and size == sum(len(w) for w in want), (count, size)
        _, listing, _ = p.list()
        assert [l.split() for l in listing] == [[b"1", str(len(want[0])).encode()],
                                                  [b"2", str(len(want[1])).encode()]]
        for n in (1, 2):
            resp, lines, octets = p.retr(n)
            assert resp.startswith(f"+OK {len(want[n - 1])} octets".encode()), resp
            # poplib undoes the dot-stuffing and splits at CRLF
            assert b"\r\n".join(lines) + b"\r\n" == want[n - 1]
        assert b"Subject: pop 0" in want[0] and b"\r\n.leading dot\r\n" in want[0]
        resp = p._shortcmd("LIST 2")
        assert resp == f"+OK 2 {len(want[1])}".encode(), resp
    finally:
        p.quit()


def test_top(box):
    srv, user, pw = box
    deliver_local(srv, user, "top", ["line one", ".line two", "line three"])
    p = pop3_login(srv, user, pw)
    try:
        _, lines, _ = p.top(1, 2)
        head, _, rest = b"\r\n".join(lines).partition(b"\r\n\r\n")
        assert b"Subject: top" in head
        assert rest.split(b"\r\n") == [b"line one", b".line two"], rest
        _, lines, _ = p.top(1, 0)
        assert lines[-1] == b"" and b"line one" not in b"\r\n".join(lines)
    finally:
        p.quit()


def test_deletes_only_at_quit(box):
    srv, user, pw = box
    for i in range(3):
        deliver_local(srv, user, f"del {i}", [f"body {i}"])
    # DELE, then the connection drops: nothing is deleted
    p = pop3_login(srv, user, pw)
    p.dele(1)
    assert p.stat()[0] == 2
    with pytest.raises(poplib.error_proto, match="No such message"):
        p.retr(1)
    p.close()  # no QUIT
    time.sleep(0.3)
    p = pop3_login(srv, user, pw)
    assert p.stat()[0] == 3
    # RSET undoes DELE
    p.dele(2)
    p.rset()
    assert p.stat()[0] == 3
    p.dele(2)
    resp = p.quit()
    assert resp.startswith(b"+OK"), resp
    assert len(srv.mail_files(user)) == 2
    p = pop3_login(srv, user, pw)
    subjects = [b"\r\n".join(p.retr(n)[1]) for n in (1, 2)]
    p.quit()
    assert b"Subject: del 0" in subjects[0] and b"Subject: del 2" in subjects[1]


def test_one_session_per_mailbox(box):
    srv, user, pw = box
    p = pop3_login(srv, user, pw)
    try:
        q = poplib.POP3_SSL(HOST, srv.pop3s, context=client_tls_context(), timeout=10)
        q.user(user)
        with pytest.raises(poplib.error_proto, match=r"\[IN-USE\]"):
            q.pass_(pw)
        q.quit()
    finally:
        p.quit()
    # free again once the first has quit
    p = pop3s_login(srv, user, pw)
    p.quit()


def test_uidl_stable(box):
    srv, user, pw = box
    deliver_local(srv, user, "u1", ["a"])
    deliver_local(srv, user, "u2", ["b"])
    p = pop3s_login(srv, user, pw)
    first = dict(l.split() for l in p.uidl()[1])
    assert len(set(first.values())) == 2
    assert all(re.fullmatch(rb"[\x21-\x7e]{1,70}", v) for v in first.values())
    p.dele(1)
    p.quit()
    deliver_local(srv, user, "u3", ["c"])
    p = pop3s_login(srv, user, pw)
    second = dict(l.split() for l in p.uidl()[1])
    p.quit()
    assert second[b"1"] == first[b"2"], (first, second)
    assert second[b"2"] not in first.values()
    resp = None
    p = pop3s_login(srv, user, pw)
    resp = p._shortcmd("UIDL 1")
    p.quit()
    assert resp == b"+OK 1 " + first[b"2"]


def test_auth_plain_and_login(box):
    srv, user, pw = box
    deliver_local(srv, user, "auth", ["x"])
    p = poplib.POP3_SSL(HOST, srv.pop3s, context=client_tls_context(), timeout=10)
    resp = p._shortcmd("AUTH PLAIN " + base64.b64encode(f"\0{user}\0{pw}".encode()).decode())
    assert resp.startswith(b"+OK"), resp
    assert p.stat()[0] == 1
    p.quit()
    p = poplib.POP3_SSL(HOST, srv.pop3s, context=client_tls_context(), timeout=10)
    p._putcmd("AUTH LOGIN")
    assert p._getline()[0] == b"+ VXNlcm5hbWU6"
    p._putcmd(base64.b64encode(user.encode()).decode())
    assert p._getline()[0] == b"+ UGFzc3dvcmQ6"
    p._putcmd(base64.b64encode(pw.encode()).decode())
    assert p._getresp().startswith(b"+OK")
    p.quit()
    # PLAIN without an initial response, then cancelled
    p = poplib.POP3_SSL(HOST, srv.pop3s, context=client_tls_context(), timeout=10)
    p._putcmd("AUTH PLAIN")
    assert p._getline()[0] == b"+ "
    p._putcmd("*")
    with pytest.raises(poplib.error_proto, match="cancelled"):
        p._getresp()
    p.quit()


def test_bad_paths(box):
    srv, user, pw = box
    deliver_local(srv, user, "bad", ["x"])
    p = poplib.POP3_SSL(HOST, srv.pop3s, context=client_tls_context(), timeout=10)
    with pytest.raises(poplib.error_proto, match="not logged in"):
        p.stat()
    with pytest.raises(poplib.error_proto, match="USER first"):
        p.pass_(pw)
    p.user(user)
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\] Authentication failed"):
        p.pass_("wrong" + pw)
    p.quit()
    p = pop3s_login(srv, user, pw)
    for cmd, pat in [("RETR 2", "No such message"), ("RETR 0", "No such message"),
                     ("RETR x", "Invalid message number"), ("DELE 1 2", "Too many arguments"),
                     ("TOP 1", "line count"), ("LIST 99999999999999999999", "No such message"),
                     ("XYZZY", "Unknown command"), ("USER a", "Unknown command")]:
        with pytest.raises(poplib.error_proto, match=pat):
            p._shortcmd(cmd)
    p.quit()
    # a line over the limit ends the session
    s = socket.create_connection(("127.0.0.1", srv.pop3), timeout=10)
    s.recv(512)
    s.sendall(b"NOOP " + b"x" * 5000 + b"\r\n")
    data = s.recv(512)
    assert data.startswith(b"-ERR Line too long"), data
    assert s.recv(512) == b""
    s.close()
    # bare LF inside a line; then too many errors
    s = socket.create_connection(("127.0.0.1", srv.pop3), timeout=10)
    s.recv(512)
    s.sendall(b"NOOP\nNOOP\r\n")
    assert s.recv(512).startswith(b"-ERR Bare CR or LF")
    s.sendall(b"BOGUS\r\n" * 30)
    got = read_until_closed(s)
    assert b"-ERR Too many errors" in got, got[-200:]
    s.close()
    srv.assert_no_secrets()


def test_curl_pop3s(box):
    assert CURL
    srv, user, pw = box
    deliver_local(srv, user, "curl pop3", ["via curl"])
    want = stored_crlf(srv, user)[0]
    common = ["-sS", "--max-time", "20", "--resolve", f"localhost:{srv.pop3s}:127.0.0.1",
              "--cacert", srv.cert["cert"], "--user", f"{user}:{pw}"]
    out = subprocess.run([CURL, *common, f"pop3s://localhost:{srv.pop3s}/"], capture_output=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"1 {len(want)}\r\n".encode(), out.stdout
    out = subprocess.run([CURL, *common, f"pop3s://localhost:{srv.pop3s}/1"], capture_output=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == want
    # STLS on 110 with curl too
    common[3] = f"localhost:{srv.pop3}:127.0.0.1"
    out = subprocess.run([CURL, *common, "--ssl-reqd", f"pop3://localhost:{srv.pop3}/1"],
                         capture_output=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == want


def test_fetchmail_stls_downloads_and_deletes(box, tmp_path):
    assert FETCHMAIL, "fetchmail not installed"
    srv, user, pw = box
    for i in range(2):
        deliver_local(srv, user, f"fetch {i}", [f"fetched body {i}", ".dot"])
    want = stored_crlf(srv, user)
    out = tmp_path / "mbox"
    rc = tmp_path / "fetchmailrc"
    rc.write_text(
        f'poll localhost service {srv.pop3} proto POP3 uidl\n'
        f'  user "{user}" password "{pw}" is root here\n'
        f'  sslproto TLS1.2+ sslcertck sslcertfile "{srv.cert["cert"]}"\n'
        f'  mda "cat >> {out}"\n')
    os.chmod(rc, 0o600)
    env = dict(os.environ, HOME=str(tmp_path), FETCHMAILHOME=str(tmp_path))
    p = subprocess.run([FETCHMAIL, "-f", str(rc), "--nodetach", "--nosyslog", "-v"],
                       capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "STLS" in p.stdout + p.stderr, "fetchmail did not use STLS"
    got = out.read_bytes()
    for w in want:
        body = w.replace(b"\r\n", b"\n").split(b"\n\n", 1)[1]
        assert body in got, (body, got[:500])
    # fetchmail deletes what it fetched (at QUIT)
    wait_until(lambda: srv.mail_files(user) == [], 5, what="the fetched messages to be deleted")
