"""Limits: SIZE, recipients, command line length, errors, connections."""

import select
import time

from conftest import Conn, check_delivered, make_message, qid_from


def _big_body(n_bytes):
    line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789"
    n = n_bytes // (len(line) + 6 + 2) + 1
    return [f"{i:06d}{line}" for i in range(n)]


def test_size_parameter_over_limit(server):
    rcpt, _ = server.add_user()
    maxsize = server.limits["message_size"]
    with server.conn("smtp") as c:
        c.ehlo()
        r = c.cmd(f"MAIL FROM:<a@remote.test> SIZE={maxsize + 1}")
        assert r.code == 552 and r.enhanced() == "5.3.4", r
        r = c.cmd(f"MAIL FROM:<a@remote.test> SIZE={maxsize * 1000}")
        assert r.code == 552 and r.enhanced() == "5.3.4", r
        r = c.cmd("MAIL FROM:<a@remote.test> SIZE=1000")
        assert r.code == 250, r
        r = c.cmd(f"RCPT TO:<{rcpt}>")
        assert r.code == 250, r
        c.quit()


def test_data_over_limit_552_nothing_delivered(server):
    rcpt, _ = server.add_user()
    maxsize = server.limits["message_size"]
    big = make_message("a@remote.test", rcpt, "too big", _big_body(maxsize + 50000))
    assert len(big) > maxsize
    with server.conn("smtp") as c:
        c.ehlo()
        (rr,), final = c.mail_transaction("a@remote.test", [rcpt], big)
        assert rr.code == 250
        assert final.code == 552 and final.enhanced() == "5.3.4", final
        # session is still usable and in step
        r = c.cmd("NOOP")
        assert r.code == 250, r
        small = make_message("a@remote.test", rcpt, "small after big", ["ok"])
        _, final = c.mail_transaction("a@remote.test", [rcpt], small)
        assert final.code == 250, final
        qid = qid_from(final.text)
        c.quit()
    (data,) = server.wait_mail(rcpt)
    time.sleep(0.5)
    assert len(server.mail_files(rcpt)) == 1
    check_delivered(data, "a@remote.test", rcpt, small, qid=qid)


def test_data_over_limit_with_lying_size_param(server):
    rcpt, _ = server.add_user()
    maxsize = server.limits["message_size"]
    big = make_message("a@remote.test", rcpt, "lies", _big_body(maxsize * 2))
    with server.conn("smtp") as c:
        c.ehlo()
        (rr,), final = c.mail_transaction("a@remote.test", [rcpt], big, mail_params="SIZE=100")
        assert final.code == 552 and final.enhanced() == "5.3.4", final
        c.quit()
    server.assert_no_mail(rcpt, wait=1.0)


def test_message_under_limit_accepted(server):
    rcpt, _ = server.add_user()
    maxsize = server.limits["message_size"]
    msg = make_message("a@remote.test", rcpt, "big but ok", _big_body(maxsize - 20000))
    assert maxsize - 20000 < len(msg) < maxsize
    with server.conn("smtp") as c:
        c.ehlo()
        _, final = c.mail_transaction("a@remote.test", [rcpt], msg, mail_params=f"SIZE={len(msg)}")
        assert final.code == 250, final
        qid = qid_from(final.text)
        c.quit()
    (data,) = server.wait_mail(rcpt)
    check_delivered(data, "a@remote.test", rcpt, msg, qid=qid)


def test_bdat_over_limit(server):
    rcpt, _ = server.add_user()
    maxsize = server.limits["message_size"]
    chunk = b"X" * 300000 + b"\r\n"
    with server.conn("smtp") as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@remote.test>").code == 250
        assert c.cmd(f"RCPT TO:<{rcpt}>").code == 250
        replies = []
        sent = 0
        n = 0
        while sent <= maxsize + len(chunk):
            n += 1
            c.send(b"BDAT %d\r\n" % len(chunk) + chunk)
            sent += len(chunk)
            r = c.reply()
            replies.append(r)
            if r.code != 250:
                break
        if replies[-1].code == 250:
            c.send(b"BDAT 2 LAST\r\n\r\n")
            replies.append(c.reply())
        last = replies[-1]
        assert last.code == 552 and last.enhanced() == "5.3.4", replies
        c.quit()
    server.assert_no_mail(rcpt, wait=1.0)


