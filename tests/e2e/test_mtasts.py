"""MTA-STS (RFC 8461), end to end: policies served over HTTPS with the test
CA by sts_https.PolicyServer, the _mta-sts TXT record and the MX in the
test DNS, aiosmtpd receivers as the MX hosts.  Sending side: enforce with
a matching MX and a certificate that verifies delivers; an MX the policy
does not name, or a certificate that does not verify, defers (nothing is
delivered in the clear or to an unverified host); testing delivers and
logs; a redirect is no policy; a cached policy keeps applying across a
restart while the policy server is down.  Our side: the policy served for
Host mta-sts.<our domain>, and `yubin dns records`."""

import hashlib
import socket
import time

import pytest

from conftest import (DOMAIN, HOSTNAME, attempt_lines, make_message, outbound_config, queue_text,
                      submit, uniq, wait_final, wait_until)
from sts_https import PolicyServer, make_cert

REMOTE = "remote.test"
MX1, MX2 = "mx1.remote.test", "mx2.remote.test"
IP1 = "127.0.0.2"
TIMEOUT = 15.0


def policy(mode, *mx, max_age=86400):
    return "version: STSv1\r\nmode: %s\r\n%smax_age: %d\r\n" % (
        mode, "".join(f"mx: {m}\r\n" for m in mx), max_age)


@pytest.fixture
def sts(test_ca):
    cert, key = make_cert(test_ca, [f"mta-sts.{REMOTE}"])
    ps = PolicyServer(cert, key).start()
    try:
        yield ps
    finally:
        ps.stop()


def setup_domain(dns, txt_id="1", mx=MX1):
    dns.set(REMOTE, "MX", [(10, mx)])
    dns.set(mx, "A", [IP1])
    dns.set(f"_mta-sts.{REMOTE}", "TXT", [f"v=STSv1; id={txt_id};"])
    dns.set(f"mta-sts.{REMOTE}", "A", ["127.0.0.1"])


def start(make_server, dns, mx, sts, test_ca):
    return make_server(extra=outbound_config(dns, mx.port, ca_file=test_ca["ca"]) +
                       f"\nmtasts: {{ test_https_port = {sts.port}; fetch_timeout = 5; }};")


def send(srv, tag):
    user, pw = srv.add_user()
    rcpt = f"{uniq(tag)}@{REMOTE}"
    qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, tag, ["MTA-STS"]))
    return qid, rcpt


def wait_deferred(srv, qid, rcpt, phrase):
    """The attempt ended without delivery, the message is still queued,
    and the log says why (phrase)."""
    wait_until(lambda: phrase in srv.log_text() and qid in queue_text(srv), TIMEOUT,
               what=f"a deferral of {qid} saying {phrase!r}")
    time.sleep(0.3)
    assert qid in queue_text(srv)


def verified_ca_cert(test_ca):
    return {"cert": test_ca["cert"], "key": test_ca["key"]}


def first_delivery_under_enforce(make_server, dns, mx, sts, test_ca, tag):
    """mx1 named by an enforce policy (id 1) and holding a certificate from
    the test CA; one message delivered, which caches the policy.
    (server, receiver)."""
    setup_domain(dns)
    sts.policies[REMOTE] = policy("enforce", MX1)
    rx = mx.add(IP1, hostname=MX1, cert=verified_ca_cert(test_ca))
    srv = start(make_server, dns, mx, sts, test_ca)
    qid, rcpt = send(srv, tag)
    rx.wait_messages(1, TIMEOUT)
    assert wait_final(srv, qid, rcpt)["result"] == "sent"
    return srv, rx


def test_enforce_matching_mx_with_valid_certificate_delivers(make_server, dns, mx, sts, test_ca):
    setup_domain(dns)
    sts.policies[REMOTE] = policy("enforce", MX1)
    rx = mx.add(IP1, hostname=MX1, cert=verified_ca_cert(test_ca))
    srv = start(make_server, dns, mx, sts, test_ca)
    qid, rcpt = send(srv, "enf-ok")
    (m,) = rx.wait_messages(1, TIMEOUT)
    assert m["tls"] and m["tls"].startswith("TLSv1"), m["tls"]
    assert wait_final(srv, qid, rcpt)["result"] == "sent"
    (att,) = attempt_lines(srv, qid, rcpt)
    assert att["verified"] == "yes", att["_line"]
    assert sts.fetches(REMOTE), "the policy was never fetched"
    log = srv.log_text()
    assert "mtasts_fetch domain=remote.test id=1 result=ok mode=enforce" in log, log[-3000:]
    assert f"mtasts_apply qid={qid} domain=remote.test mode=enforce" in log


