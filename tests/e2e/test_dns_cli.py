"""`yubin dns query NAME [TYPE]`: one look-up through the resolver the
server uses (dns.resolver pointed at the tests' DNS server), printing the
status, the DNSSEC verdict and the records as delivery sees them."""

from conftest import outbound_config


def query(srv, *args):
    p = srv.cli("dns", "query", *args)
    lines = p.stdout.splitlines()
    return p.returncode, lines[0] if lines else "", lines[1:]


def test_dns_query_types(make_server, dns):
    dns.set("q.test", "MX", [(20, "b.q.test"), (10, "a.q.test")])
    dns.set("a.q.test", "A", ["127.0.0.7"]).set("a.q.test", "AAAA", ["::1"])
    long_txt = ["v=DKIM1; k=rsa; p=" + "A" * 230, "B" * 250, "C" * 250, "D" * 250, "E" * 250]
    dns.set("sel._domainkey.q.test", "TXT", [long_txt])
    dns.set("_25._tcp.a.q.test", "TLSA", [(3, 1, 1, "ab" * 32)])
    srv = make_server(extra=outbound_config(dns, 25))
    rc, status, recs = query(srv, "q.test")
    assert rc == 0 and status == "status=ok secure=no dnssec=insecure", (status, recs)
    assert sorted(recs) == ["10 a.q.test", "20 b.q.test"], recs
    assert query(srv, "a.q.test", "a") == (0, "status=ok secure=no dnssec=insecure", ["127.0.0.7"])
    assert query(srv, "a.q.test", "AAAA") == (0, "status=ok secure=no dnssec=insecure", ["::1"])
    # a TXT record of several strings is joined, all 1,248 bytes of it (the
    # UDP answer is truncated, the resolver asks again over TCP)
    rc, _, recs = query(srv, "sel._domainkey.q.test", "txt")
    assert [q[2] for q in dns.queries if q[0] == "sel._domainkey.q.test"][-1] == "tcp"
    assert rc == 0 and recs == ["".join(long_txt)], recs
    assert query(srv, "_25._tcp.a.q.test", "tlsa") == (0, "status=ok secure=no dnssec=insecure",
                                                       ["3 1 1 " + "ab" * 32])
    # PTR, in a reverse zone unbound would otherwise answer itself (RFC 5737
    # documentation addresses), and a CNAME followed to its TXT
    dns.set("7.2.0.192.in-addr.arpa", "PTR", ["a.q.test"])
    assert query(srv, "7.2.0.192.in-addr.arpa", "ptr") == (0, "status=ok secure=no dnssec=insecure", ["a.q.test"])
    dns.set("alias.q.test", "CNAME", ["txt.q.test"]).set("txt.q.test", "TXT", ["v=spf1 -all"])
    assert query(srv, "alias.q.test", "txt") == (0, "status=ok secure=no dnssec=insecure canonical=txt.q.test",
                                                 ["v=spf1 -all"])
    # SRV as "priority weight port target" ("." for a service not offered),
    # and the CNAME itself when asked for (client set-up, RFC 6186)
    dns.set("_imaps._tcp.q.test", "SRV", [(0, 1, 993, "a.q.test")])
    dns.set("_pop3._tcp.q.test", "SRV", [(0, 0, 0, ".")])
    assert query(srv, "_imaps._tcp.q.test", "srv") == (0, "status=ok secure=no dnssec=insecure", ["0 1 993 a.q.test"])
    assert query(srv, "_pop3._tcp.q.test", "SRV") == (0, "status=ok secure=no dnssec=insecure", ["0 0 0 ."])
    assert query(srv, "alias.q.test", "cname") == (0, "status=ok secure=no dnssec=insecure", ["txt.q.test"])


def test_dns_query_failures(make_server, dns):
    dns.set("q.test", "A", ["127.0.0.7"])
    dns.servfail("broken.test")
    srv = make_server(extra=outbound_config(dns, 25, dns_timeout=3))
    assert query(srv, "nowhere.test") == (1, "status=nxdomain secure=no dnssec=insecure", [])
    assert query(srv, "q.test", "mx") == (1, "status=nodata secure=no dnssec=insecure", [])
    assert query(srv, "broken.test") == (1, "status=tempfail secure=no dnssec=insecure", [])
    p = srv.cli("dns", "query", "q.test", "hinfo")
    assert p.returncode == 2 and "unknown record type" in p.stderr, p.stderr
    p = srv.cli("dns", "lookup", "q.test")
    assert p.returncode == 2 and "usage" in p.stderr, p.stderr
