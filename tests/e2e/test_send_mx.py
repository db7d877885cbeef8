"""Outbound delivery by DNS MX (issue 3): a user submits on 587, yubin looks
up the recipient domain in a test DNS server and hands the message to the
test MX hosts (aiosmtpd on 127.0.0.x), retries what is deferred and bounces
what fails, with an RFC 3464 report to the sender."""

import email
import email.policy
import re
import smtplib
import ssl
import time

import pytest

from conftest import DOMAIN, make_message, qid_from, uniq, wait_until
from mxworld import World


@pytest.fixture
def world():
    w = World()
    yield w
    w.stop()


def start(make_server, world, **cfg):
    srv = make_server(extra=world.config(**cfg))
    user, pw = srv.add_user()
    return srv, user, pw


def submit(srv, user, pw, rcpts, msg):
    with smtplib.SMTP("127.0.0.1", srv.submission, timeout=10) as c:
        c.ehlo("client.test")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c.starttls(context=ctx)
        c.ehlo("client.test")
        c.login(user, pw)
        code, text = c.docmd("MAIL", f"FROM:<{user}>")
        assert code == 250, text
        for r in rcpts:
            code, text = c.docmd("RCPT", f"TO:<{r}>")
            assert code == 250, text
        code, text = c.data(msg)
        assert code == 250, text
        return qid_from(text.decode())


def mx(world, domain, *hosts):
    """hosts: (pref, name, ip) — MX records and the A records behind them."""
    world.zone.set(domain, "MX", [(p, n) for p, n, _ in hosts])
    for _, name, ip in hosts:
        world.zone.set(name, "A", [ip])


def reports(srv, user, count=1, timeout=15):
    """The DSNs in the user's Maildir, parsed."""
    files = srv.wait_mail(user, count=count, timeout=timeout)
    return [email.message_from_bytes(f, policy=email.policy.compat32) for f in files]


def status_fields(report):
    """Per-recipient field groups of the message/delivery-status part."""
    for part in report.walk():
        if part.get_content_type() == "message/delivery-status":
            groups = part.get_payload()
            return [dict((k.lower(), v) for k, v in g.items()) for g in groups[1:]]
    raise AssertionError("no message/delivery-status part")


def queue_count(srv):
    out = srv.cli("queue", "list").stdout
    return int(re.search(r"(\d+) messages? in the queue", out).group(1)), out


def test_delivered_to_the_mx_byte_for_byte(make_server, world):
    srv, user, pw = start(make_server, world)
    mx(world, "remote.test", (10, "mx1.remote.test", "127.0.0.2"))
    rx = world.receiver("127.0.0.2")
    rcpt = f"{uniq('bob')}@remote.test"
    msg = make_message(user, rcpt, "to the world", ["hello", ".leading dot", "", "end"])
    qid = submit(srv, user, pw, [rcpt], msg)
    wait_until(lambda: rx.got, 10, what="delivery to the MX")
    mail_from, rcpts, content, _ = rx.got[0]
    assert mail_from == user and rcpts == [rcpt]
    assert content.startswith(b"Received: from "), content[:200]
    assert content.endswith(msg), content[-300:]
    assert f"id {qid}".encode() in content
    wait_until(lambda: queue_count(srv)[0] == 0, 5, what="the queue file to go")
    log = srv.stderr_text()
    assert re.search(rf"event=delivery qid={qid} to={re.escape(rcpt)} result=sent", log), log[-2000:]
    assert re.search(rf"event=delivery_attempt qid={qid} .*mx=mx1.remote.test ip=127.0.0.2", log)


def test_one_transaction_per_domain(make_server, world):
    srv, user, pw = start(make_server, world)
    mx(world, "remote.test", (10, "mx1.remote.test", "127.0.0.2"))
    rx = world.receiver("127.0.0.2")
    r1, r2 = f"{uniq('a')}@remote.test", f"{uniq('b')}@remote.test"
    submit(srv, user, pw, [r1, r2], make_message(user, r1, "two", ["x"]))
    wait_until(lambda: rx.got, 10, what="delivery")
    time.sleep(0.5)
    assert len(rx.got) == 1 and sorted(rx.got[0][1]) == sorted([r1, r2])


