"""GET /v1/events (api/events.c): the delivery log as JSON events with
stable ids, filtered by type, recipient, message and time, and paginated
with an opaque cursor that returns every event exactly once."""

import time

from conftest import uniq, wait_final, wait_until
from hooks_helpers import IP1, MX1, REMOTE, WAIT, api, events, q, send, start, wait_event


def test_pagination_and_filters(make_server, dns, mx):
    good = [f"{uniq('ok')}@{REMOTE}" for _ in range(3)]
    gone, later = f"{uniq('gone')}@{REMOTE}", f"{uniq('later')}@{REMOTE}"
    rx = mx.add(IP1, hostname=MX1)
    rx.rcpt(gone, then="550 5.1.1 no such user")
    rx.rcpt(later, then="451 4.2.0 try again later")
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    t0 = time.time()
    q1 = send(srv, user, pw, good[:2])
    q2 = send(srv, user, pw, [good[2], gone, later])
    for r in good[:2]:
        wait_final(srv, q1, r, WAIT)
    wait_event(srv, "suppressed", gone)
    wait_event(srv, "deferred", later)

    everything = events(srv, limit=1000)
    assert everything["next"] is None and everything["next_cursor"] is None
    all_ev = everything["events"]
    ids = [int(e["id"].removeprefix("evt_")) for e in all_ev]
    assert ids == sorted(ids) and len(ids) == len(set(ids)), ids
    types = {(e["type"], e.get("recipient")) for e in all_ev}
    for r in good:
        assert ("delivered", r) in types
    assert ("bounced", gone) in types and ("suppressed", gone) in types and ("deferred", later) in types
    received = {e["message_id"]: e for e in all_ev if e["type"] == "received"}
    assert received[q1]["recipients"] == good[:2] and received[q1]["sender"] == user, received[q1]
    for e in all_ev:
        assert set(e) >= {"id", "type", "time", "message_id"}, e

    # pages of 2 (and of 1): every event exactly once, in order, following next
    for size in (2, 1):
        seen, path = [], f"/v1/events?limit={size}"
        for _ in range(200):
            status, _, body = api(srv, "GET", path)
            assert status == 200, body
            assert len(body["events"]) <= size
            seen += [e["id"] for e in body["events"]]
            if body["next"] is None:
                break
            path = body["next"]
        # (the deferred recipient's retries add events meanwhile: they come after)
        assert len(seen) == len(set(seen)), f"an event twice: {seen}"
        assert seen[:len(all_ev)] == [e["id"] for e in all_ev], (size, seen)

    # filters, kept by the cursor
    b = events(srv, type="bounced,suppressed")["events"]
    assert {e["type"] for e in b} == {"bounced", "suppressed"} and all(e["recipient"] == gone for e in b), b
    only = events(srv, recipient=good[2].upper())["events"]
    assert only and all(e["recipient"] == good[2] for e in only if e["type"] != "received"), only
    assert [e["type"] for e in only if e["type"] != "received"] == ["delivered"]
    m = events(srv, message_id=q1)["events"]
    assert m and all(e["message_id"] == q1 for e in m)
    assert {e["recipient"] for e in m if e["type"] == "delivered"} == set(good[:2])
    first = events(srv, message_id=q2, type="delivered,deferred", limit=1)
    rest = api(srv, "GET", first["next"])[2]
    assert len(first["events"]) == 1 and all(e["message_id"] == q2 for e in rest["events"])
    assert {e["type"] for e in first["events"] + rest["events"]} <= {"delivered", "deferred"}
    future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    assert events(srv, since=future)["events"] == []
    assert events(srv, until=int(t0) - 60)["events"] == []
    recent = events(srv, since=int(t0) - 60, limit=1000)["events"]
    assert [e["id"] for e in recent][:len(all_ev)] == [e["id"] for e in all_ev]
    cut = all_ev[len(all_ev) // 2]["time"]
    later = events(srv, since=cut, limit=1000)["events"]
    assert later and all(e["time"] >= cut for e in later) and later[0]["id"] != all_ev[0]["id"]
    earlier = events(srv, until=cut, limit=1000)["events"]
    assert earlier and all(e["time"] < cut for e in earlier)


def test_bad_parameters(make_server, dns, mx):
    mx.add(IP1, hostname=MX1)
    srv = start(make_server, dns, mx, auth={"lockout_failures": 100})
    for query, field in (("type=opened", "type"), ("type=", "type"), ("limit=0", "limit"),
                         ("limit=1001", "limit"), ("limit=ten", "limit"), ("since=yesterday", "since"),
                         ("until=2026-13-01T00:00:00Z", "until"), ("cursor=not-a-cursor", "cursor"),
                         ("recipient=" + "a" * 400, "recipient")):
        status, h, body = api(srv, "GET", "/v1/events?" + query)
        assert status == 400 and body["field"] == field, (query, body)
        assert h["Content-Type"].startswith("application/problem+json")
    assert api(srv, "GET", "/v1/events", key=False)[0] == 401
    assert api(srv, "GET", "/v1/events", key="yk_" + "B" * 43)[0] == 401


def test_a_key_sees_only_its_own_messages(make_server, dns, mx):
    """Events are those of the messages the calling key sent (and of the
    suppressions it added by hand): another key's mail, and mail that came
    by SMTP submission, are not in its log."""
    from hooks_helpers import new_key, send_smtp
    mx.add(IP1, hostname=MX1)
    srv = start(make_server, dns, mx)
    other = new_key(srv)
    user, pw = srv.add_user()
    mine, theirs, smtp = (f"{uniq(t)}@{REMOTE}" for t in ("mine", "theirs", "smtp"))
    q_mine = send(srv, user, pw, [mine])
    q_theirs = send(srv, user, pw, [theirs], key=other)
    q_smtp = send_smtp(srv, user, pw, [smtp])
    for qid, r in ((q_mine, mine), (q_theirs, theirs), (q_smtp, smtp)):
        wait_final(srv, qid, r, WAIT)
    assert api(srv, "POST", "/v1/suppressions", {"address": f"x@{REMOTE}"}, key=other)[0] == 201
    time.sleep(1)
    seen = {e["message_id"] for e in events(srv, limit=1000)["events"]}
    assert seen == {q_mine}, seen
    status, _, body = api(srv, "GET", "/v1/events?limit=1000", key=other)
    assert status == 200
    assert {e["message_id"] for e in body["events"]} == {q_theirs, None}, body
    assert [e["recipient"] for e in body["events"] if e["type"] == "suppressed"] == [f"x@{REMOTE}"]
    # a message's own filter cannot reach across either
    assert events(srv, message_id=q_theirs)["events"] == []
    assert events(srv, message_id=q_smtp)["events"] == []
    # the trail has all three (yubin trace is the administrator's view)
    p = srv.cli("trace", q_smtp)
    assert p.returncode == 0 and smtp in p.stdout, p.stdout
