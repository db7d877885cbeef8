"""REQUIRETLS (RFC 8689) end to end: advertised and accepted only on TLS
sessions, refused in the clear, kept in the queue file, and honoured on
delivery: a REQUIRETLS message goes only over TLS with a verified
certificate to a server that advertises REQUIRETLS, with the MAIL
parameter; otherwise it is returned at once (5.7.10 / 5.7.30) with a
headers-only report that is itself REQUIRETLS.  Also `TLS-Required: No`
(RFC 8689 3) read from the message, and the HTTPS API's require_tls.

Peers are aiosmtpd receivers (conftest.Receiver) with the test CA's
certificate; as the test DNS is not DNSSEC-signed, the peers that may take
REQUIRETLS mail are reached as the relay host (a configured next hop, no
MX look-up), and a direct MX look-up is the insecure case.  Every wait is
bounded.
"""

import json
import os
import re
import smtplib
import ssl
import time

from conftest import (DOMAIN, Receiver, client_tls_context, dsn_recipient, free_port,
                      make_message, make_tempdir, outbound_config, parse_dsn, qid_from,
                      uniq, wait_until)

REMOTE = "remote.test"
MX1 = "mx1.remote.test"
IP1, IP3 = "127.0.0.2", "127.0.0.4"
WAIT = 15.0
SECRET_BODY = "the-secret-body-line-4711"


# ---------------------------------------------------------------- helpers

def accept_requiretls(rx):
    """aiosmtpd refuses MAIL parameters it does not know (555): let
    REQUIRETLS through, still recorded in the MAIL command and in the
    message's mail_options."""
    ctl = rx.controller
    orig = ctl.factory

    def factory():
        proto = orig()
        getparams = proto._getparams

        def gp(params):
            d = getparams(params)
            if d is not None:
                d.pop("REQUIRETLS", None)
            return d
        proto._getparams = gp
        return proto
    ctl.factory = factory
    return rx


def peer(test_ca, port, tls=True, requiretls=True):
    """The relay host MX1 on IP3: the test CA's certificate (or none),
    REQUIRETLS advertised (or not), AUTH as relayuser after TLS."""
    cert = {"cert": test_ca["cert"], "key": test_ca["key"]} if tls else None
    r = Receiver(IP3, port, hostname=MX1, cert=cert,
                 logins={"relayuser": "relay-Secret-77"} if tls else None,
                 extensions=["REQUIRETLS"] if requiretls else [])
    r.start()
    return accept_requiretls(r)


def relay_server(make_server, dns, test_ca, port):
    pwfile = make_tempdir("yubin-e2e-rtlspw-") / "relay-password"
    pwfile.write_text("relay-Secret-77\n")
    os.chmod(pwfile, 0o644)
    dns.set(MX1, "A", [IP3])
    extra = outbound_config(dns, 25, ca_file=test_ca["ca"]) + (
        '\nrelay: { host = "%s"; ports = [ %d ]; user = "relayuser"; password_file = "%s"; '
        'verify = 1; };' % (MX1, port, pwfile))
    srv = make_server(extra=extra)
    srv.secrets.add("relay-Secret-77")
    return srv


def send_requiretls(srv, user, pw, rcpt, msg, requiretls=True):
    """Submit on 587 with STARTTLS + AUTH and MAIL ... REQUIRETLS (smtplib)."""
    with smtplib.SMTP("127.0.0.1", srv.submission, timeout=WAIT) as s:
        s.ehlo("client.test")
        s.starttls(context=client_tls_context(verify=False))
        s.ehlo("client.test")
        assert s.has_extn("requiretls"), s.esmtp_features
        s.login(user, pw)
        code, resp = s.mail(user, ["REQUIRETLS"] if requiretls else [])
        assert code == 250, (code, resp)
        code, resp = s.rcpt(rcpt)
        assert code == 250, (code, resp)
        code, resp = s.data(msg)
        assert code == 250, (code, resp)
        return qid_from(resp.decode())


def wait_dsn(srv, user):
    (data,) = srv.wait_mail(user, 1, timeout=WAIT)
    return data, parse_dsn(data)


# ---------------------------------------------------------------- receiving

