"""PIPELINING (RFC 2920), one-write multi-line replies, CHUNKING/BDAT (RFC 3030)."""

import socket
import ssl

from conftest import (DOMAIN, check_delivered, make_message, qid_from,
                      uniq)


def test_pipelined_transaction_replies_in_order(server):
    r1, _ = server.add_user()
    r2, _ = server.add_user()
    bad = f"nobody-{uniq()}@{DOMAIN}"
    msg = make_message("p@remote.test", r1, "pipelined", ["in one go"])
    with server.conn("smtp") as c:
        c.ehlo()
        c.send(f"MAIL FROM:<p@remote.test>\r\nRCPT TO:<{r1}>\r\nRCPT TO:<{bad}>\r\n"
               f"RCPT TO:<{r2}>\r\nDATA\r\n".encode())
        replies = [c.reply() for _ in range(5)]
        assert [r.code for r in replies] == [250, 250, 550, 250, 354], replies
        c.send(msg + b".\r\nNOOP\r\nQUIT\r\n")
        final = c.reply()
        assert final.code == 250, final
        assert c.reply().code == 250
        assert c.reply().code == 221
    qid = qid_from(final.text)
    (d1,) = server.wait_mail(r1)
    (d2,) = server.wait_mail(r2)
    check_delivered(d1, "p@remote.test", r1, msg, qid=qid)
    check_delivered(d2, "p@remote.test", r2, msg, qid=qid)


def test_pipelined_whole_session_in_one_write(server):
    rcpt, _ = server.add_user()
    msg = make_message("p@remote.test", rcpt, "one write", ["everything at once"])
    s = socket.create_connection(("127.0.0.1", server.smtp), timeout=10)
    try:
        f = s.makefile("rb")
        assert f.readline().startswith(b"220 ")
        s.sendall(b"EHLO client.test\r\n")
        while True:
            line = f.readline()
            assert line.startswith(b"250"), line
            if line[3:4] == b" ":
                break
        s.sendall(b"MAIL FROM:<p@remote.test>\r\nRCPT TO:<" + rcpt.encode() + b">\r\nDATA\r\n")
        codes = [f.readline()[:3] for _ in range(3)]
        assert codes == [b"250", b"250", b"354"], codes
        s.sendall(msg + b".\r\nRSET\r\nMAIL FROM:<q@remote.test>\r\nRCPT TO:<"
                  + rcpt.encode() + b">\r\nDATA\r\n")
        codes = [f.readline() for _ in range(5)]
        assert [c[:3] for c in codes] == [b"250", b"250", b"250", b"250", b"354"], codes
        msg2 = make_message("q@remote.test", rcpt, "second", ["again"])
        s.sendall(msg2 + b".\r\nQUIT\r\n")
        assert f.readline()[:3] == b"250"
        assert f.readline()[:3] == b"221"
    finally:
        s.close()
    datas = server.wait_mail(rcpt, 2)
    senders = sorted(d.split(b"\n", 1)[0] for d in datas)
    assert senders == [b"Return-Path: <p@remote.test>", b"Return-Path: <q@remote.test>"]


def _one_recv_reply(sock, timeout=2.0):
    sock.settimeout(timeout)
    return sock.recv(65536)


def test_ehlo_reply_in_one_segment_plain(server):
    for role in ("smtp", "submission", "alt"):
        s = socket.create_connection(("127.0.0.1", server.ports[role]), timeout=5)
        try:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            greet = _one_recv_reply(s)
            assert greet.startswith(b"220 ") and greet.endswith(b"\r\n"), greet
            s.sendall(b"EHLO client.test\r\n")
            data = _one_recv_reply(s)
            lines = data.split(b"\r\n")
            assert data.endswith(b"\r\n"), f"{role}: EHLO reply split across writes: {data!r}"
            assert any(l.startswith(b"250 ") for l in lines), \
                f"{role}: final 250 line not in the first recv: {data!r}"
            assert len(lines) > 5, data
            s.sendall(b"HELP\r\n")
            data = _one_recv_reply(s)
            assert data.endswith(b"\r\n") and b"214 " in data, data
        finally:
            s.close()


def test_ehlo_reply_in_one_tls_record(server):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", server.submissions), timeout=5),
                        server_hostname="localhost")
    try:
        greet = _one_recv_reply(s)
        assert greet.startswith(b"220 "), greet
        s.sendall(b"EHLO client.test\r\n")
        data = _one_recv_reply(s)
        assert any(l.startswith(b"250 ") for l in data.split(b"\r\n")), \
            f"final 250 line not in the first TLS read: {data!r}"
        assert b"AUTH" in data
    finally:
        s.close()
    # after STARTTLS on 587 too
    s = socket.create_connection(("127.0.0.1", server.submission), timeout=5)
    try:
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"EHLO a\r\n")
        while f.readline()[3:4] != b" ":
            pass
        s.sendall(b"STARTTLS\r\n")
        assert f.readline().startswith(b"220")
        t = ctx.wrap_socket(s, server_hostname="localhost")
        t.sendall(b"EHLO client.test\r\n")
        data = _one_recv_reply(t)
        assert any(l.startswith(b"250 ") for l in data.split(b"\r\n")), data
        t.close()
    finally:
        s.close()