def test_enforce_mx_not_in_policy_defers(make_server, dns, mx, sts, test_ca):
    setup_domain(dns)
    sts.policies[REMOTE] = policy("enforce", MX2)        # the MX is mx1: not named
    rx = mx.add(IP1, hostname=MX1, cert=verified_ca_cert(test_ca))
    srv = start(make_server, dns, mx, sts, test_ca)
    qid, rcpt = send(srv, "enf-mx")
    wait_deferred(srv, qid, rcpt, "4.7.5 MX mx1.remote.test does not match the MTA-STS policy of remote.test")
    assert rx.messages == [] and rx.commands == [], "a host outside the policy was contacted"
    assert attempt_lines(srv, qid, rcpt) == []


def test_enforce_certificate_that_does_not_verify_defers(make_server, dns, mx, sts, test_ca, tls_cert):
    setup_domain(dns)
    sts.policies[REMOTE] = policy("enforce", MX1)
    rx = mx.add(IP1, hostname=MX1, cert=tls_cert)       # self-signed: not from the CA
    srv = start(make_server, dns, mx, sts, test_ca)
    qid, rcpt = send(srv, "enf-cert")
    wait_deferred(srv, qid, rcpt, "4.7.5 The certificate of mx1.remote.test does not verify")
    assert rx.messages == [], "delivered to a host whose certificate does not verify"
    assert "MAIL" not in rx.verbs(), rx.commands


def test_enforce_without_starttls_defers(make_server, dns, mx, sts, test_ca):
    setup_domain(dns)
    sts.policies[REMOTE] = policy("enforce", MX1)
    rx = mx.add(IP1, hostname=MX1)                      # no STARTTLS offered (stripped)
    srv = start(make_server, dns, mx, sts, test_ca)
    qid, rcpt = send(srv, "enf-plain")
    wait_deferred(srv, qid, rcpt, "offers no STARTTLS")
    assert rx.messages == [] and "MAIL" not in rx.verbs(), "sent in the clear under enforce"


def test_testing_mode_delivers_and_logs(make_server, dns, mx, sts, test_ca, tls_cert):
    setup_domain(dns)
    sts.policies[REMOTE] = policy("testing", MX2)       # neither the MX nor its certificate pass
    rx = mx.add(IP1, hostname=MX1, cert=tls_cert)
    srv = start(make_server, dns, mx, sts, test_ca)
    qid, rcpt = send(srv, "testing")
    rx.wait_messages(1, TIMEOUT)
    assert wait_final(srv, qid, rcpt)["result"] == "sent"
    log = srv.log_text()
    assert (f"mtasts_mx_mismatch qid={qid} domain=remote.test mx=mx1.remote.test mode=testing "
            "action=used") in log, log[-3000:]


def test_redirect_is_no_policy(make_server, dns, mx, sts, test_ca, tls_cert):
    setup_domain(dns)
    sts.status[REMOTE] = (302, {"Location": f"https://mta-sts.{REMOTE}/other.txt"})
    sts.policies[REMOTE] = policy("enforce", MX2)       # would refuse mx1, if the redirect were followed
    rx = mx.add(IP1, hostname=MX1, cert=tls_cert)
    srv = start(make_server, dns, mx, sts, test_ca)
    qid, rcpt = send(srv, "redirect")
    rx.wait_messages(1, TIMEOUT)
    assert wait_final(srv, qid, rcpt)["result"] == "sent"
    assert [p for _, p in sts.requests] == ["/.well-known/mta-sts.txt"], sts.requests
    assert "HTTP status 302" in srv.log_text()


@pytest.mark.parametrize("case", ["too-big", "text/html", "invalid"])
def test_unusable_policy_is_no_policy(make_server, dns, mx, sts, test_ca, tls_cert, case):
    """Without a cached policy, a fetched file that cannot be a policy
    (over 64 KiB, not text/plain, not valid) means no policy: the mail
    goes out as usual, and the log says why."""
    setup_domain(dns)
    enforce = policy("enforce", MX2)                    # would refuse mx1
    sts.policies[REMOTE] = {"too-big": enforce + "x" * 70000, "text/html": enforce,
                            "invalid": enforce.replace("STSv1", "STSv2")}[case]
    if case == "text/html":
        sts.ctype[REMOTE] = "text/html"
    rx = mx.add(IP1, hostname=MX1, cert=tls_cert)
    srv = start(make_server, dns, mx, sts, test_ca)
    qid, rcpt = send(srv, "unusable")
    rx.wait_messages(1, TIMEOUT)
    assert wait_final(srv, qid, rcpt)["result"] == "sent"
    why = {"too-big": "larger than 64 KiB", "text/html": "Content-Type text/html is not text/plain",
           "invalid": "version is not STSv1"}[case]
    assert why in srv.log_text(), srv.log_text()[-3000:]
    assert "mtasts domain=remote.test decision=none" in srv.log_text()


