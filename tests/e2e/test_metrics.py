"""GET /metrics (issue 12): the Prometheus text a scrape reads, checked with
Prometheus' own parser (python3-prometheus-client's
text_string_to_metric_families), never one of ours.

One server takes mail on submission (smtplib, STARTTLS + AUTH) and on port
25, delivers locally and to a test MX (aiosmtpd with STARTTLS) that
refuses one recipient for good (a bounce) and one for now, every time
(deferred twice, then waiting for its next try when scraped); a policy rule
refuses a sender and another holds a message; an IMAPS client fails its
login and stays connected; an SMTP AUTH and a POP3S log-in fail too.  The
HTTPS API takes one message and refuses a wrong key.  The scrape must
show exactly those counts.  A client outside metrics.allow gets 403.
"""

import imaplib
import poplib
import re
import shutil
import smtplib
import subprocess

import pytest

from conftest import (DOMAIN, client_tls_context, final_lines, make_message, outbound_config, qid_from,
                      qid_lines, uniq, wait_final, wait_until)

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # a sentence, not a skip
    text_string_to_metric_families = None

REMOTE = "remote.test"
MX1, IP1 = "mx1.remote.test", "127.0.0.2"
DELIVERY_TIMEOUT = 15.0
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
RULES = """policy: { rules = (
  { name = "no-spam"; sender_domain = "spam.example"; action = "reject"; },
  { name = "hold-me"; header = "Subject: please hold"; action = "hold"; }
); };"""


def need_tools():
    assert text_string_to_metric_families is not None, (
        "python3-prometheus-client is needed to parse /metrics (scripts/install-deps)")
    assert shutil.which("curl"), "curl is needed to scrape /metrics (scripts/install-deps)"


def curl(srv, path="/metrics", source=None):
    """GET over HTTPS with curl (a fresh connection): (status, content type, body)."""
    cmd = ["curl", "-sS", "-k", "--max-time", "10", "-o", "-",
           "-w", "\n@@%{http_code} %{content_type}"]
    if source:
        cmd += ["--interface", source]
    cmd.append(f"https://127.0.0.1:{srv.https}{path}")
    p = subprocess.run(cmd, capture_output=True, timeout=20)
    assert p.returncode == 0, f"curl failed: {p.stderr.decode(errors='replace')}"
    out = p.stdout.decode()
    body, _, tail = out.rpartition("\n@@")
    status, _, ctype = tail.partition(" ")
    return int(status), ctype, body


def parse(text):
    """{(sample name, sorted labels): value} and {family name: type}."""
    samples, types = {}, {}
    for fam in text_string_to_metric_families(text):
        types[fam.name] = fam.type
        for s in fam.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples, types


