"""DANE for outbound SMTP (issue 14, RFC 7672) against a DNSSEC-signing
test DNS (dnssec_sign.py: zone dane.test signed, its DS record given to
yubin as dns.trust_anchor; zone plain.test unsigned) and aiosmtpd
receivers on 127.0.0.2, 127.0.0.3 with the test CA's certificate.

What a user sees: `yubin dns query` says secure / insecure / bogus; a
message to a domain whose MX has a matching TLSA record arrives over TLS
with dane=dane-ee in the log; every downgrade an attacker could try (a
certificate that does not match, STARTTLS missing, TLSA answers made bogus)
leaves the message deferred with 4.7.5 and nothing sent to that server; an
unsigned zone, or a signed one without TLSA, gets opportunistic TLS.
"""

import hashlib
import os
import shutil
import subprocess
import time

import pytest

from conftest import (attempt_lines, make_message, make_tempdir, outbound_config, qid_lines, submit, uniq,
                      wait_final, wait_until)

SIGNED, PLAIN = "dane.test", "plain.test"
MX1, MX2 = "mx1.dane.test", "mx2.dane.test"
IP1, IP2 = "127.0.0.2", "127.0.0.3"
WAIT = 15.0


@pytest.fixture
def sdns():
    """The signing test DNS: (server, trust anchor file).  The file is
    readable by all: the server reads it after dropping privileges."""
    from dnssec_sign import SignedDNS
    d = SignedDNS().start()
    tmp = make_tempdir("yubin-e2e-dane-")
    try:
        os.chmod(tmp, 0o755)
        anchor = tmp / "ta.ds"
        anchor.write_text(d.sign_zone(SIGNED) + "\n")
        os.chmod(anchor, 0o644)
        yield d, str(anchor)
    finally:
        d.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def spki_sha256(cert_file):
    """The "3 1 1" data of a PEM certificate: SHA-256 of its public key."""
    pub = subprocess.run(["openssl", "x509", "-in", cert_file, "-noout", "-pubkey"],
                         check=True, capture_output=True, timeout=30).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         check=True, capture_output=True, timeout=30).stdout
    return hashlib.sha256(der).hexdigest()


def start(make_server, d, anchor, mx, **kw):
    return make_server(extra=outbound_config(d, mx.port, trust_anchor=anchor, **kw))


def send(srv, domain, what):
    user, pw = srv.add_user()
    rcpt = f"{uniq(what)}@{domain}"
    qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, what, [f"DANE test: {what}"]))
    return qid, rcpt


def wait_deferred(srv, qid):
    return wait_until(lambda: [l for l in qid_lines(srv, qid) if l.get("result") == "deferred"],
                      WAIT, what=f"a deferral of {qid}")[-1]


def expect_outcome(srv, rx, qid, rcpt, dane=None, refusal=None):
    """Sent with dane=<dane> in the attempt line, or (dane None) deferred
    with a reply containing every part of refusal, nothing given to rx."""
    if dane is not None:
        rx.wait_messages(1, WAIT)
        assert wait_final(srv, qid, rcpt)["result"] == "sent"
        assert attempt_lines(srv, qid, rcpt)[-1]["dane"] == dane
        return
    reply = wait_deferred(srv, qid)["reply"]
    assert all(part in reply for part in refusal), reply
    assert rx.messages == [] and "MAIL" not in rx.verbs()


