"""The RFC 3461 DSN extension, end to end: EHLO lists DSN; malformed or
repeated RET / ENVID / NOTIFY / ORCPT get 501 5.5.4 with a reason; NOTIFY
decides which reports the sender gets (none for NEVER, a success report
for SUCCESS: "delivered" for a local Maildir, "relayed" for a remote
server without DSN); RET decides how much of the message a bounce
returns; ENVID and ORCPT come back in the report; and a receiver that
advertises DSN is handed the parameters instead.

Reports are parsed with Python's email package (conftest.parse_dsn).  The
DSN-capable receiver is a small raw-socket SMTP server below, since
aiosmtpd refuses parameters it does not know.
"""

import re
import socket
import threading
import time

import pytest

from conftest import (DOMAIN, dsn_recipient, make_message, outbound_config, parse_dsn, qid_from,
                      uniq, wait_final, wait_until)

REMOTE = "remote.test"
MX1 = "mx1.remote.test"
IP1 = "127.0.0.2"
DELIVERY_TIMEOUT = 10.0


def start(make_server, dns, mx, **delivery):
    dns.set(REMOTE, "MX", [(10, MX1)])
    dns.set(MX1, "A", [IP1])
    return make_server(extra=outbound_config(dns, mx.port, **delivery))


def send(srv, user, pw, rcpts, msg, mail_params="", role="submission", sender=None):
    """Submit msg with DSN parameters: rcpts is a list of (address, params).
    Every reply must be 250; returns the queue id."""
    with srv.submit_conn(user, pw, role=role) as c:
        frm = user if sender is None else sender
        r = c.cmd(f"MAIL FROM:<{frm}>" + (f" {mail_params}" if mail_params else ""))
        assert r.code == 250, r
        for addr, params in rcpts:
            r = c.cmd(f"RCPT TO:<{addr}>" + (f" {params}" if params else ""))
            assert r.code == 250, (addr, params, r)
        r = c.cmd("DATA")
        assert r.code == 354, r
        c.send(msg + b".\r\n")
        final = c.reply()
        assert final.code == 250, final
        c.quit()
    return qid_from(final.text)


def field(block, name):
    return " ".join((block.get(name) or "").split())


# ---------------------------------------------------------------- the SMTP side

def test_ehlo_lists_dsn(make_server):
    srv = make_server()
    with srv.conn("smtp") as c:
        assert "DSN" in c.extensions(c.ehlo()), "EHLO on port 25 does not list DSN"
        c.quit()
    user, pw = srv.add_user()
    with srv.submit_conn(user, pw) as c:
        assert "DSN" in c.extensions(c.ehlo()), "EHLO after STARTTLS and AUTH does not list DSN"
        c.quit()


BAD_MAIL = [
    ("RET=BODY", "RET"),
    ("RET=", "RET"),
    ("RET", "RET"),
    ("RET=FULL RET=HDRS", "more than once"),
    ("ENVID=", "ENVID"),
    ("ENVID=a=b", "ENVID"),
    ("ENVID=a+0Ab", "ENVID"),
    ("ENVID=" + "x" * 101, "ENVID"),
    ("ENVID=a ENVID=b", "more than once"),
]

BAD_RCPT = [
    ("NOTIFY=SOMETIMES", "NOTIFY"),
    ("NOTIFY=NEVER,SUCCESS", "NOTIFY"),
    ("NOTIFY=SUCCESS,", "NOTIFY"),
    ("NOTIFY=", "NOTIFY"),
    ("NOTIFY=DELAY NOTIFY=DELAY", "more than once"),
    ("ORCPT=bob@example.test", "ORCPT"),
    ("ORCPT=x400;c=us", "ORCPT"),
    ("ORCPT=rfc822;a=b@example.test", "ORCPT"),
    ("ORCPT=rfc822;" + "a" * 494, "ORCPT"),
    ("ORCPT=rfc822;a@x ORCPT=rfc822;a@x", "more than once"),
]


