"""Outbound delivery (issue 3): MX look-up through a test DNS server
(dnsserver.py), delivery to aiosmtpd receivers on 127.0.0.2, 127.0.0.3, ...
(all on the port set as delivery.port), retries, bounces (RFC 3464 DSNs
parsed with the email package), delay warnings, expiry, STARTTLS, SIZE,
restart in the middle of a retry schedule, log lines and `queue list`.

Time-based behaviour runs on a short schedule (retry = [1, 2] seconds and
the like), never minutes.  Every wait is bounded.
"""

import email.utils
import os
import re
import smtplib
import time

import pytest

from conftest import (DOMAIN, HOSTNAME, attempt_lines, dsn_recipient, exclusive, final_lines,
                      free_port, make_message, make_tempdir, outbound_config, parse_dsn,
                      qid_lines, queue_text, submit, uniq, wait_final, wait_queue_empty,
                      wait_until)

REMOTE = "remote.test"
MX1, MX2 = "mx1.remote.test", "mx2.remote.test"
IP1, IP2, IP3 = "127.0.0.2", "127.0.0.3", "127.0.0.4"
DELIVERY_TIMEOUT = 10.0

VERIFIED_YES = ("yes", "true", "1")
VERIFIED_NO = ("no", "false", "0")


# ---------------------------------------------------------------- helpers

def start(make_server, dns, mx, ca_file=None, **delivery):
    return make_server(extra=outbound_config(dns, mx.port, ca_file=ca_file, **delivery))


def one_mx(dns, domain=REMOTE, host=MX1, ip=IP1):
    dns.set(domain, "MX", [(10, host)])
    dns.set(host, "A", [ip])


def norm(s):
    return " ".join((s or "").split())


def assert_arrived(m, sender, rcpts, submitted):
    """Envelope and content of one message at a receiver: the submitted
    bytes are a suffix of what arrived; what is in front is header lines
    only, with our Received: among them."""
    assert m["mail_from"] == sender, m["mail_from"]
    assert sorted(r.lower() for r in m["rcpt_tos"]) == sorted(r.lower() for r in rcpts), m["rcpt_tos"]
    content = m["content"]
    assert content.endswith(submitted), (
        f"submitted message is not a suffix of what arrived\n--- arrived ---\n"
        f"{content[:3000]!r}\n--- submitted ---\n{submitted[:3000]!r}")
    prefix = content[:len(content) - len(submitted)]
    assert prefix.endswith(b"\r\n") and b"\r\n\r\n" not in prefix, f"prepended block: {prefix!r}"
    lines = prefix[:-2].split(b"\r\n")
    assert all(re.match(rb"^[!-9;-~]+:|^[ \t]", l) for l in lines), f"not header lines: {prefix!r}"
    fields = re.split(rb"\r\n(?![ \t])", prefix[:-2])
    rcvd = [norm(f.decode("utf-8", "replace")) for f in fields if f.lower().startswith(b"received:")]
    assert rcvd, f"no Received: header in front of the message: {prefix!r}"
    assert f"by {HOSTNAME} (yubin)" in rcvd[0], rcvd[0]
    assert b"\r\n" in content and b"\n" not in content.replace(b"\r\n", b""), "bare LF on the wire"


def check_bounce(data, sender, rcpt, subject, status_re=r"5\.\d{1,3}\.\d{1,3}",
                 reply=None, remote_mta=None, action="failed"):
    """One DSN in the sender's Maildir; returns the parsed dict."""
    rp = data.split(b"\n", 1)[0]
    assert rp == b"Return-Path: <>", f"a DSN must have a null envelope sender: {rp!r}"
    d = parse_dsn(data)
    msg = d["msg"]
    frm = email.utils.parseaddr(msg["From"] or "")[1]
    assert frm.lower() == f"mailer-daemon@{HOSTNAME}", msg["From"]
    assert sender.lower() in (msg["To"] or "").lower(), msg["To"]
    if action == "failed":
        assert "undelivered" in (msg["Subject"] or "").lower(), msg["Subject"]
    assert HOSTNAME in (d["per_message"].get("Reporting-MTA") or ""), d["per_message"].items()
    b = dsn_recipient(d, rcpt)
    assert (b.get("Action") or "").strip().lower() == action, b.items()
    st = (b.get("Status") or "").strip()
    assert re.fullmatch(status_re, st), f"Status {st!r} does not match {status_re}"
    if remote_mta is not None:
        rm = b.get("Remote-MTA") or ""
        assert remote_mta.lower() in rm.lower(), f"Remote-MTA {rm!r}, expected {remote_mta}"
    if reply is not None:
        diag = norm(b.get("Diagnostic-Code"))
        typ, _, text = diag.partition(";")
        assert typ.strip().lower() == "smtp", f"Diagnostic-Code {diag!r}"
        assert norm(text) == norm(reply), f"Diagnostic-Code {diag!r}, expected smtp; {reply}"
        assert d["text"] is not None, "no human-readable text/plain part"
        assert rcpt.lower() in d["text"].lower(), d["text"]
        assert norm(reply) in norm(d["text"]), f"remote reply not in the text part: {d['text']!r}"
    assert d["headers"] is not None, "no text/rfc822-headers part (original headers)"
    assert f"Subject: {subject}" in d["headers"], d["headers"]
    return d


def qids_in_log(srv):
    return {m.group(1) for m in re.finditer(r"\bqid=([A-Za-z0-9]+)", srv.log_text())}


def all_mail_files(srv):
    root = srv.data_dir / "mail"
    if not root.is_dir():
        return []
    return [p for p in root.rglob("*") if p.is_file() and p.parent.name in ("new", "cur")]


# ---------------------------------------------------------------- basic delivery

def test_submitted_message_delivered_to_mx(make_server, dns, mx):
    one_mx(dns)
    rx = mx.add(IP1, hostname=MX1)
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    rcpt = f"{uniq('bob')}@{REMOTE}"
    body = ["Hello there.", "", ".a line with a leading dot", "..two dots", "tail   ",
            "Unicode: naïve café", "x" * 990, "last line"]
    msg = make_message(user, rcpt, "outbound " + uniq(), body)
    qid = submit(srv, user, pw, [rcpt], msg)
    (m,) = rx.wait_messages(1, DELIVERY_TIMEOUT)
    assert_arrived(m, user, [rcpt], msg)
    assert qid in norm(m["content"].split(b"\r\n\r\n", 1)[0].decode()), "queue id not in our Received:"
    wait_queue_empty(srv, qid)
    fin = wait_final(srv, qid, rcpt)
    assert fin["result"] == "sent", fin["_line"]
    # the attempt line: qid, to, mx, ip, port, reply (with the code)
    (att,) = attempt_lines(srv, qid, rcpt)
    assert att["mx"].rstrip(".").lower() == MX1, att["_line"]
    assert att["ip"] == IP1, att["_line"]
    assert att["port"] == str(mx.port), att["_line"]
    assert att["reply"].startswith("250"), att["_line"]
    time.sleep(0.5)
    assert len(rx.messages) == 1, "delivered more than once"
    assert srv.mail_files(user) == [], "the sender got a DSN for a delivered message"