def test_mx_preference_then_failover(make_server, world):
    srv, user, pw = start(make_server, world)
    mx(world, "remote.test", (20, "backup.remote.test", "127.0.0.3"),
       (10, "primary.remote.test", "127.0.0.2"))
    primary = world.receiver("127.0.0.2")
    backup = world.receiver("127.0.0.3")
    rcpt = f"{uniq('p')}@remote.test"
    submit(srv, user, pw, [rcpt], make_message(user, rcpt, "pref", ["x"]))
    wait_until(lambda: primary.got, 10, what="delivery to the preferred MX")
    assert not backup.got
    primary.stop()  # connection refused from now on
    submit(srv, user, pw, [rcpt], make_message(user, rcpt, "failover", ["y"]))
    wait_until(lambda: backup.got, 10, what="delivery to the backup MX")


def test_a_record_when_there_is_no_mx(make_server, world):
    srv, user, pw = start(make_server, world)
    world.zone.set("plain.test", "A", ["127.0.0.4"])
    rx = world.receiver("127.0.0.4")
    rcpt = f"{uniq('c')}@plain.test"
    submit(srv, user, pw, [rcpt], make_message(user, rcpt, "no mx", ["x"]))
    wait_until(lambda: rx.got, 10, what="delivery to the A record")


@pytest.mark.parametrize("case", ["null-mx", "nxdomain"])
def test_domain_that_takes_no_mail_bounces_at_once(make_server, world, case):
    srv, user, pw = start(make_server, world)
    if case == "null-mx":
        world.zone.set("nomail.test", "MX", [(0, ".")])
        domain, status = "nomail.test", "5.1.10"
    else:
        domain, status = "nowhere.test", "5.1.2"
    rcpt = f"{uniq('d')}@{domain}"
    submit(srv, user, pw, [rcpt], make_message(user, rcpt, "doomed " + case, ["x"]))
    (rep,) = reports(srv, user)
    assert rep.get_content_type() == "multipart/report"
    assert "Undelivered" in rep["Subject"]
    (f,) = status_fields(rep)
    assert f["final-recipient"] == f"rfc822;{rcpt}"
    assert f["action"] == "failed" and f["status"] == status
    wait_until(lambda: queue_count(srv)[0] == 0, 5, what="the queue to empty")


def test_5xx_partial_failure_bounces_only_the_refused(make_server, world):
    srv, user, pw = start(make_server, world)
    mx(world, "remote.test", (10, "mx1.remote.test", "127.0.0.2"))
    rx = world.receiver("127.0.0.2")
    good, bad = f"{uniq('ok')}@remote.test", f"{uniq('gone')}@remote.test"
    rx.rcpt_reply[bad] = "550 5.1.1 Sorry, no mailbox here by that name"
    subject = "partial " + uniq()
    submit(srv, user, pw, [good, bad], make_message(user, good, subject, ["x"]))
    wait_until(lambda: rx.got, 10, what="delivery of the accepted recipient")
    assert rx.got[0][1] == [good]
    (rep,) = reports(srv, user)
    fields = status_fields(rep)
    assert [f["final-recipient"] for f in fields] == [f"rfc822;{bad}"]
    f = fields[0]
    assert f["action"] == "failed" and f["status"] == "5.1.1"
    assert f["remote-mta"] == "dns; mx1.remote.test"
    assert f["diagnostic-code"] == "smtp; 550 5.1.1 Sorry, no mailbox here by that name"
    headers = [p for p in rep.walk() if p.get_content_type() == "text/rfc822-headers"]
    assert headers and subject in headers[0].get_payload()
    assert rep["From"].endswith("<MAILER-DAEMON@mx.test.example>") and user in rep["To"]


def test_4xx_is_retried_until_it_succeeds(make_server, world):
    srv, user, pw = start(make_server, world)
    mx(world, "remote.test", (10, "mx1.remote.test", "127.0.0.2"))
    rx = world.receiver("127.0.0.2")
    rx.data_replies = ["451 4.3.0 Please try again later"]
    rcpt = f"{uniq('r')}@remote.test"
    qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, "retry", ["x"]))
    wait_until(lambda: rx.got, 15, what="delivery on the second attempt")
    assert rx.data_count == 2
    log = srv.stderr_text()
    assert re.search(rf"qid={qid} to={re.escape(rcpt)} result=deferred", log)
    assert re.search(rf"qid={qid} to={re.escape(rcpt)} result=sent", log)
    srv.assert_no_mail(user, wait=0.5)  # a deferral is not a bounce


def test_servfail_defers_and_the_queue_shows_it(make_server, world):
    srv, user, pw = start(make_server, world, retry="[ 2 ]")
    world.zone.fail("flaky.test")
    rcpt = f"{uniq('s')}@flaky.test"
    submit(srv, user, pw, [rcpt], make_message(user, rcpt, "servfail", ["x"]))
    wait_until(lambda: "deferred" in queue_count(srv)[1], 10, what="a deferred entry")
    n, out = queue_count(srv)
    assert n == 1 and rcpt in out and "4.4.3" in out, out
    mx(world, "flaky.test", (10, "mx.flaky.test", "127.0.0.3"))
    rx = world.receiver("127.0.0.3")
    wait_until(lambda: rx.got, 15, what="delivery once DNS works")


