"""`yubin dns records DOMAIN`: the records a domain owner publishes (see
docs/DNS.md), checked record by record from the live configuration: MX to
the configured hostname, SPF (by MX, or naming relay.host), every DKIM key
made by `yubin dkim keygen` with the exact record keygen printed, DMARC,
and the host name's address hints; and the bad paths (a domain that is not
local, a bad command line)."""

import re
import subprocess

from conftest import DOMAIN, HOSTNAME

LINE_RE = re.compile(r"^(\S+)\. IN (MX|TXT|A|AAAA|SRV|CNAME|TLSA) (.+)$")


def records(text):
    """[(comment, name, type, value)] for every zone line, with the comment
    line just above it; and the comment-only lines."""
    lines = text.splitlines()
    out, comments = [], []
    for i, line in enumerate(lines):
        m = LINE_RE.match(line)
        if m:
            assert i > 0 and lines[i - 1].startswith("; "), f"no comment above {line!r}"
            out.append((lines[i - 1], *m.groups()))
        else:
            assert line.startswith("; "), f"neither a record nor a comment: {line!r}"
            comments.append(line)
    return out, comments


def keygen(srv, alg):
    p = srv.cli("dkim", "keygen", DOMAIN, "--algorithm", alg)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip().splitlines()[-1]     # the record line keygen printed


def test_records_for_a_local_domain(make_server):
    srv = make_server(start=False)
    published = {keygen(srv, "rsa"), keygen(srv, "ed25519")}
    p = srv.cli("dns", "records", DOMAIN.upper())
    assert p.returncode == 0, p.stderr
    recs, comments = records(p.stdout)
    by_type = {}
    for comment, name, rtype, value in recs:
        by_type.setdefault(rtype, []).append((comment, name, value))

    [(why, name, value)] = by_type["MX"]
    assert (name, value) == (DOMAIN, f"10 {HOSTNAME}.") and why.startswith("; MX:"), (why, name, value)

    txt = {name: (why, value) for why, name, value in by_type["TXT"] if not name.endswith("._domainkey." + DOMAIN)}
    why, value = txt[DOMAIN]
    assert value == '"v=spf1 mx -all"' and why.startswith("; SPF"), (why, value)
    why, value = txt["_dmarc." + DOMAIN]
    assert value == f'"v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:postmaster@{DOMAIN}"', value
    assert why.startswith("; DMARC"), why
    why, value = txt["_smtp._tls." + DOMAIN]
    assert value == f'"v=TLSRPTv1; rua=mailto:tlsrpt@{DOMAIN}"' and why.startswith("; TLS-RPT"), (why, value)

    dkim = [(why, f"{name}. IN TXT {value}") for why, name, value in by_type["TXT"]
            if name.endswith("._domainkey." + DOMAIN)]
    assert {line for _, line in dkim} == published
    assert all(w.startswith("; DKIM") for w, _ in dkim)
    assert any("rsa-sha256, 2048 bits" in w for w, _ in dkim) and any("ed25519-sha256" in w for w, _ in dkim)

    # the test listeners are on 127.0.0.1: address hints, commented out
    assert "A" not in by_type and "AAAA" not in by_type
    assert f"; {HOSTNAME}. IN A <public IPv4 address>" in comments
    assert f"; {HOSTNAME}. IN AAAA <public IPv6 address>" in comments
    assert any(c.startswith("; PTR:") for c in comments)
    assert p.stdout.splitlines()[0].startswith(f"; DNS records for {DOMAIN}, from {srv.config_path}")


def test_records_without_keys_and_with_a_relay(make_server):
    srv = make_server(start=False, domains=(DOMAIN, "second.test"),
                      extra='relay: { host = "smtp.relay.test"; domains = [ "far.test" ]; };')
    p = srv.cli("dns", "records", "second.test")
    assert p.returncode == 0, p.stderr
    recs, comments = records(p.stdout)
    spf = [v for _, n, t, v in recs if t == "TXT" and n == "second.test"]
    assert spf == ['"v=spf1 mx a:smtp.relay.test -all"'], p.stdout
    assert not any("._domainkey." in n for _, n, _, _ in recs)
    assert any("yubin dkim keygen second.test" in c for c in comments), comments
    srv2 = make_server(start=False, extra='relay: { host = "192.0.2.25"; };')
    p = srv2.cli("dns", "records", DOMAIN)
    assert p.returncode == 0, p.stderr
    recs, _ = records(p.stdout)
    assert [v for _, n, t, v in recs if t == "TXT" and n == DOMAIN] == ['"v=spf1 ip4:192.0.2.25 -all"']


def test_records_for_a_public_listener(make_server):
    """A listener on a public address is published as it is (the server is
    not started: the address need not exist here)."""
    srv = make_server(start=False)
    text = srv.config_path.read_text().replace("listeners = (", 'listeners = (\n'
        '  { role = "smtp"; address = "192.0.2.10"; port = 25; },\n'
        '  { role = "smtp"; address = "2001:db8::25"; port = 25; },', 1)
    srv.config_path.write_text(text)
    p = srv.cli("dns", "records", DOMAIN)
    assert p.returncode == 0, p.stderr
    recs, _ = records(p.stdout)
    assert [(n, t, v) for _, n, t, v in recs if t in ("A", "AAAA")] == [
        (HOSTNAME, "A", "192.0.2.10"), (HOSTNAME, "AAAA", "2001:db8::25")]


def test_records_bad_paths(make_server):
    srv = make_server(start=False)
    p = srv.cli("dns", "records", "elsewhere.test")
    assert p.returncode == 1 and p.stdout == "", p.stdout
    assert "elsewhere.test is not a local domain" in p.stderr, p.stderr
    for args in (("dns", "records"), ("dns", "records", DOMAIN, "extra"), ("dns", "record", DOMAIN)):
        p = srv.cli(*args)
        assert p.returncode == 2 and "usage" in p.stderr, (args, p.stderr)
    # a domain added with `yubin domain add` is local too
    assert srv.cli("domain", "add", "added.test").returncode == 0
    p = srv.cli("dns", "records", "added.test")
    assert p.returncode == 0 and "added.test. IN MX" in p.stdout, p.stdout + p.stderr


def test_tlsa_of_our_certificate(make_server):
    """DANE (issue 14): the "3 1 1" TLSA record of the certificate's key for
    the MX host, the same digest openssl computes from the certificate."""
    srv = make_server(start=False)
    p = srv.cli("dns", "records", DOMAIN)
    assert p.returncode == 0, p.stderr
    recs, _ = records(p.stdout)
    [(why, name, value)] = [(w, n, v) for w, n, t, v in recs if t == "TLSA"]
    pub = subprocess.run(["openssl", "x509", "-in", str(srv.cert["cert"]), "-noout", "-pubkey"],
                         capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         capture_output=True, check=True).stdout
    import hashlib
    assert name == f"_25._tcp.{HOSTNAME}" and value == "3 1 1 " + hashlib.sha256(der).hexdigest(), (name, value)
    assert "DNSSEC" in why or "DNSSEC" in p.stdout, p.stdout
