"""Local delivery into Maildir: layout and bytes, case-insensitive local
parts, plus-addressing, aliases, catch-all, alias loops, SMTPUTF8, and the
log trail of one queue id."""

import re
import time

from conftest import (DOMAIN, check_delivered, make_message, qid_from,
                      split_delivered, uniq)


def _send25(srv, sender, rcpts, msg, params=""):
    with srv.conn("smtp") as c:
        c.ehlo("mta.remote.test")
        rr, final = c.mail_transaction(sender, rcpts, msg, mail_params=params)
        c.quit()
    return rr, final


def test_maildir_layout_and_exact_bytes(server):
    rcpt, _ = server.add_user()
    sender = "someone@remote.test"
    body = ["Line with trailing spaces   ", "\tTabbed line", "",
            "Unicode: naïve café 日本語", "x" * 998, "", "", "last line"]
    msg = make_message(sender, rcpt, "exact bytes", body,
                       extra_headers=["X-Folded: first part", "\tcontinued part"])
    (rr,), final = _send25(server, sender, [rcpt], msg)
    assert final.code == 250, final
    qid = qid_from(final.text)
    (data,) = server.wait_mail(rcpt)
    check_delivered(data, sender, rcpt, msg, qid=qid, rcpt=rcpt, proto="ESMTP")
    md = server.maildir(rcpt)
    for sub in ("tmp", "new", "cur"):
        assert (md / sub).is_dir(), f"{sub}/ missing in {md}"
    assert list((md / "tmp").iterdir()) == [], "file left behind in tmp/"
    (f,) = server.mail_files(rcpt)
    assert f.parent.name == "new"
    assert b"\r\n" not in data, "CRLF line ends in the Maildir file"
    # the server's view of the queue: nothing left for a delivered local message
    time.sleep(0.3)
    q = server.cli("queue", "list")
    assert q.returncode == 0
    assert qid not in q.stdout, f"delivered message still queued: {q.stdout}"


def test_two_messages_two_files(server):
    rcpt, _ = server.add_user()
    qids = []
    for i in range(3):
        msg = make_message("a@remote.test", rcpt, f"n{i}", [f"message {i}"])
        _, final = _send25(server, "a@remote.test", [rcpt], msg)
        assert final.code == 250
        qids.append(qid_from(final.text))
    assert len(set(qids)) == 3, f"queue ids not unique: {qids}"
    files = server.wait_mail(rcpt, 3)
    time.sleep(0.3)
    assert len(server.mail_files(rcpt)) == 3
    names = [f.name for f in server.mail_files(rcpt)]
    assert len(set(names)) == 3
    seen = set()
    for data in files:
        _, _, rcv, _ = split_delivered(data)
        m = re.search(r"\bid (\S+)", rcv)
        seen.add(m.group(1).rstrip(";"))
    assert seen == set(qids), (seen, qids)


def test_one_message_many_local_recipients(server):
    r1, _ = server.add_user()
    r2, _ = server.add_user()
    msg = make_message("a@remote.test", r1, "two", ["to both"])
    (a, b), final = _send25(server, "a@remote.test", [r1, r2], msg)
    assert a.code == 250 and b.code == 250
    qid = qid_from(final.text)
    (d1,) = server.wait_mail(r1)
    (d2,) = server.wait_mail(r2)
    check_delivered(d1, "a@remote.test", r1, msg, qid=qid)
    check_delivered(d2, "a@remote.test", r2, msg, qid=qid)


def test_local_part_case_insensitive(server):
    rcpt, _ = server.add_user(prefix="Casey")
    local, dom = rcpt.split("@")
    variants = [rcpt.upper(), local.lower() + "@" + dom.upper(), local.swapcase() + "@" + dom]
    for v in variants:
        msg = make_message("a@remote.test", v, "case", [v])
        (rr,), final = _send25(server, "a@remote.test", [v], msg)
        assert rr.code == 250, (v, rr)
        assert final.code == 250
    datas = server.wait_mail(rcpt, 3)
    for d in datas:
        _, dt, _, _ = split_delivered(d)
        assert dt.decode().lower() in (f"delivered-to: {rcpt.lower()}", f"delivered-to: <{rcpt.lower()}>")


def test_plus_addressing(server):
    rcpt, _ = server.add_user()
    local, dom = rcpt.split("@")
    tagged = f"{local}+newsletter@{dom}"
    msg = make_message("a@remote.test", tagged, "plus", ["tagged"])
    (rr,), final = _send25(server, "a@remote.test", [tagged], msg)
    assert rr.code == 250, rr
    qid = qid_from(final.text)
    (data,) = server.wait_mail(rcpt)
    check_delivered(data, "a@remote.test", rcpt, msg, qid=qid, rcpt=tagged)
    # a plus address of an unknown user is still unknown
    with server.conn("smtp") as c:
        c.ehlo()
        c.cmd("MAIL FROM:<a@remote.test>")
        r = c.cmd(f"RCPT TO:<nosuch{uniq()}+tag@{DOMAIN}>")
        assert r.code == 550 and r.enhanced() == "5.1.1", r
        c.quit()