def test_dns_query_dnssec_verdicts(make_server, sdns):
    d, anchor = sdns
    d.set(MX1, "A", [IP1]).set(f"mx1.{PLAIN}", "A", [IP1]).set(f"bad.{SIGNED}", "A", [IP2])
    d.bogus(f"bad.{SIGNED}")
    srv = make_server(extra=outbound_config(d, 25, trust_anchor=anchor))
    p = srv.cli("dns", "query", MX1, "a")
    assert p.returncode == 0 and p.stdout.splitlines() == ["status=ok secure=yes dnssec=secure", IP1], p.stdout
    p = srv.cli("dns", "query", f"mx1.{PLAIN}", "a")
    assert p.stdout.splitlines() == ["status=ok secure=no dnssec=insecure", IP1], p.stdout
    p = srv.cli("dns", "query", f"bad.{SIGNED}", "a")
    first = p.stdout.splitlines()[0]
    assert p.returncode != 0 and first.startswith("status=tempfail secure=no dnssec=bogus why="), p.stdout
    assert "validation failure" in first, first
    # an authenticated denial: a secure NODATA
    p = srv.cli("dns", "query", f"_25._tcp.{MX1}", "tlsa")
    assert p.stdout.splitlines() == ["status=nodata secure=yes dnssec=secure"], p.stdout
    # without the anchor nothing is validated
    srv2 = make_server(extra=outbound_config(d, 25))
    p = srv2.cli("dns", "query", MX1, "a")
    assert p.stdout.splitlines()[0] == "status=ok secure=no dnssec=insecure", p.stdout


def test_matching_tlsa_delivered(make_server, sdns, mx, test_ca):
    d, anchor = sdns
    d.mx(SIGNED, (10, MX1)).a(MX1, IP1)
    d.set(f"_25._tcp.{MX1}", "TLSA", [(3, 1, 1, spki_sha256(test_ca["cert"]))])
    rx = mx.add(IP1, hostname=MX1, cert=test_ca)
    srv = start(make_server, d, anchor, mx)
    qid, rcpt = send(srv, SIGNED, "dane-ok")
    (m,) = rx.wait_messages(1, WAIT)
    assert m["tls"] and m["tls"].startswith("TLSv1"), m["tls"]
    fin = wait_final(srv, qid, rcpt)
    assert fin["result"] == "sent", fin["_line"]
    (att,) = attempt_lines(srv, qid, rcpt)
    assert att["dane"] == "dane-ee" and att["verified"] == "yes", att["_line"]
    # the next message rides on the same connection, which DANE authenticated
    qid2, rcpt2 = send(srv, SIGNED, "dane-again")
    rx.wait_messages(2, WAIT)
    assert wait_final(srv, qid2, rcpt2)["result"] == "sent"
    (att2,) = attempt_lines(srv, qid2, rcpt2)
    assert att2["dane"] == "dane-ee" and att2["verified"] == "yes", att2["_line"]
    assert len({s["peer"] for s in rx.sessions}) == 1, rx.sessions   # one connection


def test_mismatch_and_stripped_starttls_deferred(make_server, sdns, mx, test_ca, tls_cert):
    """MX 10 presents a certificate that matches no TLSA record; MX 20
    has TLSA records but offers no STARTTLS: neither gets the message."""
    d, anchor = sdns
    d.mx(SIGNED, (10, MX1), (20, MX2)).a(MX1, IP1).a(MX2, IP2)
    d.set(f"_25._tcp.{MX1}", "TLSA", [(3, 1, 1, spki_sha256(test_ca["cert"]))])
    d.set(f"_25._tcp.{MX2}", "TLSA", [(3, 1, 1, spki_sha256(test_ca["cert"]))])
    rx1 = mx.add(IP1, hostname=MX1, cert=tls_cert)    # another key
    rx2 = mx.add(IP2, hostname=MX2)                   # no STARTTLS
    srv = start(make_server, d, anchor, mx, retry=[60])
    qid, rcpt = send(srv, SIGNED, "dane-bad")
    fin = wait_deferred(srv, qid)
    reply = fin["reply"]
    assert f"{MX1}[{IP1}]:{mx.port}: 451 4.7.5 The certificate of {MX1} does not match its DANE TLSA " \
           f"records (no matching TLSA record)" in reply, reply
    assert f"{MX2}[{IP2}]:{mx.port}: 451 4.7.5 {MX2} has DANE TLSA records but did not start TLS" in reply, reply
    atts = {a["mx"]: a for a in attempt_lines(srv, qid, rcpt)}
    assert atts[MX1]["dane"] == "fail" and atts[MX2]["dane"] == "no-starttls", atts
    assert rx1.messages == [] and rx2.messages == []
    assert "MAIL" not in rx1.verbs() and "MAIL" not in rx2.verbs(), (rx1.commands, rx2.commands)
    assert "STARTTLS" in rx1.verbs()


