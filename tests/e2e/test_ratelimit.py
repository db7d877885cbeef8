"""Rate limits (policy.ratelimits) on the real server: per authenticated
user (recipients an hour through submission, with smtplib and raw
commands), per client address on port 25 (messages, from chosen addresses
in 127.0.0.0/8), per sender domain and per recipient.  What the client
sees when a limit is reached (450 4.7.1 at RCPT, 451 4.7.1 at MAIL, and a
sentence naming the key and the limit); that another user, client or
domain is not affected; that only what is accepted counts (a refused RCPT,
a transaction reset before DATA); that the counts survive a restart (SIGTERM
and a kill -9 after the periodic save); that a broken database never
refuses mail; and the configuration errors of `yubin config check`."""

import os
import smtplib
import time

from conftest import client_tls_context, make_message, wait_until

SUBMISSION_LIMIT = """
policy: {
  ratelimits = (
    { name = "user-rcpts"; key = "user"; count = "recipients"; limit = 3; window = 3600;
      roles = [ "submission", "submissions" ]; }
  );
};
"""


def msg(sender, rcpt, subject="rate"):
    return make_message(sender, rcpt, subject, ["hello"])


def test_user_recipients_per_hour(make_server):
    srv = make_server(extra=SUBMISSION_LIMIT, limits={"recipients": 50})
    alice, apw = srv.add_user(prefix="alice")
    bob, bpw = srv.add_user(prefix="bob")
    rc = [srv.add_user(prefix=f"r{i}")[0] for i in range(4)]

    c = srv.submit_conn(alice, apw)
    # a refused recipient (no such mailbox) does not count; two do
    rr, final = c.mail_transaction(alice, [f"nobody-here@{rc[0].split('@')[1]}", rc[0], rc[1]],
                                   msg(alice, rc[0]))
    assert [r.code for r in rr] == [550, 250, 250], rr
    assert final.code == 250, final
    # recipients of a transaction that is reset before DATA do not count
    assert c.cmd(f"MAIL FROM:<{alice}>").code == 250
    assert c.cmd(f"RCPT TO:<{rc[2]}>").code == 250
    assert c.cmd("RSET").code == 250
    # the third recipient of the hour is taken; the fourth, in the same
    # message, is refused with the limit's sentence
    assert c.cmd(f"MAIL FROM:<{alice}>").code == 250
    assert c.cmd(f"RCPT TO:<{rc[2]}>").code == 250
    r = c.cmd(f"RCPT TO:<{rc[3]}>")
    assert r.code == 450, r
    assert r.first == (f"4.7.1 Too many recipients from {alice.lower()}: at most 3 per hour; "
                       "try again later"), r
    assert c.cmd("DATA").code == 354
    c.send(msg(alice, rc[2]) + b".\r\n")
    assert c.reply().code == 250
    c.quit()
    srv.wait_mail(rc[2])
    srv.assert_no_mail(rc[3], wait=0.2)

    # smtplib sees the refusal as a refused recipient, with the sentence
    with smtplib.SMTP("127.0.0.1", srv.submission, timeout=10) as s:
        s.starttls(context=client_tls_context())
        s.login(alice, apw)
        try:
            refused = s.sendmail(alice, [rc[0]], msg(alice, rc[0]))
            raise AssertionError(f"sendmail went through: {refused}")
        except smtplib.SMTPRecipientsRefused as e:
            code, text = e.recipients[rc[0]]
            assert code == 450
            assert b"Too many recipients from" in text and b"at most 3 per hour" in text, text

    # another user is not affected
    c = srv.submit_conn(bob, bpw)
    rr, final = c.mail_transaction(bob, rc[:3], msg(bob, rc[0]))
    assert [r.code for r in rr] == [250, 250, 250] and final.code == 250, (rr, final)
    c.quit()
    # the log names the limit
    wait_until(lambda: 'by="ratelimit user-rcpts"' in srv.log_text(), 5, what="the verdict's log line")
    assert "event=ratelimit sid=" in srv.log_text()


CLIENT_LIMIT = """
policy: {
  ratelimits = (
    { name = "client-msgs"; key = "client"; count = "messages"; limit = 2; window = 60;
      roles = [ "smtp" ]; }
  );
};
"""