def test_one_transaction_per_domain(make_server, dns, mx):
    one_mx(dns)
    one_mx(dns, "other.test", "mx.other.test", IP2)
    rx1 = mx.add(IP1, hostname=MX1)
    rx2 = mx.add(IP2, hostname="mx.other.test")
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    a, b = f"{uniq('a')}@{REMOTE}", f"{uniq('b')}@{REMOTE}"
    c = f"{uniq('c')}@other.test"
    msg = make_message(user, a, "three rcpts", ["one message, two domains"])
    qid = submit(srv, user, pw, [a, c, b], msg)
    (m1,) = rx1.wait_messages(1, DELIVERY_TIMEOUT)
    (m2,) = rx2.wait_messages(1, DELIVERY_TIMEOUT)
    assert_arrived(m1, user, [a, b], msg)
    assert_arrived(m2, user, [c], msg)
    assert rx1.count("MAIL") == 1, rx1.commands
    assert rx1.count("DATA") == 1, rx1.commands
    wait_queue_empty(srv, qid)
    for r in (a, b, c):
        assert wait_final(srv, qid, r)["result"] == "sent"


def test_local_domain_never_leaves(make_server, dns, mx):
    # the DNS says our own domain's MX is elsewhere: local mail stays local
    one_mx(dns, DOMAIN, MX1, IP1)
    rx = mx.add(IP1, hostname=MX1)
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    local, _ = srv.add_user()
    msg = make_message(user, local, "stays here", ["local"])
    submit(srv, user, pw, [local], msg)
    srv.wait_mail(local)
    time.sleep(0.5)
    assert rx.sessions == [] and rx.messages == [], rx.commands


# ---------------------------------------------------------------- MX selection

def test_mx_preference(make_server, dns, mx):
    dns.set(REMOTE, "MX", [(20, MX2), (10, MX1)])
    dns.set(MX1, "A", [IP1]).set(MX2, "A", [IP2])
    rx1 = mx.add(IP1, hostname=MX1)
    rx2 = mx.add(IP2, hostname=MX2)
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    for i in range(3):
        rcpt = f"{uniq('p')}@{REMOTE}"
        qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, f"pref {i}", ["x"]))
        wait_final(srv, qid, rcpt, DELIVERY_TIMEOUT)
    rx1.wait_messages(3, DELIVERY_TIMEOUT)
    assert rx2.sessions == [] and rx2.messages == [], "the less preferred MX was used"


def test_mx_failover_connection_refused(make_server, dns, mx):
    dns.set(REMOTE, "MX", [(10, MX1), (20, MX2)])
    dns.set(MX1, "A", [IP1]).set(MX2, "A", [IP2])
    rx2 = mx.add(IP2, hostname=MX2)            # nothing listens on IP1
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    rcpt = f"{uniq('f')}@{REMOTE}"
    msg = make_message(user, rcpt, "failover", ["to the backup MX"])
    qid = submit(srv, user, pw, [rcpt], msg)
    (m,) = rx2.wait_messages(1, DELIVERY_TIMEOUT)
    assert_arrived(m, user, [rcpt], msg)
    fin = wait_final(srv, qid, rcpt)
    assert fin["result"] == "sent", fin["_line"]
    ips = [a["ip"] for a in attempt_lines(srv, qid, rcpt)]
    assert ips == [IP1, IP2], f"expected a refused attempt at {IP1} logged, then {IP2}: {ips}"
    wait_queue_empty(srv, qid)


def test_mx_failover_on_4xx(make_server, dns, mx):
    # issue 3: "On a connection error or a 4xx from one MX, the next MX is tried"
    dns.set(REMOTE, "MX", [(10, MX1), (20, MX2)])
    dns.set(MX1, "A", [IP1]).set(MX2, "A", [IP2])
    rx1 = mx.add(IP1, hostname=MX1).rcpt("*", then="451 4.3.0 Temporary local problem")
    rx2 = mx.add(IP2, hostname=MX2)
    srv = start(make_server, dns, mx, retry=(30,))
    user, pw = srv.add_user()
    rcpt = f"{uniq('f')}@{REMOTE}"
    msg = make_message(user, rcpt, "4xx failover", ["to the backup MX"])
    qid = submit(srv, user, pw, [rcpt], msg)
    (m,) = rx2.wait_messages(1, 5.0)           # well before the 30 s retry
    assert_arrived(m, user, [rcpt], msg)
    assert rx1.count("RCPT") >= 1 and rx1.messages == []
    assert wait_final(srv, qid, rcpt)["result"] == "sent"


def test_second_address_of_an_mx_host(make_server, dns, mx):
    dns.set(REMOTE, "MX", [(10, MX1)]).set(MX1, "A", [IP3, IP1])     # nothing on IP3
    rx = mx.add(IP1, hostname=MX1)
    srv = start(make_server, dns, mx, retry=(30,))
    user, pw = srv.add_user()
    rcpt = f"{uniq('f')}@{REMOTE}"
    msg = make_message(user, rcpt, "second address", ["one host, two addresses"])
    qid = submit(srv, user, pw, [rcpt], msg)
    (m,) = rx.wait_messages(1, 5.0)
    assert_arrived(m, user, [rcpt], msg)
    assert wait_final(srv, qid, rcpt)["result"] == "sent"


def test_all_mx_unreachable_defers_then_delivers(make_server, dns, mx):
    one_mx(dns)                                   # nothing listens on IP1 yet
    srv = start(make_server, dns, mx, retry=(1, 2))
    user, pw = srv.add_user()
    rcpt = f"{uniq('u')}@{REMOTE}"
    msg = make_message(user, rcpt, "unreachable for now", ["connection refused"])
    qid = submit(srv, user, pw, [rcpt], msg)
    (att,) = wait_until(lambda: attempt_lines(srv, qid, rcpt), 5, what="a first attempt")
    assert att["ip"] == IP1 and att["mx"].rstrip(".").lower() == MX1, att["_line"]
    time.sleep(0.3)
    q = queue_text(srv)
    assert qid in q and rcpt in q, f"a refused connection must defer, not bounce: {q}"
    assert final_lines(srv, qid, rcpt) == [] and srv.mail_files(user) == []
    rx = mx.add(IP1, hostname=MX1)
    (m,) = rx.wait_messages(1, DELIVERY_TIMEOUT)
    assert_arrived(m, user, [rcpt], msg)
    assert wait_final(srv, qid, rcpt)["result"] == "sent"
    wait_queue_empty(srv, qid)