def test_too_many_recipients(server):
    n = server.limits["recipients"]
    rcpts = [server.add_user()[0] for _ in range(n + 1)]
    msg = make_message("a@remote.test", rcpts[0], "many", ["hello all"])
    with server.conn("smtp") as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@remote.test>").code == 250
        for rc in rcpts[:n]:
            r = c.cmd(f"RCPT TO:<{rc}>")
            assert r.code == 250, r
        r = c.cmd(f"RCPT TO:<{rcpts[n]}>")
        assert r.code == 452 and r.enhanced() == "4.5.3", r
        assert c.cmd("DATA").code == 354
        c.send(msg + b".\r\n")
        r = c.reply()
        assert r.code == 250, r
        qid = qid_from(r.text)
        c.quit()
    for rc in rcpts[:n]:
        (data,) = server.wait_mail(rc)
        check_delivered(data, "a@remote.test", rc, msg, qid=qid)
    server.assert_no_mail(rcpts[n], wait=0.3)


def test_long_command_line_500_and_close(server):
    ll = server.limits["line_length"]
    with server.conn("smtp") as c:
        c.ehlo()
        c.send(b"NOOP " + b"x" * (ll * 2) + b"\r\n")
        r = c.reply()
        assert r.code == 500 and r.enhanced() == "5.5.2", r
        assert c.closed(5.0), "connection not closed after an over-long line"


def test_endless_command_line_without_crlf(server):
    """A line that never ends must be answered and closed, not buffered forever."""
    with server.conn("smtp") as c:
        c.ehlo()
        c.send(b"MAIL FROM:<")
        for _ in range(50):
            try:
                c.send(b"a" * 4096)
            except (BrokenPipeError, ConnectionResetError):
                break
            r, _, _ = select.select([c.sock], [], [], 0.05)
            if r:
                break
        r = c.reply(timeout=5)
        assert r.code == 500 and r.enhanced() == "5.5.2", r
        assert c.closed(5.0)


def test_line_at_limit_is_fine(server):
    ll = server.limits["line_length"]
    with server.conn("smtp") as c:
        c.ehlo()
        line = b"NOOP " + b"x" * (ll - 200)
        r = c.cmd(line)
        assert r.code == 250, r
        c.quit()


def test_too_many_errors_421(server):
    limit = server.limits["errors"]
    with server.conn("smtp") as c:
        c.ehlo()
        errors = 0
        final = None
        for i in range(limit + 5):
            try:
                r = c.cmd(f"BOGUS{i}")
            except (ConnectionError, OSError):
                break
            if r.code == 421:
                final = r
                break
            assert 500 <= r.code < 600, r
            errors += 1
        assert final is not None, f"no 421 after {errors} errors"
        assert final.enhanced() == "4.7.0", final
        assert limit - 1 <= errors <= limit, f"421 after {errors} errors (limit {limit})"
        assert c.closed(5.0), "connection not closed after 421"


def test_connections_per_ip(make_server):
    srv = make_server(limits={"connections_per_ip": 3})
    time.sleep(0.5)   # let the start-up probes be closed on the server side
    conns = []
    try:
        for _ in range(3):
            c = Conn(srv.smtp, source="127.0.0.5")
            assert c.greeting.code == 220, c.greeting
            conns.append(c)
        extra = Conn(srv.smtp, source="127.0.0.5", read_greeting=False)
        conns.append(extra)
        r = extra.reply(timeout=5)
        assert r.code == 421 and r.enhanced().startswith("4."), r
        assert extra.closed(5.0)
        # another client address is still served
        other = Conn(srv.smtp, source="127.0.0.6")
        conns.append(other)
        assert other.greeting.code == 220
        # and the existing sessions are not disturbed
        assert conns[0].cmd("NOOP").code == 250
        # when one closes, a new one from the same address is accepted
        conns[1].quit()
        ok = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            c = Conn(srv.smtp, source="127.0.0.5")
            conns.append(c)
            if c.greeting.code == 220:
                ok = c
                break
            time.sleep(0.2)
        assert ok is not None, "slot not released after a session ended"
    finally:
        for c in conns:
            c.close()


def test_data_idle_not_blocking_others(server):
    """A client stalled in DATA does not slow down other sessions."""
    rcpt, _ = server.add_user()
    slow = server.conn("smtp")
    try:
        slow.ehlo()
        slow.cmd("MAIL FROM:<slow@remote.test>")
        slow.cmd(f"RCPT TO:<{rcpt}>")
        assert slow.cmd("DATA").code == 354
        slow.send(b"Subject: slow\r\n\r\npartial")
        t0 = time.monotonic()
        msg = make_message("fast@remote.test", rcpt, "fast", ["quick"])
        with server.conn("smtp") as c:
            c.ehlo()
            _, final = c.mail_transaction("fast@remote.test", [rcpt], msg)
            assert final.code == 250
            c.quit()
        assert time.monotonic() - t0 < 3.0
        server.wait_mail(rcpt)
    finally:
        slow.close()


