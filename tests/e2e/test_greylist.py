"""Greylisting on port 25, end to end, with short delays.

A real `yubin serve` with policy.greylist on; clients from chosen source
addresses in 127.0.0.0/8.  Covered: the first try of a triplet gets 451
4.7.1 saying when to come back, a retry too early too, a retry after the
delay 250 and the message delivered, another triplet (recipient, sender,
client /24) still greylisted, logged-in submission never greylisted, a
client on a DNS allowlist not greylisted, the state surviving a restart,
expiry of a passed triplet, the client network allowed after enough
passes, and a database that fails giving 451 (or, with on_error =
"accept", the mail) — never 5xx.
"""

import re
import sqlite3
import time

import pytest

from conftest import Conn, Server, make_message, wait_until
from dnsserver import TestDNS

GREY_RE = re.compile(r"Greylisted: please try again in (\d+) seconds?")


def grey_extra(delay=2, expire=3600, retry_window=60, auto_allow=0, more="", policy_more=""):
    return (f"policy: {{ greet_pause = 0; trusted_networks = [ ]; dnsbl_min_ttl = 0; {policy_more} greylist: {{ enable = 1; delay = {delay}; retry_window = {retry_window}; "
            f"expire = {expire}; auto_allow = {auto_allow}; {more} }}; }};")


def rcpt(c, sender, to, helo="client.example.net"):
    """EHLO (first time), MAIL, RCPT; the RCPT reply (the transaction is
    left open when it is 250)."""
    if not getattr(c, "_helo", False):
        c.ehlo(helo)
        c._helo = True
    r = c.cmd(f"MAIL FROM:<{sender}>")
    assert r.code == 250, r
    rr = c.cmd(f"RCPT TO:<{to}>")
    if rr.code != 250:
        c.cmd("RSET")
    return rr


def finish(c, sender, to, subject):
    r = c.cmd("DATA")
    assert r.code == 354, r
    c.send(make_message(sender, to, subject, ["greylist"]) + b".\r\n")
    r = c.reply()
    assert r.code == 250, r


def assert_greylisted(rr, at_most):
    assert rr.code == 451, rr
    assert rr.enhanced() == "4.7.1", rr
    m = GREY_RE.search(rr.text)
    assert m, rr
    assert 1 <= int(m.group(1)) <= at_most, rr
    return int(m.group(1))


def test_first_try_retry_and_other_triplets(make_server):
    srv = make_server(extra=grey_extra(delay=2))
    user, _ = srv.add_user()
    other, _ = srv.add_user()
    with Conn(srv.smtp, source="127.0.1.2") as c:
        assert_greylisted(rcpt(c, "a@sender.example", user), 2)
        # too early
        assert_greylisted(rcpt(c, "a@sender.example", user), 2)
        time.sleep(2.3)
        rr = rcpt(c, "A@Sender.Example", user)         # the sender in another case is the same
        assert rr.code == 250, rr
        finish(c, "a@sender.example", user, "after the delay")
        # other triplets wait on their own
        assert_greylisted(rcpt(c, "a@sender.example", other), 2)
        assert_greylisted(rcpt(c, "b@sender.example", user), 2)
        assert_greylisted(rcpt(c, "", user), 2)
        c.quit()
    got = srv.wait_mail(user, count=1)
    assert b"Subject: after the delay" in got[0]
    # the same /24 is the same client; another /24 is not
    with Conn(srv.smtp, source="127.0.1.77") as c:
        rr = rcpt(c, "a@sender.example", user)
        assert rr.code == 250, rr
        c.cmd("RSET")
        c.quit()
    with Conn(srv.smtp, source="127.0.2.2") as c:
        assert_greylisted(rcpt(c, "a@sender.example", user), 2)
        c.quit()
    log = srv.log_text()
    assert re.search(r"event=policy .*stage=rcpt client=127\.0\.1\.2 .*decision=tempfail by=greylist", log), log[-2000:]
    assert (srv.data_dir / "greylist.db").exists()


def test_submission_after_login_not_greylisted(make_server):
    srv = make_server(extra=grey_extra(delay=60))
    user, pw = srv.add_user()
    c = srv.submit_conn(user, pw, source="127.0.1.3")
    try:
        r = c.cmd(f"MAIL FROM:<{user}>")
        assert r.code == 250, r
        r = c.cmd(f"RCPT TO:<{user}>")
        assert r.code == 250, r
        finish(c, user, user, "submitted")
        c.quit()
    finally:
        c.close()
    srv.wait_mail(user, count=1)


def test_allowlisted_client_not_greylisted(make_server):
    dns = TestDNS().start()
    try:
        dns.set("4.1.0.127.wl.test", "A", ["127.0.10.2"])
        srv = make_server(extra=f'dns: {{ resolver = "{dns.resolver_spec}"; timeout = 2; }};\n' + grey_extra(
            delay=60, policy_more='dnsbl = ( { name = "wl"; zone = "wl.test"; weight = -5.0; } );'))
        user, _ = srv.add_user()
        with Conn(srv.smtp, source="127.0.1.4") as c:
            rr = rcpt(c, "a@sender.example", user)
            assert rr.code == 250, rr
            c.cmd("RSET")
            c.quit()
        # a client not on the allowlist is greylisted by the same server
        with Conn(srv.smtp, source="127.0.3.4") as c:
            assert_greylisted(rcpt(c, "a@sender.example", user), 60)
            c.quit()
    finally:
        dns.stop()


