"""The HTTPS API's internal submission sessions are kept and reused
(api/inject.c over delivery/connpool.c): many sends, one after another or
at once, open one or a few sessions (one `login ... user=apikey:NAME`
line each), not one per message; a refused message leaves its session
good for the next (also past limits.errors refusals in a row); a session
unused for a moment is closed (its `disconnect` line); the bounds
api.sessions / api.sessions_per_key make requests wait, never fail; a
stop with sessions open, busy or waiting, exits 0 (clean under ASan)."""

import json
import re
import threading
import time

from conftest import DOMAIN, wait_until
from test_api_send import Api


def logins(srv, name):
    """The sids of the internal sessions opened for key name."""
    return re.findall(rf"\blogin sid=(\S+) user=apikey:{re.escape(name)} ", srv.log_text())


def send(api, key, to, subject="x", conn=None):
    st, _, d = api.post(key, {"from": f"app@{DOMAIN}", "to": [to], "subject": subject, "text": subject},
                        conn=conn)
    return st, json.loads(d.decode()) if d else None


def send_parallel(api, key, rcpts, n):
    """n sends at once, each on its own HTTPS connection; their statuses."""
    out = [None] * n

    def one(i):
        try:
            out[i] = send(api, key, rcpts[i % len(rcpts)], f"par {i}")[0]
        except Exception as e:  # a connection cut by a stop
            out[i] = repr(e)

    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    return out


def test_sequential_and_concurrent_sends_share_a_few_sessions(make_server, dns, mx):
    api = Api(make_server, dns, mx, extra="api: { sessions_per_key = 4; };")
    user, _ = api.srv.add_user()
    name, key = api.add_key()
    c = api.srv.https_conn()
    try:
        for i in range(15):
            st, j = send(api, key, user, f"seq {i}", conn=c)
            assert st == 202, j
    finally:
        c.close()
    assert len(logins(api.srv, name)) == 1, "one session for 15 messages in a row"
    statuses = send_parallel(api, key, [user], 16)
    assert statuses == [202] * 16, statuses
    # at most api.sessions_per_key (4 here) at once, the first one reused
    assert 1 <= len(logins(api.srv, name)) <= 5, logins(api.srv, name)
    mails = api.srv.wait_mail(user, 31)
    assert len(mails) == 31
    # every message still arrived as sent over https by the key
    assert api.srv.log_text().count(f"apikey={name} ") >= 31


def test_a_refusal_does_not_break_the_next_message_on_the_session(make_server, dns, mx):
    api = Api(make_server, dns, mx, extra="""policy: { rules = (
      { name = "no-blocked"; rcpt = "blocked@example.test"; action = "reject"; text = "No applications"; },
      { name = "later"; rcpt = "later@example.test"; action = "tempfail"; text = "Not now"; },
      { name = "no-sender"; sender = "refused@example.test"; action = "reject"; text = "Not this sender"; }
    ); };""")
    user, _ = api.srv.add_user()
    api.srv.add_user(f"blocked@{DOMAIN}")
    api.srv.add_user(f"later@{DOMAIN}")
    name, key = api.add_key()
    c = api.srv.https_conn()
    try:
        st, j = send(api, key, f"blocked@{DOMAIN}", conn=c)
        assert st == 403 and "No applications" in j["detail"], j
        st, j = send(api, key, user, "after a refusal", conn=c)
        assert st == 202, j
        st, j = send(api, key, f"later@{DOMAIN}", conn=c)
        assert st == 503 and "Not now" in j["detail"], j
        # refused at MAIL: the pipelined RCPT and BDAT (with its body) are
        # refused too and read past; the session stays in step
        st, _, d = api.post(key, {"from": f"refused@{DOMAIN}", "to": [user], "subject": "no", "text": "no"},
                            conn=c)
        j = json.loads(d)
        assert st == 403 and "Not this sender" in j["detail"] and j["smtp_reply"].startswith("550"), j
        # more refusals in a row than limits.errors (10): each message is
        # a request of its own, the session does not close for them
        for i in range(12):
            st, j = send(api, key, f"blocked@{DOMAIN}", conn=c)
            assert st == 403, j
        st, j = send(api, key, user, "after twelve refusals", conn=c)
        assert st == 202, j
    finally:
        c.close()
    subjects = sorted(m.split(b"Subject: ")[1].split(b"\n")[0].strip() for m in api.srv.wait_mail(user, 2))
    assert subjects == [b"after a refusal", b"after twelve refusals"]
    assert len(logins(api.srv, name)) == 1, api.srv.log_text()[-3000:]
    assert "Too many errors" not in api.srv.log_text()