def test_no_mx_uses_a_record(make_server, dns, mx):
    dns.set(REMOTE, "A", [IP2])
    rx = mx.add(IP2, hostname=REMOTE)
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    rcpt = f"{uniq('a')}@{REMOTE}"
    msg = make_message(user, rcpt, "implicit MX", ["via the A record"])
    qid = submit(srv, user, pw, [rcpt], msg)
    (m,) = rx.wait_messages(1, DELIVERY_TIMEOUT)
    assert_arrived(m, user, [rcpt], msg)
    assert wait_final(srv, qid, rcpt)["result"] == "sent"   # logged after the peer's 250
    (att,) = attempt_lines(srv, qid, rcpt)
    assert att["ip"] == IP2, att["_line"]
    wait_queue_empty(srv, qid)


def test_no_mx_uses_aaaa_record(make_server, dns, mx):
    import socket
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    dns.set(REMOTE, "MX", [(10, MX1)]).set(MX1, "AAAA", ["::1"])
    rx = mx.add("::1", hostname=MX1)
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    rcpt = f"{uniq('six')}@{REMOTE}"
    msg = make_message(user, rcpt, "over IPv6", ["AAAA only"])
    qid = submit(srv, user, pw, [rcpt], msg)
    (m,) = rx.wait_messages(1, DELIVERY_TIMEOUT)
    assert_arrived(m, user, [rcpt], msg)
    # the peer has the message a moment before yubin logs the attempt
    (att,) = wait_until(lambda: attempt_lines(srv, qid, rcpt), 10, what="the delivery_attempt line")
    assert att["ip"].strip("[]") == "::1", att["_line"]


def test_null_mx_bounces_at_once(make_server, dns, mx):
    dns.set(REMOTE, "MX", [(0, ".")])
    dns.set(REMOTE, "A", [IP1])                 # must not fall back to this
    rx = mx.add(IP1, hostname=REMOTE)
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    rcpt = f"{uniq('n')}@{REMOTE}"
    subject = "to a null MX " + uniq()
    qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, subject, ["nowhere"]))
    (data,) = srv.wait_mail(user, 1, DELIVERY_TIMEOUT)
    check_bounce(data, user, rcpt, subject, status_re=r"5\.1\.10")
    assert wait_final(srv, qid, rcpt)["result"] == "bounced"
    assert rx.sessions == [], "connected to a domain with a null MX"
    wait_queue_empty(srv, qid)
    time.sleep(0.5)
    assert len(srv.mail_files(user)) == 1


def test_nxdomain_bounces(make_server, dns, mx):
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    rcpt = f"{uniq('n')}@nosuchdomain.test"
    subject = "to nowhere " + uniq()
    qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, subject, ["nowhere"]))
    (data,) = srv.wait_mail(user, 1, DELIVERY_TIMEOUT)
    d = check_bounce(data, user, rcpt, subject)
    assert dns.queried("nosuchdomain.test"), "the test DNS server was never asked"
    assert wait_final(srv, qid, rcpt)["result"] == "bounced"
    wait_queue_empty(srv, qid)
    b = dsn_recipient(d, rcpt)
    assert b.get("Status", "").strip() == "5.1.2", b.items()
    # no server said anything: RFC 3464 2.3.6 keeps the Diagnostic-Code for
    # what a remote transport said; our reason is in the readable part
    assert b.get("Diagnostic-Code") is None, b.items()
    assert b.get("Remote-MTA") is None, b.items()
    assert "nosuchdomain.test does not exist" in norm(d["text"]), d["text"]
    assert "reason:" in d["text"], d["text"]


def test_unreachable_mx_expires_without_a_smtp_diagnostic(make_server, dns, mx):
    """A connection refused until the lifetime is over: the bounce says so
    in words and in Status 4.4.7, and claims no reply from any server."""
    one_mx(dns)                                   # nothing listens on IP1
    srv = start(make_server, dns, mx, retry=(1, 1), lifetime=2)
    user, pw = srv.add_user()
    rcpt = f"{uniq('ex')}@{REMOTE}"
    subject = "never reachable " + uniq()
    qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, subject, ["x"]))
    (data,) = srv.wait_mail(user, 1, 15.0)
    d = check_bounce(data, user, rcpt, subject, status_re=r"4\.4\.7")
    b = dsn_recipient(d, rcpt)
    assert b.get("Diagnostic-Code") is None, b.items()
    text = norm(d["text"])
    assert "Delivery time expired" in text and "Cannot connect" in text, d["text"]
    assert wait_final(srv, qid, rcpt)["result"] in ("bounced", "expired")


def test_servfail_defers_then_delivers(make_server, dns, mx):
    dns.servfail(REMOTE)
    rx = mx.add(IP1, hostname=MX1)
    srv = start(make_server, dns, mx, retry=(1, 2), lifetime=60)
    user, pw = srv.add_user()
    rcpt = f"{uniq('s')}@{REMOTE}"
    msg = make_message(user, rcpt, "after servfail", ["DNS was broken"])
    qid = submit(srv, user, pw, [rcpt], msg)
    wait_until(lambda: dns.queried(REMOTE), 5, what="an MX look-up")
    time.sleep(1.5)
    q = queue_text(srv)
    assert qid in q and rcpt in q, f"a SERVFAIL must defer, not bounce: {q}"
    assert final_lines(srv, qid, rcpt) == [], "a final result for a temporary DNS failure"
    assert srv.mail_files(user) == [], "a DSN for a temporary DNS failure"
    one_mx(dns)
    (m,) = rx.wait_messages(1, 15.0)
    assert_arrived(m, user, [rcpt], msg)
    assert wait_final(srv, qid, rcpt)["result"] == "sent"
    wait_queue_empty(srv, qid)
    assert srv.mail_files(user) == []


# ---------------------------------------------------------------- retries

@pytest.mark.parametrize("where", ["rcpt", "data"])
def test_4xx_then_success_on_retry(make_server, dns, mx, where):
    one_mx(dns)
    rx = mx.add(IP1, hostname=MX1)
    rcpt = f"{uniq('r')}@{REMOTE}"
    if where == "rcpt":
        rx.rcpt(rcpt, "450 4.2.1 Mailbox busy, try later")
    else:
        rx.data("451 4.3.0 Queue full, try later")
    srv = start(make_server, dns, mx, retry=(1, 2))
    user, pw = srv.add_user()
    msg = make_message(user, rcpt, f"retry {where}", ["second time lucky"])
    qid = submit(srv, user, pw, [rcpt], msg)
    (m,) = rx.wait_messages(1, DELIVERY_TIMEOUT)
    assert_arrived(m, user, [rcpt], msg)
    assert wait_final(srv, qid, rcpt)["result"] == "sent"
    atts = attempt_lines(srv, qid, rcpt)
    assert len(atts) >= 2, [a["_line"] for a in atts]
    assert atts[0]["reply"].startswith("45"), atts[0]["_line"]
    assert atts[-1]["reply"].startswith("250"), atts[-1]["_line"]
    wait_queue_empty(srv, qid)
    time.sleep(0.5)
    assert len(rx.messages) == 1
    assert srv.mail_files(user) == [], "a DSN for a message delivered on retry"