def send25(srv, source, sender, rcpts, expect_mail=250):
    """One transaction on port 25 from source; returns the replies."""
    c = srv.conn("smtp", source=source)
    assert c.greeting.code == 220, c.greeting
    c.ehlo("client.example.net")
    r = c.cmd(f"MAIL FROM:<{sender}>")
    if r.code != 250:
        c.quit()
        return r, [], None
    rr = [c.cmd(f"RCPT TO:<{x}>") for x in rcpts]
    final = None
    if any(x.code == 250 for x in rr):
        assert c.cmd("DATA").code == 354
        c.send(msg(sender, rcpts[0]) + b".\r\n")
        final = c.reply()
    c.quit()
    return r, rr, final


def test_client_messages_port25(make_server):
    srv = make_server(extra=CLIENT_LIMIT)
    u, pw = srv.add_user()
    for _ in range(2):
        m, rr, final = send25(srv, "127.0.0.21", "someone@remote.example", [u])
        assert m.code == 250 and final.code == 250, (m, rr, final)
    m, rr, final = send25(srv, "127.0.0.21", "other@remote.example", [u])
    assert m.code == 451, m
    assert m.first == "4.7.1 Too many messages from 127.0.0.21: at most 2 per minute; try again later", m
    # another client is not affected
    m, rr, final = send25(srv, "127.0.0.22", "someone@remote.example", [u])
    assert m.code == 250 and final.code == 250
    # nor is the same address on submission (roles)
    c = srv.submit_conn(u, pw, source="127.0.0.21")
    rr, final = c.mail_transaction(u, [u], msg(u, u))
    assert final.code == 250, final
    c.quit()
    srv.wait_mail(u, 4)


def test_sender_domain_and_recipient(make_server):
    srv = make_server(limits={"recipients": 50}, extra="""
policy: {
  ratelimits = (
    { name = "domain-rcpts"; key = "sender_domain"; count = "recipients"; limit = 3; },
    { name = "to-one"; key = "recipient"; count = "messages"; limit = 2; window = 600; }
  );
};
""")
    u = {p: srv.add_user(prefix=p)[0] for p in ("a1", "b1", "a2", "b2", "a3", "b3", "carol", "d")}
    # per sender domain, across client addresses: 3 recipients, then no more
    m, rr, final = send25(srv, "127.0.0.31", "x@bulk.example", [u["a1"], u["b1"]])
    assert [r.code for r in rr] == [250, 250] and final.code == 250
    m, rr, final = send25(srv, "127.0.0.32", "Y@BULK.example", [u["a2"], u["b2"]])
    assert [r.code for r in rr] == [250, 450], rr
    assert rr[1].first == ("4.7.1 Too many recipients from bulk.example: at most 3 per hour; "
                           "try again later"), rr[1]
    # another domain is not affected
    m, rr, final = send25(srv, "127.0.0.33", "z@other.example", [u["a3"], u["b3"]])
    assert [r.code for r in rr] == [250, 250] and final.code == 250

    # per recipient: carol takes 2 messages in 10 minutes, then 450 for her
    # alone; a second RCPT of carol in one message is not a second message
    carol = u["carol"]
    m, rr, final = send25(srv, "127.0.0.34", "p@one.example", [carol, carol])
    assert [r.code for r in rr] == [250, 250] and final.code == 250
    m, rr, final = send25(srv, "127.0.0.35", "q@two.example", [carol])
    assert final.code == 250
    m, rr, final = send25(srv, "127.0.0.36", "r@three.example", [carol, u["d"]])
    assert [r.code for r in rr] == [450, 250], rr
    assert rr[0].first == ("4.7.1 Too many messages to " + carol.lower()
                           + ": at most 2 per 10 minutes; try again later"), rr[0]
    assert final.code == 250
    srv.wait_mail(carol, 2)
    srv.wait_mail(u["d"])
    srv.assert_no_mail(u["b2"], wait=0.2)


def fill_user_limit(srv, user, pw, rcpts):
    c = srv.submit_conn(user, pw)
    rr, final = c.mail_transaction(user, rcpts, msg(user, rcpts[0]))
    assert all(r.code == 250 for r in rr) and final.code == 250, (rr, final)
    c.quit()


def user_refused(srv, user, pw, rcpt):
    c = srv.submit_conn(user, pw)
    assert c.cmd(f"MAIL FROM:<{user}>").code == 250
    r = c.cmd(f"RCPT TO:<{rcpt}>")
    c.quit()
    return r


