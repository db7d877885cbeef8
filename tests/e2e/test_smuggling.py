"""SMTP smuggling (CVE-2023-51764 class), bare CR / bare LF handling, and
STARTTLS command injection (CVE-2011-0411 class)."""

import time

import pytest

from conftest import b64, check_delivered, make_message, uniq

VARIANTS = {
    "lf.lf": b"\n.\n",
    "lf.crlf": b"\n.\r\n",
    "cr.cr": b"\r.\r",
    "crlf.cr": b"\r\n.\r",
    "crlf.lf": b"\r\n.\n",
    "cr.crlf": b"\r.\r\n",
}


def _replies_until_quit(c):
    """Send QUIT and collect every reply up to the 221 (or the close)."""
    c.send(b"QUIT\r\n")
    codes = []
    while True:
        try:
            r = c.reply(timeout=5)
        except (ConnectionError, OSError):
            break
        codes.append(r)
        if r.code == 221:
            break
    return codes


def _control_message(c, srv, sender):
    """A normal transaction on the same session, to prove that the session is
    in step and to give delivery time to happen."""
    ctl, _ = srv.add_user(prefix="ctl")
    msg = make_message(sender, ctl, "control " + uniq(), ["control"])
    (rr,), final = c.mail_transaction(sender, [ctl], msg)
    assert rr.code == 250, rr
    assert final.code == 250, final
    srv.wait_mail(ctl)


def _smuggle(srv, c, sender, variant, smuggled_sender):
    u1, _ = srv.add_user(prefix="first")
    u2, _ = srv.add_user(prefix="smuggled")
    r = c.cmd(f"MAIL FROM:<{sender}>")
    assert r.code == 250, r
    r = c.cmd(f"RCPT TO:<{u1}>")
    assert r.code == 250, r
    r = c.cmd("DATA")
    assert r.code == 354, r
    payload = (
        f"From: <{sender}>\r\nTo: <{u1}>\r\nSubject: first\r\n\r\nfirst message body".encode()
        + variant
        + f"MAIL FROM:<{smuggled_sender}>\r\nRCPT TO:<{u2}>\r\nDATA\r\n"
          f"From: <{smuggled_sender}>\r\nTo: <{u2}>\r\nSubject: smuggled\r\n\r\n"
          "smuggled body\r\n".encode()
        + b".\r\n")
    c.send(payload)
    r = c.reply()
    assert r.code == 554 and r.enhanced() == "5.6.0", f"expected 554 5.6.0, got {r}"
    # the very next reply must answer our NOOP: nothing of the data ran as a command
    r = c.cmd("NOOP")
    assert r.code == 250 and r.enhanced() == "2.0.0", f"smuggled command answered: {r}"
    return u1, u2


@pytest.mark.parametrize("name", list(VARIANTS))
def test_smuggling_port25(server, name):
    sender = f"{uniq('s')}@remote.test"
    with server.conn("smtp") as c:
        c.ehlo("mta.remote.test")
        u1, u2 = _smuggle(server, c, sender, VARIANTS[name], "spoofed@remote.test")
        _control_message(c, server, sender)
        rest = _replies_until_quit(c)
        assert [r.code for r in rest] == [221], rest
    time.sleep(0.3)
    assert not server.mail_files(u2), f"smuggled message delivered ({name})"
    assert not server.mail_files(u1), f"message with bare CR/LF delivered ({name})"


@pytest.mark.parametrize("name", list(VARIANTS))
def test_smuggling_submission(server, name):
    user, pw = server.add_user()
    remote = f"{uniq('smg')}@remote.test"
    with server.submit_conn(user, pw) as c:
        u1, u2 = _smuggle(server, c, user, VARIANTS[name], user)
        # also try to queue a smuggled remote message
        r = c.cmd(f"MAIL FROM:<{user}>")
        assert r.code == 250, r
        assert c.cmd(f"RCPT TO:<{u1}>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(b"Subject: x\r\n\r\nbody\n.\nMAIL FROM:<" + user.encode() + b">\r\nRCPT TO:<"
               + remote.encode() + b">\r\nDATA\r\nSubject: smuggled\r\n\r\nhi\r\n.\r\n")
        r = c.reply()
        assert r.code == 554 and r.enhanced() == "5.6.0", r
        _control_message(c, server, user)
        rest = _replies_until_quit(c)
        assert [r.code for r in rest] == [221], rest
    time.sleep(0.3)
    assert not server.mail_files(u1)
    assert not server.mail_files(u2)
    q = server.cli("queue", "list")
    assert q.returncode == 0, q.stderr
    assert remote not in q.stdout, f"smuggled remote message queued: {q.stdout}"


@pytest.mark.parametrize("bad", [b"line one\nline two\r\n", b"line one\rline two\r\n",
                                 b"Subject: x\nX-Smuggle: y\r\n", b"ends with bare cr\r"])