def test_queue_list_shows_deferred_state(make_server, dns, mx):
    one_mx(dns)
    rx = mx.add(IP1, hostname=MX1).rcpt("*", then="450 4.2.1 Mailbox busy, try later")
    srv = start(make_server, dns, mx, retry=(1, 2))
    user, pw = srv.add_user()
    rcpt = f"{uniq('q')}@{REMOTE}"
    qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, "deferred", ["busy"]))
    wait_until(lambda: attempt_lines(srv, qid, rcpt), DELIVERY_TIMEOUT, what="a first attempt")
    time.sleep(0.3)
    q = queue_text(srv)
    assert qid in q, q
    lines = [l for l in q.splitlines() if rcpt in l]
    assert lines, f"recipient not listed: {q}"
    assert "defer" in lines[0].lower(), f"state not shown: {lines[0]!r}"
    assert "Mailbox busy" in q, f"last error not shown: {q}"
    att = attempt_lines(srv, qid, rcpt)[0]
    assert att["reply"].startswith("450"), att["_line"]
    assert rx.messages == []


def test_restart_in_the_middle_of_the_retry_schedule(make_server, dns, mx):
    one_mx(dns)
    rx = mx.add(IP1, hostname=MX1).rcpt("*", then="450 4.2.1 Mailbox busy, try later")
    srv = start(make_server, dns, mx, retry=(2, 2))
    user, pw = srv.add_user()
    rcpt = f"{uniq('rs')}@{REMOTE}"
    msg = make_message(user, rcpt, "survives a restart", ["retry after restart"])
    qid = submit(srv, user, pw, [rcpt], msg)
    wait_until(lambda: attempt_lines(srv, qid, rcpt), DELIVERY_TIMEOUT, what="a first attempt")
    assert srv.stop() == 0
    assert qid in queue_text(srv)
    rx.accept_all()
    srv.start()
    (m,) = rx.wait_messages(1, DELIVERY_TIMEOUT)
    assert_arrived(m, user, [rcpt], msg)
    assert wait_final(srv, qid, rcpt)["result"] == "sent"
    wait_queue_empty(srv, qid)
    time.sleep(1.0)
    assert len(rx.messages) == 1, "delivered more than once"


# ---------------------------------------------------------------- bounces

def test_5xx_bounce_dsn(make_server, dns, mx):
    one_mx(dns)
    rcpt = f"{uniq('gone')}@{REMOTE}"
    reply = f"550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table"
    rx = mx.add(IP1, hostname=MX1).rcpt(rcpt, then=reply)
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    subject = "will bounce " + uniq()
    qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, subject, ["bounce me"]))
    (data,) = srv.wait_mail(user, 1, DELIVERY_TIMEOUT)
    d = check_bounce(data, user, rcpt, subject, status_re=r"5\.1\.1", reply=reply, remote_mta=MX1)
    assert len(d["recipients"]) == 1
    assert rx.messages == [] and rx.count("DATA") == 0
    fin = wait_final(srv, qid, rcpt)
    assert fin["result"] == "bounced", fin["_line"]
    assert attempt_lines(srv, qid, rcpt)[0]["reply"].startswith("550"), qid_lines(srv, qid)
    wait_queue_empty(srv, qid)
    time.sleep(1.0)
    assert len(srv.mail_files(user)) == 1, "more than one DSN"


def test_5xx_at_data_bounce(make_server, dns, mx):
    one_mx(dns)
    reply = "554 5.7.1 Message rejected: looks like spam to us"
    rx = mx.add(IP1, hostname=MX1).data(then=reply)
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    r1, r2 = f"{uniq('d1')}@{REMOTE}", f"{uniq('d2')}@{REMOTE}"
    subject = "rejected at DATA " + uniq()
    qid = submit(srv, user, pw, [r1, r2], make_message(user, r1, subject, ["spammy"]))
    (data,) = srv.wait_mail(user, 1, DELIVERY_TIMEOUT)
    for r in (r1, r2):
        check_bounce(data, user, r, subject, status_re=r"5\.7\.1", reply=reply, remote_mta=MX1)
        assert wait_final(srv, qid, r)["result"] == "bounced"
    assert len(rx.rejected) == 1 and rx.messages == []
    wait_queue_empty(srv, qid)
    time.sleep(0.5)
    assert len(srv.mail_files(user)) == 1, "one bounce per message, not per recipient"


def test_partial_failure(make_server, dns, mx):
    one_mx(dns)
    good, bad = f"{uniq('good')}@{REMOTE}", f"{uniq('bad')}@{REMOTE}"
    reply = f"550 5.1.1 <{bad}>: no such user here"
    rx = mx.add(IP1, hostname=MX1).rcpt(bad, then=reply)
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    subject = "half and half " + uniq()
    msg = make_message(user, good, subject, ["one of two"])
    qid = submit(srv, user, pw, [bad, good], msg)
    (m,) = rx.wait_messages(1, DELIVERY_TIMEOUT)
    assert_arrived(m, user, [good], msg)
    (data,) = srv.wait_mail(user, 1, DELIVERY_TIMEOUT)
    d = check_bounce(data, user, bad, subject, status_re=r"5\.1\.1", reply=reply, remote_mta=MX1)
    listed = [b.get("Final-Recipient", "") for b in d["recipients"]]
    assert len(listed) == 1 and good.lower() not in " ".join(listed).lower(), listed
    assert wait_final(srv, qid, good)["result"] == "sent"
    assert wait_final(srv, qid, bad)["result"] == "bounced"
    wait_queue_empty(srv, qid)
    time.sleep(0.5)
    assert len(rx.messages) == 1 and len(srv.mail_files(user)) == 1