def test_delay_warning_once_then_expiry_bounce(make_server, world):
    srv, user, pw = start(make_server, world, retry="[ 1 ]", lifetime=6, delay_warning=2)
    mx(world, "remote.test", (10, "mx1.remote.test", "127.0.0.2"))
    rx = world.receiver("127.0.0.2")
    rx.data_replies = ["452 4.2.2 Mailbox full"] * 100
    rcpt = f"{uniq('slow')}@remote.test"
    submit(srv, user, pw, [rcpt], make_message(user, rcpt, "slow", ["x"]))
    reps = reports(srv, user, count=2, timeout=20)
    time.sleep(2)
    assert len(srv.mails(user)) == 2, "exactly one warning and one bounce"
    kinds = sorted(status_fields(r)[0]["action"] for r in reps)
    assert kinds == ["delayed", "failed"]
    failed = [r for r in reps if status_fields(r)[0]["action"] == "failed"][0]
    assert status_fields(failed)[0]["status"] == "4.4.7"
    assert "Mailbox full" in status_fields(failed)[0]["diagnostic-code"]
    wait_until(lambda: queue_count(srv)[0] == 0, 5, what="the queue to empty")


def test_size_refused_before_data(make_server, world):
    srv, user, pw = start(make_server, world)
    mx(world, "remote.test", (10, "mx1.remote.test", "127.0.0.2"))
    rx = world.receiver("127.0.0.2", size_limit=1000)
    rcpt = f"{uniq('big')}@remote.test"
    submit(srv, user, pw, [rcpt], make_message(user, rcpt, "big", ["y" * 70] * 80))
    (rep,) = reports(srv, user)
    assert status_fields(rep)[0]["status"] == "5.3.4"
    assert rx.data_count == 0 and not rx.got


def test_starttls_to_the_remote(make_server, world, tls_cert):
    srv, user, pw = start(make_server, world)
    mx(world, "remote.test", (10, "mx1.remote.test", "127.0.0.2"))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(tls_cert["cert"], tls_cert["key"])
    rx = world.receiver("127.0.0.2", tls_context=ctx)
    rcpt = f"{uniq('t')}@remote.test"
    qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, "tls", ["x"]))
    wait_until(lambda: rx.got, 10, what="delivery over TLS")
    assert rx.got[0][3] is True, "the receiver saw no TLS"
    assert re.search(rf"delivery_attempt qid={qid} .*tls=TLSv1\.[23] verified=no", srv.stderr_text())


def test_restart_in_the_middle_of_retries(make_server, world):
    srv, user, pw = start(make_server, world, retry="[ 2 ]")
    mx(world, "remote.test", (10, "mx1.remote.test", "127.0.0.2"))
    rx = world.receiver("127.0.0.2")
    rx.data_replies = ["451 4.3.0 later"] * 100
    rcpt = f"{uniq('rs')}@remote.test"
    qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, "restart", ["x"]))
    wait_until(lambda: f"qid={qid} to={rcpt} result=deferred" in srv.stderr_text(), 10,
               what="the first deferral")
    srv.stop()
    rx.data_replies = []
    srv.start()
    wait_until(lambda: rx.got, 15, what="delivery after the restart")
    time.sleep(1)
    assert len(rx.got) == 1
    out = queue_count(srv)
    assert out[0] == 0, out[1]


def test_failed_null_sender_message_is_not_bounced(make_server, world):
    srv, user, pw = start(make_server, world)
    mx(world, "remote.test", (10, "mx1.remote.test", "127.0.0.2"))
    rx = world.receiver("127.0.0.2")
    target = f"{uniq('fw')}@remote.test"
    rx.rcpt_reply[target] = "550 5.1.1 no"
    alias = f"{uniq('fwd')}@{DOMAIN}"
    srv.add_alias(alias, target)
    with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=10) as c:
        c.ehlo("mta.remote.test")
        c.sendmail("<>", [alias], make_message("", alias, "bounce of a bounce", ["x"]))
    wait_until(lambda: f"to={target} result=bounced" in srv.stderr_text(), 10, what="the failure")
    time.sleep(1)
    assert "event=dsn" not in srv.stderr_text()
    assert queue_count(srv)[0] == 0
