"""DNS blocklists and allowlists (RFC 5782) on port 25, end to end.

A real `yubin serve` asks the project's test DNS server (dnsserver.py),
never the Internet; clients connect from chosen source addresses in
127.0.0.0/8 (and from ::1 for the IPv6 nibble form).  Covered: a listed
client refused at RCPT with 554 5.7.1 naming the list, postmaster@ still
open to it, a return code outside the list's codes not counted, an
allowlist weight that cancels a listing, RHSBL on the sender's domain
(and a clean sender on the same connection afterwards), a list that
times out or answers outside 127.0.0.0/8 never refusing (and logged),
logged-in submission never checked, the listing seen by the facts only
(threshold 0), and `yubin config check` on a malformed list.
"""

import re
import socket
import time

import pytest

from conftest import (DOMAIN, REPLY_TIMEOUT, Conn, Server, free_port, make_message, run_yubin,
                      uniq, wait_until)
from dnsserver import TestDNS

LISTS = """
  dnsbl = (
    { name = "zen"; zone = "zen.test"; type = "ip"; codes = [ "127.0.0.2-127.0.0.11" ]; weight = 1.0; },
    { name = "wl"; zone = "wl.test"; type = "ip"; weight = -5.0; },
    { name = "dbl"; zone = "dbl.test"; type = "domain"; weight = 1.0; },
    { name = "slow"; zone = "slow.test"; type = "ip"; weight = 1.0; },
    { name = "broken"; zone = "broken.test"; type = "ip"; weight = 1.0; },
    { name = "helo"; zone = "hbl.test"; type = "domain"; check = [ "helo" ]; weight = 1.0; }
  );
"""
PARTNER = 'rules = ( { name = "partner"; client = "127.0.0.12"; action = "accept"; } );'



def rev4(ip):
    return ".".join(reversed(ip.split(".")))


def rev6(ip):
    full = socket.inet_pton(socket.AF_INET6, ip).hex()
    return ".".join(reversed(full))


class Conn6(Conn):
    """Conn over IPv6 to [::1]."""

    def __init__(self, port, timeout=REPLY_TIMEOUT):
        self.port = port
        self.timeout = timeout
        self.ctx = None
        self.sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(("::1", port))
        self.buf = b""
        self.tls = False
        self.greeting = self.reply()


def add_v6_listener(srv):
    """An extra port-25 listener on ::1 (the fixture's are on 127.0.0.1)."""
    port = free_port()
    text = srv.config_path.read_text()
    smtp = f'{{ role = "smtp"; address = "127.0.0.1"; port = {srv.smtp}; }}'
    assert smtp in text
    text = text.replace(smtp, smtp + f',\n  {{ role = "smtp"; address = "::1"; port = {port}; }}')
    srv.config_path.write_text(text)
    return port


def policy_extra(dns, body):
    return (f'dns: {{ resolver = "{dns.resolver_spec}"; timeout = 2; }};\n'
            f"policy: {{ greet_pause = 0; trusted_networks = [ ]; dnsbl_min_ttl = 0; {body} }};")


@pytest.fixture(scope="module")
def world(tls_cert):
    dns = TestDNS().start()
    srv = Server(tls_cert, extra=policy_extra(dns, LISTS + PARTNER + "dnsbl_reject_score = 1.0;"))
    v6 = add_v6_listener(srv)
    try:
        srv.start()
        user, pw = srv.add_user()
        srv.add_alias(f"postmaster@{DOMAIN}", user)
        yield srv, dns, v6, user, pw
        srv.stop()
        srv.assert_clean()
    finally:
        srv.cleanup()
        dns.stop()


def send(c, sender, rcpt, subject="dnsbl test"):
    """EHLO, MAIL, RCPT (and DATA when RCPT is accepted): the RCPT reply
    and the final reply (None when refused)."""
    c.ehlo("client.example.net")
    r = c.cmd(f"MAIL FROM:<{sender}>")
    assert r.code == 250, r
    rr = c.cmd(f"RCPT TO:<{rcpt}>")
    if rr.code != 250:
        c.cmd("RSET")
        return rr, None
    r = c.cmd("DATA")
    assert r.code == 354, r
    c.send(make_message(sender, rcpt, subject, ["hello"]) + b".\r\n")
    return rr, c.reply()