def test_bad_parameters_get_501(make_server):
    srv = make_server(limits={"errors": 100})
    user, _ = srv.add_user()
    with srv.conn("smtp") as c:
        c.ehlo("mta.elsewhere.test")
        for params, reason in BAD_MAIL:
            r = c.cmd(f"MAIL FROM:<someone@elsewhere.test> {params}")
            assert r.code == 501 and r.enhanced() == "5.5.4", (params, r)
            assert reason.lower() in r.first.lower(), (params, r)
        # the good forms, at the limits, are accepted
        r = c.cmd("MAIL FROM:<someone@elsewhere.test> RET=hdrs ENVID=" + "x" * 100)
        assert r.code == 250, r
        for params, reason in BAD_RCPT:
            r = c.cmd(f"RCPT TO:<{user}> {params}")
            assert r.code == 501 and r.enhanced() == "5.5.4", (params, r)
            assert reason.lower() in r.first.lower(), (params, r)
        r = c.cmd(f"RCPT TO:<{user}> NOTIFY=success,delay ORCPT=rfc822;" + "a" * 493)
        assert r.code == 250, r
        # parameters of the other command are unknown where they do not belong
        assert c.cmd(f"RCPT TO:<{user}> RET=FULL").code == 555
        c.quit()


# ---------------------------------------------------------------- NOTIFY

def test_notify_never_gives_no_bounce(make_server, dns, mx):
    rx = mx.add(IP1, hostname=MX1).rcpt("*", then="550 5.1.1 no such user")
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    quiet, loud = f"{uniq('quiet')}@{REMOTE}", f"{uniq('loud')}@{REMOTE}"
    subject = "never " + uniq()
    qid = send(srv, user, pw, [(quiet, "NOTIFY=NEVER"), (loud, "NOTIFY=FAILURE")],
               make_message(user, quiet, subject, ["x"]))
    for r in (quiet, loud):
        assert wait_final(srv, qid, r, DELIVERY_TIMEOUT)["result"] == "bounced"
    (data,) = srv.wait_mail(user, 1, DELIVERY_TIMEOUT)
    d = parse_dsn(data)
    listed = [b.get("Final-Recipient", "").lower() for b in d["recipients"]]
    assert listed == [f"rfc822;{loud.lower()}"], f"the bounce lists {listed}"
    time.sleep(1.0)
    assert len(srv.mail_files(user)) == 1, "a second report arrived"
    # our server did not pass NOTIFY to a receiver without DSN
    assert all("NOTIFY" not in a.upper() for v, a in rx.commands if v == "RCPT"), rx.commands


def test_notify_never_alone_gives_nothing(make_server, dns, mx):
    mx.add(IP1, hostname=MX1).rcpt("*", then="550 5.1.1 no such user")
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    rcpt = f"{uniq('quiet')}@{REMOTE}"
    qid = send(srv, user, pw, [(rcpt, "NOTIFY=NEVER")], make_message(user, rcpt, "shh", ["x"]))
    assert wait_final(srv, qid, rcpt, DELIVERY_TIMEOUT)["result"] == "bounced"
    srv.assert_no_mail(user, wait=1.5)


