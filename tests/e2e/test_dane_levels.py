"""The transport map's DANE levels (issue 14): tls = "dane" and
tls = "dane-only" (Postfix's words), against the DNSSEC-signing test DNS
(dnssec_sign.py, zone dane.test signed, plain.test not) and aiosmtpd
receivers with the test CA's certificate.

What a user sees: "dane-only" delivers to a host whose secure TLSA
records match (dane=dane-ee in the log) and defers with 4.7.5 everything
else (an unsigned zone, a signed one without TLSA, TLS-Required: No does
not lift it), nothing sent; "dane" delivers to a host without DANE at
"may" and logs dane_unavailable; a host: or relay route looks up the TLSA
records of its own port (each port of a relay its own), and DANE-TA's
certificate must name the configured host (or its secure CNAME target),
never the recipient domain; "verify" accepts a secure alias's target.
"""

import shutil

import pytest

from conftest import attempt_lines, free_port, make_tempdir, outbound_config, parse_logfmt, wait_final
from test_dane import sdns  # noqa: F401 (a fixture)
from test_dane import IP1, MX1, PLAIN, SIGNED, WAIT, expect_outcome, issue, send, spki_sha256, wait_deferred


def start(make_server, d, anchor, mx, domain, tls, route=None, **kw):
    entry = f'domain = "{domain}"; tls = "{tls}";' + (f' route = "{route}";' if route else "")
    return make_server(extra=outbound_config(d, mx.port, trust_anchor=anchor, **kw) +
                       f"\ntransport = ( {{ {entry} }} );\n")


def relay_server(make_server, d, anchor, mx, host, ports, tls):
    """A server whose mail to routed.example goes through the relay
    "office" (host, its ports, verify = 0) at transport level tls."""
    return make_server(extra=outbound_config(d, mx.port, trust_anchor=anchor, retry=[60]) +
                       f'\nrelays = ( {{ name = "office"; host = "{host}"; ports = [ {", ".join(map(str, ports))} ]; '
                       'verify = 0; } );\n'
                       f'transport = ( {{ domain = "routed.example"; route = "relay:office"; tls = "{tls}"; }} );\n')


def events(srv, name):
    return [parse_logfmt(l) for l in srv.stderr_text().splitlines() if f"event={name} " in l]


def test_dane_only_matching_tlsa_delivered(make_server, sdns, mx, test_ca):
    d, anchor = sdns
    d.mx(SIGNED, (10, MX1)).a(MX1, IP1)
    d.set(f"_25._tcp.{MX1}", "TLSA", [(3, 1, 1, spki_sha256(test_ca["cert"]))])
    rx = mx.add(IP1, hostname=MX1, cert=test_ca)
    srv = start(make_server, d, anchor, mx, SIGNED, "dane-only")
    qid, rcpt = send(srv, SIGNED, "dane-only-ok")
    (m,) = rx.wait_messages(1, WAIT)
    assert m["tls"] and m["tls"].startswith("TLSv1"), m["tls"]
    assert wait_final(srv, qid, rcpt)["result"] == "sent"
    (att,) = attempt_lines(srv, qid, rcpt)
    assert att["dane"] == "dane-ee" and att["verified"] == "yes", att["_line"]
    assert events(srv, "dane_unavailable") == []


@pytest.mark.parametrize("zone,tlsa,why", [
    (PLAIN, True, "the MX records are not DNSSEC-signed"),   # its TLSA counts for nothing
    (SIGNED, False, "no TLSA records"),                        # a secure denial
])
def test_dane_only_without_dane_deferred(make_server, sdns, mx, test_ca, zone, tlsa, why):
    d, anchor = sdns
    host = f"mx1.{zone}"
    d.mx(zone, (10, host)).a(host, IP1)
    if tlsa:
        d.set(f"_25._tcp.{host}", "TLSA", [(3, 1, 1, spki_sha256(test_ca["cert"]))])
    rx = mx.add(IP1, hostname=host, cert=test_ca)
    srv = start(make_server, d, anchor, mx, zone, "dane-only", retry=[60])
    qid, rcpt = send(srv, zone, "dane-only-none")
    fin = wait_deferred(srv, qid)
    assert "451 4.7.5 DANE: " + host + " has " in fin["reply"], fin["reply"]
    assert '(tls = "dane-only")' in fin["reply"], fin["reply"]
    assert rx.messages == [] and rx.sessions == [], rx.sessions   # not even a connection
    (ev,) = events(srv, "dane_unavailable")
    assert ev["level"] == "dane-only" and ev["action"] == "skipped" and ev["why"] == why, ev
    assert ev["mx"] == host and ev["domain"] == zone, ev


