"""DMARC (RFC 7489) scenarios through `yubin dmarc check`, with the policy
records served by the tests' DNS server (dnsserver.py): aligned pass,
relaxed vs strict alignment, the subdomain policy sp= found at the
organizational domain, pct with a fixed draw, reject vs quarantine, no
record, several records, and a DNS failure (temperror).  Each run also
prints the Authentication-Results field the server would add."""

import re

import pytest

KV_RE = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')


@pytest.fixture
def srv(make_server, dns):
    dns.set("_dmarc.example.test", "TXT", ["v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.test"])
    dns.set("_dmarc.strict.test", "TXT", ["v=DMARC1; p=reject; adkim=s; aspf=s"])
    dns.set("_dmarc.quar.test", "TXT", ["v=DMARC1; p=quarantine"])
    dns.set("_dmarc.pct.test", "TXT", ["v=DMARC1; p=reject; pct=25"])
    dns.set("_dmarc.two.test", "TXT", ["v=DMARC1; p=none", "v=DMARC1; p=reject"])
    dns.servfail("_dmarc.broken.test")
    return make_server(start=False, extra=f'dns: {{ resolver = "{dns.resolver_spec}"; timeout = 2; }};')


def check(srv, from_domain, *args):
    p = srv.cli("dmarc", "check", from_domain, *args)
    assert p.returncode == 0, p.stdout + p.stderr
    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        assert marker not in p.stderr, p.stderr
    first, *authres = p.stdout.splitlines()
    out = {k: v.strip('"') for k, v in KV_RE.findall(first)}
    out["authres"] = "\n".join(authres)
    return out


def test_aligned_pass(srv):
    r = check(srv, "example.test", "--spf", "pass:bounce.example.test", "--dkim", "fail:example.test")
    assert (r["dmarc"], r["spf_aligned"], r["dkim_aligned"], r["disposition"]) == ("pass", "yes", "no", "none"), r
    assert r["record"] == "_dmarc.example.test"
    assert r["authres"].startswith("Authentication-Results: mx.test.example;\n\tspf=pass"), r["authres"]
    assert "\tdmarc=pass (p=reject dis=none) header.from=example.test" in r["authres"], r["authres"]
    r = check(srv, "example.test", "--spf", "fail:example.test", "--dkim", "pass:mail.example.test")
    assert (r["dmarc"], r["dkim_aligned"], r["dkim_domain"]) == ("pass", "yes", "mail.example.test"), r


def test_relaxed_vs_strict(srv):
    r = check(srv, "strict.test", "--spf", "pass:mail.strict.test", "--dkim", "pass:mail.strict.test")
    assert (r["dmarc"], r["disposition"]) == ("fail", "reject"), r
    r = check(srv, "strict.test", "--dkim", "pass:strict.test")
    assert r["dmarc"] == "pass", r
    r = check(srv, "example.test", "--spf", "pass:other.test", "--dkim", "pass:example.net")
    assert (r["dmarc"], r["disposition"]) == ("fail", "reject"), r


def test_subdomain_policy(srv, dns):
    r = check(srv, "news.example.test", "--spf", "fail:news.example.test")
    assert (r["dmarc"], r["policy"], r["disposition"]) == ("fail", "quarantine", "quarantine"), r
    assert r["record"] == "_dmarc.example.test"
    assert dns.queried("_dmarc.news.example.test", "TXT"), "the From domain was not asked first"
    r = check(srv, "example.test", "--spf", "fail:example.test")
    assert (r["policy"], r["disposition"]) == ("reject", "reject"), r


def test_reject_vs_quarantine(srv):
    r = check(srv, "quar.test", "--spf", "softfail:quar.test")
    assert (r["dmarc"], r["policy"], r["disposition"]) == ("fail", "quarantine", "quarantine"), r
    assert "(p=quarantine dis=quarantine)" in r["authres"]


def test_pct(srv):
    r = check(srv, "pct.test", "--draw", "24")
    assert (r["dmarc"], r["policy"], r["disposition"]) == ("fail", "reject", "reject"), r
    r = check(srv, "pct.test", "--draw", "25")
    assert (r["dmarc"], r["policy"], r["disposition"]) == ("fail", "reject", "quarantine"), r


def test_no_record_several_records_and_temperror(srv):
    r = check(srv, "nowhere.test", "--spf", "pass:nowhere.test")
    assert (r["dmarc"], r["policy"], r["disposition"]) == ("none", "none", "none"), r
    assert "\tdmarc=none header.from=nowhere.test" in r["authres"], r["authres"]
    r = check(srv, "two.test")
    assert r["dmarc"] == "permerror" and "more than one" in r["problem"], r
    r = check(srv, "broken.test", "--spf", "pass:broken.test")
    assert (r["dmarc"], r["disposition"]) == ("temperror", "none"), r
    assert "dmarc=temperror" in r["authres"]


def test_usage(srv):
    for args in ((), ("example.test", "--spf", "maybe:x.test"), ("example.test", "--draw", "100"),
                 ("example.test", "--dkim"), ("example.test", "--spf", "pass:")):
        p = srv.cli("dmarc", "check", *args)
        assert p.returncode == 2 and "usage" in p.stderr, (args, p.stderr)