def test_null_sender_never_bounces(make_server, dns, mx):
    one_mx(dns)
    rcpt = f"{uniq('fw')}@{REMOTE}"
    rx = mx.add(IP1, hostname=MX1).rcpt(rcpt, then="550 5.1.1 no such user")
    srv = start(make_server, dns, mx)
    alias = f"{uniq('fwd')}@{DOMAIN}"
    srv.add_alias(alias, rcpt)
    msg = make_message("mailer-daemon@elsewhere.test", alias, "a bounce", ["bounce body"])
    with srv.conn("smtp") as c:
        c.ehlo("mta.elsewhere.test")
        (rr,), final = c.mail_transaction("", [alias], msg)
        assert rr.code == 250 and final.code == 250, (rr, final)
        c.quit()
    from conftest import qid_from
    qid = qid_from(final.text)
    assert wait_final(srv, qid, rcpt)["result"] == "bounced"
    assert any(a.upper().startswith("FROM:<>") for v, a in rx.commands if v == "MAIL"), rx.commands
    wait_queue_empty(srv, qid)
    time.sleep(1.0)
    assert qids_in_log(srv) == {qid}, f"another message was made: {qids_in_log(srv)}"
    assert all_mail_files(srv) == [], "a DSN for a null-sender message"
    assert "0 messages" in queue_text(srv)


def test_bounce_of_a_bounce_is_dropped(make_server, dns, mx):
    # a remote sender's mail is forwarded and refused; the bounce to that
    # remote sender is refused too: it is dropped, no third message
    one_mx(dns)
    one_mx(dns, "origin.test", "mx.origin.test", IP2)
    rcpt = f"{uniq('fw')}@{REMOTE}"
    sender = f"{uniq('orig')}@origin.test"
    rx1 = mx.add(IP1, hostname=MX1).rcpt(rcpt, then="550 5.1.1 no such user")
    rx2 = mx.add(IP2, hostname="mx.origin.test").rcpt("*", then="550 5.1.1 sender gone too")
    srv = start(make_server, dns, mx)
    alias = f"{uniq('fwd')}@{DOMAIN}"
    srv.add_alias(alias, rcpt)
    msg = make_message(sender, alias, "forward me", ["will bounce twice"])
    with srv.conn("smtp") as c:
        c.ehlo("mx.origin.test")
        (rr,), final = c.mail_transaction(sender, [alias], msg)
        assert rr.code == 250 and final.code == 250, (rr, final)
        c.quit()
    from conftest import qid_from
    qid = qid_from(final.text)
    assert wait_final(srv, qid, rcpt)["result"] == "bounced"
    wait_until(lambda: rx2.count("RCPT") >= 1, DELIVERY_TIMEOUT, what="the bounce to reach origin.test")
    mails = [a for v, a in rx2.commands if v == "MAIL"]
    assert len(mails) == 1 and mails[0].upper().startswith("FROM:<>"), rx2.commands
    time.sleep(2.5)        # past the next retry: nothing more may happen
    assert len(qids_in_log(srv)) == 2, f"expected the message and one bounce: {qids_in_log(srv)}"
    assert [v for v, _ in rx2.commands].count("MAIL") == 1, rx2.commands
    assert rx1.count("MAIL") == 1, rx1.commands
    assert "0 messages" in queue_text(srv)


def test_delay_warning_then_expiry(make_server, dns, mx):
    one_mx(dns)
    reply = "450 4.2.1 Mailbox busy, try later"
    mx.add(IP1, hostname=MX1).rcpt("*", then=reply)
    srv = start(make_server, dns, mx, retry=(1, 2), delay_warning=3, lifetime=8)
    user, pw = srv.add_user()
    rcpt = f"{uniq('slow')}@{REMOTE}"
    subject = "slow one " + uniq()
    t0 = time.monotonic()
    qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, subject, ["never arrives"]))
    srv.wait_mail(user, 1, 8.0)
    t_warn = time.monotonic() - t0
    srv.wait_mail(user, 2, 12.0)
    t_fail = time.monotonic() - t0
    time.sleep(1.5)
    files = srv.mails(user)
    assert len(files) == 2, f"expected one warning and one bounce, got {len(files)}"
    parsed = {}
    for data in files:
        d = parse_dsn(data)
        action = (dsn_recipient(d, rcpt).get("Action") or "").strip().lower()
        parsed.setdefault(action, []).append(data)
    assert sorted(parsed) == ["delayed", "failed"], sorted(parsed)
    check_bounce(parsed["delayed"][0], user, rcpt, subject, status_re=r"4\.\d{1,3}\.\d{1,3}",
                 action="delayed")
    d = check_bounce(parsed["failed"][0], user, rcpt, subject,
                     status_re=r"[45]\.\d{1,3}\.\d{1,3}", action="failed")
    assert "450" in (dsn_recipient(d, rcpt).get("Diagnostic-Code") or "") or \
        "Mailbox busy" in (d["text"] or ""), "the last remote reply is not in the bounce"
    # The queue keeps the arrival time in whole seconds, so the test's own
    # clock (started before the submission) can see the warning up to 1 s
    # before 3 s; the server's clock is exact to the second: the warning's
    # Date is at least 3 s after the Arrival-Date it reports.
    warn_dsn = parse_dsn(parsed["delayed"][0])
    arrived = warn_dsn["per_message"].get("Arrival-Date")
    assert arrived, "the delay warning has no Arrival-Date"
    warned_at = email.utils.parsedate_to_datetime(warn_dsn["msg"]["Date"])
    waited = (warned_at - email.utils.parsedate_to_datetime(arrived)).total_seconds()
    assert waited >= 3, f"delay warning {waited:.0f}s after arrival (delay_warning = 3)"
    assert 2.0 <= t_warn, f"delay warning after {t_warn:.1f}s (delay_warning = 3)"
    # the warning promised a date; the bounce may not come before it
    warn_b = dsn_recipient(parse_dsn(parsed["delayed"][0]), rcpt)
    fail_b = dsn_recipient(d, rcpt)
    until = warn_b.get("Will-Retry-Until")
    last = fail_b.get("Last-Attempt-Date") or d["msg"]["Date"]
    if until and last:
        assert email.utils.parsedate_to_datetime(last) >= email.utils.parsedate_to_datetime(until), \
            f"gave up at {last}, before the Will-Retry-Until: {until} of the delay warning"
    assert 7.0 <= t_fail, f"expired after {t_fail:.1f}s (lifetime = 8: a deferred recipient " \
        f"bounces once it is 8 s old (arrival kept to the second), not at the last attempt before that)"
    fin = wait_final(srv, qid, rcpt)
    assert fin["result"] == "expired", fin["_line"]
    wait_queue_empty(srv, qid)


# ---------------------------------------------------------------- TLS

def test_starttls_to_remote(make_server, dns, mx, tls_cert):
    one_mx(dns)
    rx = mx.add(IP1, hostname=MX1, cert=tls_cert)       # self-signed: encrypt anyway
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    rcpt = f"{uniq('tls')}@{REMOTE}"
    msg = make_message(user, rcpt, "encrypted", ["over TLS"])
    qid = submit(srv, user, pw, [rcpt], msg)
    (m,) = rx.wait_messages(1, DELIVERY_TIMEOUT)
    assert_arrived(m, user, [rcpt], msg)
    assert m["tls"] and m["tls"].startswith("TLSv1"), m["tls"]
    assert rx.verbs().index("STARTTLS") < rx.verbs().index("MAIL"), rx.commands
    wait_final(srv, qid, rcpt)
    (att,) = attempt_lines(srv, qid, rcpt)
    assert att.get("tls", "").startswith("TLSv1"), att["_line"]
    assert att.get("verified", "").lower() in VERIFIED_NO, \
        f"a self-signed certificate counted as verified: {att['_line']}"