def accepted_from(srv, source, user, subject, sender="someone@sender.example"):
    """One message from source: RCPT and the end of data get 250."""
    with Conn(srv.smtp, source=source) as c:
        rr, final = send(c, sender, user, subject=subject)
        assert rr.code == 250, rr
        assert final.code == 250, final
        c.quit()


def wait_subject(srv, user, subject):
    """Wait until a message with this subject is in user's Maildir."""
    want = f"Subject: {subject}".encode()
    wait_until(lambda: any(want in m for m in srv.mails(user)), 10, what=f"a message {subject!r}")


def log_has(srv, pattern, timeout=5):
    return wait_until(lambda: re.search(pattern, srv.log_text()), timeout, what=f"log line {pattern!r}")


def test_listed_ipv4_refused_naming_the_list(world):
    srv, dns, _, user, _ = world
    dns.set(rev4("127.0.0.2") + ".zen.test", "A", ["127.0.0.2"])
    with Conn(srv.smtp, source="127.0.0.2") as c:
        rr, _ = send(c, "someone@sender.example", user)
        assert rr.code == 554, rr
        assert rr.enhanced() == "5.7.1", rr
        assert "client [127.0.0.2] blocked using zen" in rr.text, rr
        # the postmaster and abuse of our domains hear from anyone
        rr, final = send(c, "someone@sender.example", f"postmaster@{DOMAIN}", subject="to the postmaster")
        assert rr.code == 250, rr
        assert final.code == 250, final
        c.quit()
    log_has(srv, r"event=dnsbl .*list=zen subject=127\.0\.0\.2 answer=127\.0\.0\.2")
    log_has(srv, r"event=policy .*stage=rcpt client=127\.0\.0\.2 .*decision=reject by=\"dnsbl zen\"")
    wait_subject(srv, user, "to the postmaster")
    assert all(b"Subject: dnsbl test" not in m for m in srv.mails(user))
    assert dns.queried(rev4("127.0.0.2") + ".zen.test", "A")


def test_listed_ipv6_nibbles_refused(world):
    srv, dns, v6, user, _ = world
    dns.set(rev6("::1") + ".zen.test", "A", ["127.0.0.3"])
    try:
        c = Conn6(v6)
    except OSError as e:
        pytest.fail(f"cannot connect to [::1]:{v6}: {e} (the test needs IPv6 on loopback)")
    with c:
        rr, _ = send(c, "someone@sender.example", user)
        assert rr.code == 554, rr
        assert "client [::1] blocked using zen" in rr.text, rr
        c.quit()
    q = dns.queried("1." + "0." * 31 + "zen.test", "A")
    assert q, "the IPv6 client was not asked about in nibble form"


def test_code_outside_the_lists_codes_not_refused(world):
    srv, dns, _, user, _ = world
    dns.set(rev4("127.0.0.3") + ".zen.test", "A", ["127.0.0.20"])
    accepted_from(srv, "127.0.0.3", user, "code 20")
    wait_subject(srv, user, "code 20")


def test_allowlist_weight_cancels(world):
    srv, dns, _, user, _ = world
    dns.set(rev4("127.0.0.4") + ".zen.test", "A", ["127.0.0.2"])
    dns.set(rev4("127.0.0.4") + ".wl.test", "A", ["127.0.10.3"])
    accepted_from(srv, "127.0.0.4", user, "allowlisted")
    log_has(srv, r"event=dnsbl .*list=wl subject=127\.0\.0\.4 answer=127\.0\.10\.3")
    wait_subject(srv, user, "allowlisted")


def test_rhsbl_on_the_sender_domain(world):
    srv, dns, _, user, _ = world
    dns.set("spammy.example.dbl.test", "A", ["127.0.1.2"])
    with Conn(srv.smtp, source="127.0.0.5") as c:
        rr, _ = send(c, "x@Spammy.Example", user)
        assert rr.code == 554, rr
        assert "spammy.example blocked using dbl" in rr.text, rr
        # the next sender on the same connection starts clean
        rr, final = send(c, "y@clean.example", user, subject="clean sender")
        assert rr.code == 250, rr
        assert final.code == 250, final
        # the null sender has no domain to ask about
        rr, final = send(c, "", user, subject="null sender")
        assert rr.code == 250, rr
        c.quit()
    assert dns.queried("spammy.example.dbl.test", "A")
    assert not dns.queried(".dbl.test")