def test_state_survives_restart_and_expires(make_server):
    srv = make_server(extra=grey_extra(delay=1, expire=3))
    user, _ = srv.add_user()
    with Conn(srv.smtp, source="127.0.1.5") as c:
        assert_greylisted(rcpt(c, "a@sender.example", user), 1)
        assert_greylisted(rcpt(c, "b@sender.example", user), 1)
        c.quit()
    time.sleep(1.2)
    with Conn(srv.smtp, source="127.0.1.5") as c:
        assert rcpt(c, "a@sender.example", user).code == 250
        c.cmd("RSET")
        c.quit()
    srv.restart()
    with Conn(srv.smtp, source="127.0.1.5") as c:
        # passed before the restart: still known
        assert rcpt(c, "a@sender.example", user).code == 250
        c.cmd("RSET")
        # first seen before the restart, retried after the delay: passes
        assert rcpt(c, "b@sender.example", user).code == 250
        c.cmd("RSET")
        c.quit()
    time.sleep(3.5)       # expire = 3 s without a pass
    with Conn(srv.smtp, source="127.0.1.5") as c:
        assert_greylisted(rcpt(c, "a@sender.example", user), 1)
        c.quit()


def test_retry_after_the_window_starts_again(make_server):
    # times are whole seconds: a window of 3 leaves room for the 1 s delay
    srv = make_server(extra=grey_extra(delay=1, retry_window=3))
    user, _ = srv.add_user()
    with Conn(srv.smtp, source="127.0.1.6") as c:
        assert_greylisted(rcpt(c, "a@sender.example", user), 1)
        time.sleep(3.5)
        assert_greylisted(rcpt(c, "a@sender.example", user), 1)
        time.sleep(1.2)
        assert rcpt(c, "a@sender.example", user).code == 250
        c.cmd("RSET")
        c.quit()


def test_network_allowed_after_passes(make_server):
    srv = make_server(extra=grey_extra(delay=1, auto_allow=2))
    user, _ = srv.add_user()
    with Conn(srv.smtp, source="127.0.1.7") as c:
        for s in ("a@sender.example", "b@sender.example"):
            assert_greylisted(rcpt(c, s, user), 1)
        time.sleep(1.2)
        for s in ("a@sender.example", "b@sender.example"):
            assert rcpt(c, s, user).code == 250
            c.cmd("RSET")
        # two passes: a new sender from the same network goes through
        assert rcpt(c, "new@other.example", user).code == 250
        c.cmd("RSET")
        c.quit()


def lock_db(srv):
    """Another process holds the greylist database's write lock (as a copy
    or a backup tool might): the server's writes wait their busy timeout,
    then fail.  Returns the connection holding it."""
    con = sqlite3.connect(str(srv.data_dir / "greylist.db"), isolation_level=None, timeout=5)
    con.execute("BEGIN IMMEDIATE")
    return con


@pytest.mark.parametrize("on_error", ["tempfail", "accept"])
def test_database_error(make_server, on_error):
    srv = make_server(extra=grey_extra(delay=60, more=f'on_error = "{on_error}";'))
    user, _ = srv.add_user()
    with Conn(srv.smtp, source="127.0.1.8") as c:
        assert_greylisted(rcpt(c, "a@sender.example", user), 60)
        c.quit()
    con = lock_db(srv)
    try:
        # a client that leaves while its check waits for the lock
        c = Conn(srv.smtp, source="127.0.1.11")
        c.ehlo("client.example.net")
        c.send(f"MAIL FROM:<x@sender.example>\r\nRCPT TO:<{user}>\r\n")
        time.sleep(0.3)
        c.close()
        with Conn(srv.smtp, source="127.0.1.9") as c:
            rr = rcpt(c, "b@sender.example", user)
            if on_error == "accept":
                assert rr.code == 250, rr
                c.cmd("RSET")
            else:
                assert rr.code == 451, rr
                assert rr.enhanced() == "4.3.0", rr
            c.quit()
    finally:
        con.rollback()
        con.close()
    # the lock gone, greylisting works again
    with Conn(srv.smtp, source="127.0.1.10") as c:
        assert_greylisted(rcpt(c, "c@sender.example", user), 60)
        c.quit()
    wait_until(lambda: re.search(r"level=warn event=greylist .*client=127\.0\.1\.9 .*error=", srv.log_text()), 5,
               what="the greylist error log line")


def test_config_check_refuses_bad_settings(make_server):
    srv = make_server(start=False, extra=grey_extra(more='on_error = "maybe";'))
    p = srv.cli("config", "check")
    assert p.returncode != 0, p
    assert 'policy.greylist.on_error must be "tempfail" or "accept"' in p.stdout + p.stderr, p
    srv.config_path.write_text(srv.config_path.read_text().replace("delay = 2;", "delay = 0;"))
    srv.config_path.write_text(srv.config_path.read_text().replace('on_error = "maybe";', ""))
    p = srv.cli("config", "check")
    assert p.returncode != 0, p
    assert re.search(r":\d+: policy\.greylist\.delay is 0, but must be between 1 and 86400", p.stdout + p.stderr), p
    srv.config_path.write_text(srv.config_path.read_text().replace("delay = 0;", "delay = 2;"))
    p = srv.cli("config", "check")
    assert p.returncode == 0, p