def test_starttls_verified_with_ca(make_server, dns, mx, test_ca):
    one_mx(dns)
    rx = mx.add(IP1, hostname=MX1, cert={"cert": test_ca["cert"], "key": test_ca["key"]})
    srv = start(make_server, dns, mx, ca_file=test_ca["ca"])
    user, pw = srv.add_user()
    rcpt = f"{uniq('tls')}@{REMOTE}"
    msg = make_message(user, rcpt, "verified", ["over verified TLS"])
    qid = submit(srv, user, pw, [rcpt], msg)
    (m,) = rx.wait_messages(1, DELIVERY_TIMEOUT)
    assert m["tls"] and m["tls"].startswith("TLSv1"), m["tls"]
    wait_final(srv, qid, rcpt)
    (att,) = attempt_lines(srv, qid, rcpt)
    assert att.get("tls", "").startswith("TLSv1"), att["_line"]
    assert att.get("verified", "").lower() in VERIFIED_YES, att["_line"]


def test_plain_when_starttls_not_offered(make_server, dns, mx):
    one_mx(dns)
    rx = mx.add(IP1, hostname=MX1)                      # no STARTTLS
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    rcpt = f"{uniq('plain')}@{REMOTE}"
    msg = make_message(user, rcpt, "plain", ["no TLS offered"])
    qid = submit(srv, user, pw, [rcpt], msg)
    (m,) = rx.wait_messages(1, DELIVERY_TIMEOUT)
    assert_arrived(m, user, [rcpt], msg)
    assert m["tls"] is None
    wait_final(srv, qid, rcpt)
    (att,) = attempt_lines(srv, qid, rcpt)
    assert not att.get("tls", "").startswith("TLS"), att["_line"]


# ---------------------------------------------------------------- SIZE

def test_size_refusal_without_data(make_server, dns, mx):
    one_mx(dns)
    rx = mx.add(IP1, hostname=MX1, size=1000)
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    rcpt = f"{uniq('big')}@{REMOTE}"
    subject = "too big " + uniq()
    msg = make_message(user, rcpt, subject, ["y" * 70] * 40)      # ~3 KB
    qid = submit(srv, user, pw, [rcpt], msg)
    (data,) = srv.wait_mail(user, 1, DELIVERY_TIMEOUT)
    check_bounce(data, user, rcpt, subject, status_re=r"5\.3\.4")
    assert wait_final(srv, qid, rcpt)["result"] == "bounced"
    assert "DATA" not in rx.verbs() and "BDAT" not in rx.verbs(), rx.commands
    assert rx.messages == []
    wait_queue_empty(srv, qid)


# ---------------------------------------------------------------- log

def test_log_lines_for_every_attempt(make_server, dns, mx):
    dns.set(REMOTE, "MX", [(10, MX1), (20, MX2)])
    dns.set(MX1, "A", [IP1]).set(MX2, "A", [IP2])
    good, bad = f"{uniq('good')}@{REMOTE}", f"{uniq('bad')}@{REMOTE}"
    rx = mx.add(IP1, hostname=MX1).rcpt(good, "450 4.2.0 Try again").rcpt(bad, then="550 5.1.1 Unknown")
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    qid = submit(srv, user, pw, [good, bad], make_message(user, good, "logs", ["log me"]))
    rx.wait_messages(1, DELIVERY_TIMEOUT)
    assert wait_final(srv, qid, good)["result"] == "sent"
    assert wait_final(srv, qid, bad)["result"] == "bounced"
    for rcpt in (good, bad):
        atts = attempt_lines(srv, qid, rcpt)
        assert atts, f"no attempt line for {rcpt}: {[d['_line'] for d in qid_lines(srv, qid)]}"
        for a in atts:
            assert a["mx"].rstrip(".").lower() == MX1 and a["ip"] == IP1, a["_line"]
            assert a["port"] == str(mx.port), a["_line"]
            assert re.match(r"^[245]\d\d\b", a["reply"]), a["_line"]
        assert len(final_lines(srv, qid, rcpt)) == 1, "more than one final line"
    codes = [a["reply"][:3] for a in attempt_lines(srv, qid, good)]
    assert codes[0] == "450" and codes[-1] == "250", codes
    assert [a["reply"][:3] for a in attempt_lines(srv, qid, bad)] == ["550"]


# ---------------------------------------------------------------- smtp-sink

