"""The suppression list (api/suppress.c, api/follow.c, api/suppress_api.c,
`yubin suppress`): a permanent failure that says the address is bad
(5.1.1 from a test MX) adds the recipient, a policy refusal (5.7.1) or a
size refusal (5.3.4) does not; GET/POST/DELETE /v1/suppressions with
pagination and every bad input; the CLI; and a send through the API to a
suppressed address is refused, naming the recipient."""

import time

import pytest

from conftest import DOMAIN, uniq, wait_final, wait_until
from hooks_helpers import MX1, IP1, REMOTE, WAIT, api, events, q, send, start, wait_event, wait_suppressed


def test_bad_address_bounce_suppresses_policy_refusal_does_not(make_server, dns, mx):
    gone, policy, big = (f"{uniq(p)}@{REMOTE}" for p in ("gone", "policy", "big"))
    rx = mx.add(IP1, hostname=MX1)
    rx.rcpt(gone, then=f"550 5.1.1 <{gone}>: no such user")
    rx.rcpt(policy, then="550 5.7.1 relaying denied by policy")
    rx.rcpt(big, then="552 5.3.4 message too big for this recipient")
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    # the refusals first, the bad address in a later message: once that is
    # on the list, the follower has read past the refusals' records
    q1 = send(srv, user, pw, [policy, big])
    for r in (policy, big):
        assert wait_final(srv, q1, r, WAIT)["result"] == "bounced"
    q2 = send(srv, user, pw, [f"{gone.upper()}"])
    e = wait_suppressed(srv, gone)
    assert e["address"] == gone.lower() and e["source"] == "bounce", e
    assert e["message_id"] == q2 and "5.1.1" in e["reply"] and e["reason"].startswith("bounce: 550 5.1.1"), e
    assert e["created"].endswith("Z")
    for r in (policy, big):
        status, _, body = api(srv, "GET", f"/v1/suppressions/{q(r)}")
        assert status == 404, (r, body)
        assert body["type"] == "/v1/problems/not-found"
    # the suppressed event in the log of events, and the log line
    ev = wait_event(srv, "suppressed", gone.lower())
    assert ev["message_id"] == q2 and "5.1.1" in ev["reason"], ev
    assert f"event=suppress_add qid={q2} address={gone.lower()} source=bounce" in srv.log_text()
    # the CLI sees the same list
    p = srv.cli("suppress", "list")
    assert p.returncode == 0 and gone.lower() in p.stdout and policy not in p.stdout, p.stdout


def test_api_add_get_list_delete(make_server, dns, mx):
    srv = start(make_server, dns, mx)
    addrs = [f"{uniq('m')}@Example.NET" for _ in range(5)]
    status, h, body = api(srv, "POST", "/v1/suppressions", {"address": addrs[0], "reason": "asked to stop"})
    assert status == 201, body
    assert body["address"] == addrs[0].lower() and body["source"] == "manual" and body["reason"] == "asked to stop"
    assert h["Location"] == f"/v1/suppressions/{addrs[0].lower()}"
    # the same address again: 200 with the entry that is there
    status, _, body = api(srv, "POST", "/v1/suppressions", {"address": addrs[0].upper(), "reason": "again"})
    assert status == 200 and body["reason"] == "asked to stop", body
    for a in addrs[1:]:
        assert api(srv, "POST", "/v1/suppressions", {"address": a})[0] == 201
    status, _, body = api(srv, "GET", f"/v1/suppressions/{q(addrs[3].upper())}")
    assert status == 200 and body["address"] == addrs[3].lower() and body["reason"] == "manual", body
    # pages of 2: every address once, in order
    seen, path = [], "/v1/suppressions?limit=2"
    for _ in range(10):
        status, _, body = api(srv, "GET", path)
        assert status == 200, body
        assert len(body["suppressions"]) <= 2
        seen += [e["address"] for e in body["suppressions"]]
        if body["next"] is None:
            assert body["next_cursor"] is None
            break
        assert body["next"] == f"/v1/suppressions?cursor={body['next_cursor']}"
        path = body["next"]
    assert seen == sorted(a.lower() for a in addrs), seen
    assert api(srv, "DELETE", f"/v1/suppressions/{q(addrs[0])}")[0] == 204
    status, _, body = api(srv, "DELETE", f"/v1/suppressions/{q(addrs[0])}")
    assert status == 404 and body["type"] == "/v1/problems/not-found", body
    assert api(srv, "GET", f"/v1/suppressions/{q(addrs[0])}")[0] == 404
    # a manual addition is a suppressed event too
    # (it belongs to no message: found by type, not by the recipient filter)
    ev = wait_until(lambda: [e for e in events(srv, type="suppressed", limit=1000)["events"]
                             if e["recipient"] == addrs[1].lower()], WAIT, what="a manual suppressed event")[0]
    assert ev["reason"] == "manual" and ev["message_id"] is None, ev
    assert "event=suppress_add" in srv.log_text() and "event=suppress_del" in srv.log_text()