def test_ehlo_advertises_requiretls_only_on_tls(server):
    with server.conn("smtp") as c:
        ext = c.extensions(c.ehlo())
        assert "REQUIRETLS" not in ext and "STARTTLS" in ext, ext
        c.starttls()
        ext = c.extensions(c.ehlo())
        assert "REQUIRETLS" in ext and "STARTTLS" not in ext, ext
    # implicit TLS (465) is a TLS session from the first byte
    with smtplib.SMTP_SSL("127.0.0.1", server.submissions, timeout=WAIT,
                          context=client_tls_context(verify=False)) as s:
        s.ehlo("client.test")
        assert s.has_extn("requiretls"), s.esmtp_features


def test_requiretls_in_the_clear_refused(server):
    with server.conn("smtp") as c:
        c.ehlo()
        r = c.cmd("MAIL FROM:<> REQUIRETLS")
        assert r.code == 530, r
        assert r.enhanced() == "5.7.10", r
        # no transaction began: a plain MAIL is fine afterwards
        r = c.cmd("MAIL FROM:<>")
        assert r.code == 250, r


def test_requiretls_over_starttls_accepted_with_smtplib(server):
    user, pw = server.add_user()
    with smtplib.SMTP("127.0.0.1", server.smtp, timeout=WAIT) as s:
        s.ehlo("client.test")
        s.starttls(context=client_tls_context(verify=False))
        s.ehlo("client.test")
        assert s.has_extn("requiretls")
        code, resp = s.mail("", ["REQUIRETLS"])
        assert code == 250, resp
        # a value, or twice, is a syntax error in the parameter
        s.rset()
        code, resp = s.mail("", ["REQUIRETLS=yes"])
        assert code == 501, resp
        s.rset()
        code, resp = s.mail("", ["REQUIRETLS", "REQUIRETLS"])
        assert code == 501, resp
        s.rset()
        code, _ = s.mail("", ["REQUIRETLS"])
        assert code == 250
        code, _ = s.rcpt(user)
        assert code == 250
        code, resp = s.data(make_message("a@b.test", user, "rtls in", ["hello"]))
        assert code == 250, resp
    server.wait_mail(user, 1, timeout=WAIT)


def test_requiretls_tag_kept_in_the_queue_file(make_server, dns, test_ca):
    """Accepted over TLS, the tag is in the queue file while the message
    waits (the relay's port is closed: a deferral, not a failure)."""
    closed = free_port()
    srv = relay_server(make_server, dns, test_ca, closed)
    user, pw = srv.add_user()
    rcpt = f"{uniq('r')}@{REMOTE}"
    qid = send_requiretls(srv, user, pw, rcpt, make_message(user, rcpt, "kept", ["x"]))
    plain = send_requiretls(srv, user, pw, rcpt, make_message(user, rcpt, "plain", ["x"]),
                            requiretls=False)

    def file_of(q):
        for root, _, files in os.walk(srv.data_dir):
            if q in files:
                return os.path.join(root, q)
        return None
    wait_until(lambda: file_of(qid) and file_of(plain), WAIT, what="queue files")
    wait_until(lambda: re.search(rf"delivery_attempt qid={qid} ", srv.stderr_text()), WAIT,
               what="a delivery attempt")
    with open(file_of(qid), "rb") as f:
        head = f.read().split(b"\nbody\n", 1)[0]
    assert b"\nrequiretls" in head, head
    with open(file_of(plain), "rb") as f:
        assert b"\nrequiretls" not in f.read().split(b"\nbody\n", 1)[0]


# ---------------------------------------------------------------- delivering

def test_delivered_with_requiretls_to_a_verified_peer(make_server, dns, test_ca):
    port = free_port()
    rx = peer(test_ca, port)
    try:
        srv = relay_server(make_server, dns, test_ca, port)
        user, pw = srv.add_user()
        rcpt = f"{uniq('r')}@{REMOTE}"
        msg = make_message(user, rcpt, "rtls out", [SECRET_BODY])
        qid = send_requiretls(srv, user, pw, rcpt, msg)
        (m,) = rx.wait_messages(1, WAIT)
        assert "REQUIRETLS" in m["mail_options"], m["mail_options"]
        assert m["tls"] is not None and m["tls"].startswith("TLS"), m["tls"]
        mails = [a for v, a in rx.commands if v == "MAIL"]
        assert mails and " REQUIRETLS" in mails[-1].upper(), mails
        assert re.search(rf"tls_request qid={qid} requiretls=yes", srv.stderr_text())
        # a message without the tag goes without the parameter
        qid2 = send_requiretls(srv, user, pw, rcpt, make_message(user, rcpt, "plain", ["x"]),
                               requiretls=False)
        ms = rx.wait_messages(2, WAIT)
        assert "REQUIRETLS" not in ms[1]["mail_options"], ms[1]["mail_options"]
        assert not re.search(rf"tls_request qid={qid2} ", srv.stderr_text())
    finally:
        rx.stop()