@pytest.fixture
def smtp_sink(mx):
    """Postfix's smtp-sink on 127.0.0.3:<delivery port>, dumping every
    message (with X-Mail-Args / X-Rcpt-Args lines) into one file."""
    import os
    import shutil
    import signal
    import subprocess
    from conftest import IS_ROOT, KEEP, make_tempdir, port_open, to_lf
    if not shutil.which("smtp-sink") and not os.path.exists("/usr/sbin/smtp-sink"):
        pytest.fail("smtp-sink (postfix) not installed: run scripts/install-deps")
    d = make_tempdir("yubin-e2e-sink-")
    os.chmod(d, 0o777)
    dump = d / "dump"
    cmd = [shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"]
    if IS_ROOT:
        cmd += ["-u", "nobody"]
    cmd += ["-D", str(dump), f"{IP2}:{mx.port}", "64"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_until(lambda: port_open(mx.port, IP2) or proc.poll() is not None, 5,
                   what="smtp-sink to listen")
        assert proc.poll() is None, proc.stderr.read()
        yield dump
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(5)
        if not KEEP:
            shutil.rmtree(d, ignore_errors=True)


def test_delivery_to_postfix_smtp_sink(make_server, dns, mx, smtp_sink):
    from conftest import to_lf
    one_mx(dns, host="sink.remote.test", ip=IP2)
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    sent = []
    for i in range(3):
        rcpts = [f"{uniq('s')}@{REMOTE}", f"{uniq('t')}@{REMOTE}"]
        msg = make_message(user, rcpts[0], f"to smtp-sink {i}", [f"message {i}", ".dotted", "end"])
        sent.append((submit(srv, user, pw, rcpts, msg), rcpts, msg))
    for qid, rcpts, _ in sent:
        for r in rcpts:
            fin = wait_final(srv, qid, r, DELIVERY_TIMEOUT)
            assert fin["result"] == "sent", fin["_line"]
        wait_queue_empty(srv, qid)
    dump = smtp_sink.read_bytes()
    chunks = dump.split(b"X-Client-Addr: ")[1:]
    assert len(chunks) == 3, f"{len(chunks)} transactions at smtp-sink, expected 3"
    for _qid, rcpts, msg in sent:
        (c,) = [c for c in chunks if to_lf(msg) in c]
        assert f"X-Mail-Args: <{user}>".encode() in c, c[:500]
        got = re.findall(rb"X-Rcpt-Args: <([^>]*)>", c)
        assert sorted(g.decode() for g in got) == sorted(rcpts), got
        assert f"by {HOSTNAME} (yubin)".encode() in c, c[:800]


def relay_config(make_server, dns, tmp_path, test_ca, ports, verify=1, domains=None, **delivery):
    """A server whose outbound mail goes to relay host MX1 (certificate from
    the test CA) on the given ports, logging in as relayuser."""
    pwfile = make_tempdir("yubin-e2e-relaypw-") / "relay-password"
    pwfile.write_text("relay-Secret-77\n")
    os.chmod(pwfile, 0o644)  # the service user (nobody) must read it
    dns.set(MX1, "A", [IP3])
    extra = outbound_config(dns, 25, ca_file=test_ca["ca"], **delivery) + (
        '\nrelay: { host = "%s"; ports = [ %s ]; user = "relayuser"; password_file = "%s"; '
        'verify = %d; %s };' % (MX1, ", ".join(str(p) for p in ports), pwfile, verify,
                                 f'domains = [ "{domains}" ];' if domains else ""))
    srv = make_server(extra=extra)
    srv.secrets.add("relay-Secret-77")
    return srv


def relay_receiver(ip, port, test_ca, implicit_tls=False):
    from conftest import Receiver
    r = Receiver(ip, port, hostname=MX1, cert={"cert": test_ca["cert"], "key": test_ca["key"]},
                 logins={"relayuser": "relay-Secret-77"}, implicit_tls=implicit_tls)
    return r.start()


def test_smarthost_auth_over_starttls(make_server, dns, tmp_path, test_ca):
    """OP25B: every outbound message goes to the provider's relay with AUTH
    after STARTTLS, whatever the recipient's MX says."""
    port = free_port()
    rx = relay_receiver(IP3, port, test_ca)
    try:
        srv = relay_config(make_server, dns, tmp_path, test_ca, [port])
        one_mx(dns, host=MX2, ip=IP2)  # the MX must not be used
        user, pw = srv.add_user()
        rcpt = f"{uniq('r')}@{REMOTE}"
        msg = make_message(user, rcpt, "via relay", ["relayed"])
        qid = submit(srv, user, pw, [rcpt], msg)
        (m,) = rx.wait_messages(1, DELIVERY_TIMEOUT)
        assert_arrived(m, user, [rcpt], msg)
        assert m["tls"] is not None, "credentials and mail went in the clear"
        assert rx.auth_seen and rx.auth_seen[0][1] == "relayuser"
        assert re.search(rf"delivery_attempt qid={qid} .*mx={re.escape(MX1)} .*port={port} "
                         rf".*verified=yes", srv.stderr_text())
    finally:
        rx.stop()


def test_smarthost_port_fallback_and_implicit_tls(make_server, dns, tmp_path, test_ca):
    """The first relay port is closed (blocked 587), the second speaks
    implicit TLS on a port the config names 465-style, the third is the
    2525 alternate: with [closed, 2525-like] the third is used and logged."""
    closed, alt = free_port(), free_port()
    rx = relay_receiver(IP3, alt, test_ca)
    try:
        srv = relay_config(make_server, dns, tmp_path, test_ca, [closed, alt])
        user, pw = srv.add_user()
        rcpt = f"{uniq('fb')}@{REMOTE}"
        qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, "fallback", ["x"]))
        rx.wait_messages(1, DELIVERY_TIMEOUT)
        assert wait_final(srv, qid, rcpt)["result"] == "sent"   # the attempt line follows the relay's 250
        log = srv.stderr_text()
        assert re.search(rf"delivery_attempt qid={qid} .*port={closed} .*reply=\"451 4\.4\.1 ", log), log[-3000:]
        assert re.search(rf"delivery_attempt qid={qid} .*port={alt} .*reply=\"250 ", log), log[-3000:]
    finally:
        rx.stop()


def test_smarthost_wrong_password_defers_and_is_never_logged(make_server, dns, tmp_path, test_ca):
    port = free_port()
    rx = relay_receiver(IP3, port, test_ca)
    rx.logins = {"relayuser": "something else"}
    try:
        # aiosmtpd never answers a failed AUTH, so the refusal shows as a
        # reply timeout here; either way the message must be deferred
        srv = relay_config(make_server, dns, tmp_path, test_ca, [port], command_timeout=2)
        user, pw = srv.add_user()
        rcpt = f"{uniq('pw')}@{REMOTE}"
        qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, "bad login", ["x"]))
        wait_until(lambda: f"qid={qid} to={rcpt} result=deferred" in srv.stderr_text(),
                   DELIVERY_TIMEOUT, what="a deferral")
        assert rx.auth_seen and rx.auth_seen[0][1] == "relayuser"
        assert rx.messages == []
        srv.assert_no_mail(user, wait=0.5)   # deferred, not bounced
    finally:
        rx.stop()


def test_smarthost_certificate_must_verify(make_server, dns, tmp_path, test_ca, tls_cert):
    """A relay whose certificate is not for its name gets neither the
    password nor the mail (relay.verify = 1, the default)."""
    from conftest import Receiver
    port = free_port()
    rx = Receiver(IP3, port, hostname=MX1, cert=tls_cert, logins={"relayuser": "relay-Secret-77"}).start()
    try:
        srv = relay_config(make_server, dns, tmp_path, test_ca, [port])
        user, pw = srv.add_user()
        rcpt = f"{uniq('v')}@{REMOTE}"
        qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, "verify", ["x"]))
        wait_until(lambda: f"qid={qid} to={rcpt} result=deferred" in srv.stderr_text(),
                   DELIVERY_TIMEOUT, what="a deferral")
        assert "does not verify" in srv.stderr_text()
        assert rx.auth_seen == [] and rx.messages == []
    finally:
        rx.stop()


