"""TLS-RPT (RFC 8460), end to end.  remote.test publishes an MTA-STS
policy in enforce mode naming two MX hosts and a _smtp._tls record whose
rua is a mailbox at rua.test.  One message: mx2 (preferred) has a
certificate that does not verify (a failure, certificate-not-trusted),
mx1 one from the test CA (a success).  `yubin tlsrpt send-now` then mails
the report to rua.test's MX: a DKIM-signed multipart/report with the
RFC's headers and file name, whose gzip'd JSON holds those counts.  And
`yubin dns records` asks others for reports (test_dns_records.py)."""

import datetime
import email
import email.policy
import gzip
import http.server
import json
import ssl
import threading
import re
import sqlite3
import time

import pytest

from conftest import (DOMAIN, free_port, make_message, outbound_config, qid_lines, submit, uniq, wait_final,
                      wait_until)
from sts_https import PolicyServer, make_cert
from test_dane import sdns, spki_sha256  # noqa: F401 (a fixture)
from test_mtasts import sts  # noqa: F401 (the fixture: a policy server for mta-sts.remote.test)

REMOTE = "remote.test"
MX1, MX2 = "mx1.remote.test", "mx2.remote.test"
IP1, IP2, IP_RUA = "127.0.0.2", "127.0.0.3", "127.0.0.4"
RUA = "reports@rua.test"
TIMEOUT = 20.0


def setup_remote(dns, sts, mx, test_ca, tls_cert):
    dns.set(REMOTE, "MX", [(10, MX1), (5, MX2)])
    dns.set(MX1, "A", [IP1])
    dns.set(MX2, "A", [IP2])
    dns.set(f"_mta-sts.{REMOTE}", "TXT", ["v=STSv1; id=1;"])
    dns.set(f"mta-sts.{REMOTE}", "A", ["127.0.0.1"])
    dns.set(f"_smtp._tls.{REMOTE}", "TXT", [f"v=TLSRPTv1; rua=mailto:{RUA},https://rua.test/r"])
    dns.set("rua.test", "MX", [(10, "mx.rua.test")])
    dns.set("mx.rua.test", "A", [IP_RUA])
    sts.policies[REMOTE] = (f"version: STSv1\r\nmode: enforce\r\nmx: {MX1}\r\nmx: {MX2}\r\n"
                            "max_age: 86400\r\n")
    good = mx.add(IP1, hostname=MX1, cert={"cert": test_ca["cert"], "key": test_ca["key"]})
    mx.add(IP2, hostname=MX2, cert=tls_cert)        # self-signed: does not verify
    rua = mx.add(IP_RUA, hostname="mx.rua.test")
    return good, rua


def send_now(srv, day):
    p = srv.cli("tlsrpt", "send-now", "--day", day)
    assert p.returncode == 0, (p.stderr, srv.log_text()[-4000:])
    return p.stdout


def deliver(srv, user, pw, rcpt, rx, n=1):
    """Submit a message to rcpt and see it arrive at rx (its n-th)."""
    qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, "tlsrpt", ["TLS-RPT"]))
    rx.wait_messages(n, TIMEOUT)
    assert wait_final(srv, qid, rcpt)["result"] == "sent"


def wait_counts(srv, domain, ok, failed):
    """Wait until tlsrpt.db holds today's session counts for domain (a
    worker job writes each session's just after it ends, so the last one
    may land after the delivery is logged)."""
    day = int(time.time()) // 86400 * 86400

    def counts():
        db = sqlite3.connect(f"file:{srv.data_dir / 'tlsrpt.db'}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute("SELECT coalesce(sum(ok), 0), coalesce(sum(failed), 0) FROM entries"
                              " WHERE day = ? AND domain = ?", (day, domain)).fetchone()
        except sqlite3.OperationalError:        # not created yet
            return None
        finally:
            db.close()
    wait_until(lambda: counts() == (ok, failed), TIMEOUT, what=f"{ok} success(es), {failed} failure(s) for {domain}")


def report_today(srv, n_domains):
    """`send-now` for today once the counts of n_domains are in tlsrpt.db
    (a worker job writes them just after each session); the day."""
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    wait_until(lambda: f"{n_domains} policy domain(s)" in send_now(srv, day), TIMEOUT, what="counts in tlsrpt.db")
    return day