def test_state_survives_restart(make_server):
    srv = make_server(extra=SUBMISSION_LIMIT, limits={"recipients": 50})
    alice, apw = srv.add_user(prefix="alice")
    bob, bpw = srv.add_user(prefix="bob")
    r = [srv.add_user(prefix=f"r{i}")[0] for i in range(4)]
    fill_user_limit(srv, alice, apw, r[:3])
    # a clean stop saves; the next start still refuses alice
    srv.restart()
    wait_until(lambda: "event=ratelimit limits=1 restored=1 " in srv.log_text(), 5, what="the restore log line")
    assert os.path.exists(srv.data_dir / "ratelimit.db")
    rep = user_refused(srv, alice, apw, r[3])
    assert rep.code == 450 and "at most 3 per hour" in rep.first, rep
    # a crash after the periodic save (every 5 s) keeps the count too
    fill_user_limit(srv, bob, bpw, r[:3])
    time.sleep(6.5)
    srv.kill9()
    srv.start()
    rep = user_refused(srv, bob, bpw, r[3])
    assert rep.code == 450 and bob.lower() in rep.first, rep


def test_database_error_never_refuses(make_server):
    srv = make_server(start=False, extra=SUBMISSION_LIMIT, limits={"recipients": 50})
    # a directory where the database should be: it cannot be opened
    os.makedirs(srv.data_dir / "ratelimit.db", exist_ok=True)
    srv.start()
    alice, apw = srv.add_user(prefix="alice")
    r = [srv.add_user(prefix=f"r{i}")[0] for i in range(4)]
    fill_user_limit(srv, alice, apw, r[:3])
    srv.wait_mail(r[0])
    # the limit still holds, in memory
    rep = user_refused(srv, alice, apw, r[3])
    assert rep.code == 450, rep
    assert "event=ratelimit" in srv.log_text() and 'action="counting goes on in memory"' in srv.log_text()


def test_config_errors(make_server):
    srv = make_server(start=False, extra="""
policy: {
  ratelimits = (
    { name = "ok"; key = "user"; count = "recipients"; limit = 500; },
    { name = "bad"; key = "ip"; count = "recipients"; limit = 0; window = 3600; },
    { name = "ok"; key = "client"; count = "messages"; limit = 5; roles = [ "imap" ]; }
  );
};
""")
    p = srv.cli("config", "check")
    assert p.returncode != 0
    path = str(srv.config_path)
    lines = p.stderr.splitlines()
    text = srv.config_path.read_text().splitlines()
    bad_line = next(i + 1 for i, l in enumerate(text) if 'name = "bad"' in l)
    dup_line = next(i + 1 for i, l in enumerate(text) if 'roles = [ "imap" ]' in l)
    assert (f'{path}:{bad_line}: ratelimit bad: key must be "client", "user", "sender_domain" or '
            f'"recipient", not "ip"') in lines, p.stderr
    assert f"{path}:{bad_line}: ratelimit bad: limit must be a whole number from 1 to 100000000" in lines, p.stderr
    assert f"{path}:{dup_line}: ratelimit ok: another rate limit has this name" in lines, p.stderr
    assert (f'{path}:{dup_line}: ratelimit ok: roles: "imap" is none of "smtp", "submission", '
            f'"submissions"') in lines, p.stderr


def test_message_refused_at_data_not_counted(make_server):
    """A message that a check at the end of data refuses (here a rule) does
    not count: the rate step counts only after every other check passed."""
    srv = make_server(limits={"recipients": 50}, extra="""
policy: {
  rules = (
    { name = "no-x"; header = "X-Reject: /yes/"; action = "reject"; text = "Refused for the test"; }
  );
  ratelimits = (
    { name = "user-rcpts"; key = "user"; count = "recipients"; limit = 2; }
  );
};
""")
    alice, apw = srv.add_user(prefix="alice")
    r = [srv.add_user(prefix=f"r{i}")[0] for i in range(3)]
    c = srv.submit_conn(alice, apw)
    for _ in range(3):
        bad = make_message(alice, r[0], "refused", ["x"], extra_headers=("X-Reject: yes",))
        rr, final = c.mail_transaction(alice, r[:2], bad)
        assert [x.code for x in rr] == [250, 250], rr
        assert final.code == 550 and "Refused for the test" in final.first, final
    # none of them counted: two recipients still go, the third does not
    rr, final = c.mail_transaction(alice, r, msg(alice, r[0]))
    assert [x.code for x in rr] == [250, 250, 450], rr
    assert final.code == 250
    c.quit()
    srv.wait_mail(r[1])
    srv.assert_no_mail(r[2], wait=0.2)