def test_api_bad_requests(make_server, dns, mx):
    # the refused keys below must not lock the test's own address out
    srv = start(make_server, dns, mx, auth={"lockout_failures": 100})
    cases = [
        ({"reason": "x"}, "/address"),
        ({"address": "no-at-sign"}, "/address"),
        ({"address": 42}, "/address"),
        ({"address": "a@b.example", "reason": "r" * 501}, "/reason"),
        ({"address": "a@b.example", "reason": ""}, "/reason"),
        ({"address": "a@b.example", "reason": 7}, "/reason"),
    ]
    for body, field in cases:
        status, h, p = api(srv, "POST", "/v1/suppressions", body)
        assert status == 400 and p["field"] == field, (body, p)
        assert h["Content-Type"].startswith("application/problem+json")
    for raw in (b"{not json", b"[1, 2]", b""):
        status, _, p = api(srv, "POST", "/v1/suppressions", raw=raw)
        assert status == 400 and p["type"] == "/v1/problems/invalid-json", (raw, p)
    for path, param in (("/v1/suppressions?limit=0", "limit"), ("/v1/suppressions?limit=1001", "limit"),
                        ("/v1/suppressions?limit=x", "limit"), ("/v1/suppressions?cursor=zzz", "cursor")):
        status, _, p = api(srv, "GET", path)
        assert status == 400 and p["field"] == param, (path, p)
    # a key is needed for every route, and a wrong one is refused
    for method, path in (("GET", "/v1/suppressions"), ("GET", "/v1/suppressions/a@b.example"),
                         ("POST", "/v1/suppressions"), ("DELETE", "/v1/suppressions/a@b.example")):
        assert api(srv, method, path, {"address": "a@b.example"}, key=False)[0] == 401
        assert api(srv, method, path, {"address": "a@b.example"}, key="yk_" + "A" * 43)[0] == 401
    assert api(srv, "GET", "/v1/suppressions/a@b.example")[0] == 404


def test_cli(make_server):
    srv = make_server()
    a = f"{uniq('cli')}@Example.ORG"
    p = srv.cli("suppress", "add", a, "unsubscribed by phone")
    assert p.returncode == 0 and f"added {a}" in p.stdout, p.stdout + p.stderr
    p = srv.cli("suppress", "add", a)
    assert p.returncode == 0 and "already" in p.stdout
    p = srv.cli("suppress", "show", a.upper())
    assert p.returncode == 0 and a.lower() in p.stdout and "source=manual" in p.stdout
    assert 'reason="unsubscribed by phone"' in p.stdout, p.stdout
    assert srv.cli("suppress", "add", "not-an-address").returncode == 1
    assert srv.cli("suppress", "frobnicate").returncode == 2
    p = srv.cli("suppress", "del", a)
    assert p.returncode == 0 and "removed" in p.stdout
    p = srv.cli("suppress", "del", a)
    assert p.returncode == 1 and "not on the suppression list" in p.stderr
    assert a.lower() not in srv.cli("suppress", "list").stdout


# The API refuses a send naming a suppressed recipient, before the quota
# or the Idempotency-Key is taken, and takes it again once removed.
def test_api_send_to_suppressed_address_is_refused(make_server, dns, mx):
    mx.add(IP1, hostname=MX1)
    srv = start(make_server, dns, mx)
    blocked, fine = f"{uniq('blocked')}@{REMOTE}", f"{uniq('fine')}@{REMOTE}"
    assert api(srv, "POST", "/v1/suppressions", {"address": blocked, "reason": "test"})[0] == 201
    msg = {"from": f"app@{DOMAIN}", "to": [fine, blocked.upper()], "subject": "hi", "text": "hello"}
    status, _, body = api(srv, "POST", "/v1/messages", msg)
    assert 400 <= status < 500, (status, body)
    assert status == 422 and body["type"] == "/v1/problems/recipient-suppressed", body
    assert body["recipient"].lower() == blocked.lower(), body
    assert blocked.lower() in (body.get("detail") or "").lower(), body
    # after removal the same send is accepted
    assert api(srv, "DELETE", f"/v1/suppressions/{q(blocked)}")[0] == 204
    status, _, body = api(srv, "POST", "/v1/messages", msg)
    assert 200 <= status < 300, (status, body)
