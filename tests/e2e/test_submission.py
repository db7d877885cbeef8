"""Submission (587 / 2525) and submissions (465): STARTTLS, AUTH, envelope
sender ownership, throttling and lockout, passwords kept out of the log."""

import smtplib
import ssl
import time

import pytest

from conftest import (DOMAIN, HOSTNAME, Conn, b64, check_delivered, client_tls_context,
                      make_message, qid_from, uniq)

SUBMISSION_ROLES = ["submission", "alt"]


def _ehlo_keywords(reply):
    return {l.split(" ", 1)[0].upper() for l in reply.lines[1:]}


def _auth_mechs(reply):
    for l in reply.lines[1:]:
        parts = l.split()
        if parts and parts[0].upper() == "AUTH":
            return {p.upper() for p in parts[1:]}
    return None


@pytest.mark.parametrize("role", SUBMISSION_ROLES)
def test_plain_submission_offers_starttls_not_auth(server, role):
    with server.conn(role) as c:
        assert c.greeting.code == 220
        assert c.greeting.first.startswith(f"{HOSTNAME} ESMTP"), c.greeting
        r = c.ehlo()
        kw = _ehlo_keywords(r)
        assert "STARTTLS" in kw, r
        assert "AUTH" not in kw, f"AUTH advertised before TLS: {r}"
        c.quit()


@pytest.mark.parametrize("role", SUBMISSION_ROLES)
def test_mail_and_auth_refused_before_starttls(server, role):
    user, pw = server.add_user()
    with server.conn(role) as c:
        c.ehlo()
        r = c.cmd(f"MAIL FROM:<{user}>")
        assert r.code == 530 and r.enhanced() == "5.7.0", r
        r = c.cmd("AUTH PLAIN " + b64(f"\0{user}\0{pw}"))
        assert r.code == 530 and r.enhanced() == "5.7.0", r
        r = c.cmd("AUTH LOGIN")
        assert r.code == 530 and r.enhanced() == "5.7.0", r
        # still usable: STARTTLS then the whole thing works
        c.starttls()
        c.ehlo()
        r = c.auth_plain(user, pw)
        assert r.code == 235 and r.enhanced() == "2.7.0", r
        c.quit()


@pytest.mark.parametrize("role", SUBMISSION_ROLES)
def test_after_starttls_auth_plain_login_and_mail_requires_auth(server, role):
    user, pw = server.add_user()
    with server.conn(role) as c:
        c.ehlo()
        c.starttls()
        r = c.ehlo()
        kw = _ehlo_keywords(r)
        assert "STARTTLS" not in kw, f"STARTTLS offered again inside TLS: {r}"
        assert _auth_mechs(r) == {"PLAIN", "LOGIN"}, r
        r = c.cmd(f"MAIL FROM:<{user}>")
        assert r.code == 530 and r.enhanced() == "5.7.0", r
        r = c.cmd("STARTTLS")
        assert 500 <= r.code < 600, f"second STARTTLS accepted: {r}"
        c.quit()


@pytest.mark.parametrize("role", SUBMISSION_ROLES)
def test_auth_plain_and_deliver(server, role):
    user, pw = server.add_user()
    rcpt, _ = server.add_user()
    msg = make_message(user, rcpt, "plain " + uniq(), ["hello over " + role, "second line"])
    with server.submit_conn(user, pw, role=role) as c:
        (rr,), final = c.mail_transaction(user, [rcpt], msg)
        assert rr.code == 250 and rr.enhanced() == "2.1.5", rr
        assert final.code == 250 and final.enhanced() == "2.0.0", final
        qid = qid_from(final.text)
        c.quit()
    (data,) = server.wait_mail(rcpt)
    rcv = check_delivered(data, user, rcpt, msg, qid=qid, rcpt=rcpt, proto="ESMTPSA")
    assert "TLS" in rcv, f"no TLS version in Received: {rcv}"