def test_pipelining_on_submission(server):
    user, pw = server.add_user()
    rcpt, _ = server.add_user()
    msg = make_message(user, rcpt, "pipelined submission", ["ok"])
    with server.conn("submission") as c:
        c.ehlo()
        c.starttls()
        c.ehlo()
        from conftest import b64
        c.send(("AUTH PLAIN " + b64(f"\0{user}\0{pw}") + f"\r\nMAIL FROM:<{user}>\r\n"
                f"RCPT TO:<{rcpt}>\r\nDATA\r\n").encode())
        codes = [c.reply().code for _ in range(4)]
        assert codes == [235, 250, 250, 354], codes
        c.send(msg + b".\r\n")
        assert c.reply().code == 250
        c.quit()
    server.wait_mail(rcpt)


# ---------------------------------------------------------------- BDAT

def test_bdat_chunks(server):
    rcpt, _ = server.add_user()
    msg = make_message("b@remote.test", rcpt, "chunked", ["part one", "part two", "part three"])
    chunks = [msg[:17], msg[17:60], msg[60:]]
    with server.conn("smtp") as c:
        r = c.ehlo()
        assert any(l.upper() == "CHUNKING" for l in r.lines[1:]), r
        assert c.cmd("MAIL FROM:<b@remote.test>").code == 250
        assert c.cmd(f"RCPT TO:<{rcpt}>").code == 250
        for ch in chunks[:-1]:
            c.send(b"BDAT %d\r\n" % len(ch) + ch)
            r = c.reply()
            assert r.code == 250 and r.enhanced() == "2.0.0", r
        c.send(b"BDAT %d LAST\r\n" % len(chunks[-1]) + chunks[-1])
        final = c.reply()
        assert final.code == 250 and final.enhanced() == "2.0.0", final
        qid = qid_from(final.text)
        c.quit()
    (data,) = server.wait_mail(rcpt)
    check_delivered(data, "b@remote.test", rcpt, msg, qid=qid, rcpt=rcpt)


def test_bdat_zero_last_and_pipelined(server):
    rcpt, _ = server.add_user()
    msg = make_message("b@remote.test", rcpt, "bdat pipelined", ["x"])
    with server.conn("smtp") as c:
        c.ehlo()
        c.send(b"MAIL FROM:<b@remote.test>\r\nRCPT TO:<" + rcpt.encode() + b">\r\n"
               + b"BDAT %d\r\n" % len(msg) + msg + b"BDAT 0 LAST\r\n")
        codes = [c.reply() for _ in range(4)]
        assert [r.code for r in codes] == [250, 250, 250, 250], codes
        qid = qid_from(codes[-1].text)
        c.quit()
    (data,) = server.wait_mail(rcpt)
    check_delivered(data, "b@remote.test", rcpt, msg, qid=qid)


def test_bdat_content_is_not_dot_unstuffed_or_parsed(server):
    """BDAT data is binary-clean: a lone '.' line and '..' stay as they are,
    and SMTP commands inside a chunk are data, never commands."""
    rcpt, _ = server.add_user()
    victim, _ = server.add_user()
    body = (b"Subject: bdat dots\r\n\r\n..two\r\n.\r\nMAIL FROM:<x@remote.test>\r\n"
            b"RCPT TO:<" + victim.encode() + b">\r\nDATA\r\nsmuggled?\r\n.\r\nend\r\n")
    with server.conn("smtp") as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<b@remote.test>").code == 250
        assert c.cmd(f"RCPT TO:<{rcpt}>").code == 250
        c.send(b"BDAT %d LAST\r\n" % len(body) + body)
        final = c.reply()
        assert final.code == 250, final
        assert c.nothing_arrives(0.5), f"extra replies after BDAT: {c.buf!r}"
        c.quit()
    (data,) = server.wait_mail(rcpt)
    check_delivered(data, "b@remote.test", rcpt, body)
    server.assert_no_mail(victim, wait=0.3)


def test_bdat_then_data_is_refused_and_data_after_bdat_last_ok(server):
    rcpt, _ = server.add_user()
    with server.conn("smtp") as c:
        c.ehlo()
        c.cmd("MAIL FROM:<b@remote.test>")
        c.cmd(f"RCPT TO:<{rcpt}>")
        c.send(b"BDAT 5\r\nHello")
        assert c.reply().code == 250
        r = c.cmd("DATA")
        assert r.code == 503, f"DATA mixed with BDAT: {r}"
        c.quit()
    with server.conn("smtp") as c:
        c.ehlo()
        c.send(b"BDAT 5 LAST\r\nHello")
        r = c.reply()
        # no transaction: refused (the state after it is indeterminate, RFC 3030)
        assert r.code == 503, r
        c.close()


def test_bdat_on_submission_with_auth(server):
    user, pw = server.add_user()
    rcpt, _ = server.add_user()
    msg = make_message(user, rcpt, "bdat submit", ["chunky"])
    with server.submit_conn(user, pw, role="submissions") as c:
        assert c.cmd(f"MAIL FROM:<{user}>").code == 250
        assert c.cmd(f"RCPT TO:<{rcpt}>").code == 250
        c.send(b"BDAT %d LAST\r\n" % len(msg) + msg)
        final = c.reply()
        assert final.code == 250, final
        c.quit()
    (data,) = server.wait_mail(rcpt)
    check_delivered(data, user, rcpt, msg, qid=qid_from(final.text), proto="ESMTPSA")