def test_starttls_refused_deferred(make_server, sdns, mx, test_ca):
    """STARTTLS advertised, then refused with 454: no fall-back to plain."""
    d, anchor = sdns
    d.mx(SIGNED, (10, MX1)).a(MX1, IP1)
    d.set(f"_25._tcp.{MX1}", "TLSA", [(3, 1, 1, spki_sha256(test_ca["cert"]))])
    rx = mx.add(IP1, hostname=MX1, extensions=["STARTTLS"])  # says it, has no TLS
    srv = start(make_server, d, anchor, mx, retry=[60])
    qid, rcpt = send(srv, SIGNED, "dane-454")
    fin = wait_deferred(srv, qid)
    assert "451 4.7.5" in fin["reply"] and "did not start TLS" in fin["reply"], fin["reply"]
    assert "STARTTLS" in rx.verbs() and "MAIL" not in rx.verbs(), rx.commands
    assert rx.messages == []


def test_bogus_tlsa_deferred(make_server, sdns, mx, test_ca):
    """An attacker who breaks the TLSA answer gets the host skipped, not a
    delivery without DANE."""
    d, anchor = sdns
    d.mx(SIGNED, (10, MX1)).a(MX1, IP1)
    d.set(f"_25._tcp.{MX1}", "TLSA", [(3, 1, 1, spki_sha256(test_ca["cert"]))])
    d.bogus(f"_25._tcp.{MX1}")
    rx = mx.add(IP1, hostname=MX1, cert=test_ca)
    srv = start(make_server, d, anchor, mx, retry=[60])
    qid, rcpt = send(srv, SIGNED, "dane-bogus")
    fin = wait_deferred(srv, qid)
    assert f"451 4.7.5 DANE: the TLSA records of {MX1} are bogus (validation failure" in fin["reply"], \
        fin["reply"]
    assert rx.messages == [] and rx.commands == [], rx.commands


def test_tlsa_lookup_timeout_deferred(make_server, sdns, mx, test_ca):
    """TLSA questions dropped (indeterminate): the host is not used."""
    d, anchor = sdns
    d.mx(SIGNED, (10, MX1)).a(MX1, IP1)
    d.timeout(f"_25._tcp.{MX1}")
    rx = mx.add(IP1, hostname=MX1, cert=test_ca)
    srv = make_server(extra=outbound_config(d, mx.port, trust_anchor=anchor, dns_timeout=2, retry=[60]))
    qid, rcpt = send(srv, SIGNED, "dane-timeout")
    fin = wait_deferred(srv, qid)
    assert f"451 4.7.5 DANE: the TLSA look-up for {MX1} failed" in fin["reply"], fin["reply"]
    assert rx.messages == [] and rx.commands == [], rx.commands


@pytest.mark.parametrize("zone", [PLAIN, SIGNED])
def test_no_dane_is_opportunistic(make_server, sdns, mx, zone):
    """An unsigned zone (its TLSA, even a wrong one, counts for nothing) and
    a signed zone without TLSA (a secure denial): delivered, in the clear
    when STARTTLS is not offered."""
    d, anchor = sdns
    host = f"mx1.{zone}"
    d.mx(zone, (10, host)).a(host, IP1)
    if zone == PLAIN:
        d.set(f"_25._tcp.{host}", "TLSA", [(3, 1, 1, "ab" * 32)])
    rx = mx.add(IP1, hostname=host)                    # no STARTTLS
    srv = start(make_server, d, anchor, mx)
    qid, rcpt = send(srv, zone, "opportunistic")
    (m,) = rx.wait_messages(1, WAIT)
    assert m["tls"] is None
    fin = wait_final(srv, qid, rcpt)
    assert fin["result"] == "sent", fin["_line"]
    (att,) = attempt_lines(srv, qid, rcpt)
    assert att["dane"] == "none", att["_line"]


