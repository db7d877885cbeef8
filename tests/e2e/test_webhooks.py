"""Webhooks (api/whsend.c, api/follow.c): for every delivered, deferred,
bounced and suppressed event an endpoint asked for, yubin POSTs a JSON
body over HTTPS, signed in the Standard Webhooks shape (Webhook-Id,
Webhook-Timestamp, Webhook-Signature: v1,base64 HMAC-SHA256 over
"id.timestamp.body"); a non-2xx answer, a refused connection or a
restart is retried with the same id; the certificate is verified; no
redirect is followed; the secret never reaches the log.

The receiver is python's http.server over TLS (webhook_receiver.py) with
the session's test certificate, which yubin trusts through
webhooks.ca_file.  Mail goes to aiosmtpd MX receivers found through the
test DNS server, as in test_outbound.py."""

import base64
import os
import secrets
import shutil
import time

from conftest import (free_port, make_message, make_tempdir, outbound_config, parse_logfmt, submit, uniq,
                      wait_final, wait_until)
from hooks_helpers import events, new_key
from hooks_helpers import send as api_send
from webhook_receiver import WebhookReceiver, verify_webhook

REMOTE = "remote.test"
MX1, IP1 = "mx1.remote.test", "127.0.0.2"
WAIT = 20.0


def new_secret():
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def hooks_config(tls_cert, port, secret, events=None, secret_file=None, **settings):
    key = f'secret_file = "{secret_file}";' if secret_file else f'secret = "{secret}";'
    s = {"ca_file": f'"{tls_cert["cert"]}"', "retry_base": 1, "retry_max": 2, "connect_timeout": 2,
         "timeout": 5}
    s.update(settings)
    ev = "" if events is None else "events = [" + ", ".join(f'"{e}"' for e in events) + "]; "
    return ("webhooks: { " + " ".join(f"{k} = {v};" for k, v in s.items()) +
            f' endpoints = ( {{ url = "https://127.0.0.1:{port}/hook"; {key} {ev}}} ); }};')


def start(make_server, tls_cert, dns, mx, port, secret, events=None, secret_file=None, **settings):
    dns.set(REMOTE, "MX", [(10, MX1)])
    dns.set(MX1, "A", [IP1])
    srv = make_server(extra=outbound_config(dns, mx.port) + "\n" +
                      hooks_config(tls_cert, port, secret, events, secret_file, **settings))
    srv.secrets.add(secret)                      # assert_clean: never in the log
    srv.secrets.add(secret.removeprefix("whsec_"))
    return srv


def send(srv, user, pw, rcpts):
    return submit(srv, user, pw, rcpts, make_message(user, rcpts[0], "webhook " + uniq(), ["hello"]))


def attempts(srv):
    return [parse_logfmt(l) for l in srv.log_text().splitlines() if "event=webhook_attempt" in l]