def test_alias_to_several_local_and_remote(server):
    a, _ = server.add_user()
    b, _ = server.add_user()
    alias = f"{uniq('team')}@{DOMAIN}"
    remote = f"{uniq('ext')}@remote.test"
    server.add_alias(alias, a, b, remote)
    msg = make_message("x@remote.test", alias, "to the team", ["hello team"])
    (rr,), final = _send25(server, "x@remote.test", [alias], msg)
    assert rr.code == 250, rr
    qid = qid_from(final.text)
    (da,) = server.wait_mail(a)
    (db,) = server.wait_mail(b)
    check_delivered(da, "x@remote.test", a, msg, qid=qid)
    check_delivered(db, "x@remote.test", b, msg, qid=qid)
    time.sleep(0.3)
    q = server.cli("queue", "list")
    assert q.returncode == 0
    assert qid in q.stdout and remote in q.stdout, q.stdout
    lst = server.cli("alias", "list")
    assert lst.returncode == 0
    assert alias in lst.stdout, lst.stdout
    for t in (a, b, remote):
        assert t in lst.stdout, lst.stdout


def test_alias_chain_and_dedup(server):
    a, _ = server.add_user()
    first = f"{uniq('chain1')}@{DOMAIN}"
    second = f"{uniq('chain2')}@{DOMAIN}"
    server.add_alias(first, second, a)
    server.add_alias(second, a)
    msg = make_message("x@remote.test", first, "chain", ["chained"])
    (rr,), final = _send25(server, "x@remote.test", [first], msg)
    assert rr.code == 250
    server.wait_mail(a)
    time.sleep(0.7)
    assert len(server.mail_files(a)) == 1, "duplicate delivery through alias chain"


def test_catch_all(make_server):
    srv = make_server(domains=(DOMAIN, "catch.test"))
    box, _ = srv.add_user()
    real = "real@catch.test"
    srv.add_user(real)
    srv.add_alias("@catch.test", box)
    msg = make_message("x@remote.test", "anything@catch.test", "catch", ["caught"])
    (rr,), final = _send25(srv, "x@remote.test", ["anything@catch.test"], msg)
    assert rr.code == 250, rr
    (data,) = srv.wait_mail(box)
    check_delivered(data, "x@remote.test", box, msg, qid=qid_from(final.text))
    # an existing user in that domain still gets its own mail
    msg2 = make_message("x@remote.test", real, "own", ["mine"])
    (rr,), final = _send25(srv, "x@remote.test", [real], msg2)
    assert rr.code == 250
    (d2,) = srv.wait_mail(real)
    check_delivered(d2, "x@remote.test", real, msg2)
    time.sleep(0.3)
    assert len(srv.mail_files(box)) == 1
    # the catch-all does not swallow mail for other local domains
    with srv.conn("smtp") as c:
        c.ehlo()
        c.cmd("MAIL FROM:<x@remote.test>")
        r = c.cmd(f"RCPT TO:<nobody-{uniq()}@{DOMAIN}>")
        assert r.code == 550 and r.enhanced() == "5.1.1", r
        c.quit()


def test_alias_loop_refused(server):
    x = f"{uniq('loopa')}@{DOMAIN}"
    y = f"{uniq('loopb')}@{DOMAIN}"
    # refusing to create the loop at `alias add` time is fine too; either way
    # no recipient may be accepted through it
    assert server.cli("alias", "add", x, y).returncode == 0
    server.cli("alias", "add", y, x)
    selfloop = f"{uniq('self')}@{DOMAIN}"
    server.cli("alias", "add", selfloop, selfloop)
    with server.conn("smtp") as c:
        c.ehlo()
        c.cmd("MAIL FROM:<a@remote.test>")
        for addr in (x, y, selfloop):
            r = c.cmd(f"RCPT TO:<{addr}>")
            assert 500 <= r.code < 600 and r.enhanced() and r.enhanced().startswith("5."), (addr, r)
        r = c.cmd("NOOP")
        assert r.code == 250
        c.quit()
    assert server.alive(), "server died on an alias loop"


def test_alias_takes_effect_without_restart_and_del(server):
    a, _ = server.add_user()
    b, _ = server.add_user()
    alias = f"{uniq('live')}@{DOMAIN}"
    with server.conn("smtp") as c:
        c.ehlo()
        c.cmd("MAIL FROM:<a@remote.test>")
        assert c.cmd(f"RCPT TO:<{alias}>").code == 550
        c.quit()
    server.add_alias(alias, a, b)
    msg = make_message("x@remote.test", alias, "live", ["now"])
    (rr,), final = _send25(server, "x@remote.test", [alias], msg)
    assert rr.code == 250, rr
    server.wait_mail(a)
    server.wait_mail(b)
    p = server.cli("alias", "del", alias, b)
    assert p.returncode == 0, p.stderr
    (rr,), final = _send25(server, "x@remote.test", [alias], msg)
    assert rr.code == 250
    server.wait_mail(a, 2)
    time.sleep(0.5)
    assert len(server.mail_files(b)) == 1, "removed alias target still receives mail"
    p = server.cli("alias", "del", alias)
    assert p.returncode == 0, p.stderr
    with server.conn("smtp") as c:
        c.ehlo()
        c.cmd("MAIL FROM:<a@remote.test>")
        r = c.cmd(f"RCPT TO:<{alias}>")
        assert r.code == 550 and r.enhanced() == "5.1.1", r
        c.quit()