def test_auth_plain_with_empty_initial_response_continuation(server):
    user, pw = server.add_user()
    with server.conn("submission") as c:
        c.ehlo()
        c.starttls()
        c.ehlo()
        r = c.cmd("AUTH PLAIN")
        assert r.code == 334, r
        r = c.cmd(b64(f"\0{user}\0{pw}"))
        assert r.code == 235 and r.enhanced() == "2.7.0", r
        c.quit()


def test_auth_login(server):
    user, pw = server.add_user()
    with server.conn("submission") as c:
        c.ehlo()
        c.starttls()
        c.ehlo()
        r = c.cmd("AUTH LOGIN")
        assert r.code == 334, r
        r = c.cmd(b64(user))
        assert r.code == 334, r
        r = c.cmd(b64(pw))
        assert r.code == 235 and r.enhanced() == "2.7.0", r
        # a second AUTH in the same session is a sequence error
        r = c.auth_plain(user, pw)
        assert r.code == 503, r
        c.quit()


def test_auth_cancelled_with_star(server):
    user, pw = server.add_user()
    with server.conn("submission") as c:
        c.ehlo()
        c.starttls()
        c.ehlo()
        r = c.cmd("AUTH LOGIN")
        assert r.code == 334, r
        r = c.cmd("*")
        assert r.code == 501, r
        r = c.auth_login(user, pw)
        assert r.code == 235, r
        c.quit()


def test_auth_username_case_insensitive(server):
    user, pw = server.add_user()
    with server.conn("submission") as c:
        c.ehlo()
        c.starttls()
        c.ehlo()
        r = c.auth_plain(user.upper(), pw)
        assert r.code == 235, r
        c.quit()


def test_submissions_implicit_tls(server):
    user, pw = server.add_user()
    rcpt, _ = server.add_user()
    with server.conn("submissions") as c:
        assert c.tls
        assert c.greeting.code == 220, c.greeting
        r = c.ehlo()
        kw = _ehlo_keywords(r)
        assert "STARTTLS" not in kw, r
        assert _auth_mechs(r) == {"PLAIN", "LOGIN"}, r
        r = c.cmd(f"MAIL FROM:<{user}>")
        assert r.code == 530 and r.enhanced() == "5.7.0", r
        r = c.auth_login(user, pw)
        assert r.code == 235 and r.enhanced() == "2.7.0", r
        msg = make_message(user, rcpt, "smtps " + uniq(), ["over 465"])
        (rr,), final = c.mail_transaction(user, [rcpt], msg)
        assert rr.code == 250, rr
        assert final.code == 250, final
        qid = qid_from(final.text)
        c.quit()
    (data,) = server.wait_mail(rcpt)
    check_delivered(data, user, rcpt, msg, qid=qid, rcpt=rcpt, proto="ESMTPSA")


def test_submissions_plaintext_client_gets_nothing_usable(server):
    """A plain-text client on 465 must not be served SMTP in clear."""
    import socket
    s = socket.create_connection(("127.0.0.1", server.submissions), timeout=5)
    try:
        s.settimeout(1.0)
        try:
            data = s.recv(100)
        except socket.timeout:
            data = b""
        assert not data.startswith(b"220"), f"465 spoke plain SMTP: {data!r}"
        s.sendall(b"EHLO x\r\n")
        s.settimeout(3.0)
        try:
            data = s.recv(100)
        except (socket.timeout, ConnectionResetError):
            data = b""
        assert b"250" not in data, data
    finally:
        s.close()


@pytest.mark.parametrize("version", ["TLSv1", "TLSv1_1"])
def test_old_tls_versions_refused(server, version):
    import socket
    import warnings
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        v = getattr(ssl.TLSVersion, version)
        ctx.minimum_version = v
        ctx.maximum_version = v
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    s = socket.create_connection(("127.0.0.1", server.submissions), timeout=5)
    with pytest.raises((ssl.SSLError, ConnectionResetError, OSError)):
        t = ctx.wrap_socket(s, server_hostname="localhost")
        t.close()
    s.close()