def test_signed_events_for_delivered_and_bounced(make_server, tls_cert, dns, mx):
    port, secret = free_port(), new_secret()
    rx = WebhookReceiver(port, tls_cert["cert"], tls_cert["key"]).start()
    try:
        good, bad = f"{uniq('good')}@{REMOTE}", f"{uniq('gone')}@{REMOTE}"
        mx.add(IP1, hostname=MX1).rcpt(bad, then=f"550 5.1.1 <{bad}>: no such user")
        srv = start(make_server, tls_cert, dns, mx, port, secret,
                    events=["delivered", "bounced", "suppressed"])
        user, pw = srv.add_user()
        qid = send(srv, user, pw, [good, bad])
        rx.wait(lambda rs: {(r["json"]["type"], r["json"].get("recipient")) for r in rs} >=
                {("delivered", good), ("bounced", bad), ("suppressed", bad)}, WAIT,
                "delivered, bounced and suppressed events")
        for r in rx.requests:
            h = r["headers"]
            assert verify_webhook(secret, h, r["body"]), f"bad signature: {h}"
            assert not verify_webhook(new_secret(), h, r["body"])
            assert not verify_webhook(secret, h, r["body"] + b" ")
            assert h["Content-Type"] == "application/json"
            assert h["Webhook-Id"] == r["json"]["id"] and h["Webhook-Id"].startswith("evt_")
            assert abs(int(h["Webhook-Timestamp"]) - time.time()) < 60
            assert r["path"] == "/hook"
        got = {(r["json"]["type"], r["json"].get("recipient")): r["json"] for r in rx.requests}
        d, b, s = got[("delivered", good)], got[("bounced", bad)], got[("suppressed", bad)]
        assert d["message_id"] == qid and d["reply"].startswith("250") and d["host"] == MX1, d
        assert b["message_id"] == qid, b
        assert "5.1.1" in b["reply"] and b["status"] == "5.1.1", b
        assert s["message_id"] == qid and "5.1.1" in s["reason"], s
        assert d["time"].endswith("Z") and "T" in d["time"]
        # only the types asked for: no deferred, no received (the DSN to the
        # sender, delivered to its local mailbox, is a delivered event too)
        assert {r["json"]["type"] for r in rx.requests} == {"delivered", "bounced", "suppressed"}
        ids = [r["json"]["id"] for r in rx.requests]
        assert len(ids) == len(set(ids)), f"an event was sent twice: {ids}"
        # the log: one attempt line per delivery, with the host, never the secret
        lines = wait_until(lambda: len(attempts(srv)) >= len(rx.requests) and attempts(srv), WAIT,
                           what="an attempt line per delivery")
        assert len(lines) == len(rx.requests) and all(
            l["host"] == f"127.0.0.1:{port}" and l["status"] == "200" and l["result"] == "delivered" and
            l["attempt"] == "1" for l in lines), lines
        assert wait_final(srv, qid, bad)["result"] == "bounced"
    finally:
        rx.stop()


def test_500_then_200_retries_with_the_same_id(make_server, tls_cert, dns, mx):
    port, secret = free_port(), new_secret()
    rx = WebhookReceiver(port, tls_cert["cert"], tls_cert["key"], statuses=[500, 503]).start()
    sdir = make_tempdir("yubin-e2e-hooksecret-")
    try:
        rcpt = f"{uniq('ok')}@{REMOTE}"
        mx.add(IP1, hostname=MX1)
        # the secret from a file (one line; the server reads it as root, before dropping privileges)
        (sdir / "hook.secret").write_text(secret + "\n")
        os.chmod(sdir / "hook.secret", 0o600)
        srv = start(make_server, tls_cert, dns, mx, port, secret, events=["delivered"],
                    secret_file=sdir / "hook.secret")
        user, pw = srv.add_user()
        qid = send(srv, user, pw, [rcpt])
        reqs = rx.wait(lambda rs: rs if len(rs) >= 3 else None, WAIT, "three attempts")
        assert [r["status"] for r in reqs[:3]] == [500, 503, 200]
        assert len({r["headers"]["Webhook-Id"] for r in reqs}) == 1, "a retry must keep the event id"
        assert len({r["body"] for r in reqs}) == 1, "a retry must send the same body"
        assert all(verify_webhook(secret, r["headers"], r["body"]) for r in reqs)
        assert reqs[0]["json"]["message_id"] == qid
        # each attempt is logged once its answer is in: the third may still be on its way
        mine = lambda: [l for l in attempts(srv) if l["id"] == reqs[0]["json"]["id"]]
        wait_until(lambda: len(mine()) >= 3, WAIT, what="three webhook_attempt lines")
        lines = mine()
        assert [(l["status"], l["attempt"], l["result"]) for l in lines] == \
            [("500", "1", "retry"), ("503", "2", "retry"), ("200", "3", "delivered")], lines
        assert lines[0]["retry_in"] == "1" and lines[1]["retry_in"] == "2"
        time.sleep(2.5)
        assert len(rx.requests) == 3, "delivered again after a 200"
    finally:
        rx.stop()
        shutil.rmtree(sdir, ignore_errors=True)