def test_idle_connection_without_dane_not_reused_for_dane(make_server, sdns, mx, test_ca):
    """A connection opened while the host had no TLSA stays idle in the
    pool; once a TLSA record appears, the next message must not ride on it
    (it was never authenticated by DANE): a wrong record defers it."""
    d, anchor = sdns
    d.mx(SIGNED, (10, MX1)).a(MX1, IP1)
    rx = mx.add(IP1, hostname=MX1, cert=test_ca)
    srv = start(make_server, d, anchor, mx, retry=[60])
    qid1, rcpt1 = send(srv, SIGNED, "before-tlsa")
    rx.wait_messages(1, WAIT)
    assert wait_final(srv, qid1, rcpt1)["result"] == "sent"
    (att1,) = attempt_lines(srv, qid1, rcpt1)
    assert att1["dane"] == "none", att1["_line"]
    d.set(f"_25._tcp.{MX1}", "TLSA", [(3, 1, 1, "ab" * 32)])     # matches nothing
    # libunbound keeps a TTL 0 answer until its clock's second ends: the
    # next second, well inside the pool's idle time (CONNPOOL_IDLE, 2 s)
    time.sleep(1.02 - time.time() % 1)
    qid2, rcpt2 = send(srv, SIGNED, "after-tlsa")               # within the idle time
    fin = wait_deferred(srv, qid2)
    assert "451 4.7.5 The certificate of" in fin["reply"], fin["reply"]
    assert len(rx.messages) == 1, rx.messages
    # a matching record: delivered on a connection DANE authenticated
    d.set(f"_25._tcp.{MX1}", "TLSA", [(3, 1, 1, spki_sha256(test_ca["cert"]))])
    qid3, rcpt3 = send(srv, SIGNED, "matching-tlsa")
    rx.wait_messages(2, WAIT)
    assert wait_final(srv, qid3, rcpt3)["result"] == "sent"
    assert attempt_lines(srv, qid3, rcpt3)[-1]["dane"] == "dane-ee"


def test_root_anchor_with_chosen_server(make_server, sdns, mx, tmp_path):
    """The root anchor (as with "auto" on a real host) and a DNS server
    that cannot prove the root: the start-up check says DNSSEC is unusable,
    and the test/private zones such a server answers for stay insecure
    (mail to them still goes), rather than every answer turning bogus."""
    d, _ = sdns
    root = make_tempdir("yubin-e2e-root-")
    anchor = root / "root.ds"
    # the root zone's KSK-2017 DS record (as in dns-root-data's root.ds)
    anchor.write_text(". IN DS 20326 8 2 e06d44b80b8f1d39a95c0b0d7c65d08458e880409bbc683457104237c7f8ec8d\n")
    os.chmod(anchor, 0o644)
    try:
        d.mx(PLAIN, (10, f"mx1.{PLAIN}")).a(f"mx1.{PLAIN}", IP1)
        rx = mx.add(IP1, hostname=f"mx1.{PLAIN}")
        srv = start(make_server, d, str(anchor), mx)
        wait_until(lambda: "event=dns" in srv.stderr_text() and "dnssec=unusable" in srv.stderr_text(),
                   WAIT, what="the DNSSEC start-up check's error")
        line = next(l for l in srv.stderr_text().splitlines() if "dnssec=unusable" in l)
        assert "level=error" in line and "why=" in line, line
        p = srv.cli("dns", "query", f"mx1.{PLAIN}", "a")
        assert p.stdout.splitlines() == ["status=ok secure=no dnssec=insecure", IP1], p.stdout
        qid, rcpt = send(srv, PLAIN, "root-anchor")
        rx.wait_messages(1, WAIT)
        assert wait_final(srv, qid, rcpt)["result"] == "sent"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def issue(ca, name, d):
    """A certificate for name signed by the test CA; its PEM file holds the
    chain (leaf, then the CA), as a DANE-TA server must send it."""
    run = lambda *a: subprocess.run(list(a), check=True, capture_output=True, timeout=60)
    key, csr, leaf, ext = d / f"{name}.key", d / f"{name}.csr", d / f"{name}.pem", d / f"{name}.ext"
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}")
    ext.write_text(f"subjectAltName=DNS:{name}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    run("openssl", "x509", "-req", "-in", str(csr), "-CA", ca["ca"], "-CAkey", str(ca["dir"] / "ca.key"),
        "-CAcreateserial", "-CAserial", str(d / "ca.srl"), "-out", str(leaf), "-days", "30",
        "-extfile", str(ext))
    chain = d / f"{name}.chain.pem"
    chain.write_text(leaf.read_text() + open(ca["ca"]).read())
    for f in (key, chain):
        os.chmod(f, 0o644)
    return {"cert": str(chain), "key": str(key)}


