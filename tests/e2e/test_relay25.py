"""The smtp role (port 25): mail from other servers, local domains only,
STARTTLS offered but never required, never AUTH."""

import smtplib

import pytest

from conftest import (DOMAIN, HOSTNAME, check_delivered, client_tls_context,
                      make_message, qid_from, uniq)


def _kw(reply):
    return {l.split(" ", 1)[0].upper(): l for l in reply.lines[1:]}


def test_greeting_and_ehlo_capabilities(server):
    with server.conn("smtp") as c:
        assert c.greeting.code == 220
        assert c.greeting.first == f"{HOSTNAME} ESMTP yubin", c.greeting
        r = c.ehlo("client.test")
        assert r.lines[0].split()[0] == HOSTNAME, r
        kw = _kw(r)
        for ext in ("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8",
                    "CHUNKING", "HELP", "STARTTLS", "SIZE"):
            assert ext in kw, f"{ext} missing from EHLO: {r}"
        assert kw["SIZE"].split() == ["SIZE", str(server.limits["message_size"])], kw["SIZE"]
        assert "AUTH" not in kw, f"port 25 offers AUTH: {r}"
        c.starttls()
        r = c.ehlo("client.test")
        kw = _kw(r)
        assert "STARTTLS" not in kw, r
        assert "AUTH" not in kw, f"port 25 offers AUTH after TLS: {r}"
        assert "PIPELINING" in kw and "CHUNKING" in kw
        c.quit()


def test_helo_rset_noop_vrfy_help_quit(server):
    with server.conn("smtp") as c:
        r = c.cmd("HELO client.test")
        assert r.code == 250, r
        for cmd, code in (("NOOP", 250), ("RSET", 250), ("HELP", 214),
                          (f"VRFY postmaster@{DOMAIN}", 252)):
            r = c.cmd(cmd)
            assert r.code == code, (cmd, r)
            assert r.enhanced(), f"no enhanced status code in {r}"
        r = c.cmd("QUIT")
        assert r.code == 221 and r.enhanced() == "2.0.0", r
        assert c.closed(3.0)


def test_every_reply_has_enhanced_code(server):
    user, _ = server.add_user()
    with server.conn("smtp") as c:
        replies = [c.cmd("EHLO client.test")]
        replies += [c.cmd(x) for x in (
            "NOOP", "FOOBAR", "MAIL FROM:<a@remote.test>", "MAIL FROM:<b@remote.test>",
            "RCPT TO:<nobody@remote.test>", f"RCPT TO:<nouser-{uniq()}@{DOMAIN}>",
            f"RCPT TO:<{user}>", "RSET", "DATA", "RCPT TO:<x@y.test>", "MAIL FROM:bad",
            "VRFY x", "HELP")]
        for r in replies[1:]:
            assert r.enhanced(), f"reply without enhanced status code: {r}"
            assert r.enhanced()[0] == str(r.code)[0], f"class mismatch in {r}"
        r = c.cmd("QUIT")
        assert r.enhanced() == "2.0.0", r


def test_relay_denied(server):
    with server.conn("smtp") as c:
        c.ehlo()
        r = c.cmd("MAIL FROM:<sender@remote.test>")
        assert r.code == 250, r
        r = c.cmd("RCPT TO:<victim@elsewhere.test>")
        assert r.code == 554 and r.enhanced() == "5.7.1", r
        # the domain of the listener host itself is not a local domain
        r = c.cmd(f"RCPT TO:<root@{HOSTNAME}>")
        assert 500 <= r.code < 600, r
        # source-routing / percent hack tricks must not relay either
        for trick in (f"<victim%elsewhere.test@{DOMAIN}>",
                      f"<@{DOMAIN}:victim@elsewhere.test>",
                      f'<"victim@elsewhere.test"@{DOMAIN}>',
                      f"<victim@elsewhere.test@{DOMAIN}>"):
            r = c.cmd(f"RCPT TO:{trick}")
            assert r.code >= 500, (trick, r)
        r = c.cmd("DATA")
        assert r.code in (503, 554), f"DATA without a valid recipient: {r}"
        c.quit()


def test_relay_denied_even_after_starttls(server):
    with server.conn("smtp") as c:
        c.ehlo()
        c.starttls()
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test>")
        r = c.cmd("RCPT TO:<victim@elsewhere.test>")
        assert r.code == 554 and r.enhanced() == "5.7.1", r
        c.quit()


def test_unknown_local_user_550(server):
    with server.conn("smtp") as c:
        c.ehlo()
        c.cmd("MAIL FROM:<sender@remote.test>")
        r = c.cmd(f"RCPT TO:<no-such-user-{uniq()}@{DOMAIN}>")
        assert r.code == 550 and r.enhanced() == "5.1.1", r
        c.quit()


def test_auth_refused_on_port_25(server):
    user, pw = server.add_user()
    with server.conn("smtp") as c:
        c.ehlo()
        r = c.auth_plain(user, pw)
        assert r.code in (502, 503) and r.enhanced().startswith("5."), r
        c.starttls()
        c.ehlo()
        r = c.auth_plain(user, pw)
        assert r.code in (502, 503) and r.enhanced().startswith("5."), r
        # and being "authenticated" gives no relay right
        c.cmd(f"MAIL FROM:<{user}>")
        r = c.cmd("RCPT TO:<far@elsewhere.test>")
        assert r.code == 554, r
        c.quit()