def test_receiver_down_then_up(make_server, tls_cert, dns, mx):
    port, secret = free_port(), new_secret()
    rcpt = f"{uniq('ok')}@{REMOTE}"
    mx.add(IP1, hostname=MX1)
    srv = start(make_server, tls_cert, dns, mx, port, secret, events=["delivered"])
    user, pw = srv.add_user()
    qid = send(srv, user, pw, [rcpt])
    wait_until(lambda: any(l["result"] == "retry" for l in attempts(srv)), WAIT, what="a failed attempt")
    failed = [l for l in attempts(srv) if l["result"] == "retry"][0]
    assert failed["status"] == "0" and failed["error"] != "-", failed
    rx = WebhookReceiver(port, tls_cert["cert"], tls_cert["key"]).start()
    try:
        (ev,) = rx.wait(lambda rs: rs, WAIT, "the event once the receiver is up")
        assert ev["json"]["message_id"] == qid and ev["json"]["type"] == "delivered"
        assert verify_webhook(secret, ev["headers"], ev["body"])
    finally:
        rx.stop()


def test_restart_keeps_the_pending_event(make_server, tls_cert, dns, mx):
    port, secret = free_port(), new_secret()
    rcpt = f"{uniq('ok')}@{REMOTE}"
    mx.add(IP1, hostname=MX1)
    srv = start(make_server, tls_cert, dns, mx, port, secret, events=["delivered"], retry_base=4,
                retry_max=4)
    user, pw = srv.add_user()
    qid = send(srv, user, pw, [rcpt])
    wait_until(lambda: attempts(srv), WAIT, what="a first (failed) attempt")
    first = attempts(srv)[0]
    assert first["attempt"] == "1" and first["result"] == "retry" and first["retry_in"] == "4", first
    assert srv.stop() == 0                      # mid-retry
    rx = WebhookReceiver(port, tls_cert["cert"], tls_cert["key"]).start()
    try:
        srv.start()
        (ev,) = rx.wait(lambda rs: rs, WAIT, "the pending event after the restart")
        assert ev["headers"]["Webhook-Id"] == first["id"] and ev["json"]["message_id"] == qid
        assert verify_webhook(secret, ev["headers"], ev["body"])
        # the attempt count survived the restart
        wait_until(lambda: len(attempts(srv)) >= 2, WAIT, what="the second attempt's log line")
        second = attempts(srv)[1]
        assert (second["attempt"], second["result"], second["status"]) == ("2", "delivered", "200"), second
        time.sleep(1.5)
        assert len(rx.requests) == 1, "the follower queued the event again after the restart"
    finally:
        rx.stop()


def test_unverified_certificate_and_redirect_are_failures(make_server, tls_cert, rsa_cert, dns, mx):
    port, port2, secret = free_port(), free_port(), new_secret()
    # a certificate that webhooks.ca_file does not vouch for
    bad = WebhookReceiver(port, rsa_cert["cert"], rsa_cert["key"]).start()
    try:
        mx.add(IP1, hostname=MX1)
        srv = start(make_server, tls_cert, dns, mx, port, secret, events=["delivered"])
        user, pw = srv.add_user()
        send(srv, user, pw, [f"{uniq('ok')}@{REMOTE}"])
        wait_until(lambda: attempts(srv), WAIT, what="an attempt")
        a = attempts(srv)[0]
        assert a["result"] == "retry" and "certificate" in a["error"].lower(), a
        assert bad.requests == []
    finally:
        bad.stop()
    # a redirect is not followed: the target never hears of the event
    srv.stop()
    target = WebhookReceiver(port2, tls_cert["cert"], tls_cert["key"]).start()
    redirect = WebhookReceiver(port, tls_cert["cert"], tls_cert["key"], then=307,
                               location=f"https://127.0.0.1:{port2}/hook").start()
    try:
        srv.start()
        redirect.wait(lambda rs: len(rs) >= 2, WAIT, "two attempts at the redirecting endpoint")
        assert target.requests == []
        assert any(l["status"] == "307" and l["result"] == "retry" for l in attempts(srv))
    finally:
        redirect.stop()
        target.stop()