def test_report_after_a_failure_and_a_success(make_server, dns, mx, sts, test_ca, tls_cert):
    good, rua = setup_remote(dns, sts, mx, test_ca, tls_cert)
    srv = make_server(extra=outbound_config(dns, mx.port, ca_file=test_ca["ca"]) +
                      f"\nmtasts: {{ test_https_port = {sts.port}; fetch_timeout = 5; }};" +
                      f'\ntlsrpt: {{ enable = 1; org_name = "Test Org"; submitter = "{DOMAIN}"; }};')
    p = srv.cli("dkim", "keygen", DOMAIN)
    assert p.returncode == 0, p.stderr
    user, pw = srv.add_user()
    rcpt = f"{uniq('rpt')}@{REMOTE}"
    qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, "tlsrpt", ["TLS-RPT"]))
    good.wait_messages(1, TIMEOUT)
    assert wait_final(srv, qid, rcpt)["result"] == "sent"
    wait_counts(srv, REMOTE, 1, 1)
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    assert "1 policy domain(s)" in send_now(srv, day)
    (m,) = rua.wait_messages(1, TIMEOUT)
    assert m["rcpt_tos"] == [RUA]
    assert m["mail_from"] == f"tlsrpt-noreply@{DOMAIN}"
    msg = email.message_from_bytes(m["content"], policy=email.policy.default)
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "tlsrpt"
    assert msg["TLS-Report-Domain"] == REMOTE
    assert msg["TLS-Report-Submitter"] == DOMAIN
    assert msg["TLS-Required"] == "No"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["DKIM-Signature"] is not None and f"d={DOMAIN};" in str(msg["DKIM-Signature"]).replace(" ", "")
    start = f"{day}T00:00:00Z"
    assert msg["Subject"] == f"Report Domain: {REMOTE} Submitter: {DOMAIN} Report-ID: <{start}_{REMOTE}@{DOMAIN}>"
    (part,) = [p for p in msg.iter_attachments() if p.get_content_type() == "application/tlsrpt+gzip"]
    begin = int(datetime.datetime.fromisoformat(day).replace(tzinfo=datetime.timezone.utc).timestamp())
    assert re.fullmatch(re.escape(f"{DOMAIN}!{REMOTE}!{begin}!{begin + 86399}!") + r"[0-9a-f]+\.json\.gz",
                        part.get_filename()), part.get_filename()
    report = json.loads(gzip.decompress(part.get_content()))
    assert report["organization-name"] == "Test Org"
    assert report["date-range"] == {"start-datetime": start, "end-datetime": f"{day}T23:59:59Z"}
    assert report["report-id"] == f"{start}_{REMOTE}@{DOMAIN}"
    assert report["contact-info"] == f"postmaster@{DOMAIN}"
    (pol,) = report["policies"]
    assert pol["policy"]["policy-type"] == "sts"
    assert pol["policy"]["policy-domain"] == REMOTE
    assert pol["policy"]["policy-string"] == ["version: STSv1", "mode: enforce", f"mx: {MX1}", f"mx: {MX2}",
                                              "max_age: 86400"]
    assert pol["policy"]["mx-host"] == [MX1, MX2]
    assert pol["summary"] == {"total-successful-session-count": 1, "total-failure-session-count": 1}
    (fd,) = pol["failure-details"]
    assert fd["result-type"] == "certificate-not-trusted"
    assert fd["receiving-mx-hostname"] == MX2 and fd["receiving-ip"] == IP2
    assert fd["failed-session-count"] == 1
    assert fd["sending-mta-ip"].startswith("127."), fd
    assert fd["receiving-mx-helo"] == MX2, fd        # the name in its EHLO reply
    # the https: address is tried too (rua.test has no address: retried)
    wait_until(lambda: f'tlsrpt_post_failed domain={REMOTE} uri=https://rua.test/r error="rua.test has no '
               'address" tries=1 action=retry' in srv.log_text(), TIMEOUT, what="the https: rua tried")
    # sent once: asking again finds nothing left for the day
    wait_until(lambda: "0 policy domain(s)" in send_now(srv, day), TIMEOUT, what="the report marked sent")
    assert len(rua.messages) == 1