@pytest.mark.parametrize("version", ["TLSv1_2", "TLSv1_3"])
def test_tls12_and_13_accepted_with_valid_cert(server, version):
    ctx = client_tls_context(verify=True)
    v = getattr(ssl.TLSVersion, version)
    ctx.minimum_version = v
    ctx.maximum_version = v
    c = Conn(server.submissions, tls=True, ctx=ctx)
    try:
        assert c.sock.version() == version.replace("_", ".")
        assert c.greeting.code == 220
        c.ehlo()
        c.quit()
    finally:
        c.close()
    # and via STARTTLS on 587
    c = Conn(server.submission, ctx=ctx)
    try:
        c.ehlo()
        c.starttls()
        assert c.sock.version() == version.replace("_", ".")
        c.ehlo()
        c.quit()
    finally:
        c.close()


# ---------------------------------------------------------------- sender

def test_envelope_sender_must_be_owned(server):
    alice, apw = server.add_user(prefix="alice")
    bob, _ = server.add_user(prefix="bob")
    local, dom = alice.split("@")
    alias_mine = f"{uniq('sales')}@{DOMAIN}"
    alias_other = f"{uniq('other')}@{DOMAIN}"
    server.add_alias(alias_mine, alice)
    server.add_alias(alias_other, bob)
    with server.submit_conn(alice, apw) as c:
        r = c.cmd(f"MAIL FROM:<{bob}>")
        assert r.code == 553 and r.enhanced() == "5.7.1", r
        r = c.cmd("MAIL FROM:<someone@remote.test>")
        assert r.code == 553 and r.enhanced() == "5.7.1", r
        r = c.cmd(f"MAIL FROM:<{alias_other}>")
        assert r.code == 553 and r.enhanced() == "5.7.1", r
        for ok in (alice, f"{local}+news@{dom}", alice.upper(), alias_mine):
            r = c.cmd(f"MAIL FROM:<{ok}>")
            assert r.code == 250 and r.enhanced() == "2.1.0", (ok, r)
            r = c.cmd("RSET")
            assert r.code == 250, r
        c.quit()


def test_remote_recipient_is_queued(server):
    user, pw = server.add_user()
    local_rcpt, _ = server.add_user()
    remote = f"{uniq('far')}@remote.test"
    msg = make_message(user, remote, "to remote " + uniq(), ["queued for later"])
    with server.submit_conn(user, pw) as c:
        (r1, r2), final = c.mail_transaction(user, [remote, local_rcpt], msg)
        assert r1.code == 250, r1
        assert r2.code == 250, r2
        assert final.code == 250, final
        qid = qid_from(final.text)
        c.quit()
    (data,) = server.wait_mail(local_rcpt)
    check_delivered(data, user, local_rcpt, msg, qid=qid)
    time.sleep(0.5)
    p = server.cli("queue", "list")
    assert p.returncode == 0, p.stderr
    assert qid in p.stdout, p.stdout
    assert remote in p.stdout, p.stdout
    assert user in p.stdout, p.stdout
    p = server.cli("queue", "show", qid)
    assert p.returncode == 0, p.stderr
    assert remote in p.stdout and user in p.stdout, p.stdout
    assert "queued for later" in p.stdout, p.stdout


# ---------------------------------------------------------------- failures

def _fresh_conn(srv, source="127.0.0.1", role="submission"):
    c = Conn(srv.ports[role], tls=(role == "submissions"), source=source)
    c.ehlo()
    if role != "submissions":
        c.starttls()
        c.ehlo()
    return c