def test_rhsbl_on_the_helo_name(world):
    srv, dns, _, user, _ = world
    dns.set("bad.example.net.hbl.test", "A", ["127.0.0.2"])
    with Conn(srv.smtp, source="127.0.0.11") as c:
        c.ehlo("Bad.Example.Net")
        r = c.cmd("MAIL FROM:<someone@sender.example>")
        assert r.code == 250, r
        r = c.cmd(f"RCPT TO:<{user}>")
        assert r.code == 554, r
        assert "bad.example.net blocked using helo" in r.text, r
        c.quit()
    # the sender domain is not asked of a list that checks the HELO name only
    assert not dns.queried("sender.example.hbl.test")


def test_client_a_rule_accepted_not_refused(world):
    srv, dns, _, user, _ = world
    dns.set(rev4("127.0.0.12") + ".zen.test", "A", ["127.0.0.2"])
    accepted_from(srv, "127.0.0.12", user, "partner")
    log_has(srv, r"event=dnsbl .*list=zen subject=127\.0\.0\.12 answer=127\.0\.0\.2")


def test_answers_kept_for_their_ttl(tls_cert):
    dns = TestDNS(ttl=30).start()
    srv = Server(tls_cert, extra=policy_extra(dns, LISTS + "dnsbl_reject_score = 1.0;"))
    try:
        srv.start()
        user, _ = srv.add_user()
        dns.set(rev4("127.0.0.13") + ".zen.test", "A", ["127.0.0.2"])
        for _ in range(2):
            with Conn(srv.smtp, source="127.0.0.13") as c:
                rr, _ = send(c, "someone@sender.example", user)
                assert rr.code == 554, rr
                c.quit()
        log_has(srv, r"event=dnsbl .*list=zen subject=127\.0\.0\.13 answer=127\.0\.0\.2 cached=0")
        log_has(srv, r"event=dnsbl .*list=zen subject=127\.0\.0\.13 answer=127\.0\.0\.2 cached=1")
        srv.stop()
        srv.assert_clean()
    finally:
        srv.cleanup()
        dns.stop()


def test_list_that_times_out_does_not_refuse(world):
    srv, dns, _, user, _ = world
    dns.timeout(rev4("127.0.0.6") + ".slow.test")
    dns.set(rev4("127.0.0.6") + ".zen.test", "A", ["127.0.0.25"])   # not a code that counts
    t0 = time.monotonic()
    with Conn(srv.smtp, source="127.0.0.6") as c:
        waited = time.monotonic() - t0
        rr, final = send(c, "someone@sender.example", user, subject="slow list")
        assert rr.code == 250, rr
        assert final.code == 250, final
        c.quit()
    assert waited < 8, f"the greeting took {waited:.1f}s: the look-up was not bounded by dns.timeout"
    # a client that leaves while its look-ups are out: they are forgotten
    dns.timeout(rev4("127.0.0.16") + ".slow.test")
    for _ in range(3):
        c = Conn(srv.smtp, source="127.0.0.16", read_greeting=False)
        c.close()
    time.sleep(2.5)          # the look-ups time out with nobody waiting
    assert srv.alive()
    with Conn(srv.smtp, source="127.0.0.17") as c:
        c.ehlo()
        c.quit()
    log_has(srv, r"level=warn event=dnsbl .*list=slow query=6\.0\.0\.127\.slow\.test "
                 r"error=\"look-up failed or timed out; counted as not listed\"")


def test_list_answering_outside_127_ignored(world):
    srv, dns, _, user, _ = world
    dns.set(rev4("127.0.0.7") + ".broken.test", "A", ["8.8.8.8"])
    accepted_from(srv, "127.0.0.7", user, "broken list")
    log_has(srv, r"level=warn event=dnsbl .*list=broken query=7\.0\.0\.127\.broken\.test answer=8\.8\.8\.8 "
                 r"error=\"answer outside 127\.0\.0\.0/8")


def test_submission_after_login_not_checked(world):
    srv, dns, _, user, pw = world
    dns.set(rev4("127.0.0.8") + ".zen.test", "A", ["127.0.0.2"])
    c = srv.submit_conn(user, pw, source="127.0.0.8")
    try:
        r = c.cmd(f"MAIL FROM:<{user}>")
        assert r.code == 250, r
        r = c.cmd(f"RCPT TO:<{user}>")
        assert r.code == 250, r
        c.quit()
    finally:
        c.close()
    assert not dns.queried(rev4("127.0.0.8") + ".zen.test")