def assert_headers_only_dsn(srv, user, status, qid):
    data, dsn = wait_dsn(srv, user)
    assert SECRET_BODY.encode() not in data, "the bounce of a REQUIRETLS message carried its body"
    parts = [p.get_content_type() for p in dsn["msg"].get_payload()]
    assert "text/rfc822-headers" in parts and "message/rfc822" not in parts, parts
    block = dsn["recipients"][0]
    assert block.get("Status", "").strip() == status, block.get("Status")
    assert block.get("Action", "").strip().lower() == "failed"
    # the report is itself REQUIRETLS (RFC 8689 5)
    assert re.search(rf"dsn qid={qid} dsn_qid=\S+ kind=failed .*requiretls=yes", srv.stderr_text())
    return block


def test_peer_without_requiretls_bounces_5730(make_server, dns, test_ca):
    port = free_port()
    rx = peer(test_ca, port, requiretls=False)
    try:
        srv = relay_server(make_server, dns, test_ca, port)
        user, pw = srv.add_user()
        rcpt = f"{uniq('r')}@{REMOTE}"
        t0 = time.monotonic()
        qid = send_requiretls(srv, user, pw, rcpt, make_message(user, rcpt, "no ext", [SECRET_BODY]))
        block = assert_headers_only_dsn(srv, user, "5.7.30", qid)
        assert time.monotonic() - t0 < WAIT  # returned at once, not after the lifetime
        assert "REQUIRETLS support required" in block.get("Diagnostic-Code", "") + \
            srv.stderr_text()
        assert rx.count("MAIL") == 0, rx.commands  # nothing was offered to it
        assert not rx.messages
    finally:
        rx.stop()


def test_peer_without_tls_bounces_5710(make_server, dns, test_ca):
    port = free_port()
    rx = peer(test_ca, port, tls=False)
    try:
        srv = relay_server(make_server, dns, test_ca, port)
        user, pw = srv.add_user()
        rcpt = f"{uniq('r')}@{REMOTE}"
        qid = send_requiretls(srv, user, pw, rcpt, make_message(user, rcpt, "clear", [SECRET_BODY]))
        assert_headers_only_dsn(srv, user, "5.7.10", qid)
        assert rx.count("MAIL") == 0 and not rx.messages
    finally:
        rx.stop()


def test_unverified_certificate_bounces_5710(make_server, dns, test_ca, tls_cert):
    """TLS, REQUIRETLS advertised, but a certificate the test CA did not
    sign: not enough (RFC 8689 4.2.1)."""
    port = free_port()
    r = Receiver(IP3, port, hostname=MX1, cert={"cert": tls_cert["cert"], "key": tls_cert["key"]},
                 logins={"relayuser": "relay-Secret-77"}, extensions=["REQUIRETLS"])
    r.start()
    rx = accept_requiretls(r)
    try:
        srv = relay_server(make_server, dns, test_ca, port)
        user, pw = srv.add_user()
        rcpt = f"{uniq('r')}@{REMOTE}"
        qid = send_requiretls(srv, user, pw, rcpt, make_message(user, rcpt, "badcert", [SECRET_BODY]))
        assert_headers_only_dsn(srv, user, "5.7.10", qid)
        assert not rx.messages
    finally:
        rx.stop()