# ---------------------------------------------------------------- timeouts and command counts

def _expect_421_and_close(c, within):
    r = c.reply(timeout=within)
    assert r.code == 421 and r.enhanced() and r.enhanced().startswith("4."), r
    assert c.closed(3.0), "connection not closed after 421"


def test_idle_command_timeout(make_server):
    srv = make_server(limits={"command_timeout": 2, "data_timeout": 2})
    rcpt, _ = srv.add_user()
    t0 = time.monotonic()
    c = srv.conn("smtp")
    try:
        c.ehlo()
        _expect_421_and_close(c, 8)
        assert time.monotonic() - t0 >= 1.5, "closed before command_timeout"
    finally:
        c.close()
    # idle inside DATA: closed, nothing delivered
    c = srv.conn("smtp")
    try:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@remote.test>").code == 250
        assert c.cmd(f"RCPT TO:<{rcpt}>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(b"Subject: stalled\r\n\r\nhalf a message\r\n")
        _expect_421_and_close(c, 8)
    finally:
        c.close()
    srv.assert_no_mail(rcpt, wait=0.5)
    # an active client is not timed out
    with srv.conn("smtp") as c:
        c.ehlo()
        for _ in range(4):
            time.sleep(1.0)
            assert c.cmd("NOOP").code == 250
        c.quit()


def test_commands_before_mail_limit(make_server):
    srv = make_server(limits={"commands_before_mail": 5})
    with srv.conn("smtp") as c:
        c.ehlo()
        codes = []
        for _ in range(12):
            try:
                r = c.cmd("NOOP", timeout=5)
            except (ConnectionError, OSError):
                break
            codes.append(r.code)
            if r.code != 250:
                break
        assert codes and codes[-1] != 250, f"{len(codes)} NOOPs all accepted: {codes}"
        assert codes[-1] in (421, 452, 503, 550, 554) and codes[-1] >= 400, codes
        assert len(codes) <= 7, codes
        assert c.closed(3.0), "connection not closed after too many commands"
    # a normal session with mail is not affected
    rcpt, _ = srv.add_user()
    with srv.conn("smtp") as c:
        c.ehlo()
        for _ in range(2):
            _, final = c.mail_transaction("a@remote.test", [rcpt],
                                          make_message("a@remote.test", rcpt, "x", ["y"]))
            assert final.code == 250
        c.quit()


def test_lockout_expires(make_server):
    srv = make_server(auth={"lockout_seconds": 2})
    user, pw = srv.add_user()

    def login(p, src):
        c = Conn(srv.submissions, tls=True, source=src)
        try:
            c.ehlo()
            return c.auth_plain(user, p)
        finally:
            c.close()

    for i in range(3):
        assert login("wrong", "127.0.0.61").code == 535
    assert login(pw, "127.0.0.61").code == 454
    time.sleep(2.5)
    r = login(pw, "127.0.0.61")
    assert r.code == 235, f"still locked out after lockout_seconds: {r}"


# ---------------------------------------------------------------- many connections

def test_many_concurrent_sessions(make_server):
    srv = make_server(limits={"connections_per_ip": 40})
    rcpt, _ = srv.add_user()
    conns = []
    t0 = time.monotonic()
    try:
        for i in range(200):
            conns.append(Conn(srv.smtp, source=f"127.0.1.{i // 25 + 1}", read_greeting=False))
        for c in conns:
            r = c.reply(timeout=10)
            assert r.code == 220, r
        for c in conns:
            c.send(b"EHLO many.test\r\n")
        for c in conns:
            assert c.reply(timeout=10).code == 250
        # every session can still send a message
        msg = make_message("m@remote.test", rcpt, "many", ["hi"])
        for c in conns[:20]:
            _, final = c.mail_transaction("m@remote.test", [rcpt], msg)
            assert final.code == 250
        assert time.monotonic() - t0 < 20
    finally:
        for c in conns:
            c.close()
    srv.wait_mail(rcpt, 20)


def test_total_connection_limit(make_server):
    srv = make_server(limits={"connections": 4})
    time.sleep(0.5)
    conns = []
    try:
        for i in range(4):
            c = Conn(srv.smtp, source=f"127.0.2.{i + 1}")
            assert c.greeting.code == 220
            conns.append(c)
        extra = Conn(srv.submission, source="127.0.2.9", read_greeting=False)
        conns.append(extra)
        r = extra.reply(timeout=5)
        assert r.code == 421 and r.enhanced() == "4.7.0", r
        assert extra.closed(5.0)
    finally:
        for c in conns:
            c.close()