def test_bare_cr_or_lf_in_data_rejected(server, bad):
    rcpt, _ = server.add_user()
    with server.conn("smtp") as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@remote.test>").code == 250
        assert c.cmd(f"RCPT TO:<{rcpt}>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(b"Subject: bare\r\n\r\n" + bad + b"\r\n.\r\n")
        r = c.reply()
        assert r.code == 554 and r.enhanced() == "5.6.0", r
        r = c.cmd("NOOP")
        assert r.code == 250, r
        c.quit()
    server.assert_no_mail(rcpt, wait=1.0)


def test_bare_lf_dot_alone_does_not_end_data(server):
    """<LF>.<LF> must not end DATA: the server keeps reading and answers only
    after the real <CRLF>.<CRLF>."""
    rcpt, _ = server.add_user()
    with server.conn("smtp") as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@remote.test>").code == 250
        assert c.cmd(f"RCPT TO:<{rcpt}>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(b"Subject: x\r\n\r\nbody\n.\n")
        assert c.nothing_arrives(1.0), f"server answered after <LF>.<LF>: {c.buf!r}"
        c.send(b"NOOP\r\n")
        assert c.nothing_arrives(0.5), f"server answered a command inside DATA: {c.buf!r}"
        c.send(b"\r\n.\r\n")
        r = c.reply()
        assert r.code == 554 and r.enhanced() == "5.6.0", r
        c.quit()
    server.assert_no_mail(rcpt, wait=0.5)


def test_bare_lf_command_line(server):
    u2, _ = server.add_user()
    with server.conn("smtp") as c:
        c.ehlo()
        c.send(f"MAIL FROM:<a@remote.test>\nRCPT TO:<{u2}>\r\n".encode())
        r = c.reply()
        assert r.code == 500 and r.enhanced() == "5.5.2", r
        # no transaction was started by the bad line
        r = c.cmd(f"RCPT TO:<{u2}>")
        assert r.code == 503, r
        c.send(b"NOOP\rNOOP\r\n")
        r = c.reply()
        assert 500 <= r.code < 600 and r.enhanced().startswith("5."), f"bare CR in a command: {r}"
        r = c.cmd("NOOP")
        assert r.code == 250, r
        assert c.nothing_arrives(0.3), f"extra replies: {c.buf!r}"
        c.quit()


def test_dot_stuffing_roundtrip(server):
    rcpt, _ = server.add_user()
    body_lines = [".", "..", ".leading dot", "..two dots", "", "x.", " .", "end"]
    msg = make_message("a@remote.test", rcpt, "dots", body_lines)
    with server.conn("smtp") as c:
        c.ehlo()
        _, final = c.mail_transaction("a@remote.test", [rcpt], msg)
        assert final.code == 250, final
        c.quit()
    (data,) = server.wait_mail(rcpt)
    check_delivered(data, "a@remote.test", rcpt, msg)


# ---------------------------------------------------------------- STARTTLS injection

@pytest.mark.parametrize("role", ["smtp", "submission", "alt"])
def test_starttls_injection_noop(server, role):
    with server.conn(role) as c:
        c.ehlo()
        c.send(b"STARTTLS\r\nNOOP\r\n")
        r = c.reply()
        assert r.code == 220, r
        # the server may have answered the injected NOOP in clear text
        # already (it must not); either way it must not reach the TLS layer
        leftover = c.buf
        c.buf = b""
        assert leftover == b"", f"server answered the injected command in clear: {leftover!r}"
        c._wrap()
        assert c.nothing_arrives(0.7), f"reply for injected NOOP arrived inside TLS: {c.buf!r}"
        r = c.cmd("EHLO client.test")
        assert r.code == 250 and len(r.lines) > 1, f"first TLS reply is not the EHLO reply: {r}"
        r = c.cmd("NOOP")
        assert r.code == 250, r
        assert c.nothing_arrives(0.3), f"extra reply: {c.buf!r}"
        c.quit()


def test_starttls_injection_mail_from(server):
    rcpt, _ = server.add_user()
    with server.conn("smtp") as c:
        c.ehlo()
        c.send(f"STARTTLS\r\nMAIL FROM:<inject@remote.test>\r\nRCPT TO:<{rcpt}>\r\n".encode())
        r = c.reply()
        assert r.code == 220, r
        assert c.buf == b"", f"server answered injected commands in clear: {c.buf!r}"
        c._wrap()
        assert c.nothing_arrives(0.7), f"injected command answered inside TLS: {c.buf!r}"
        c.ehlo()
        # the injected MAIL must not have started a transaction
        r = c.cmd(f"RCPT TO:<{rcpt}>")
        assert r.code == 503, f"injected MAIL FROM was executed: {r}"
        c.quit()


def test_starttls_injection_submission_auth(server):
    user, pw = server.add_user()
    with server.conn("submission") as c:
        c.ehlo()
        c.send(("STARTTLS\r\nAUTH PLAIN " + b64(f"\0{user}\0{pw}") + "\r\n").encode())
        r = c.reply()
        assert r.code == 220, r
        c.buf = b""
        c._wrap()
        assert c.nothing_arrives(0.7), f"injected AUTH answered inside TLS: {c.buf!r}"
        c.ehlo()
        r = c.cmd(f"MAIL FROM:<{user}>")
        assert r.code == 530, f"injected AUTH took effect: {r}"
        c.quit()