def test_no_policy_and_no_starttls(make_server, dns, mx):
    """A domain without MTA-STS or DANE whose MX offers no STARTTLS: the
    mail goes in the clear (opportunistic TLS), and the report says
    no-policy-found with a starttls-not-supported failure and no policy
    string."""
    plain = "plain.test"
    dns.set(plain, "MX", [(10, f"mx.{plain}")])
    dns.set(f"mx.{plain}", "A", [IP1])
    dns.set(f"_smtp._tls.{plain}", "TXT", ["v=STSv1; id=1;", f"v=TLSRPTv1; rua=mailto:{RUA}"])
    dns.set("rua.test", "MX", [(10, "mx.rua.test")])
    dns.set("mx.rua.test", "A", [IP_RUA])
    rx = mx.add(IP1, hostname=f"mx.{plain}")              # no STARTTLS
    rua = mx.add(IP_RUA, hostname="mx.rua.test")
    srv = make_server(extra=outbound_config(dns, mx.port) + "\ntlsrpt: { enable = 1; };")
    user, pw = srv.add_user()
    rcpt = f"{uniq('plain')}@{plain}"
    qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, "plain", ["no TLS"]))
    rx.wait_messages(1, TIMEOUT)
    assert wait_final(srv, qid, rcpt)["result"] == "sent"
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    wait_until(lambda: "1 policy domain(s)" in send_now(srv, day), TIMEOUT, what="counts in tlsrpt.db")
    (m,) = rua.wait_messages(1, TIMEOUT)
    msg = email.message_from_bytes(m["content"], policy=email.policy.default)
    assert msg["TLS-Report-Domain"] == plain
    (part,) = [p for p in msg.iter_attachments() if p.get_content_type() == "application/tlsrpt+gzip"]
    (pol,) = json.loads(gzip.decompress(part.get_content()))["policies"]
    assert pol["policy"] == {"policy-type": "no-policy-found", "policy-domain": plain, "mx-host": [f"mx.{plain}"]}
    assert pol["summary"] == {"total-successful-session-count": 0, "total-failure-session-count": 1}
    (fd,) = pol["failure-details"]
    assert fd["result-type"] == "starttls-not-supported" and fd["receiving-ip"] == IP1


def send_signed(make_server, d, anchor, mx, signed, tag, extra=""):
    """rua.test's MX and the _smtp._tls record of the signed domain; a
    server (extra: more configuration) that sends one message there and
    sees it deferred: (rua receiver, server, qid)."""
    d.set(f"_smtp._tls.{signed}", "TXT", [f"v=TLSRPTv1; rua=mailto:{RUA}"])
    d.set("rua.test", "MX", [(10, "mx.rua.test")])
    d.set("mx.rua.test", "A", [IP_RUA])
    rua = mx.add(IP_RUA, hostname="mx.rua.test")
    srv = make_server(extra=outbound_config(d, mx.port, trust_anchor=anchor, retry=[60]) +
                      "\ntlsrpt: { enable = 1; };" + extra)
    user, pw = srv.add_user()
    rcpt = f"{uniq(tag)}@{signed}"
    qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, tag, [tag]))
    wait_until(lambda: [l for l in qid_lines(srv, qid) if l.get("result") == "deferred"], TIMEOUT,
               what=f"a deferral of {qid}")
    return rua, srv, qid