def test_notify_success_local_delivery(make_server):
    srv = make_server()
    user, pw = srv.add_user()
    rcpt, _ = srv.add_user()
    alias = f"{uniq('team')}@{DOMAIN}"
    other, _ = srv.add_user()
    srv.add_alias(alias, other)
    quiet, _ = srv.add_user()
    subject = "success " + uniq()
    qid = send(srv, user, pw, [(rcpt, "NOTIFY=SUCCESS ORCPT=rfc822;Given+2BTag@example.test"),
                               (alias, "NOTIFY=SUCCESS,FAILURE"),
                               (quiet, "")],
               make_message(user, rcpt, subject, ["a body line that stays home"]),
               mail_params="ENVID=QQ+2B314159 RET=FULL")
    srv.wait_mail(rcpt)
    srv.wait_mail(other)
    srv.wait_mail(quiet)
    (data,) = srv.wait_mail(user, 1, DELIVERY_TIMEOUT)
    assert data.split(b"\n", 1)[0] == b"Return-Path: <>", data[:200]
    d = parse_dsn(data)
    assert "delivered" in (d["msg"]["Subject"] or "").lower(), d["msg"]["Subject"]
    assert field(d["per_message"], "Original-Envelope-Id") == "QQ+314159", d["per_message"].items()
    assert len(d["recipients"]) == 2, [b.items() for b in d["recipients"]]
    b = dsn_recipient(d, rcpt)
    assert field(b, "Action").lower() == "delivered", b.items()
    assert re.fullmatch(r"2\.\d{1,3}\.\d{1,3}", field(b, "Status")), b.items()
    assert field(b, "Original-Recipient") == "rfc822;Given+Tag@example.test", b.items()
    # alias expansion keeps NOTIFY and names the address the sender used
    b = dsn_recipient(d, other)
    assert field(b, "Action").lower() == "delivered", b.items()
    assert field(b, "Original-Recipient").lower() == f"rfc822;{alias.lower()}", b.items()
    # a success report returns only the headers, even with RET=FULL
    assert d["headers"] is not None and f"Subject: {subject}" in d["headers"]
    assert b"a body line that stays home" not in data
    assert qid in data.decode("utf-8", "replace")
    time.sleep(1.0)
    assert len(srv.mail_files(user)) == 1, "more than one report"


def test_notify_success_from_null_sender_gives_nothing(make_server):
    srv = make_server()
    rcpt, _ = srv.add_user()
    with srv.conn("smtp") as c:
        c.ehlo("mta.elsewhere.test")
        assert c.cmd("MAIL FROM:<>").code == 250
        assert c.cmd(f"RCPT TO:<{rcpt}> NOTIFY=SUCCESS").code == 250
        assert c.cmd("DATA").code == 354
        c.send(make_message("mailer-daemon@elsewhere.test", rcpt, "null", ["x"]) + b".\r\n")
        assert c.reply().code == 250
        c.quit()
    srv.wait_mail(rcpt)
    time.sleep(1.0)
    assert "kind=delivered" not in srv.log_text(), "a report for a null-sender message"


def test_notify_success_relayed_to_server_without_dsn(make_server, dns, mx):
    rx = mx.add(IP1, hostname=MX1)
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    rcpt, plain = f"{uniq('r')}@{REMOTE}", f"{uniq('p')}@{REMOTE}"
    qid = send(srv, user, pw, [(rcpt, "NOTIFY=SUCCESS"), (plain, "")],
               make_message(user, rcpt, "relayed " + uniq(), ["x"]), mail_params="ENVID=env1")
    rx.wait_messages(1, DELIVERY_TIMEOUT)
    assert wait_final(srv, qid, rcpt, DELIVERY_TIMEOUT)["result"] == "sent"
    (data,) = srv.wait_mail(user, 1, DELIVERY_TIMEOUT)
    d = parse_dsn(data)
    assert len(d["recipients"]) == 1, "only the recipient that asked is reported"
    b = dsn_recipient(d, rcpt)
    assert field(b, "Action").lower() == "relayed", b.items()
    assert MX1 in field(b, "Remote-MTA").lower(), b.items()
    assert field(d["per_message"], "Original-Envelope-Id") == "env1"
    time.sleep(1.0)
    assert len(srv.mail_files(user)) == 1


# ---------------------------------------------------------------- RET

@pytest.mark.parametrize("ret", ["FULL", "HDRS", None])
def test_ret_decides_what_a_bounce_returns(make_server, dns, mx, ret):
    mx.add(IP1, hostname=MX1).rcpt("*", then="550 5.1.1 no such user")
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    rcpt = f"{uniq('gone')}@{REMOTE}"
    marker = "body-marker-" + uniq()
    subject = "ret " + uniq()
    send(srv, user, pw, [(rcpt, "")], make_message(user, rcpt, subject, [marker]),
         mail_params=f"RET={ret}" if ret else "")
    (data,) = srv.wait_mail(user, 1, DELIVERY_TIMEOUT)
    d = parse_dsn(data)
    assert f"Subject: {subject}" in d["headers"], d["headers"]
    types = [p.get_content_type() for p in d["msg"].get_payload()]
    if ret == "FULL":
        assert "message/rfc822" in types, types
        assert marker.encode() in data, "RET=FULL bounce without the body"
    else:
        assert "text/rfc822-headers" in types, types
        assert marker.encode() not in data, "the body came back without RET=FULL"