def test_stalled_policy_server_is_bounded_by_fetch_timeout(make_server, dns, mx, test_ca, tls_cert):
    """A policy server that accepts and never answers: the fetch gives up
    after mtasts.fetch_timeout and, with nothing cached, the mail goes."""
    setup_domain(dns)
    rx = mx.add(IP1, hostname=MX1, cert=tls_cert)
    hold = socket.socket()
    hold.bind(("127.0.0.1", 0))
    hold.listen(16)
    try:
        srv = make_server(extra=outbound_config(dns, mx.port, ca_file=test_ca["ca"]) +
                          f"\nmtasts: {{ test_https_port = {hold.getsockname()[1]}; fetch_timeout = 2; }};")
        t0 = time.monotonic()
        qid, rcpt = send(srv, "stalled")
        rx.wait_messages(1, TIMEOUT)
        took = time.monotonic() - t0
        assert wait_final(srv, qid, rcpt)["result"] == "sent"
        assert 1.5 <= took < 8, f"delivered after {took:.1f}s with fetch_timeout = 2"
        assert "mtasts_fetch domain=remote.test id=1 result=fail" in srv.log_text()
    finally:
        hold.close()


def test_charset_parameter_is_still_text_plain(make_server, dns, mx, sts, test_ca, tls_cert):
    setup_domain(dns)
    sts.policies[REMOTE] = policy("enforce", MX2)
    sts.ctype[REMOTE] = "text/plain; charset=utf-8"
    rx = mx.add(IP1, hostname=MX1, cert=tls_cert)
    srv = start(make_server, dns, mx, sts, test_ca)
    qid, rcpt = send(srv, "charset")
    wait_deferred(srv, qid, rcpt, "4.7.5 MX mx1.remote.test does not match the MTA-STS policy of remote.test")
    assert rx.messages == []


def test_cached_policy_enforced_when_the_policy_server_is_down(make_server, dns, mx, sts, test_ca):
    """RFC 8461 5.1: a failed fetch never replaces a valid cached policy,
    and the cache survives a restart (data_dir/mtasts.db)."""
    srv, rx = first_delivery_under_enforce(make_server, dns, mx, sts, test_ca, "cache1")
    # the attacker's moves: the policy server down, a new TXT id, an MX of its own
    sts.stop()
    assert srv.stop() == 0
    setup_domain(dns, txt_id="2", mx="evil.attacker.test")
    srv.start()
    qid2, rcpt2 = send(srv, "cache2")
    wait_deferred(srv, qid2, rcpt2,
                  "4.7.5 MX evil.attacker.test does not match the MTA-STS policy of remote.test")
    log = srv.log_text()
    assert "mtasts_fetch domain=remote.test id=2 result=fail" in log, log[-3000:]
    assert "mtasts domain=remote.test decision=cached mode=enforce id=1" in log, log[-3000:]
    assert len(rx.messages) == 1


# ---------------------------------------------------------------- our own policy

def get_policy(srv, host):
    c = srv.https_conn()
    c.request("GET", "/.well-known/mta-sts.txt", headers={"Host": host})
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    return r.status, r.getheader("Content-Type"), r.getheader("Location"), body


def test_our_policy_served_by_host(make_server):
    srv = make_server(extra='mtasts: { policy_mode = "enforce"; policy_max_age = 86400; };')
    want = f"version: STSv1\r\nmode: enforce\r\nmx: {HOSTNAME}\r\nmax_age: 86400\r\n"
    status, ctype, loc, body = get_policy(srv, f"mta-sts.{DOMAIN}")
    assert (status, ctype, loc) == (200, "text/plain", None), (status, ctype, loc, body)
    assert body == want
    status, _, _, _ = get_policy(srv, f"MTA-STS.{DOMAIN.upper()}.:{srv.https}")
    assert status == 200
    for host in (DOMAIN, "mta-sts.other.test", f"mta-sts.x.{DOMAIN}", "127.0.0.1"):
        status, _, loc, _ = get_policy(srv, host)
        assert status == 404 and loc is None, host