def val(samples, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    assert key in samples, f"no sample {name}{labels} in the scrape"
    return samples[key]


def scrape_pc(srv, pc):
    """A scrape over the kept-alive http.client connection pc."""
    st, hdrs, body = srv.http("GET", "/metrics", conn=pc)
    assert st == 200, (st, body[:300])
    return parse(body.decode())[0]


def send(srv, port, sender, rcpt, subject, login=None):
    """One message with smtplib; STARTTLS + AUTH when login is (user, pw).
    Returns the queue id from the 250."""
    with smtplib.SMTP("127.0.0.1", port, timeout=15) as s:
        s.ehlo("client.test")
        if login:
            s.starttls(context=client_tls_context(verify=False))
            s.ehlo("client.test")
            s.login(*login)
        code, resp = s.mail(sender)
        assert code == 250, resp
        code, resp = s.rcpt(rcpt)
        assert code == 250, resp
        code, resp = s.data(make_message(sender, rcpt, subject, ["metrics test"]))
        assert code == 250, resp
        return qid_from(resp.decode())


def results(srv, qid, rcpt, result):
    return [d for d in qid_lines(srv, qid) if d.get("result") == result and d.get("to", "").strip("<>").lower() == rcpt]


def sessions_closed(srv, roles):
    """True when every session of these roles that the log shows opening
    has closed (accept ... role=R / disconnect sid=...)."""
    opened, closed = {}, set()
    for m in re.finditer(r"\baccept sid=(\S+) client=\S+ role=(\S+)", srv.log_text()):
        opened[m.group(1)] = m.group(2)
    for m in re.finditer(r"\bdisconnect sid=(\S+)", srv.log_text()):
        closed.add(m.group(1))
    return all(sid in closed for sid, role in opened.items() if role in roles)


def test_scrape_counts_exactly(make_server, dns, mx, test_ca):
    need_tools()
    dns.set(REMOTE, "MX", [(10, MX1)])
    dns.set(MX1, "A", [IP1])
    ok, gone, stuck = (f"{uniq(n)}@{REMOTE}" for n in ("ok", "gone", "stuck"))
    rx = mx.add(IP1, hostname=MX1, cert=test_ca)
    rx.rcpt(gone, then="550 5.1.1 no such user").rcpt(stuck, then="451 4.3.0 try later")
    srv = make_server(extra=outbound_config(dns, mx.port, ca_file=test_ca["ca"], retry=(1, 600),
                                            lifetime=3600) + "\n" + RULES)
    user, pw = srv.add_user()

    # submission: delivered, bounced (its DSN comes back to the user's
    # Maildir), deferred at its first two attempts (the next is 600 s on)
    q_ok = send(srv, srv.submission, user, ok, "ok", login=(user, pw))
    assert wait_final(srv, q_ok, ok, DELIVERY_TIMEOUT)["result"] == "sent"
    q_gone = send(srv, srv.submission, user, gone, "gone", login=(user, pw))
    assert wait_final(srv, q_gone, gone, DELIVERY_TIMEOUT)["result"] == "bounced"
    srv.wait_mail(user, 1, DELIVERY_TIMEOUT)
    q_stuck = send(srv, srv.submission, user, stuck, "stuck", login=(user, pw))
    wait_until(lambda: len(results(srv, q_stuck, stuck, "deferred")) == 2, DELIVERY_TIMEOUT,
               what="two deferrals of the stuck recipient")
    assert final_lines(srv, q_stuck, stuck) == []
    # a failed SMTP AUTH
    with smtplib.SMTP("127.0.0.1", srv.submission, timeout=15) as s:
        s.starttls(context=client_tls_context(verify=False))
        s.ehlo("client.test")
        s.user, s.password = user, "wrong password"
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s.auth("PLAIN", s.auth_plain)  # one mechanism: login() would try the next

    # port 25: one delivered here, one refused by a rule, one held by a rule
    send(srv, srv.smtp, "sender@elsewhere.test", user, "to a local mailbox")
    srv.wait_mail(user, 2, DELIVERY_TIMEOUT)
    with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=15) as s:
        s.ehlo("client.test")
        code, _ = s.mail("bad@spam.example")
        assert code == 550, code
    send(srv, srv.smtp, "sender@elsewhere.test", user, "please hold")
    # the HTTPS API: one message taken (its internal submission session is
    # no client connection), one wrong key
    p = srv.cli("apikey", "add", "metrics-app", "--domain", DOMAIN)
    assert p.returncode == 0, p.stderr
    key = p.stdout.strip().splitlines()[-1]
    srv.secrets.add(key)
    st, _, body = srv.http("POST", "/v1/messages", body={
        "from": user, "to": [user], "subject": "by the API", "text": "metrics test"},
        headers={"Authorization": f"Bearer {key}"})
    assert st == 202, body  # accepted for delivery
    srv.wait_mail(user, 3, DELIVERY_TIMEOUT)
    st, _, body = srv.http("POST", "/v1/messages", body={"from": user, "to": [user], "text": "x"},
                           headers={"Authorization": "Bearer yk_" + "A" * 43})
    assert st == 401, body
    # POP3S: a failed log-in, then the session ends
    pop = poplib.POP3_SSL("127.0.0.1", srv.pop3s, context=client_tls_context(verify=False), timeout=10)
    pop.user(user)
    with pytest.raises(poplib.error_proto):
        pop.pass_("not the password either")
    pop.quit()

    # IMAPS: a failed log-in on a connection that stays open
    im = imaplib.IMAP4_SSL("127.0.0.1", srv.imaps, ssl_context=client_tls_context(verify=False),
                           timeout=10)
    try:
        with pytest.raises(imaplib.IMAP4.error):
            im.login(user, "not the password")
        wait_until(lambda: sessions_closed(srv, ("smtp", "submission", "pop3s")), 10,
                   what="the SMTP sessions to close")
        # settle on one kept-alive connection, then scrape once with curl
        pc = srv.https_conn()
        try:
            wait_until(lambda: (lambda s: val(s, "yubin_queue_messages", state="held") == 1
                                and val(s, "yubin_queue_messages", state="active") == 0
                                and val(s, "yubin_connections_open", role="https") == 1)(
                scrape_pc(srv, pc)), 10, what="the held message to be counted")
            status, ctype, text = curl(srv)
        finally:
            pc.close()
    finally:
        im.shutdown()

    assert status == 200, text[:300]
    assert ctype == CONTENT_TYPE
    s, types = parse(text)
    assert types["yubin_messages_received"] == "counter"
    assert types["yubin_delivery_latency_seconds"] == "histogram"
    assert types["yubin_queue_messages"] == "gauge"

    received = {r: val(s, "yubin_messages_received_total", role=r)
                for r in ("smtp", "submission", "submissions", "https")}
    assert received == {"smtp": 2, "submission": 3, "submissions": 0, "https": 1}
    for name, local, remote in (("yubin_recipients_delivered_total", 3, 1),
                                ("yubin_recipients_deferred_total", 0, 2),
                                ("yubin_recipients_bounced_total", 0, 1)):
        assert val(s, name, destination="local") == local, name
        assert val(s, name, destination="remote") == remote, name

    # the latency histogram: cumulative, +Inf == _count == delivered
    for dest, n in (("local", 3), ("remote", 1)):
        les = sorted(((float(dict(lab)["le"]), v) for (nm, lab), v in s.items()
                      if nm == "yubin_delivery_latency_seconds_bucket"
                      and dict(lab)["destination"] == dest), key=lambda x: x[0])
        assert les[-1] == (float("inf"), n), les
        assert all(a[1] <= b[1] for a, b in zip(les, les[1:])), les
        assert val(s, "yubin_delivery_latency_seconds_count", destination=dest) == n
        assert val(s, "yubin_delivery_latency_seconds_sum", destination=dest) >= 0
    # every copy went at its first attempt: within two seconds of its
    # arrival (kept in whole seconds)
    assert val(s, "yubin_delivery_latency_seconds_bucket", destination="local", le="2") == 3
    assert val(s, "yubin_delivery_latency_seconds_bucket", destination="remote", le="2") == 1

    assert val(s, "yubin_queue_messages", state="active") == 0
    assert val(s, "yubin_queue_messages", state="deferred") == 1
    assert val(s, "yubin_queue_messages", state="held") == 1
    assert val(s, "yubin_webhook_backlog") == 0

    # open now: the IMAPS session, the kept-alive scrape connection and curl's
    assert val(s, "yubin_connections_open", role="imaps") == 1
    for role in ("smtp", "submission", "submissions", "pop3", "pop3s", "imap"):
        assert val(s, "yubin_connections_open", role=role) == 0, role
    assert val(s, "yubin_connections_open", role="https") == 2

    # TLS: four STARTTLS on submission, POP3S, IMAPS, four HTTPS connections;
    # outbound, one per STARTTLS the test MX saw
    assert val(s, "yubin_tls_connections_total", direction="inbound", version="TLSv1.3") == 10
    starttls = rx.count("STARTTLS")
    assert starttls >= 1
    assert val(s, "yubin_tls_connections_total", direction="outbound", version="TLSv1.3") == starttls
    for d in ("inbound", "outbound"):
        for v in ("TLSv1", "TLSv1.1", "TLSv1.2", "other"):
            assert val(s, "yubin_tls_connections_total", direction=d, version=v) == 0

    assert {p: val(s, "yubin_auth_failures_total", protocol=p)
            for p in ("smtp", "imap", "pop3", "https")} == {"smtp": 1, "imap": 1, "pop3": 1, "https": 1}

    # policy verdicts: what the log's policy lines say, one per verdict
    logged = re.findall(r"\bpolicy sid=\S+ .*?\bdecision=(\w+)", srv.log_text())
    assert logged.count("reject") == 1
    for d in ("continue", "accept", "reject", "tempfail", "discard", "other"):
        assert val(s, "yubin_policy_verdicts_total", decision=d) == logged.count(d), d

    assert val(s, "process_resident_memory_bytes") > 1 << 20
    assert val(s, "process_open_fds") >= 5
    assert 0 < val(s, "yubin_uptime_seconds") < 600


