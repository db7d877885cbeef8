"""Bad input gets a clear reply, never a crash: garbage, NUL bytes, broken
TLS, clients vanishing mid-transaction, RSET semantics."""

import os
import socket
import ssl
import time

from conftest import Conn, make_message, qid_from


def _server_ok(srv):
    assert srv.alive(), "server died:\n" + srv.log_text()[-2000:]
    with srv.conn("smtp") as c:
        assert c.ehlo().code == 250
        c.quit()


def test_garbage_and_nul_bytes(server):
    with server.conn("smtp") as c:
        r = c.cmd(b"\x00\x01\x02EHLO\x00x")
        assert 500 <= r.code < 600 and r.enhanced(), r
        r = c.cmd(b"MAIL FROM:<a\x00b@remote.test>")
        assert 500 <= r.code < 600, r
        r = c.cmd(b"\xff\xfe\xfd")
        assert 500 <= r.code < 600, r
        r = c.cmd("EHLO ok.test")
        assert r.code == 250, r
        c.quit()
    _server_ok(server)


def test_random_binary_on_every_port(server):
    blob = os.urandom(20000)
    for role in ("smtp", "submission", "alt", "submissions"):
        s = socket.create_connection(("127.0.0.1", server.ports[role]), timeout=5)
        try:
            try:
                s.sendall(blob)
                s.settimeout(2)
                s.recv(4096)
            except (OSError, socket.timeout):
                pass
        finally:
            s.close()
    time.sleep(0.3)
    _server_ok(server)


def test_tls_handshake_abandoned(server):
    for role in ("submissions", "submission"):
        s = socket.create_connection(("127.0.0.1", server.ports[role]), timeout=5)
        try:
            if role == "submission":
                f = s.makefile("rb")
                f.readline()
                s.sendall(b"EHLO x\r\n")
                while f.readline()[3:4] != b" ":
                    pass
                s.sendall(b"STARTTLS\r\n")
                assert f.readline().startswith(b"220")
            # half a ClientHello, then vanish
            s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(40))
        finally:
            s.close()
    time.sleep(0.3)
    _server_ok(server)


def test_client_vanishes_mid_data(server):
    rcpt, _ = server.add_user()
    c = server.conn("smtp")
    c.ehlo()
    assert c.cmd("MAIL FROM:<a@remote.test>").code == 250
    assert c.cmd(f"RCPT TO:<{rcpt}>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(b"Subject: cut\r\n\r\nthis message never ends\r\n")
    c.close()
    c = server.conn("smtp")
    c.ehlo()
    assert c.cmd("MAIL FROM:<a@remote.test>").code == 250
    assert c.cmd(f"RCPT TO:<{rcpt}>").code == 250
    c.send(b"BDAT 1000\r\nonly a few bytes")
    c.close()
    server.assert_no_mail(rcpt, wait=1.0)
    q = server.cli("queue", "list")
    assert q.returncode == 0
    assert rcpt not in q.stdout, q.stdout
    _server_ok(server)


def test_rset_clears_transaction(server):
    rcpt, _ = server.add_user()
    other, _ = server.add_user()
    with server.conn("smtp") as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@remote.test>").code == 250
        assert c.cmd(f"RCPT TO:<{other}>").code == 250
        r = c.cmd("RSET")
        assert r.code == 250 and r.enhanced() == "2.0.0", r
        r = c.cmd("DATA")
        assert r.code == 503, r
        msg = make_message("b@remote.test", rcpt, "after rset", ["ok"])
        (rr,), final = c.mail_transaction("b@remote.test", [rcpt], msg)
        assert final.code == 250
        qid_from(final.text)
        c.quit()
    server.wait_mail(rcpt)
    server.assert_no_mail(other, wait=0.5)


def test_very_long_data_line(server):
    rcpt, _ = server.add_user()
    with server.conn("smtp") as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@remote.test>").code == 250
        assert c.cmd(f"RCPT TO:<{rcpt}>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(b"Subject: long\r\n\r\n" + b"y" * 200000 + b"\r\n.\r\n")
        r = c.reply()
        assert r.code in (250, 500, 552, 554) and r.enhanced(), r
        assert c.cmd("NOOP").code == 250
        c.quit()
    _server_ok(server)


def test_quit_mid_transaction_delivers_nothing(server):
    rcpt, _ = server.add_user()
    with server.conn("smtp") as c:
        c.ehlo()
        c.cmd("MAIL FROM:<a@remote.test>")
        c.cmd(f"RCPT TO:<{rcpt}>")
        r = c.cmd("QUIT")
        assert r.code == 221
    server.assert_no_mail(rcpt, wait=0.7)


def test_tls_clients_drop_without_close_notify(server):
    """Clients that drop TLS sessions uncleanly must not hurt the server."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for _ in range(5):
        c = Conn(server.submissions, tls=True, ctx=ctx)
        c.ehlo()
        c.sock.close()
    _server_ok(server)