def test_threshold_zero_only_feeds_the_rules(tls_cert):
    dns = TestDNS().start()
    rules = ('rules = ( { name = "listed-twice"; dnsbl_score = ">= 2"; action = "reject"; '
             'text = "Listed on two blocklists"; } );')
    srv = Server(tls_cert, extra=policy_extra(dns, LISTS + rules))
    try:
        srv.start()
        user, _ = srv.add_user()
        dns.set(rev4("127.0.0.9") + ".zen.test", "A", ["127.0.0.2"])
        with Conn(srv.smtp, source="127.0.0.9") as c:
            rr, final = send(c, "someone@sender.example", user, subject="no threshold")
            assert rr.code == 250, rr
            assert final.code == 250, final
            c.quit()
        log_has(srv, r"event=dnsbl .*list=zen subject=127\.0\.0\.9 answer=127\.0\.0\.2")
        # two hits reach the rule's score: the rule refuses, the lists do not
        dns.set(rev4("127.0.0.10") + ".zen.test", "A", ["127.0.0.2"])
        dns.set("listed.example.dbl.test", "A", ["127.0.1.2"])
        with Conn(srv.smtp, source="127.0.0.10") as c:
            c.ehlo("client.example.net")
            r = c.cmd("MAIL FROM:<a@listed.example>")
            if r.code == 250:
                r = c.cmd(f"RCPT TO:<{user}>")
            assert r.code == 550, r
            assert "Listed on two blocklists" in r.text, r
            c.quit()
        log_has(srv, r"event=policy .*client=127\.0\.0\.10 .*decision=reject by=\"rule listed-twice\"")
        srv.stop()
        srv.assert_clean()
    finally:
        srv.cleanup()
        dns.stop()


def test_config_check_names_the_bad_list(tls_cert, tmp_path):
    srv = Server(tls_cert, extra='policy: { dnsbl = (\n'
                                 '  { name = "zen"; zone = "zen.test"; codes = [ "127.0.0.9-127.0.0.2" ]; },\n'
                                 '  { name = "x"; zone = "x.test"; type = "asn"; }\n'
                                 '); dnsbl_reject_score = "high"; };')
    try:
        p = srv.cli("config", "check")
        assert p.returncode != 0, p
        out = p.stdout + p.stderr
        text = srv.config_path.read_text().splitlines()
        zen_line = next(i + 1 for i, l in enumerate(text) if '"zen"' in l)
        assert f"{srv.config_path}:{zen_line}: dnsbl code 1 is not an address" in out, out
        assert f"{srv.config_path}:{zen_line + 1}: dnsbl type must be \"ip\" or \"domain\"" in out, out
        assert "dnsbl_reject_score must be a number" in out, out
    finally:
        srv.cleanup()


def test_min_ttl_keeps_a_ttl_0_answer(tls_cert):
    """policy.dnsbl_min_ttl (60 s by default, as postscreen's): an answer
    with TTL 0 is kept anyway, so a client that comes back costs no look-up;
    a listing that appears within that time is seen only after it."""
    dns = TestDNS().start()  # TTL 0 on every answer
    extra = policy_extra(dns, LISTS + "dnsbl_reject_score = 1.0;").replace("dnsbl_min_ttl = 0; ", "")
    assert "dnsbl_min_ttl" not in extra
    srv = Server(tls_cert, extra=extra)
    try:
        srv.start()
        user, _ = srv.add_user()
        with Conn(srv.smtp, source="127.0.0.14") as c:
            rr, final = send(c, "someone@sender.example", user)
            assert rr.code == 250 and final.code == 250, (rr, final)
            c.quit()
        dns.set(rev4("127.0.0.14") + ".zen.test", "A", ["127.0.0.2"])  # listed now
        with Conn(srv.smtp, source="127.0.0.14") as c:
            rr, final = send(c, "someone@sender.example", user)
            assert rr.code == 250, rr  # the kept "not listed"
            c.quit()
        srv.stop()
        srv.assert_clean()
    finally:
        srv.cleanup()
        dns.stop()