def test_insecure_mx_lookup_bounces_5710(make_server, dns, mx, test_ca):
    """Direct delivery: the test DNS is not DNSSEC-signed, so the MX hosts
    of a REQUIRETLS message cannot be trusted (RFC 8689 4.2.1); the MX is
    never contacted.  The same peer takes mail without the tag."""
    rx = mx.add(IP1, hostname=MX1, cert={"cert": test_ca["cert"], "key": test_ca["key"]},
                extensions=["REQUIRETLS"])
    accept_requiretls(rx)
    dns.set(REMOTE, "MX", [(10, MX1)])
    dns.set(MX1, "A", [IP1])
    srv = make_server(extra=outbound_config(dns, mx.port, ca_file=test_ca["ca"]))
    user, pw = srv.add_user()
    rcpt = f"{uniq('r')}@{REMOTE}"
    # first a message without the tag: delivered, over verified TLS, and
    # the connection stays open for the next message to the domain
    send_requiretls(srv, user, pw, rcpt, make_message(user, rcpt, "plain", ["x"]), requiretls=False)
    rx.wait_messages(1, WAIT)
    # logged once the peer's 250 is in, which may be after the test sees the message
    wait_until(lambda: re.search(r"delivery_attempt .*verified=yes", srv.stderr_text()), WAIT,
               what="the verified delivery attempt")
    # the REQUIRETLS one must not ride on it: its MX look-up was insecure
    qid = send_requiretls(srv, user, pw, rcpt, make_message(user, rcpt, "mx", [SECRET_BODY]))
    block = assert_headers_only_dsn(srv, user, "5.7.10", qid)
    assert "DNSSEC" in block.get("Diagnostic-Code", "") + srv.stderr_text()
    assert rx.count("MAIL") == 1 and len(rx.messages) == 1


def test_tls_required_no_is_noticed(make_server, dns, mx):
    """`TLS-Required: No` (RFC 8689 3) is read from the message for the
    delivery's TLS policy, and goes on unchanged."""
    rx = mx.add(IP1, hostname=MX1)
    dns.set(REMOTE, "MX", [(10, MX1)])
    dns.set(MX1, "A", [IP1])
    srv = make_server(extra=outbound_config(dns, mx.port))
    user, pw = srv.add_user()
    rcpt = f"{uniq('r')}@{REMOTE}"
    msg = make_message(user, rcpt, "no tls needed", ["x"], extra_headers=["TLS-Required: No"])
    qid = send_requiretls(srv, user, pw, rcpt, msg, requiretls=False)
    (m,) = rx.wait_messages(1, WAIT)
    assert b"\r\nTLS-Required: No\r\n" in m["content"]
    assert re.search(rf"tls_request qid={qid} requiretls=no tls_required=no", srv.stderr_text())


# ---------------------------------------------------------------- the HTTPS API

def test_api_require_tls(make_server, dns, mx):
    """POST /v1/messages with "require_tls": true is submitted with
    REQUIRETLS: tagged in the queue, so the insecure MX never sees it and it
    fails 5.7.10; without it the same message goes to the MX.  A value that
    is not a boolean is refused naming the field."""
    from conftest import wait_final
    from test_api_send import Api, jbody
    api = Api(make_server, dns, mx)
    api.rx.extensions.append("REQUIRETLS")
    accept_requiretls(api.rx)
    _, key = api.add_key()
    remote = f"{uniq('bob')}@{REMOTE}"
    body = {"from": f"app@{DOMAIN}", "to": [remote], "subject": "rt", "text": SECRET_BODY,
            "require_tls": True}
    st, _, data = api.post(key, body)
    assert st == 202, data
    qid = jbody(data)["id"]
    fin = wait_final(api.srv, qid, remote, timeout=WAIT)
    assert fin["result"] == "bounced" and "5.7.10" in str(fin), fin
    assert re.search(rf"tls_request qid={qid} requiretls=yes", api.srv.stderr_text())
    assert api.rx.count("MAIL") == 0 and not api.rx.messages
    st, _, data = api.post(key, {**body, "require_tls": False})
    assert st == 202, data
    (m,) = api.rx.wait_messages(1, WAIT)
    assert "REQUIRETLS" not in m["mail_options"]
    st, _, data = api.post(key, {**body, "require_tls": "yes"})
    assert st == 422 and jbody(data)["field"] == "/require_tls", data