def test_dane_only_not_lifted_by_tls_required_no(make_server, sdns, mx):
    from conftest import make_message, submit, uniq
    d, anchor = sdns
    d.mx(SIGNED, (10, MX1)).a(MX1, IP1)
    d.set(f"_25._tcp.{MX1}", "TLSA", [(3, 1, 1, "ab" * 32)])
    rx = mx.add(IP1, hostname=MX1)                    # no STARTTLS
    srv = start(make_server, d, anchor, mx, SIGNED, "dane-only", retry=[60])
    user, pw = srv.add_user()
    rcpt = f"{uniq('tlsreq-no')}@{SIGNED}"
    msg = make_message(user, rcpt, "tls-required-no", ["plain?"], extra_headers=["TLS-Required: No"])
    qid = submit(srv, user, pw, [rcpt], msg)
    fin = wait_deferred(srv, qid)
    assert f"451 4.7.5 {MX1} has DANE TLSA records but did not start TLS" in fin["reply"], fin["reply"]
    assert rx.messages == []


def test_dane_level_falls_back_to_may_and_logs(make_server, sdns, mx):
    d, anchor = sdns
    host = f"mx1.{PLAIN}"
    d.mx(PLAIN, (10, host)).a(host, IP1)
    rx = mx.add(IP1, hostname=host)                    # no STARTTLS
    srv = start(make_server, d, anchor, mx, PLAIN, "dane")
    qid, rcpt = send(srv, PLAIN, "dane-may")
    (m,) = rx.wait_messages(1, WAIT)
    assert m["tls"] is None
    assert wait_final(srv, qid, rcpt)["result"] == "sent"
    assert attempt_lines(srv, qid, rcpt)[-1]["dane"] == "none"
    (ev,) = events(srv, "dane_unavailable")
    assert ev["level"] == "dane" and ev["action"] == "may" and ev["qid"] == qid, ev
    assert ev["why"] == "the MX records are not DNSSEC-signed", ev


@pytest.mark.parametrize("tlsa_port_ok", [True, False])
def test_host_route_uses_tlsa_of_its_port(make_server, sdns, mx, test_ca, tls_cert, tlsa_port_ok):
    """route = "host:mx1.dane.test:PORT", tls = "dane": the TLSA records of
    _PORT._tcp.mx1.dane.test decide; a certificate they do not match is
    refused, as under DANE for an MX."""
    d, anchor = sdns
    d.a(MX1, IP1)
    d.set(f"_{mx.port}._tcp.{MX1}", "TLSA", [(3, 1, 1, spki_sha256(test_ca["cert"]))])
    rx = mx.add(IP1, hostname=MX1, cert=test_ca if tlsa_port_ok else tls_cert)
    srv = start(make_server, d, anchor, mx, "routed.example", "dane", route=f"host:{MX1}:{mx.port}",
                retry=[60])
    qid, rcpt = send(srv, "routed.example", "host-dane")
    expect_outcome(srv, rx, qid, rcpt, dane="dane-ee" if tlsa_port_ok else None,
                   refusal=(f"451 4.7.5 The certificate of {MX1} does not match its DANE TLSA",))
    assert events(srv, "dane_unavailable") == []


@pytest.mark.parametrize("tlsa", [True, False])
def test_relay_route_dane_only(make_server, sdns, mx, test_ca, tlsa):
    """A named relay under tls = "dane-only": the TLSA records of its own
    port decide; without them nothing goes, not even at the relay's floor
    (encrypt, verify = 0)."""
    d, anchor = sdns
    d.a(MX1, IP1)
    if tlsa:
        d.set(f"_{mx.port}._tcp.{MX1}", "TLSA", [(3, 1, 1, spki_sha256(test_ca["cert"]))])
    rx = mx.add(IP1, hostname=MX1, cert=test_ca)
    srv = relay_server(make_server, d, anchor, mx, MX1, [mx.port], "dane-only")
    qid, rcpt = send(srv, "routed.example", "relay-dane-only")
    expect_outcome(srv, rx, qid, rcpt, dane="dane-ee" if tlsa else None,
                   refusal=(f"451 4.7.5 DANE: {MX1} has no TLSA records", '(tls = "dane-only")'))
    if not tlsa:
        assert rx.sessions == [], rx.sessions