def test_dane_failures_reported_as_tlsa(make_server, sdns, mx, test_ca, tls_cert):
    """A DNSSEC-signed domain whose MX 10 presents a certificate that
    matches no TLSA record and whose MX 20 offers no STARTTLS: the message
    waits, and the report (policy-type tlsa, the records as policy string)
    has a validation-failure and a starttls-not-supported."""
    d, anchor = sdns
    signed, mx1, mx2 = "dane.test", "mx1.dane.test", "mx2.dane.test"
    digest = spki_sha256(test_ca["cert"])
    d.mx(signed, (10, mx1), (20, mx2)).a(mx1, IP1).a(mx2, IP2)
    d.set(f"_25._tcp.{mx1}", "TLSA", [(3, 1, 1, digest)])
    d.set(f"_25._tcp.{mx2}", "TLSA", [(3, 1, 1, digest)])
    mx.add(IP1, hostname=mx1, cert=tls_cert)       # another key
    mx.add(IP2, hostname=mx2)                      # no STARTTLS
    # both MX hosts are tried; their counts are written just after
    rua, srv, qid = send_signed(make_server, d, anchor, mx, signed, "dane")
    wait_counts(srv, signed, 0, 2)
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    assert "1 policy domain(s)" in send_now(srv, day)
    (m,) = rua.wait_messages(1, TIMEOUT)
    msg = email.message_from_bytes(m["content"], policy=email.policy.default)
    (part,) = [p for p in msg.iter_attachments() if p.get_content_type() == "application/tlsrpt+gzip"]
    (pol,) = json.loads(gzip.decompress(part.get_content()))["policies"]
    assert pol["policy"]["policy-type"] == "tlsa"
    assert pol["policy"]["policy-string"] == [f"3 1 1 {digest.upper()}"]
    assert sorted(pol["policy"]["mx-host"]) == [mx1, mx2]
    assert pol["summary"] == {"total-successful-session-count": 0, "total-failure-session-count": 2}
    got = {(f["result-type"], f["receiving-mx-hostname"], f["receiving-ip"]) for f in pol["failure-details"]}
    assert got == {("validation-failure", mx1, IP1), ("starttls-not-supported", mx2, IP2)}, got
    assert qid in srv.cli("queue", "list").stdout


def test_dns_records_warn_until_the_report_address_exists(make_server):
    srv = make_server(start=False)
    p = srv.cli("dns", "records", DOMAIN)
    assert p.returncode == 0, p.stderr
    assert f'_smtp._tls.{DOMAIN}. IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@{DOMAIN}"' in p.stdout.splitlines()
    warn = f"; TLS-RPT: tlsrpt@{DOMAIN} does not exist yet"
    assert warn in p.stdout
    user, _ = srv.add_user()
    p = srv.cli("alias", "add", f"tlsrpt@{DOMAIN}", user)
    assert p.returncode == 0, p.stderr
    p = srv.cli("dns", "records", DOMAIN)
    assert p.returncode == 0 and warn not in p.stdout, p.stdout


def test_send_now_refuses_a_bad_day_and_reporting_off(make_server):
    srv = make_server()
    wait_until(lambda: (srv.data_dir / "control.sock").exists(), TIMEOUT, what="the control socket")
    p = srv.cli("tlsrpt", "send-now", "--day", "2026-13-01")
    assert p.returncode != 0 and "usage: yubin tlsrpt send-now" in p.stderr
    p = srv.cli("tlsrpt", "send-now")
    assert p.returncode != 0 and "TLS reporting is off (tlsrpt.enable)" in p.stderr, p.stderr


def reports_by_domain(rua, n):
    """The JSON reports of the first n messages rua received, by domain."""
    got = {}
    for m in rua.wait_messages(n, TIMEOUT):
        msg = email.message_from_bytes(m["content"], policy=email.policy.default)
        (part,) = [p for p in msg.iter_attachments() if p.get_content_type() == "application/tlsrpt+gzip"]
        got[msg["TLS-Report-Domain"]] = json.loads(gzip.decompress(part.get_content()))
    return got