def test_config_check_reports_endpoints_by_line(make_server, tls_cert):
    secret = new_secret()
    srv = make_server(start=False, extra=(
        "webhooks: { endpoints = (\n"
        f'  {{ url = "http://127.0.0.1:1/hook"; secret = "{secret}"; }},\n'
        '  { url = "https://127.0.0.1:1/x"; secret = "whsec_%%%%"; events = ["opened"]; }\n'
        "); };"))
    p = srv.cli("config", "check")
    assert p.returncode != 0
    conf = str(srv.config_path)
    lines = srv.config_path.read_text().splitlines()
    n = next(i for i, l in enumerate(lines, 1) if "http://127.0.0.1:1/hook" in l)
    assert f"{conf}:{n}: webhooks.endpoints: \"http://127.0.0.1:1/hook\" is not an https:// URL" in p.stderr, p.stderr
    assert f"{conf}:{n + 1}: webhooks.endpoints: an event must be" in p.stderr, p.stderr
    assert "base64" in p.stderr
    assert secret not in p.stderr + p.stdout and "%%%%" not in p.stderr + p.stdout


def test_outbox_is_bounded_per_endpoint(make_server, tls_cert, dns, mx):
    """A dead endpoint cannot grow the outbox: past max_pending its oldest
    deliveries are dropped (logged), and the newest are delivered once it
    comes back."""
    port, secret = free_port(), new_secret()
    mx.add(IP1, hostname=MX1)
    srv = start(make_server, tls_cert, dns, mx, port, secret, events=["delivered"], max_pending=10,
                retry_base=2, retry_max=2)
    user, pw = srv.add_user()
    srv.api_key = new_key(srv)
    rcpts = [f"{uniq('n')}@{REMOTE}" for _ in range(13)]
    qids = [api_send(srv, user, pw, [r]) for r in rcpts]
    for q, r in zip(qids, rcpts):
        wait_final(srv, q, r, WAIT)
    # all three drops happened (the last event reaches the outbox a moment
    # after its delivery is final): only then may the endpoint come back
    def all_drops():
        ds = [parse_logfmt(l) for l in srv.log_text().splitlines() if "event=webhook_drop" in l]
        return ds if sum(int(d["dropped"]) for d in ds) >= 3 else None
    drops = wait_until(all_drops, WAIT, what="three dropped webhook deliveries")
    assert all(d["reason"] == "outbox_full" and d["max_pending"] == "10" for d in drops), drops
    rx = WebhookReceiver(port, tls_cert["cert"], tls_cert["key"]).start()
    try:
        reqs = rx.wait(lambda rs: rs if len({r["json"]["id"] for r in rs}) >= 10 else None, WAIT,
                       "the ten newest events")
        time.sleep(3)
        # the newest ten by event id (the order the trail stored them in)
        ours = [e["id"] for e in events(srv, type="delivered", limit=1000)["events"] if e["recipient"] in rcpts]
        assert len(ours) == 13
        got = {r["json"]["id"] for r in rx.requests}
        assert got == set(ours[3:]), (sorted(got), ours)
        assert len(rx.requests) == 10, "an event was delivered twice"
        # every drop line by now (the first was seen before the last batch)
        drops = [parse_logfmt(l) for l in srv.log_text().splitlines() if "event=webhook_drop" in l]
        assert sum(int(d["dropped"]) for d in drops) == 3, drops
    finally:
        rx.stop()