def test_dns_records_print_the_mta_sts_names(make_server):
    srv = make_server()
    p = srv.cli("dns", "records", DOMAIN)
    assert p.returncode == 0, p.stderr
    policy_text = f"version: STSv1\r\nmode: testing\r\nmx: {HOSTNAME}\r\nmax_age: 604800\r\n"
    want_id = hashlib.sha256(policy_text.encode()).hexdigest()[:32]
    assert f'_mta-sts.{DOMAIN}. IN TXT "v=STSv1; id={want_id}"' in p.stdout, p.stdout
    assert f"mta-sts.{DOMAIN}. IN CNAME {HOSTNAME}." in p.stdout, p.stdout
    assert ";   mode: testing" in p.stdout and f";   mx: {HOSTNAME}" in p.stdout, p.stdout
    # the served policy is the one the id stands for
    _, _, _, body = get_policy(srv, f"mta-sts.{DOMAIN}")
    assert hashlib.sha256(body.encode()).hexdigest()[:32] == want_id


def test_new_txt_id_fetches_the_new_policy(make_server, dns, mx, sts, test_ca):
    """RFC 8461 5.1: the same id uses the cache (no fetch); a new id
    fetches, and the new policy applies at once."""
    srv, rx = first_delivery_under_enforce(make_server, dns, mx, sts, test_ca, "id1")
    qid, rcpt = send(srv, "id1b")
    rx.wait_messages(2, TIMEOUT)
    assert wait_final(srv, qid, rcpt)["result"] == "sent"
    assert len(sts.fetches(REMOTE)) == 1, "the cached policy was fetched again for the same id"
    sts.policies[REMOTE] = policy("enforce", MX2)       # mx1 no longer named ...
    setup_domain(dns, txt_id="2")                       # ... announced by a new id
    qid, rcpt = send(srv, "id2")
    wait_deferred(srv, qid, rcpt, "4.7.5 MX mx1.remote.test does not match the MTA-STS policy of remote.test")
    assert len(sts.fetches(REMOTE)) == 2
    assert len(rx.messages) == 2


def test_background_refresh_before_expiry(make_server, dns, mx, sts, test_ca):
    """A cached policy that expires within two refresh intervals is
    fetched again by the timer (RFC 8461 5.1), with no mail waiting."""
    setup_domain(dns)
    sts.policies[REMOTE] = policy("enforce", MX1, max_age=15)
    rx = mx.add(IP1, hostname=MX1, cert=verified_ca_cert(test_ca))
    srv = make_server(extra=outbound_config(dns, mx.port, ca_file=test_ca["ca"]) +
                      f"\nmtasts: {{ test_https_port = {sts.port}; refresh_interval = 10; }};")
    qid, rcpt = send(srv, "refresh")
    rx.wait_messages(1, TIMEOUT)
    assert len(sts.fetches(REMOTE)) == 1
    wait_until(lambda: len(sts.fetches(REMOTE)) == 2, 14, what="a background refresh of the policy")
    wait_until(lambda: srv.log_text().count("mtasts_fetch domain=remote.test id=1 result=ok") == 2, 5,
               what="the refresh's log line")
    assert len(rx.messages) == 1


@pytest.mark.parametrize("attack", ["txt-removed", "txt-servfail", "policy-404", "policy-500"])
def test_cached_policy_survives_downgrades(make_server, dns, mx, sts, test_ca, attack):
    """The downgrades of RFC 8461 5.1 while a valid policy is cached: the
    TXT record stripped or failing, or a new id whose fetch fails (404,
    500): the cached enforce policy still refuses an MX it does not name."""
    srv, rx = first_delivery_under_enforce(make_server, dns, mx, sts, test_ca, "pre")
    setup_domain(dns, txt_id="2", mx=MX2)               # an MX the policy does not name
    if attack == "txt-removed":
        dns.clear(f"_mta-sts.{REMOTE}")
    elif attack == "txt-servfail":
        dns.servfail(f"_mta-sts.{REMOTE}")
    else:
        sts.status[REMOTE] = (int(attack[-3:]), {})
    qid, rcpt = send(srv, attack)
    wait_deferred(srv, qid, rcpt, "4.7.5 MX mx2.remote.test does not match the MTA-STS policy of remote.test")
    assert len(rx.messages) == 1
    log = srv.log_text()
    assert "mtasts domain=remote.test decision=cached mode=enforce id=1" in log, log[-3000:]
