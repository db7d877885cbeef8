"""DANE for outbound SMTP (issue 14, RFC 7672) against a zone signed by
Debian's tools and served by NSD (signedzone.py), not by our own test DNS:
if these pass while test_dane.py fails, or the other way round, suspect the
test DNS; if drill (an independent validator) disagrees with yubin, suspect
yubin; if drill already fails, suspect the zone.

The zone dnssec.test (ldns-signzone, NSEC3), its DS record given to yubin
as dns.trust_anchor:
    ok.       MX mx.ok       TLSA 3 1 1 of the test CA's certificate's key
    mismatch. MX mx.mismatch and mx2.mismatch, the same TLSA (their servers
              present another certificate, or no STARTTLS)
    bogus.    MX mx.bogus    TLSA changed after signing (bogus)
    skip.     MX 10 mx.bogus, MX 20 mx.ok
    notlsa.   MX mx.notlsa   no TLSA (NSEC3 proves it)
    plain.    delegated without a DS: an unsigned child zone, whose TLSA
              record (matching nothing) counts for nothing
"""

import shutil

import pytest

from conftest import attempt_lines, make_tempdir, outbound_config, wait_final
from signedzone import SignedZone
from test_dane import WAIT, send, spki_sha256, wait_deferred

ZONE = "dnssec.test"
PLAIN = f"plain.{ZONE}"
IP_OK, IP_BOGUS, IP_MISMATCH, IP_MISMATCH2, IP_PLAIN, IP_NOTLSA = (
    "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7")
NOMATCH = "ff" * 32


@pytest.fixture(scope="module")
def zone(test_ca):
    tlsa = spki_sha256(test_ca["cert"])
    records = [
        "ok IN MX 10 mx.ok", f"mx.ok IN A {IP_OK}", f"_25._tcp.mx.ok IN TLSA 3 1 1 {tlsa}",
        "mismatch IN MX 10 mx.mismatch", "mismatch IN MX 20 mx2.mismatch",
        f"mx.mismatch IN A {IP_MISMATCH}", f"_25._tcp.mx.mismatch IN TLSA 3 1 1 {tlsa}",
        f"mx2.mismatch IN A {IP_MISMATCH2}", f"_25._tcp.mx2.mismatch IN TLSA 3 1 1 {tlsa}",
        "bogus IN MX 10 mx.bogus", f"mx.bogus IN A {IP_BOGUS}", f"_25._tcp.mx.bogus IN TLSA 3 1 1 {tlsa}",
        "skip IN MX 10 mx.bogus", "skip IN MX 20 mx.ok",
        "notlsa IN MX 10 mx.notlsa", f"mx.notlsa IN A {IP_NOTLSA}",
    ]
    child = ["@ IN MX 10 mx", f"mx IN A {IP_PLAIN}", f"_25._tcp.mx IN TLSA 3 1 1 {NOMATCH}"]
    tmp = make_tempdir("yubin-e2e-nsd-")
    z = SignedZone(tmp, ZONE, records, children={PLAIN: child}, bogus=[("_25._tcp.mx.bogus", "TLSA")])
    try:
        yield z.start()
    finally:
        z.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def start(make_server, zone, mx, **kw):
    return make_server(extra=outbound_config(zone, mx.port, trust_anchor=zone.anchor, **kw))


def drill_says(zone, name, rtype, verdict):
    """The zone is as the test needs it, by drill: when this fails, the
    zone or NSD is at fault, not yubin."""
    got = zone.chase(name, rtype)
    assert got == verdict, (name, rtype, got, zone.drill(name, rtype)[1])


def test_zone_validates_for_drill_and_yubin(make_server, zone):
    """drill (ldns) and yubin (libunbound) reach the same verdicts on the
    zone as NSD serves it."""
    want = [
        # name, type, drill's verdict, yubin's first line
        (f"mx.ok.{ZONE}", "A", "secure", "status=ok secure=yes dnssec=secure"),
        (f"_25._tcp.mx.ok.{ZONE}", "TLSA", "secure", "status=ok secure=yes dnssec=secure"),
        (f"_25._tcp.mx.notlsa.{ZONE}", "TLSA", "denied", "status=nxdomain secure=yes dnssec=secure"),
        (f"mx.notlsa.{ZONE}", "TLSA", "denied", "status=nodata secure=yes dnssec=secure"),
        (f"_25._tcp.mx.bogus.{ZONE}", "TLSA", "bogus", "status=tempfail secure=no dnssec=bogus why="),
        (PLAIN, "DS", "denied", "status=nodata secure=yes dnssec=secure"),   # hence insecure below
        (f"mx.{PLAIN}", "A", "failed", "status=ok secure=no dnssec=insecure"),
        (f"_25._tcp.mx.{PLAIN}", "TLSA", "failed", "status=ok secure=no dnssec=insecure"),
    ]
    srv = make_server(extra=outbound_config(zone, 25, trust_anchor=zone.anchor))
    for name, rtype, verdict, line in want:
        drill_says(zone, name, rtype, verdict)
        if rtype == "DS":
            continue        # yubin's `dns query` has no DS type: drill's verdict is the point
        p = srv.cli("dns", "query", name, rtype.lower())
        first = p.stdout.splitlines()[0] if p.stdout else ""
        assert first.startswith(line), (name, rtype, p.stdout, p.stderr)
    assert zone.signed_answer(f"mx.ok.{ZONE}", "A")
    assert not zone.signed_answer(f"mx.{PLAIN}", "A")   # the child zone is served unsigned
    p = srv.cli("dns", "query", f"_25._tcp.mx.bogus.{ZONE}", "tlsa")
    assert "validation failure" in p.stdout, p.stdout