@pytest.mark.parametrize("bad_first", [True, False])
def test_smarthost_every_port_keeps_its_own_reason(make_server, dns, tmp_path, test_ca, tls_cert, bad_first):
    """One relay port has a certificate that does not verify, the other is
    closed: the deferral in `yubin queue list` / `show` and the log name
    both ports and both reasons, and the refused connection does not hide
    the certificate problem whichever port comes first."""
    from conftest import Receiver
    bad, closed = free_port(), free_port()
    rx = Receiver(IP3, bad, hostname=MX1, cert=tls_cert, logins={"relayuser": "relay-Secret-77"}).start()
    try:
        ports = [bad, closed] if bad_first else [closed, bad]
        srv = relay_config(make_server, dns, tmp_path, test_ca, ports, retry=(60,))
        user, pw = srv.add_user()
        rcpt = f"{uniq('rp')}@{REMOTE}"
        qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, "two ports", ["x"]))
        fin = wait_until(lambda: [l for l in qid_lines(srv, qid) if l.get("result") == "deferred"],
                         DELIVERY_TIMEOUT, what="a deferral")[-1]
        reply = fin["reply"]
        assert f"{MX1}[{IP3}]:{bad}: 451 4.7.5 The certificate of {MX1} does not verify" in reply, reply
        assert f"{MX1}[{IP3}]:{closed}: 451 4.4.1 Cannot connect" in reply, reply
        assert reply.startswith("451 4.7.5 "), f"the certificate is the main reason: {reply}"
        for cmd in (("queue", "list"), ("queue", "show", qid)):
            out = srv.cli(*cmd).stdout
            line = next(l for l in out.splitlines() if rcpt in l)
            assert f":{bad}: 451 4.7.5" in line and "does not verify" in line, line
            assert f":{closed}: 451 4.4.1" in line and "refused" in line.lower(), line
        assert rx.auth_seen == [] and rx.messages == []
    finally:
        rx.stop()


def test_smarthost_implicit_tls_on_465(make_server, dns, tmp_path, test_ca):
    """Port 465 means TLS from the first byte (RFC 8314).  The relay the
    test starts listens on 465 itself, which needs root (the README's test
    command runs as root) or CAP_NET_BIND_SERVICE."""
    import socket as _socket
    with exclusive("port-465"):     # a concurrent test process would take it
        probe = _socket.socket()
        try:
            probe.bind((IP3, 465))
        except OSError as e:
            pytest.fail(f"the test relay cannot listen on {IP3}:465 ({e}): run the suite as root, "
                        "as the README's test command does")
        finally:
            probe.close()
        _smarthost_on_465(make_server, dns, tmp_path, test_ca)


def _smarthost_on_465(make_server, dns, tmp_path, test_ca):
    rx = relay_receiver(IP3, 465, test_ca, implicit_tls=True)
    try:
        srv = relay_config(make_server, dns, tmp_path, test_ca, [465])
        user, pw = srv.add_user()
        rcpt = f"{uniq('i')}@{REMOTE}"
        submit(srv, user, pw, [rcpt], make_message(user, rcpt, "implicit", ["x"]))
        (m,) = rx.wait_messages(1, DELIVERY_TIMEOUT)
        assert m["tls"] is not None and rx.auth_seen
    finally:
        rx.stop()


def test_queue_flush_retries_now(make_server, dns, mx):
    one_mx(dns)
    rx = mx.add(IP1, hostname=MX1).rcpt("*", "450 4.2.0 busy")
    srv = start(make_server, dns, mx, retry=(60,))
    user, pw = srv.add_user()
    rcpt = f"{uniq('f')}@{REMOTE}"
    qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, "flush", ["now"]))
    wait_until(lambda: attempt_lines(srv, qid, rcpt), DELIVERY_TIMEOUT, what="a first attempt")
    rx.accept_all()
    p = srv.cli("queue", "flush", qid)
    assert p.returncode == 0, p.stderr
    rx.wait_messages(1, 5.0)
    # nothing left to flush: a clear error, exit 1
    wait_queue_empty(srv, qid)
    p = srv.cli("queue", "flush", qid)
    assert p.returncode == 1 and "not waiting" in p.stderr, (p.stdout, p.stderr)


def test_queue_flush_without_a_running_server(make_server):
    srv = make_server(start=False)
    p = srv.cli("queue", "flush")
    assert p.returncode == 1 and "is `yubin serve` running?" in p.stderr, p.stderr
    p = srv.cli("queue", "flush", "not-a-qid")
    assert p.returncode == 1 and "not a queue id" in p.stderr, p.stderr


def test_queue_hold_release_bounce(make_server, dns, mx):
    one_mx(dns)
    rx = mx.add(IP1, hostname=MX1).rcpt("*", "450 4.2.0 busy")
    srv = start(make_server, dns, mx, retry=(1,))
    user, pw = srv.add_user()
    rcpt = f"{uniq('h')}@{REMOTE}"
    qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, "hold", ["held"]))
    wait_until(lambda: attempt_lines(srv, qid, rcpt), DELIVERY_TIMEOUT, what="a first attempt")
    p = srv.cli("queue", "hold", qid)
    assert p.returncode == 0, p.stdout + p.stderr + srv.log_text()[-3000:]
    time.sleep(2.5)
    assert rx.messages == [] and "held" in queue_text(srv).lower()
    # held survives a restart
    srv.stop()
    srv.start()
    time.sleep(2.5)
    assert rx.messages == [] and "held" in queue_text(srv).lower()
    assert srv.cli("queue", "release", qid).returncode == 0
    rx.wait_messages(1, 5.0)
    # bounce: returned to the sender at once, with status 5.0.0
    rx.rcpt("*", "450 4.2.0 busy", then="450 4.2.0 busy")
    qid2 = submit(srv, user, pw, [rcpt], make_message(user, rcpt, "bounce me", ["x"]))
    wait_until(lambda: attempt_lines(srv, qid2, rcpt), DELIVERY_TIMEOUT, what="an attempt")
    p = srv.cli("queue", "bounce", qid2)
    assert p.returncode == 0, p.stderr
    (data,) = srv.wait_mail(user, 1, 5.0)
    assert b"Status: 5.0.0" in data and b"postmaster" in data
    wait_queue_empty(srv, qid2)


def test_queue_control_bad_requests(make_server):
    """Unknown ids and malformed requests on the control socket get a clear
    error, and the server goes on."""
    import socket as _socket
    srv = make_server()
    sock = srv.data_dir / "control.sock"
    wait_until(sock.exists, 10, what="the control socket")  # made after the ports
    for verb in ("hold", "release", "bounce", "flush"):
        p = srv.cli("queue", verb, "0000000000BC")
        assert p.returncode == 1, (verb, p.stdout, p.stderr)
        assert "0000000000BC" in p.stderr, p.stderr
    for req in (b"garbage\n", b"hold not-a-qid\n", b"flush 0000000000BC extra\n"):
        s = _socket.socket(_socket.AF_UNIX)
        s.settimeout(5)
        s.connect(str(sock))
        s.sendall(req)
        reply = s.recv(512)
        s.close()
        assert reply.startswith(b"error "), (req, reply)
    assert srv.cli("queue", "flush").returncode == 0