def test_unreachable_server_keeps_it_waiting(make_server, dns, test_ca):
    """One relay port is closed, the other lacks REQUIRETLS: the closed one
    may take it later, so the message waits (a deferral with a 4xx status,
    no bounce yet) rather than failing."""
    closed, port = free_port(), free_port()
    rx = peer(test_ca, port, requiretls=False)
    try:
        pwfile = make_tempdir("yubin-e2e-rtlspw-") / "relay-password"
        pwfile.write_text("relay-Secret-77\n")
        os.chmod(pwfile, 0o644)
        dns.set(MX1, "A", [IP3])
        srv = make_server(extra=outbound_config(dns, 25, ca_file=test_ca["ca"]) + (
            '\nrelay: { host = "%s"; ports = [ %d, %d ]; user = "relayuser"; '
            'password_file = "%s"; verify = 1; };' % (MX1, closed, port, pwfile)))
        srv.secrets.add("relay-Secret-77")
        user, pw = srv.add_user()
        rcpt = f"{uniq('r')}@{REMOTE}"
        qid = send_requiretls(srv, user, pw, rcpt, make_message(user, rcpt, "wait", [SECRET_BODY]))
        wait_until(lambda: re.search(rf"delivery_attempt qid={qid} .*5\.7\.30", srv.stderr_text()),
                   WAIT, what="the attempt at the server without REQUIRETLS")
        wait_until(lambda: re.search(rf"qid={qid} .*result=deferred", srv.stderr_text()), WAIT,
                   what="the deferral")
        line = [ln for ln in srv.stderr_text().splitlines()
                if f"qid={qid}" in ln and "result=deferred" in ln][0]
        assert re.search(r"status=4\.\S* .*reply=\"?4\d\d 4\.", line), line
        assert "5.7.30" in line, line  # the refusal is named too
        assert not re.search(rf"qid={qid} .*result=bounced", srv.stderr_text())
        srv.assert_no_mail(user, wait=1.0)
    finally:
        rx.stop()


def test_local_bounce_of_requiretls_message_has_no_body(make_server):
    """A local mailbox stays full past delivery.lifetime: the bounce of a
    REQUIRETLS message returns only the header even with RET=FULL
    (RFC 8689 5); the same without REQUIRETLS returns the body."""
    from test_quota import queue_ids, set_quota, wait_files
    srv = make_server(extra="delivery: { lifetime = 3; };")
    box, _ = srv.add_user()
    sender, spw = srv.add_user()
    set_quota(srv, box, "--storage", "6K")
    filler = make_message(sender, box, "filler", ["x" * 70] * 55)
    with smtplib.SMTP("127.0.0.1", srv.submission, timeout=WAIT) as s:
        s.ehlo("client.test")
        s.starttls(context=client_tls_context(verify=False))
        s.ehlo("client.test")
        s.login(sender, spw)
        assert s.sendmail(sender, [box], filler) == {}
        wait_files(srv, box, 1)
        qids = {}
        for opts, tag in ((["RET=FULL", "REQUIRETLS"], "rtls"), (["RET=FULL"], "plain")):
            big = make_message(sender, box, tag, [f"{SECRET_BODY}-{tag}"] + ["y" * 70] * 55)
            # no SIZE=: it fits at RCPT, not at delivery
            assert s.mail(sender, opts)[0] == 250
            assert s.rcpt(box)[0] == 250
            code, resp = s.data(big)
            assert code == 250, (code, resp)
            qids[tag] = qid_from(resp.decode())
    wait_until(lambda: len(queue_ids(srv)) == 2, WAIT, what="both waiting for room")
    time.sleep(3.5)

    def bounced():
        assert srv.cli("queue", "flush").returncode == 0
        return len(srv.mail_files(sender)) >= 2
    wait_until(bounced, WAIT, interval=0.5, what="both bounces")
    dsns = srv.wait_mail(sender, 2, timeout=WAIT)
    by_tag = {}
    for d in dsns:
        by_tag["rtls" if b"Subject: rtls" in d else "plain"] = d
    assert f"{SECRET_BODY}-rtls".encode() not in by_tag["rtls"], "REQUIRETLS bounce carried the body"
    assert f"{SECRET_BODY}-plain".encode() in by_tag["plain"], "RET=FULL bounce without the body"
    # the report about the REQUIRETLS message is queued REQUIRETLS itself
    # (RFC 8689 5); the other one is not
    log = srv.log_text()
    assert re.search(rf"dsn qid={qids['rtls']} dsn_qid=\S+ kind=failed [^\n]*requiretls=yes", log), log
    plain = re.search(rf"dsn qid={qids['plain']} dsn_qid=\S+ kind=failed [^\n]*", log)
    assert plain and "requiretls" not in plain.group(0), log