def test_sts_policy_failures(make_server, dns, mx, test_ca):
    """Three domains announce an MTA-STS policy (_mta-sts TXT) that cannot
    be had, and none is cached: the policy host answers 500
    (sts-policy-fetch-error), serves a policy of the wrong version
    (sts-policy-invalid), or presents a certificate that is not for its name
    (sts-webpki-invalid).  The mail goes as if there were no policy, and
    each session is counted under policy-type sts, without a policy string,
    as a failure of that type, with the name the MX gave in its EHLO reply
    as receiving-mx-helo (not its MX name)."""
    cases = {"f500.test": ("127.0.0.5", "sts-policy-fetch-error", "HTTP status 500"),
             "badpol.test": ("127.0.0.6", "sts-policy-invalid", "version"),
             "webpki.test": ("127.0.0.7", "sts-webpki-invalid", "")}
    cert, key = make_cert(test_ca, ["mta-sts.f500.test", "mta-sts.badpol.test"])  # not mta-sts.webpki.test
    ps = PolicyServer(cert, key).start()
    try:
        ps.status["f500.test"] = (500, {})
        ps.policies["badpol.test"] = "version: STSv2\r\nmode: enforce\r\nmx: *.badpol.test\r\nmax_age: 86400\r\n"
        ps.policies["webpki.test"] = "version: STSv1\r\nmode: enforce\r\nmx: *.webpki.test\r\nmax_age: 86400\r\n"
        dns.set("rua.test", "MX", [(10, "mx.rua.test")])
        dns.set("mx.rua.test", "A", [IP_RUA])
        rxs = {}
        for dom, (ip, _, _) in cases.items():
            dns.set(dom, "MX", [(10, f"mx.{dom}")])
            dns.set(f"mx.{dom}", "A", [ip])
            dns.set(f"_mta-sts.{dom}", "TXT", ["v=STSv1; id=7;"])
            dns.set(f"mta-sts.{dom}", "A", ["127.0.0.1"])
            dns.set(f"_smtp._tls.{dom}", "TXT", [f"v=TLSRPTv1; rua=mailto:{RUA}"])
            rxs[dom] = mx.add(ip, hostname=f"greeter.{dom}")   # no STARTTLS
        rua = mx.add(IP_RUA, hostname="mx.rua.test")
        srv = make_server(extra=outbound_config(dns, mx.port, ca_file=test_ca["ca"]) +
                          f"\nmtasts: {{ test_https_port = {ps.port}; fetch_timeout = 5; }};" +
                          "\ntlsrpt: { enable = 1; };")
        user, pw = srv.add_user()
        for dom in cases:
            deliver(srv, user, pw, f"{uniq('sts')}@{dom}", rxs[dom])
        report_today(srv, 3)
        got = reports_by_domain(rua, 3)
    finally:
        ps.stop()
    assert sorted(got) == sorted(cases)
    for dom, (ip, result, reason) in cases.items():
        (pol,) = got[dom]["policies"]
        assert pol["policy"] == {"policy-type": "sts", "policy-domain": dom, "mx-host": [f"mx.{dom}"]}, pol
        assert pol["summary"] == {"total-successful-session-count": 0, "total-failure-session-count": 1}
        (fd,) = pol["failure-details"]
        assert fd["result-type"] == result, (dom, fd)
        assert fd["receiving-mx-hostname"] == f"mx.{dom}" and fd["receiving-ip"] == ip, fd
        assert fd["receiving-mx-helo"] == f"greeter.{dom}", fd
        assert reason in fd.get("failure-reason-code", ""), fd


def test_cached_policy_applies_when_the_fetch_fails(make_server, dns, mx, sts, test_ca, tls_cert):
    """A valid cached policy, a new id in the TXT, and a fetch that fails:
    the cached policy applies (RFC 8461 5.1) and the session counts under
    it by its TLS outcome; the failed fetch is not a failed session."""
    good, rua = setup_remote(dns, sts, mx, test_ca, tls_cert)
    dns.set(REMOTE, "MX", [(10, MX1)])
    dns.set(f"_smtp._tls.{REMOTE}", "TXT", [f"v=TLSRPTv1; rua=mailto:{RUA}"])
    srv = make_server(extra=outbound_config(dns, mx.port, ca_file=test_ca["ca"]) +
                      f"\nmtasts: {{ test_https_port = {sts.port}; fetch_timeout = 5; }};" +
                      "\ntlsrpt: { enable = 1; };")
    user, pw = srv.add_user()
    for n, txt in enumerate(["v=STSv1; id=1;", "v=STSv1; id=2;"]):
        dns.set(f"_mta-sts.{REMOTE}", "TXT", [txt])
        if n == 1:
            sts.status[REMOTE] = (500, {})
        deliver(srv, user, pw, f"{uniq('cache')}@{REMOTE}", good, n + 1)
    assert len(sts.fetches(REMOTE)) == 2
    wait_counts(srv, REMOTE, 2, 0)
    report_today(srv, 1)
    (pol,) = reports_by_domain(rua, 1)[REMOTE]["policies"]
    assert pol["policy"]["policy-type"] == "sts" and "mode: enforce" in pol["policy"]["policy-string"]
    assert pol["summary"] == {"total-successful-session-count": 2, "total-failure-session-count": 0}
    assert "failure-details" not in pol