def test_outside_allow_gets_403(make_server):
    need_tools()
    srv = make_server(extra='metrics: { allow = [ "127.0.0.1", "10.0.0.0/8" ]; };')
    status, ctype, text = curl(srv)
    assert status == 200 and ctype == CONTENT_TYPE
    assert "# TYPE yubin_messages_received_total counter" in text
    status, ctype, text = curl(srv, source="127.0.0.5")
    assert status == 403, text
    assert ctype.startswith("application/problem+json")
    assert "yubin_" not in text and "metrics.allow" in text
    assert "client=127.0.0.5 path=/metrics reason=\"not in metrics.allow\"" in srv.log_text()


def test_default_allow_is_loopback_only(make_server):
    need_tools()
    srv = make_server(extra='metrics: { allow = [ "10.0.0.0/8" ]; };')
    status, _, text = curl(srv)
    assert status == 403, text
    srv2 = make_server()
    status, _, text = curl(srv2, source="127.0.0.1")
    assert status == 200
    status, _, text = curl(srv2, source="127.0.0.9")
    assert status == 403


def test_webhook_backlog(make_server, tls_cert):
    """Webhook deliveries to an endpoint that is down wait in the outbox:
    yubin_webhook_backlog is the webhook sender's own count of them."""
    import base64
    import secrets as pysecrets
    from conftest import free_port
    need_tools()
    secret = "whsec_" + base64.b64encode(pysecrets.token_bytes(24)).decode()
    dead = free_port()  # nothing listens there
    srv = make_server(extra=(
        f'webhooks: {{ ca_file = "{tls_cert["cert"]}"; retry_base = 600; retry_max = 600; '
        f'connect_timeout = 2; endpoints = ( {{ url = "https://127.0.0.1:{dead}/hook"; '
        f'secret = "{secret}"; events = [ "delivered" ]; }} ); }};'))
    srv.secrets.update({secret, secret.removeprefix("whsec_")})
    user, _ = srv.add_user()
    status, _, text = curl(srv)
    assert status == 200 and val(parse(text)[0], "yubin_webhook_backlog") == 0
    for i in range(2):
        send(srv, srv.smtp, "sender@elsewhere.test", user, f"event {i}")
    srv.wait_mail(user, 2, DELIVERY_TIMEOUT)
    pc = srv.https_conn()
    try:
        wait_until(lambda: val(scrape_pc(srv, pc), "yubin_webhook_backlog") == 2, 15,
                   what="two webhook deliveries waiting")
        wait_until(lambda: "event=webhook_attempt" in srv.log_text(), 15, what="a failed attempt")
        assert val(scrape_pc(srv, pc), "yubin_webhook_backlog") == 2  # failed, still waiting
    finally:
        pc.close()