def test_matching_dane_ee_delivered(make_server, zone, mx, test_ca):
    drill_says(zone, f"_25._tcp.mx.ok.{ZONE}", "TLSA", "secure")
    rx = mx.add(IP_OK, hostname=f"mx.ok.{ZONE}", cert=test_ca)
    srv = start(make_server, zone, mx)
    qid, rcpt = send(srv, f"ok.{ZONE}", "nsd-dane-ok")
    (m,) = rx.wait_messages(1, WAIT)
    assert m["tls"] and m["tls"].startswith("TLSv1"), m["tls"]
    fin = wait_final(srv, qid, rcpt)
    assert fin["result"] == "sent", fin["_line"]
    (att,) = attempt_lines(srv, qid, rcpt)
    assert att["dane"] == "dane-ee" and att["verified"] == "yes" and att["policy"] == "dane", att["_line"]


def test_mismatch_deferred_never_in_clear(make_server, zone, mx, tls_cert):
    """MX 10 presents a certificate whose key is not the published one;
    MX 20 offers no STARTTLS: neither gets the message, neither in the
    clear nor over TLS."""
    drill_says(zone, f"_25._tcp.mx.mismatch.{ZONE}", "TLSA", "secure")
    drill_says(zone, f"_25._tcp.mx2.mismatch.{ZONE}", "TLSA", "secure")
    rx1 = mx.add(IP_MISMATCH, hostname=f"mx.mismatch.{ZONE}", cert=tls_cert)
    rx2 = mx.add(IP_MISMATCH2, hostname=f"mx2.mismatch.{ZONE}")
    srv = start(make_server, zone, mx, retry=[60])
    qid, rcpt = send(srv, f"mismatch.{ZONE}", "nsd-dane-mismatch")
    reply = wait_deferred(srv, qid)["reply"]
    h1, h2 = f"mx.mismatch.{ZONE}", f"mx2.mismatch.{ZONE}"
    assert f"{h1}[{IP_MISMATCH}]:{mx.port}: 451 4.7.5 The certificate of {h1} does not match its DANE " \
           f"TLSA records (no matching TLSA record)" in reply, reply
    assert f"{h2}[{IP_MISMATCH2}]:{mx.port}: 451 4.7.5 {h2} has DANE TLSA records but did not start TLS" \
        in reply, reply
    atts = {a["mx"]: a for a in attempt_lines(srv, qid, rcpt)}
    assert atts[h1]["dane"] == "fail" and atts[h2]["dane"] == "no-starttls", atts
    assert "STARTTLS" in rx1.verbs()
    for rx in (rx1, rx2):
        assert rx.messages == [] and "MAIL" not in rx.verbs() and "DATA" not in rx.verbs(), rx.commands


def test_bogus_tlsa_host_skipped(make_server, zone, mx, test_ca):
    """A TLSA record changed after signing: its host is not used at all
    (not even without DANE); with a second MX the message goes there."""
    drill_says(zone, f"_25._tcp.mx.bogus.{ZONE}", "TLSA", "bogus")
    bad = mx.add(IP_BOGUS, hostname=f"mx.bogus.{ZONE}", cert=test_ca)
    good = mx.add(IP_OK, hostname=f"mx.ok.{ZONE}", cert=test_ca)
    srv = start(make_server, zone, mx, retry=[60])
    qid, rcpt = send(srv, f"bogus.{ZONE}", "nsd-dane-bogus")
    reply = wait_deferred(srv, qid)["reply"]
    assert f"451 4.7.5 DANE: the TLSA records of mx.bogus.{ZONE} are bogus (validation failure" in reply, reply
    qid2, rcpt2 = send(srv, f"skip.{ZONE}", "nsd-dane-skip")
    good.wait_messages(1, WAIT)
    assert wait_final(srv, qid2, rcpt2)["result"] == "sent"
    (att,) = attempt_lines(srv, qid2, rcpt2)
    assert att["mx"] == f"mx.ok.{ZONE}" and att["dane"] == "dane-ee", att["_line"]
    assert bad.commands == [] and bad.messages == [], bad.commands


@pytest.mark.parametrize("domain,ip", [(PLAIN, IP_PLAIN), (f"notlsa.{ZONE}", IP_NOTLSA)],
                         ids=["insecure-delegation", "secure-denial"])
@pytest.mark.parametrize("starttls", [True, False], ids=["starttls", "no-starttls"])
def test_no_dane_is_opportunistic(make_server, zone, mx, tls_cert, domain, ip, starttls):
    """The unsigned child zone (its TLSA record matches nothing and counts
    for nothing) and a signed host without TLSA: delivered, over TLS when
    the server offers it (its self-signed certificate is fine), in the
    clear when it does not."""
    if domain == PLAIN:     # no DS, proven by the parent: the child is insecure
        drill_says(zone, PLAIN, "DS", "denied")
        drill_says(zone, f"_25._tcp.mx.{domain}", "TLSA", "failed")
    else:
        drill_says(zone, f"_25._tcp.mx.{domain}", "TLSA", "denied")
    host = f"mx.{domain}"
    rx = mx.add(ip, hostname=host, cert=tls_cert if starttls else None)
    srv = start(make_server, zone, mx)
    qid, rcpt = send(srv, domain, "nsd-opportunistic")
    (m,) = rx.wait_messages(1, WAIT)
    assert (m["tls"] or "").startswith("TLSv1") if starttls else m["tls"] is None, m["tls"]
    fin = wait_final(srv, qid, rcpt)
    assert fin["result"] == "sent", fin["_line"]
    (att,) = attempt_lines(srv, qid, rcpt)
    assert att["dane"] == "none" and att["verified"] == "no" and att["policy"] == "none", att["_line"]