def test_mail_from_other_server_plain(server):
    rcpt, _ = server.add_user()
    sender = f"{uniq('ext')}@remote.test"
    msg = make_message(sender, rcpt, "inbound " + uniq(), ["from a remote MTA", "", "bye"])
    with server.conn("smtp") as c:
        c.ehlo("mta.remote.test")
        (rr,), final = c.mail_transaction(sender, [rcpt], msg)
        assert rr.code == 250, rr
        assert final.code == 250 and final.enhanced() == "2.0.0", final
        assert final.first.startswith("2.0.0 Ok: queued as "), final
        qid = qid_from(final.text)
        c.quit()
    (data,) = server.wait_mail(rcpt)
    rcv = check_delivered(data, sender, rcpt, msg, qid=qid, rcpt=rcpt, proto="ESMTP")
    assert "127.0.0.1" in rcv, rcv
    assert "mta.remote.test" in rcv, rcv


def test_mail_from_other_server_starttls(server):
    rcpt, _ = server.add_user()
    sender = f"{uniq('ext')}@remote.test"
    msg = make_message(sender, rcpt, "inbound tls " + uniq(), ["secret"])
    with server.conn("smtp") as c:
        c.ehlo()
        c.starttls()
        c.ehlo()
        _, final = c.mail_transaction(sender, [rcpt], msg)
        assert final.code == 250, final
        qid = qid_from(final.text)
        c.quit()
    (data,) = server.wait_mail(rcpt)
    check_delivered(data, sender, rcpt, msg, qid=qid, rcpt=rcpt, proto="ESMTPS")


def test_null_sender_bounce_accepted(server):
    rcpt, _ = server.add_user()
    msg = make_message("MAILER-DAEMON@remote.test", rcpt, "bounce", ["undeliverable"])
    with server.conn("smtp") as c:
        c.ehlo()
        r = c.cmd("MAIL FROM:<>")
        assert r.code == 250, r
        r = c.cmd(f"RCPT TO:<{rcpt}>")
        assert r.code == 250, r
        r = c.cmd("DATA")
        assert r.code == 354, r
        c.send(msg + b".\r\n")
        r = c.reply()
        assert r.code == 250, r
        qid = qid_from(r.text)
        c.quit()
    (data,) = server.wait_mail(rcpt)
    check_delivered(data, "", rcpt, msg, qid=qid)


def test_smtplib_inbound_8bit(server):
    rcpt, _ = server.add_user()
    body = "Grüße aus Köln — 郵便\r\n".encode("utf-8")
    msg = (f"From: a@remote.test\r\nTo: {rcpt}\r\nSubject: 8bit\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n").encode() + body
    s = smtplib.SMTP("127.0.0.1", server.smtp, timeout=10)
    try:
        s.ehlo("mta.remote.test")
        assert s.has_extn("8bitmime")
        s.starttls(context=client_tls_context())
        s.ehlo("mta.remote.test")
        code, _ = s.mail("a@remote.test", ["BODY=8BITMIME"])
        assert code == 250
        code, _ = s.rcpt(rcpt)
        assert code == 250
        code, resp = s.data(msg)
        assert code == 250, resp
        s.quit()
    finally:
        s.close()
    (data,) = server.wait_mail(rcpt)
    check_delivered(data, "a@remote.test", rcpt, msg)


def test_bad_syntax_replies(server):
    with server.conn("smtp") as c:
        c.ehlo()
        r = c.cmd("RCPT TO:<x@example.test>")
        assert r.code == 503, f"RCPT before MAIL: {r}"
        r = c.cmd("MAIL FROM:a@remote.test")
        assert r.code == 501, r
        r = c.cmd("MAIL FROM:<a@remote.test> FROBNICATE=1")
        assert r.code == 555, r
        r = c.cmd("XYZZY")
        assert r.code in (500, 502), r
        r = c.cmd("MAIL FROM:<a@remote.test>")
        assert r.code == 250, r
        r = c.cmd("MAIL FROM:<a@remote.test>")
        assert r.code == 503, f"nested MAIL: {r}"
        c.quit()


def test_ipv6_listener_beside_ipv4_on_the_same_port(make_server):
    """A listener on ::1 and one on 127.0.0.1 may share a port (the IPv6
    socket is IPv6-only), and the Received header tags the client address
    as an IPv6 literal (RFC 5321 4.1.3)."""
    import socket
    probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    finally:
        probe.close()
    srv = make_server(start=False)
    port = srv.ports["smtp"]
    text = srv.config_path.read_text().replace(
        "listeners = (",
        f'listeners = (\n  {{ role = "smtp"; address = "::1"; port = {port}; }},', 1)
    srv.config_path.write_text(text)
    srv.start()
    rcpt, _ = srv.add_user()
    sender = f"{uniq('v6')}@remote.test"
    msg = make_message(sender, rcpt, "over IPv6", ["hello from ::1"])
    with smtplib.SMTP("::1", port, timeout=10) as c:
        c.ehlo("mta6.remote.test")
        assert c.sendmail(sender, [rcpt], msg) == {}
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as c:
        assert c.ehlo()[0] == 250
    (data,) = srv.wait_mail(rcpt)
    rcv = check_delivered(data, sender, rcpt, msg, rcpt=rcpt, proto="ESMTP")
    assert "[IPv6:::1]" in rcv, rcv
