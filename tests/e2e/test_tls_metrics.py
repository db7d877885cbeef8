"""The outbound TLS policy in GET /metrics and in the delivery_attempt
log line (issue 14): yubin_outbound_tls_verdicts_total{policy, result}
counts each attempt that reached a server by the policy that applied
(dane, sts, none) and whether the server was authenticated;
yubin_mtasts_fetches_total{result} counts MTA-STS fetches (ok, failed)
and the uses of a cached policy.  Scrapes are parsed with Prometheus'
own parser (test_metrics.py's helpers)."""

from conftest import attempt_lines, make_message, outbound_config, submit, uniq, wait_final
from test_dane import sdns  # noqa: F401 (a fixture)
from test_dane import IP1, MX1, PLAIN, SIGNED, WAIT, spki_sha256
from test_metrics import curl, need_tools, parse, val
from test_mtasts import policy, setup_domain, sts  # noqa: F401 (a fixture)

FAMILY = "yubin_outbound_tls_verdicts_total"


def send(srv, domain, what):
    user, pw = srv.add_user()
    rcpt = f"{uniq(what)}@{domain}"
    qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, what, [f"TLS metrics: {what}"]))
    return qid, rcpt


def delivered(srv, rx, n, qid, rcpt):
    rx.wait_messages(n, WAIT)
    assert wait_final(srv, qid, rcpt)["result"] == "sent"
    return attempt_lines(srv, qid, rcpt)[-1]


def scrape(srv):
    st, _, body = curl(srv)
    assert st == 200, body[:300]
    return parse(body)[0]


def verdicts(s):
    return {(p, r): val(s, FAMILY, policy=p, result=r)
            for p in ("dane", "sts", "none") for r in ("verified", "failed")}


def test_dane_and_none_verdicts(make_server, sdns, mx, test_ca):
    need_tools()
    d, anchor = sdns
    d.mx(SIGNED, (10, MX1)).a(MX1, IP1)
    d.set(f"_25._tcp.{MX1}", "TLSA", [(3, 1, 1, spki_sha256(test_ca["cert"]))])
    plain_mx = f"mx1.{PLAIN}"
    d.mx(PLAIN, (10, plain_mx)).a(plain_mx, "127.0.0.3")
    rx = mx.add(IP1, hostname=MX1, cert=test_ca)
    rx_plain = mx.add("127.0.0.3", hostname=plain_mx)     # no STARTTLS
    srv = make_server(extra=outbound_config(d, mx.port, trust_anchor=anchor))
    assert set(verdicts(scrape(srv)).values()) == {0}
    att = delivered(srv, rx, 1, *send(srv, SIGNED, "dane"))
    assert att["policy"] == "dane" and att["dane"] == "dane-ee", att["_line"]
    att = delivered(srv, rx_plain, 1, *send(srv, PLAIN, "plain"))
    assert att["policy"] == "none" and att["tls"] == "no", att["_line"]
    want = {k: 0 for k in verdicts(scrape(srv))}
    want[("dane", "verified")] = 1
    want[("none", "failed")] = 1
    assert verdicts(scrape(srv)) == want
    assert set(val(scrape(srv), "yubin_mtasts_fetches_total", result=r) for r in ("ok", "failed", "cached")) == {0}


def test_sts_verdicts_and_fetches(make_server, dns, mx, sts, test_ca):
    need_tools()
    setup_domain(dns)
    sts.policies["remote.test"] = policy("enforce", "mx1.remote.test")
    other_mx = "mx1.other.test"       # an _mta-sts record, and no policy behind it
    dns.set("other.test", "MX", [(10, other_mx)]).set(other_mx, "A", ["127.0.0.3"])
    dns.set("_mta-sts.other.test", "TXT", ["v=STSv1; id=9;"]).set("mta-sts.other.test", "A", ["127.0.0.1"])
    rx = mx.add("127.0.0.2", hostname="mx1.remote.test", cert=test_ca)
    rx_other = mx.add("127.0.0.3", hostname=other_mx, cert=test_ca)
    srv = make_server(extra=outbound_config(dns, mx.port, ca_file=test_ca["ca"]) +
                      f"\nmtasts: {{ test_https_port = {sts.port}; fetch_timeout = 5; }};")
    att = delivered(srv, rx, 1, *send(srv, "remote.test", "sts-1"))     # fetched
    assert att["policy"] == "sts" and att["verified"] == "yes", att["_line"]
    att = delivered(srv, rx, 2, *send(srv, "remote.test", "sts-2"))     # the cached policy
    assert att["policy"] == "sts", att["_line"]
    att = delivered(srv, rx_other, 1, *send(srv, "other.test", "no-policy"))   # a certificate for another name
    assert att["policy"] == "none" and att["verified"] == "no", att["_line"]
    s = scrape(srv)
    fetches = {r: val(s, "yubin_mtasts_fetches_total", result=r) for r in ("ok", "failed", "cached")}
    assert fetches == {"ok": 1, "failed": 1, "cached": 1}, fetches
    want = {k: 0 for k in verdicts(s)}
    want[("sts", "verified")] = 2
    want[("none", "failed")] = 1
    assert verdicts(s) == want