def test_an_unused_session_is_closed_after_a_moment(make_server, dns, mx):
    api = Api(make_server, dns, mx)
    user, _ = api.srv.add_user()
    name, key = api.add_key()
    assert send(api, key, user, "first")[0] == 202
    sid = logins(api.srv, name)[0]
    t0 = time.monotonic()
    wait_until(lambda: f"disconnect sid={sid} " in api.srv.log_text(), 8, what="the idle session's close")
    assert time.monotonic() - t0 < 6
    assert send(api, key, user, "second")[0] == 202
    sids = logins(api.srv, name)
    assert len(sids) == 2 and sids[1] != sid
    api.srv.wait_mail(user, 2)


def test_the_bounds_make_requests_wait_not_fail(make_server, dns, mx):
    api = Api(make_server, dns, mx, extra="api: { sessions = 1; sessions_per_key = 1; };")
    user, _ = api.srv.add_user()
    a_name, a_key = api.add_key()
    b_name, b_key = api.add_key()
    out = {}

    def run(tag, key):
        out[tag] = send_parallel(api, key, [user], 8)

    ts = [threading.Thread(target=run, args=("a", a_key)), threading.Thread(target=run, args=("b", b_key))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(90)
    assert out["a"] == [202] * 8 and out["b"] == [202] * 8, out
    api.srv.wait_mail(user, 16)
    # one session at a time in all: every login follows the previous
    # session's disconnect
    log = api.srv.log_text()
    open_sids = set()
    for m in re.finditer(r"\b(login|disconnect) sid=(\S+)( user=apikey:)?", log):
        if m.group(1) == "login" and m.group(3):
            assert not open_sids, f"two internal sessions at once: {open_sids} and {m.group(2)}"
            open_sids.add(m.group(2))
        elif m.group(1) == "disconnect":
            open_sids.discard(m.group(2))
    assert 2 <= len(logins(api.srv, a_name)) + len(logins(api.srv, b_name)) <= 16


def test_stop_with_sessions_open_and_requests_waiting_exits_0(make_server, dns, mx):
    api = Api(make_server, dns, mx, extra="api: { sessions = 2; sessions_per_key = 1; };")
    user, _ = api.srv.add_user()
    name, key = api.add_key()
    assert send(api, key, user, "kept")[0] == 202
    # a kept session is open now (idle); stop with it, and with requests
    # in flight and in line
    result = {}
    t = threading.Thread(target=lambda: result.update(s=send_parallel(api, key, [user], 6)))
    t.start()
    time.sleep(0.05)
    assert api.srv.stop() == 0
    t.join(60)
    for s in result["s"]:
        assert s in (202, 503) or isinstance(s, str), result
    assert "leak" not in api.srv.log_text().lower()


def test_stop_with_an_idle_kept_session_exits_0(make_server, dns, mx):
    api = Api(make_server, dns, mx)
    user, _ = api.srv.add_user()
    name, key = api.add_key()
    assert send(api, key, user, "kept")[0] == 202
    assert len(logins(api.srv, name)) == 1
    assert api.srv.stop() == 0
    sid = logins(api.srv, name)[0]
    assert f"disconnect sid={sid} " in api.srv.log_text()


def test_a_session_closed_by_the_server_while_kept_is_replaced(make_server, dns, mx):
    """limits.command_timeout = 1: the server closes a kept session (421)
    before the pool's idle time is up; the next message gets a new one."""
    api = Api(make_server, dns, mx, limits={"command_timeout": 1})
    user, _ = api.srv.add_user()
    name, key = api.add_key()
    assert send(api, key, user, "one")[0] == 202
    sid = logins(api.srv, name)[0]
    wait_until(lambda: f"disconnect sid={sid} " in api.srv.log_text(), 5, what="the timed-out session's close")
    st, j = send(api, key, user, "two")
    assert st == 202, j
    assert len(logins(api.srv, name)) == 2
    api.srv.wait_mail(user, 2)


def test_internal_sessions_are_not_the_clients_connections(make_server, dns, mx):
    """limits.connections_per_ip = 3: three HTTPS connections at once are
    the address's three; the internal sessions their messages go through
    are the server's own and take none of its places."""
    api = Api(make_server, dns, mx, limits={"connections_per_ip": 3})
    user, _ = api.srv.add_user()
    name, key = api.add_key()
    for _ in range(3):
        statuses = send_parallel(api, key, [user], 3)
        assert statuses == [202] * 3, statuses
    assert len(logins(api.srv, name)) >= 1
    api.srv.wait_mail(user, 9)