@pytest.mark.parametrize("name,delivered", [(MX1, True), (SIGNED, False), ("mx1.elsewhere.test", False)])
def test_dane_ta(make_server, sdns, mx, test_ca, name, delivered):
    """2 1 1 (the CA's key): the server's certificate must chain to it and
    name the MX host; the recipient domain is no reference name (RFC 7672
    3.2.2, 3.2.3)."""
    d, anchor = sdns
    d.mx(SIGNED, (10, MX1)).a(MX1, IP1)
    d.set(f"_25._tcp.{MX1}", "TLSA", [(2, 1, 1, spki_sha256(test_ca["ca"]))])
    dane_ta_attempt(make_server, d, anchor, mx, test_ca, MX1, name, delivered)


def dane_ta_attempt(make_server, d, anchor, mx, test_ca, host, name, delivered):
    """A message to dane.test, whose server (host, at IP1) has a certificate
    for name issued by the test CA: delivered with dane=dane-ta, or
    deferred for the name."""
    tmp = make_tempdir("yubin-e2e-danta-")
    try:
        rx = mx.add(IP1, hostname=host, cert=issue(test_ca, name, tmp))
        srv = start(make_server, d, anchor, mx, retry=[60])
        qid, rcpt = send(srv, SIGNED, "dane-ta")
        expect_outcome(srv, rx, qid, rcpt, dane="dane-ta" if delivered else None,
                       refusal=("451 4.7.5 The certificate of", "hostname mismatch"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_bogus_mx_deferred_without_address_fallback(make_server, sdns, mx):
    """A bogus MX answer is not "no MX": the domain's own address record is
    not used (RFC 7672 2.2.1), the recipients wait with the reason."""
    d, anchor = sdns
    d.mx(SIGNED, (10, MX1)).a(MX1, IP1).a(SIGNED, IP1)
    d.bogus(SIGNED)
    rx = mx.add(IP1, hostname=MX1)
    srv = start(make_server, d, anchor, mx, retry=[60])
    qid, rcpt = send(srv, SIGNED, "bogus-mx")
    fin = wait_deferred(srv, qid)
    assert fin["reply"].startswith(f"451 4.4.3 Temporary DNS failure looking up the MX of {SIGNED} "
                                   f"(DNSSEC bogus: validation failure"), fin["reply"]
    assert rx.commands == [], rx.commands


def test_dane_takes_precedence_over_mta_sts(make_server, sdns, mx, test_ca, tls_cert):
    """An enforce MTA-STS policy names the MX, whose certificate is
    self-signed (no PKIX validation) but matches its DANE-EE record: DANE
    decides (RFC 8461 2), the message is delivered."""
    from sts_https import PolicyServer, make_cert
    d, anchor = sdns
    d.mx(SIGNED, (10, MX1)).a(MX1, IP1)
    d.set(f"_25._tcp.{MX1}", "TLSA", [(3, 1, 1, spki_sha256(tls_cert["cert"]))])
    d.set(f"_mta-sts.{SIGNED}", "TXT", ["v=STSv1; id=1;"]).a(f"mta-sts.{SIGNED}", "127.0.0.1")
    cert, key = make_cert(test_ca, [f"mta-sts.{SIGNED}"])
    ps = PolicyServer(cert, key).start()
    try:
        ps.policies[SIGNED] = f"version: STSv1\r\nmode: enforce\r\nmx: {MX1}\r\nmax_age: 86400\r\n"
        rx = mx.add(IP1, hostname=MX1, cert=tls_cert)
        srv = make_server(extra=outbound_config(d, mx.port, ca_file=test_ca["ca"], trust_anchor=anchor) +
                          f"\nmtasts: {{ test_https_port = {ps.port}; fetch_timeout = 5; }};")
        qid, rcpt = send(srv, SIGNED, "dane-over-sts")
        rx.wait_messages(1, WAIT)
        assert wait_final(srv, qid, rcpt)["result"] == "sent"
        assert attempt_lines(srv, qid, rcpt)[-1]["dane"] == "dane-ee"
        assert "mode=enforce" in srv.stderr_text(), "the policy was not applied"
    finally:
        ps.stop()


def test_tls_required_no_ignores_dane(make_server, sdns, mx):
    """"TLS-Required: No" (RFC 8689 4.2.2): the TLSA records (here matching
    nothing, on a host without STARTTLS) do not stop the message."""
    d, anchor = sdns
    d.mx(SIGNED, (10, MX1)).a(MX1, IP1)
    d.set(f"_25._tcp.{MX1}", "TLSA", [(3, 1, 1, "ab" * 32)])
    rx = mx.add(IP1, hostname=MX1)                    # no STARTTLS
    srv = start(make_server, d, anchor, mx, retry=[60])
    user, pw = srv.add_user()
    rcpt = f"{uniq('tlsreq-no')}@{SIGNED}"
    msg = make_message(user, rcpt, "tls-required-no", ["plain is fine"], extra_headers=["TLS-Required: No"])
    qid = submit(srv, user, pw, [rcpt], msg)
    (m,) = rx.wait_messages(1, WAIT)
    assert m["tls"] is None
    assert wait_final(srv, qid, rcpt)["result"] == "sent"
    assert attempt_lines(srv, qid, rcpt)[-1]["dane"] == "none"


# ---- CNAME expansion of MX host names (RFC 7672 2.2.2, 2.2.3; RFC 7671 7) ----
#
# MX 10 mx1.dane.test; mx1.dane.test CNAME mid.dane.test; mid.dane.test
# CNAME host1.<zone> A 127.0.0.2.  The receiver's certificate is the test
# CA's; "good" is a 3 1 1 record of its key, "bad" one of another key.

HOST1, MID = f"host1.{SIGNED}", f"mid.{SIGNED}"


def alias_chain(d, target):
    d.mx(SIGNED, (10, MX1)).set(MX1, "CNAME", [MID]).set(MID, "CNAME", [target]).a(target, IP1)


@pytest.mark.parametrize("target,verdict", [(HOST1, "secure"), (f"host1.{PLAIN}", "insecure"),
                                            (f"host1.u.{SIGNED}", "insecure")])
def test_dns_query_shows_canonical_name(make_server, sdns, target, verdict):
    d, anchor = sdns
    d.delegate_unsigned(f"u.{SIGNED}")
    alias_chain(d, target)
    srv = make_server(extra=outbound_config(d, 25, trust_anchor=anchor))
    p = srv.cli("dns", "query", MX1, "a")
    assert p.stdout.splitlines() == [f"status=ok secure={'yes' if verdict == 'secure' else 'no'} "
                                     f"dnssec={verdict} canonical={target}", IP1], p.stdout
    p = srv.cli("dns", "query", MX1, "cname")          # the first link alone: secure
    assert p.stdout.splitlines() == ["status=ok secure=yes dnssec=secure", MID], p.stdout


@pytest.mark.parametrize("at_target,at_orig,outcome", [
    ("good", None, "dane-ee"),      # at the expanded name only: found there
    ("bad", None, "deferred"),
    (None, "good", "dane-ee"),      # none at the target: the original name's
    (None, "bad", "deferred"),
    ("good", "bad", "dane-ee"),     # both: the target's wins
    ("bad", "good", "deferred"),    # ... even when the original's would match
])
def test_cname_mx_tlsa_base(make_server, sdns, mx, test_ca, tls_cert, at_target, at_orig, outcome):
    d, anchor = sdns
    alias_chain(d, HOST1)
    rec = {"good": spki_sha256(test_ca["cert"]), "bad": spki_sha256(tls_cert["cert"])}
    if at_target:
        d.set(f"_25._tcp.{HOST1}", "TLSA", [(3, 1, 1, rec[at_target])])
    if at_orig:
        d.set(f"_25._tcp.{MX1}", "TLSA", [(3, 1, 1, rec[at_orig])])
    rx = mx.add(IP1, hostname=HOST1, cert=test_ca)
    srv = start(make_server, d, anchor, mx, retry=[60])
    qid, rcpt = send(srv, SIGNED, "cname-base")
    expect_outcome(srv, rx, qid, rcpt, dane=None if outcome == "deferred" else outcome,
                   refusal=(f"451 4.7.5 The certificate of {MX1} does not match its DANE TLSA records",))
    if outcome == "deferred":
        assert "STARTTLS" in rx.verbs()


def test_cname_target_tlsa_lookup_failure_skips_host(make_server, sdns, mx, test_ca):
    """The target's TLSA look-up is bogus: the host is not used, though the
    original name has a matching record (an attacker must not get the
    target's records ignored)."""
    d, anchor = sdns
    alias_chain(d, HOST1)
    d.set(f"_25._tcp.{HOST1}", "TLSA", [(3, 1, 1, spki_sha256(test_ca["cert"]))])
    d.set(f"_25._tcp.{MX1}", "TLSA", [(3, 1, 1, spki_sha256(test_ca["cert"]))])
    d.bogus(f"_25._tcp.{HOST1}")
    rx = mx.add(IP1, hostname=HOST1, cert=test_ca)
    srv = start(make_server, d, anchor, mx, retry=[60])
    qid, rcpt = send(srv, SIGNED, "cname-bogus")
    reply = wait_deferred(srv, qid)["reply"]
    assert f"451 4.7.5 DANE: the TLSA records of {HOST1} (CNAME target of {MX1}) are bogus" in reply, reply
    assert rx.commands == [], rx.commands


@pytest.mark.parametrize("where", ["delegation", "other-zone"])
@pytest.mark.parametrize("at_orig", ["bad", None])
def test_cname_insecure_target(make_server, sdns, mx, test_ca, tls_cert, at_orig, where):
    """The chain leaves the signed zone (into an unsigned child zone of
    dane.test, or into plain.test): the target is insecure.  Its TLSA
    records (here a wrong one) are not trusted; the first link is secure,
    so the original name's records still count: a wrong one there defers,
    none there is opportunistic TLS."""
    d, anchor = sdns
    if where == "delegation":
        d.delegate_unsigned(f"u.{SIGNED}")
        target = f"host1.u.{SIGNED}"
    else:
        target = f"host1.{PLAIN}"
    alias_chain(d, target)
    d.set(f"_25._tcp.{target}", "TLSA", [(3, 1, 1, spki_sha256(tls_cert["cert"]))])
    if at_orig:
        d.set(f"_25._tcp.{MX1}", "TLSA", [(3, 1, 1, spki_sha256(tls_cert["cert"]))])
    rx = mx.add(IP1, hostname=target, cert=test_ca)
    srv = start(make_server, d, anchor, mx, retry=[60])
    qid, rcpt = send(srv, SIGNED, "cname-insecure")
    expect_outcome(srv, rx, qid, rcpt, dane="none" if at_orig is None else None,
                   refusal=(f"451 4.7.5 The certificate of {MX1} does not match its DANE TLSA records",))


def test_cname_insecure_first_link_no_dane(make_server, sdns, mx, tls_cert):
    """The MX name itself is an alias in an unsigned zone: no DANE at all,
    whatever the (signed) target publishes."""
    d, anchor = sdns
    alias = f"mx1.{PLAIN}"
    d.mx(SIGNED, (10, alias)).set(alias, "CNAME", [HOST1]).a(HOST1, IP1)
    d.set(f"_25._tcp.{HOST1}", "TLSA", [(3, 1, 1, spki_sha256(tls_cert["cert"]))])
    rx = mx.add(IP1, hostname=HOST1)                     # no STARTTLS
    srv = start(make_server, d, anchor, mx, retry=[60])
    qid, rcpt = send(srv, SIGNED, "cname-insecure-first")
    expect_outcome(srv, rx, qid, rcpt, dane="none")


@pytest.mark.parametrize("zone,outcome", [(SIGNED, "deferred"), (PLAIN, "none")])
def test_tlsa_rrset_via_cname(make_server, sdns, mx, test_ca, tls_cert, zone, outcome):
    """_25._tcp.<mx> is itself an alias (a shared TLSA RRset): a secure
    chain's records count (here a wrong one: deferred); an insecure one is
    no TLSA (opportunistic)."""
    d, anchor = sdns
    d.mx(SIGNED, (10, MX1)).a(MX1, IP1)
    shared = f"_25._tcp.shared.{zone}"
    d.set(f"_25._tcp.{MX1}", "CNAME", [shared]).set(shared, "TLSA", [(3, 1, 1, spki_sha256(tls_cert["cert"]))])
    rx = mx.add(IP1, hostname=MX1, cert=test_ca)
    srv = start(make_server, d, anchor, mx, retry=[60])
    qid, rcpt = send(srv, SIGNED, "tlsa-cname")
    expect_outcome(srv, rx, qid, rcpt, dane=None if outcome == "deferred" else outcome,
                   refusal=(f"451 4.7.5 The certificate of {MX1} does not match its DANE TLSA records",))


def test_tlsa_rrset_via_secure_cname_delivered(make_server, sdns, mx, test_ca):
    d, anchor = sdns
    d.mx(SIGNED, (10, MX1)).a(MX1, IP1)
    shared = f"_25._tcp.shared.{SIGNED}"
    d.set(f"_25._tcp.{MX1}", "CNAME", [shared]).set(shared, "TLSA", [(3, 1, 1, spki_sha256(test_ca["cert"]))])
    rx = mx.add(IP1, hostname=MX1, cert=test_ca)
    srv = start(make_server, d, anchor, mx)
    qid, rcpt = send(srv, SIGNED, "tlsa-cname-ok")
    expect_outcome(srv, rx, qid, rcpt, dane="dane-ee")


@pytest.mark.parametrize("tlsa_at,name,delivered", [
    (HOST1, MX1, True),           # the original MX name is a reference name
    (HOST1, HOST1, True),         # ... and so is the expanded name
    (MX1, HOST1, True),           # whichever name holds the records
    (HOST1, SIGNED, False),       # never the recipient domain
    (HOST1, MID, False),          # nor a name in the middle of the chain
])
def test_cname_dane_ta_reference_names(make_server, sdns, mx, test_ca, tlsa_at, name, delivered):
    d, anchor = sdns
    alias_chain(d, HOST1)
    d.set(f"_25._tcp.{tlsa_at}", "TLSA", [(2, 1, 1, spki_sha256(test_ca["ca"]))])
    dane_ta_attempt(make_server, d, anchor, mx, test_ca, HOST1, name, delivered)


def test_cname_insecure_target_not_a_reference_name(make_server, sdns, mx, test_ca):
    """Through an insecure link the expanded name is not trusted: a DANE-TA
    certificate for it alone does not do (the original name's records)."""
    d, anchor = sdns
    target = f"host1.{PLAIN}"
    alias_chain(d, target)
    d.set(f"_25._tcp.{MX1}", "TLSA", [(2, 1, 1, spki_sha256(test_ca["ca"]))])
    dane_ta_attempt(make_server, d, anchor, mx, test_ca, target, target, False)