# ---------------------------------------------------------------- a receiver with DSN

class DSNReceiver:
    """A minimal SMTP server that advertises DSN and records every command
    line exactly as received (one connection at a time, replies 250)."""

    def __init__(self, ip, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, port))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.lines = []
        self.messages = 0
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                self._session(conn)
            except OSError:
                pass
            finally:
                conn.close()

    def _session(self, conn):
        conn.settimeout(10)
        f = conn.makefile("rb")
        conn.sendall(b"220 dsn-rx ESMTP\r\n")
        while True:
            line = f.readline()
            if not line:
                return
            text = line.rstrip(b"\r\n").decode("utf-8", "replace")
            with self.lock:
                self.lines.append(text)
            verb = text.split(" ", 1)[0].upper()
            if verb == "EHLO":
                conn.sendall(b"250-dsn-rx\r\n250-8BITMIME\r\n250 DSN\r\n")
            elif verb == "DATA":
                conn.sendall(b"354 go\r\n")
                while f.readline() not in (b".\r\n", b""):
                    pass
                with self.lock:
                    self.messages += 1
                conn.sendall(b"250 2.0.0 queued\r\n")
            elif verb == "QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 2.0.0 ok\r\n")

    def commands(self, verb):
        with self.lock:
            return [l for l in self.lines if l.upper().startswith(verb)]

    def stop(self):
        self.stopping = True
        self.sock.close()
        self.thread.join(5)


@pytest.fixture
def dsn_rx(mx):
    r = DSNReceiver(IP1, mx.port)
    try:
        yield r
    finally:
        r.stop()


def test_parameters_passed_to_a_receiver_with_dsn(make_server, dns, mx, dsn_rx):
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    a, b = f"{uniq('a')}@{REMOTE}", f"{uniq('b')}@{REMOTE}"
    qid = send(srv, user, pw,
               [(a, "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Orig+2Bx@example.test"), (b, "")],
               make_message(user, a, "passed on " + uniq(), ["x"]),
               mail_params="RET=FULL ENVID=E+3Dnv+2B1")
    wait_until(lambda: dsn_rx.messages >= 1, DELIVERY_TIMEOUT, what="the message at the DSN receiver")
    assert wait_final(srv, qid, a, DELIVERY_TIMEOUT)["result"] == "sent"
    (mail,) = dsn_rx.commands("MAIL")
    assert mail == f"MAIL FROM:<{user}> RET=FULL ENVID=E+3Dnv+2B1", mail
    rcpts = {l.split(">", 1)[0].split("<", 1)[1]: l.split(">", 1)[1] for l in dsn_rx.commands("RCPT")}
    assert rcpts[a].strip() == "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Orig+2Bx@example.test", rcpts
    assert rcpts[b].strip() == "", rcpts
    # the receiver has DSN: it reports success, we do not
    srv.assert_no_mail(user, wait=1.5)


def test_alias_to_remote_passes_original_recipient(make_server, dns, mx, dsn_rx):
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    alias = f"{uniq('fwd')}@{DOMAIN}"
    target = f"{uniq('t')}@{REMOTE}"
    srv.add_alias(alias, target)
    qid = send(srv, user, pw, [(alias, "NOTIFY=DELAY")], make_message(user, alias, "fwd", ["x"]))
    assert wait_final(srv, qid, target, DELIVERY_TIMEOUT)["result"] == "sent"
    (rcpt,) = dsn_rx.commands("RCPT")
    assert rcpt == f"RCPT TO:<{target}> NOTIFY=DELAY ORCPT=rfc822;{alias}", rcpt
    (mail,) = dsn_rx.commands("MAIL")
    assert mail == f"MAIL FROM:<{user}>", "RET / ENVID sent that the client never gave"