def test_endpoints_registered_through_the_api(make_server, tls_cert, dns, mx):
    """POST /v1/webhooks registers an endpoint of the calling key and shows
    its secret once; it gets the signed events of that key's messages from
    then on (not those of SMTP submission or of another key); GET lists
    the key's own endpoints (not the configuration's, not another key's);
    DELETE stops it, and only its key may; bad requests are refused."""
    from hooks_helpers import api
    port, port2, conf_secret = free_port(), free_port(), new_secret()
    mx.add(IP1, hostname=MX1)
    srv = start(make_server, tls_cert, dns, mx, port2, conf_secret, events=["bounced"])
    srv.api_key = new_key(srv)
    url = f"https://127.0.0.1:{port}/registered"
    st, h, body = api(srv, "POST", "/v1/webhooks", {"url": url, "events": ["delivered"]})
    assert st == 201, body
    secret = body["secret"]
    srv.secrets.add(secret)
    assert secret.startswith("whsec_") and body["id"].startswith("wh_") and body["events"] == ["delivered"]
    assert h["Location"] == f"/v1/webhooks/{body['id']}" and body["source"] == "api"
    st, _, listing = api(srv, "GET", "/v1/webhooks")
    assert st == 200
    assert [(w["source"], w["url"]) for w in listing["webhooks"]] == [("api", url)], listing
    other = new_key(srv)
    assert api(srv, "GET", "/v1/webhooks", key=other)[2]["webhooks"] == []
    assert api(srv, "DELETE", f"/v1/webhooks/{body['id']}", key=other)[0] == 404
    assert all("secret" not in w for w in listing["webhooks"])
    rx = WebhookReceiver(port, tls_cert["cert"], tls_cert["key"]).start()
    try:
        user, pw = srv.add_user()
        # mail of SMTP submission and of another key is not this key's
        f1, f2 = f"{uniq('ok')}@{REMOTE}", f"{uniq('ok')}@{REMOTE}"
        foreign = [(send(srv, user, pw, [f1]), f1), (api_send(srv, user, pw, [f2], key=other), f2)]
        rcpt = f"{uniq('ok')}@{REMOTE}"
        qid = api_send(srv, user, pw, [rcpt])
        (ev,) = rx.wait(lambda rs: rs, WAIT, "the event at the registered endpoint")
        assert ev["path"] == "/registered" and ev["json"]["message_id"] == qid
        assert verify_webhook(secret, ev["headers"], ev["body"])
        for fq, fr in foreign:
            wait_final(srv, fq, fr, WAIT)
        time.sleep(2)
        assert [r["json"]["message_id"] for r in rx.requests] == [qid], rx.requests
        # deleted: no more deliveries
        assert api(srv, "DELETE", f"/v1/webhooks/{body['id']}")[0] == 204
        assert api(srv, "DELETE", f"/v1/webhooks/{body['id']}")[0] == 404
        api_send(srv, user, pw, [f"{uniq('ok')}@{REMOTE}"])
        time.sleep(3)
        assert len(rx.requests) == 1
    finally:
        rx.stop()
    for bad, field in (({"url": "http://127.0.0.1:1/x"}, "/url"), ({"url": "https://u:p@h.example/"}, "/url"),
                       ({}, "/url"), ({"url": url, "events": ["opened"]}, "/events"),
                       ({"url": url, "events": []}, "/events"), ({"url": url, "events": "delivered"}, "/events")):
        st, _, p = api(srv, "POST", "/v1/webhooks", bad)
        assert st == 400 and p["field"] == field, (bad, p)
    st, _, p = api(srv, "POST", "/v1/webhooks", {"url": f"https://127.0.0.1:{port2}/hook"})
    assert st == 409, p
    assert api(srv, "POST", "/v1/webhooks", {"url": url})[0] == 201
    assert api(srv, "POST", "/v1/webhooks", {"url": url})[0] == 409
    assert api(srv, "DELETE", "/v1/webhooks/7")[0] == 404
    assert api(srv, "GET", "/v1/webhooks", key=False)[0] == 401