@pytest.mark.parametrize("name,delivered", [(MX1, True), ("routed.example", False), (f"mx2.{SIGNED}", False)])
def test_relay_dane_ta_reference_name(make_server, sdns, mx, test_ca, name, delivered):
    """A relay on its own port (not 25) under tls = "dane": a DANE-TA
    record at _PORT._tcp.<relay> (the CA's key); the relay's certificate,
    issued by that CA, must name the relay host: the recipient domain (the
    transport entry's) is no reference name (RFC 7672 3.2.2, 3.2.3)."""
    d, anchor = sdns
    d.a(MX1, IP1)
    d.set(f"_{mx.port}._tcp.{MX1}", "TLSA", [(2, 1, 1, spki_sha256(test_ca["ca"]))])
    tmp = make_tempdir("yubin-e2e-relayta-")
    try:
        rx = mx.add(IP1, hostname=MX1, cert=issue(test_ca, name, tmp))
        srv = relay_server(make_server, d, anchor, mx, MX1, [mx.port], "dane")
        qid, rcpt = send(srv, "routed.example", "relay-dane-ta")
        expect_outcome(srv, rx, qid, rcpt, dane="dane-ta" if delivered else None,
                       refusal=(f"451 4.7.5 The certificate of {MX1} does not match", "hostname mismatch"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert events(srv, "dane_unavailable") == []


def test_host_route_alias_dane_ta(make_server, sdns, mx, test_ca):
    """route = "host:<alias>:PORT": the alias (a secure CNAME) and its target
    are the reference names, the target's _PORT._tcp records are used."""
    d, anchor = sdns
    alias, target = f"relay.{SIGNED}", f"host1.{SIGNED}"
    d.set(alias, "CNAME", [target]).a(target, IP1)
    d.set(f"_{mx.port}._tcp.{target}", "TLSA", [(2, 1, 1, spki_sha256(test_ca["ca"]))])
    tmp = make_tempdir("yubin-e2e-hostta-")
    try:
        rx = mx.add(IP1, hostname=target, cert=issue(test_ca, alias, tmp))
        srv = start(make_server, d, anchor, mx, "routed.example", "dane-only", route=f"host:{alias}:{mx.port}",
                    retry=[60])
        qid, rcpt = send(srv, "routed.example", "host-alias-ta")
        expect_outcome(srv, rx, qid, rcpt, dane="dane-ta")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.parametrize("match", [True, False])
def test_relay_next_port_has_its_own_tlsa(make_server, sdns, mx, test_ca, tls_cert, match):
    """ports = [closed, open], tls = "dane-only", TLSA only at the open
    port's _PORT._tcp name: the second port is tried with its own records
    (a match delivers, a mismatch defers); never without DANE."""
    d, anchor = sdns
    d.a(MX1, IP1)
    d.set(f"_{mx.port}._tcp.{MX1}", "TLSA", [(3, 1, 1, spki_sha256((test_ca if match else tls_cert)["cert"]))])
    rx = mx.add(IP1, hostname=MX1, cert=test_ca)
    srv = relay_server(make_server, d, anchor, mx, MX1, [free_port(), mx.port], "dane-only")
    qid, rcpt = send(srv, "routed.example", "relay-ports")
    expect_outcome(srv, rx, qid, rcpt, dane="dane-ee" if match else None,
                   refusal=(f"451 4.7.5 The certificate of {MX1} does not match its DANE TLSA",))


@pytest.mark.parametrize("zone,delivered", [(SIGNED, True), (PLAIN, False)])
def test_verify_level_accepts_secure_cname_target(make_server, sdns, mx, test_ca, zone, delivered):
    """tls = "verify" (PKIX) and an MX host that is an alias: a certificate
    for the expanded name verifies when the chain is secure (the names of
    RFC 7672 3.2.2); through an insecure link it does not."""
    d, anchor = sdns
    target = f"host1.{zone}"
    d.mx(SIGNED, (10, MX1)).set(MX1, "CNAME", [target]).a(target, IP1)
    tmp = make_tempdir("yubin-e2e-verifycname-")
    try:
        rx = mx.add(IP1, hostname=target, cert=issue(test_ca, target, tmp))
        srv = start(make_server, d, anchor, mx, SIGNED, "verify", ca_file=test_ca["ca"], retry=[60])
        qid, rcpt = send(srv, SIGNED, "verify-cname")
        if delivered:
            rx.wait_messages(1, WAIT)
            assert wait_final(srv, qid, rcpt)["result"] == "sent"
            assert attempt_lines(srv, qid, rcpt)[-1]["verified"] == "yes"
        else:
            reply = wait_deferred(srv, qid)["reply"]
            assert f"The certificate of {MX1} does not verify" in reply, reply
            assert rx.messages == []
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