@pytest.mark.parametrize("which", ["address", "tlsa"])
def test_dnssec_bogus(make_server, sdns, mx, which):
    """A signed domain whose MX host's address answer, or its TLSA answer,
    is made bogus: the host is not tried and the report counts a
    dnssec-invalid failure under no-policy-found (no validated TLSA
    records could be read)."""
    d, anchor = sdns
    signed, mx1 = "dane.test", "mxbogus.dane.test"
    d.mx(signed, (10, mx1)).a(mx1, IP1)
    d.set(f"_25._tcp.{mx1}", "TLSA", [(3, 1, 1, "ab" * 32)])
    d.bogus(mx1 if which == "address" else f"_25._tcp.{mx1}")
    rx = mx.add(IP1, hostname=mx1)
    rua, srv, qid = send_signed(make_server, d, anchor, mx, signed, "bogus")
    assert rx.messages == []
    report_today(srv, 1)
    (pol,) = reports_by_domain(rua, 1)[signed]["policies"]
    assert pol["policy"] == {"policy-type": "no-policy-found", "policy-domain": signed, "mx-host": [mx1]}, pol
    assert pol["summary"] == {"total-successful-session-count": 0, "total-failure-session-count": 1}
    (fd,) = pol["failure-details"]
    assert fd["result-type"] == "dnssec-invalid" and fd["receiving-mx-hostname"] == mx1, fd
    assert "bogus" in fd["failure-reason-code"], fd


class ReportServer:
    """An HTTPS server for rua=https:// (RFC 8460 5.4) with a certificate
    from the test CA: per path, the statuses to answer in turn (the last
    one repeats); every POST is kept as (path, headers, body)."""

    def __init__(self, cert, key, statuses):
        self.port = free_port()
        self.statuses = {k: list(v) for k, v in statuses.items()}
        self.posts = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                owner.posts.append((self.path, dict(self.headers), body))
                st = owner.statuses.get(self.path, [404])
                code = st.pop(0) if len(st) > 1 else st[0]
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def on(self, path):
        return [p for p in self.posts if p[0] == path]