# ---------------------------------------------------------------- SMTPUTF8

UTF8_USER = f"δοκιμή@{DOMAIN}"


def test_smtputf8_delivery(server):
    server.add_user(UTF8_USER)
    sender = f"用户@{DOMAIN}"
    msg = (f"From: <{sender}>\r\nTo: <{UTF8_USER}>\r\nSubject: Ελληνικά 郵便\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           "γειά σου κόσμε\r\n").encode("utf-8")
    with server.conn("smtp") as c:
        r = c.ehlo()
        assert any(l.upper().startswith("SMTPUTF8") for l in r.lines[1:])
        r = c.cmd(f"MAIL FROM:<{sender}> SMTPUTF8 BODY=8BITMIME")
        assert r.code == 250, r
        r = c.cmd(f"RCPT TO:<{UTF8_USER}>")
        assert r.code == 250, r
        assert c.cmd("DATA").code == 354
        c.send(msg + b".\r\n")
        final = c.reply()
        assert final.code == 250, final
        qid = qid_from(final.text)
        c.quit()
    (data,) = server.wait_mail(UTF8_USER)
    assert server.maildir(UTF8_USER).name == "δοκιμή"
    rcv = check_delivered(data, sender, UTF8_USER, msg, qid=qid)
    assert re.search(r"\bwith UTF8SMTPS?A?\b", rcv), rcv


def test_utf8_address_without_smtputf8_refused(server):
    u = f"ünïcode{uniq()}@{DOMAIN}"
    server.add_user(u)
    with server.conn("smtp") as c:
        c.ehlo()
        r = c.cmd(f"MAIL FROM:<用户@{DOMAIN}>")
        assert 500 <= r.code < 600, f"UTF-8 sender accepted without SMTPUTF8: {r}"
        assert r.code == 553 or r.enhanced().startswith("5."), r
        r = c.cmd("RSET")
        r = c.cmd("MAIL FROM:<ascii@remote.test>")
        assert r.code == 250, r
        r = c.cmd(f"RCPT TO:<{u}>")
        assert 500 <= r.code < 600, f"UTF-8 recipient accepted without SMTPUTF8: {r}"
        c.quit()
    server.assert_no_mail(u, wait=0.3)


def test_smtputf8_submission(server):
    user, pw = server.add_user(f"ユーザー{uniq()}@{DOMAIN}")
    rcpt, _ = server.add_user()
    msg = make_message(user, rcpt, "utf8 submit", ["こんにちは"])
    with server.submit_conn(user, pw) as c:
        r = c.cmd(f"MAIL FROM:<{user}> SMTPUTF8")
        assert r.code == 250, r
        assert c.cmd(f"RCPT TO:<{rcpt}>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(msg + b".\r\n")
        final = c.reply()
        assert final.code == 250, final
        c.quit()
    (data,) = server.wait_mail(rcpt)
    rcv = check_delivered(data, user, rcpt, msg, qid=qid_from(final.text))
    assert re.search(r"\bwith UTF8SMTPSA\b", rcv), rcv


# ---------------------------------------------------------------- logs

def test_log_format_and_ready(server):
    log = server.stderr_text()
    assert "event=ready" in log, log[-2000:]
    lines = [l for l in log.splitlines() if l.strip()]
    assert lines
    bad = [l for l in lines if not re.match(r"^ts=\S+ level=\w+ event=\w", l)]
    assert not bad, f"log lines not in key=value form: {bad[:5]}"
    assert any("event=accept" in l and "client=127.0.0.1" in l for l in lines), lines[-20:]


def test_one_grep_follows_a_message(server):
    rcpt, _ = server.add_user()
    sender = f"{uniq('trace')}@remote.test"
    msg = make_message(sender, rcpt, "trace", ["follow me"])
    (rr,), final = _send25(server, sender, [rcpt], msg)
    qid = qid_from(final.text)
    server.wait_mail(rcpt)
    time.sleep(0.5)
    lines = [l for l in server.stderr_text().splitlines() if re.search(rf"\bqid={re.escape(qid)}\b", l)]
    assert len(lines) >= 2, f"too few log lines for qid={qid}: {lines}"
    joined = "\n".join(lines)
    assert sender in joined, f"sender missing from the trail of {qid}: {lines}"
    assert rcpt in joined, f"recipient missing from the trail of {qid}: {lines}"
    assert re.search(r"deliver", joined, re.I), f"no delivery line for {qid}: {lines}"
    # the session id ties the connection to the message
    sids = set(re.findall(r"\bsid=(\S+)", joined))
    assert sids, lines
    sid = sids.pop()
    assert any(f"sid={sid}" in l and "event=accept" in l for l in server.stderr_text().splitlines())