def test_wrong_password_535_delayed_then_lockout_per_ip(make_server):
    srv = make_server()
    user, pw = srv.add_user()
    other, opw = srv.add_user()
    times = []
    c = _fresh_conn(srv, source="127.0.0.2")
    try:
        for i in range(3):
            t0 = time.monotonic()
            r = c.auth_plain(user, pw + "x")
            times.append(time.monotonic() - t0)
            assert r.code == 535 and r.enhanced() == "5.7.8", (i, r)
    finally:
        c.close()
    assert len(times) == 3
    assert times[0] >= 0.045, f"first failure answered after {times[0]:.3f}s (fail_delay_ms=50)"
    assert max(times[1:]) >= 0.095, f"failure delay does not grow: {times}"
    # the address is now locked out, even with the right password and another account
    c = _fresh_conn(srv, source="127.0.0.2")
    try:
        r = c.auth_plain(other, opw)
        assert r.code == 454 and r.enhanced() == "4.7.0", r
        r = c.auth_login(user, pw)
        assert r.code == 454 and r.enhanced() == "4.7.0", r
    finally:
        c.close()
    # another client address is not affected
    c = _fresh_conn(srv, source="127.0.0.3")
    try:
        r = c.auth_plain(other, opw)
        assert r.code == 235, r
    finally:
        c.close()
    srv.assert_no_secrets()
    assert (pw + "x") not in srv.log_text()


def test_lockout_per_account_across_addresses(make_server):
    srv = make_server()
    victim, vpw = srv.add_user()
    bystander, bpw = srv.add_user()
    for src in ("127.0.0.11", "127.0.0.12", "127.0.0.13"):
        c = _fresh_conn(srv, source=src)
        try:
            r = c.auth_plain(victim, "wrong-" + src)
            assert r.code == 535 and r.enhanced() == "5.7.8", r
        finally:
            c.close()
    c = _fresh_conn(srv, source="127.0.0.14")
    try:
        r = c.auth_plain(victim, vpw)
        assert r.code == 454 and r.enhanced() == "4.7.0", f"account not locked out: {r}"
    finally:
        c.close()
    c = _fresh_conn(srv, source="127.0.0.14", role="submissions")
    try:
        r = c.auth_login(victim, vpw)
        assert r.code == 454 and r.enhanced() == "4.7.0", f"account not locked out on 465: {r}"
        # another account from the same address is fine
        r = c.auth_plain(bystander, bpw)
        assert r.code == 235, r
    finally:
        c.close()
    srv.assert_no_secrets()


def test_unknown_user_and_bad_base64(make_server):
    srv = make_server()
    c = _fresh_conn(srv, source="127.0.0.21")
    try:
        r = c.auth_plain(f"nobody-{uniq()}@{DOMAIN}", "whatever")
        assert r.code == 535 and r.enhanced() == "5.7.8", r
        r = c.cmd("AUTH PLAIN %%%not-base64%%%")
        assert r.code == 501 and r.enhanced() and r.enhanced().startswith("5."), r
        r = c.cmd("AUTH CRAM-MD5")
        assert r.code == 504 and r.enhanced().startswith("5."), r
    finally:
        c.close()


def test_smtplib_wrong_password_raises_535(make_server):
    srv = make_server()
    user, pw = srv.add_user()
    s = smtplib.SMTP("127.0.0.1", srv.submission, timeout=10)
    try:
        s.starttls(context=client_tls_context())
        with pytest.raises(smtplib.SMTPAuthenticationError) as ei:
            s.login(user, "not-" + pw)
        assert ei.value.smtp_code == 535
    finally:
        s.close()


def test_passwords_never_logged(server):
    user, pw = server.add_user()
    rcpt, _ = server.add_user()
    with server.submit_conn(user, pw) as c:
        c.quit()
    with server.conn("submissions") as c:
        c.ehlo()
        assert c.auth_login(user, pw).code == 235
        c.quit()
    s = smtplib.SMTP("127.0.0.1", server.alt, timeout=10)
    try:
        s.starttls(context=client_tls_context())
        s.login(user, pw)
        s.sendmail(user, [rcpt], make_message(user, rcpt, "x", ["y"]))
        s.quit()
    finally:
        s.close()
    server.wait_mail(rcpt)
    time.sleep(0.2)
    log = server.log_text()
    assert log.strip(), "server wrote no log at all"
    assert pw not in log
    assert b64(pw) not in log
    assert b64(f"\0{user}\0{pw}") not in log
    server.assert_no_secrets()