def test_https_rua(make_server, dns, mx, test_ca):
    """rua with a mailto: and two https: addresses: the mailbox gets the
    report by mail, and each https: address a POST of the gzip'd JSON as
    application/tlsrpt+gzip.  /ok answers 500 first: tried again (after
    tlsrpt.https_retry) until its 200; /down always answers 503: given up
    after tlsrpt.https_tries POSTs.  A third address names a host the
    server's certificate is not for: no POST reaches it (the certificate is
    checked), and it is given up in the same way."""
    dom = "posted.test"
    cert, key = make_cert(test_ca, ["rua.test"])
    rs = ReportServer(cert, key, {"/ok": [500, 200], "/down": [503]})
    try:
        ok_uri, down_uri = f"https://rua.test:{rs.port}/ok", f"https://rua.test:{rs.port}/down"
        wrong_uri = f"https://wrong.test:{rs.port}/wrong"
        dns.set(dom, "MX", [(10, f"mx.{dom}")])
        dns.set(f"mx.{dom}", "A", [IP1])
        dns.set(f"_smtp._tls.{dom}", "TXT", [f"v=TLSRPTv1; rua=mailto:{RUA},{ok_uri}, {down_uri},{wrong_uri}"])
        dns.set("wrong.test", "A", ["127.0.0.1"])
        dns.set("rua.test", "MX", [(10, "mx.rua.test")])
        dns.set("rua.test", "A", ["127.0.0.1"])
        dns.set("mx.rua.test", "A", [IP_RUA])
        rx = mx.add(IP1, hostname=f"greeter.{dom}")            # no STARTTLS
        rua = mx.add(IP_RUA, hostname="mx.rua.test")
        srv = make_server(extra=outbound_config(dns, mx.port, ca_file=test_ca["ca"]) +
                          f'\ntlsrpt: {{ enable = 1; org_name = "Test Org"; submitter = "{DOMAIN}";'
                          " https_retry = 1; https_tries = 3; https_timeout = 5; };")
        user, pw = srv.add_user()
        deliver(srv, user, pw, f"{uniq('https')}@{dom}", rx)
        day = report_today(srv, 1)
        wait_until(lambda: len(rs.on("/ok")) == 2 and len(rs.on("/down")) == 3, TIMEOUT,
                   what="the POSTs and their retries")
        mailed = reports_by_domain(rua, 1)[dom]
        wait_until(lambda: f"uri={wrong_uri} " in srv.log_text() and "tries=3 action=gave_up" in
                   srv.log_text().split(f"uri={wrong_uri} ")[-1], TIMEOUT, what="the wrong host given up")
        time.sleep(2.5)                                          # nothing more after the 200 and the last try
        assert len(rs.on("/ok")) == 2 and len(rs.on("/down")) == 3 and rs.on("/wrong") == [], rs.posts
        log = srv.log_text()
    finally:
        rs.stop()
    start = f"{day}T00:00:00Z"
    for path, headers, body in rs.posts:
        assert headers["Content-Type"] == "application/tlsrpt+gzip", headers
        report = json.loads(gzip.decompress(body))
        assert report == mailed                                  # the same report as the mail's
        assert report["organization-name"] == "Test Org"
        assert report["date-range"] == {"start-datetime": start, "end-datetime": f"{day}T23:59:59Z"}
        assert report["contact-info"] == f"postmaster@{DOMAIN}"
        assert report["report-id"] == f"{start}_{dom}@{DOMAIN}"
        (pol,) = report["policies"]
        assert pol["policy"] == {"policy-type": "no-policy-found", "policy-domain": dom, "mx-host": [f"mx.{dom}"]}
        assert pol["summary"] == {"total-successful-session-count": 0, "total-failure-session-count": 1}
        (fd,) = pol["failure-details"]
        assert fd["result-type"] == "starttls-not-supported" and fd["receiving-ip"] == IP1, fd
        assert fd["receiving-mx-helo"] == f"greeter.{dom}", fd
    assert f'tlsrpt_post_failed domain={dom} uri={ok_uri} error="HTTP status 500" tries=1 action=retry' in log
    assert f'tlsrpt_posted domain={dom} uri={ok_uri} status=200 tries=2' in log
    assert f'tlsrpt_post_failed domain={dom} uri={down_uri} error="HTTP status 503" tries=3 action=gave_up' in log
    wrong = [l for l in log.splitlines() if f"uri={wrong_uri} " in l]
    assert len(wrong) == 3 and "wrong.test" in wrong[0] and "certificate" in wrong[0], wrong


def test_dane_required(make_server, sdns, mx):
    """A transport map requires DANE for a domain (tls = "dane-only") whose
    MX host has no TLSA records (a secure denial): the host is skipped and
    the report counts a dane-required failure under no-policy-found."""
    d, anchor = sdns
    signed, mx1 = "dane.test", "mxnotlsa.dane.test"
    d.mx(signed, (10, mx1)).a(mx1, IP1)
    rx = mx.add(IP1, hostname=mx1)
    rua, srv, qid = send_signed(make_server, d, anchor, mx, signed, "danereq",
                                f'\ntransport = ( {{ domain = "{signed}"; tls = "dane-only"; }} );\n')
    assert rx.messages == [] and rx.sessions == []
    report_today(srv, 1)
    (pol,) = reports_by_domain(rua, 1)[signed]["policies"]
    assert pol["policy"] == {"policy-type": "no-policy-found", "policy-domain": signed, "mx-host": [mx1]}, pol
    assert pol["summary"] == {"total-successful-session-count": 0, "total-failure-session-count": 1}
    (fd,) = pol["failure-details"]
    assert fd["result-type"] == "dane-required" and fd["receiving-mx-hostname"] == mx1, fd
    assert fd["failure-reason-code"] == "no TLSA records", fd
