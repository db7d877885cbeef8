"""Account quotas at delivery (issue 13): per-account limits set with
`yubin user quota` over the limits.mailbox_quota[_messages] defaults; RCPT
for a full mailbox answered 452 4.2.2 on port 25 and on submission (with
MAIL's SIZE= counted); a message accepted and then found over quota kept
in the queue (4.2.2) and bounced with Status 5.2.2 only once the queue
lifetime is over; the 90 % warning, once per crossing; IMAP QUOTA and
APPEND with the account's own values.  Driven with smtplib and imaplib as
a user's programs would."""

import email
import re
import smtplib
import time

import pytest

from conftest import DOMAIN, client_tls_context, make_message, uniq, wait_until
from test_imap_rfc import Raw, append  # noqa: F401


def body_of(size, subject):
    """A message of about size bytes (CRLF) from a remote sender."""
    line = "x" * 70
    lines = [line] * max(1, size // 72)
    return make_message("sender@remote.test", "rcpt", subject, lines)


def transaction(s, sender, rcpt, msg, mail_options=()):
    """MAIL, RCPT and (when RCPT is taken) DATA on an open smtplib
    session: (rcpt code, rcpt text, data code or None)."""
    code, text = s.mail(sender, list(mail_options))
    assert code == 250, (code, text)
    rc, rt = s.rcpt(rcpt)
    if rc != 250:
        s.rset()
        return rc, rt.decode(), None
    dc, _ = s.data(msg)
    return rc, rt.decode(), dc


def send25(srv, rcpt, size=200, subject=None, mail_options=()):
    """One message from a remote sender over port 25 with smtplib."""
    with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=10) as s:
        s.ehlo("client.test")
        return transaction(s, "sender@remote.test", rcpt, body_of(size, subject or uniq("q")), mail_options)


def submit(srv, user, pw, rcpt, size=200, subject=None):
    """One message submitted over 587 (STARTTLS, AUTH)."""
    msg = make_message(user, rcpt, subject or uniq("s"), ["x" * 70] * max(1, size // 72))
    with smtplib.SMTP("127.0.0.1", srv.submission, timeout=10) as s:
        s.ehlo("client.test")
        s.starttls(context=client_tls_context(verify=False))
        s.ehlo("client.test")
        s.login(user, pw)
        return transaction(s, user, rcpt, msg)


def quota(srv, addr, *args):
    return srv.cli("user", "quota", addr, *args)


def set_quota(srv, addr, *args):
    p = quota(srv, addr, *args)
    assert p.returncode == 0, p.stderr
    return p.stdout


def wait_files(srv, addr, n):
    wait_until(lambda: len(srv.mail_files(addr)) >= n, 10, what=f"{n} files for {addr}")


def warnings_in(srv, addr):
    return [m for m in srv.mails(addr) if b"Subject: Your mailbox is almost full" in m]


# --------------------------------------------------------------------------
# the command

def test_user_quota_command(make_server):
    """Set, show and list an account's own values; none, default, sizes
    with K/M/G; 0 and junk refused with a reason; an unknown user."""
    srv = make_server(limits={"mailbox_quota": 5 * 1024 * 1024})
    addr, _ = srv.add_user()
    out = quota(srv, addr)
    assert out.returncode == 0, out.stderr
    assert re.search(r"storage\s+5M \(default\)\s+in use: 0 \(0 %\)", out.stdout), out.stdout
    assert re.search(r"messages\s+none \(default\)\s+in use: 0\n", out.stdout), out.stdout
    assert set_quota(srv, addr, "--storage", "2G", "--messages", "1000") == \
        f"changed the quota of user {addr}: storage=2G messages=1000\n"
    listed = srv.cli("user", "list").stdout
    assert f"{addr}  storage=2G messages=1000\n" in listed, listed
    # one value changes, the other stays
    assert set_quota(srv, addr, "--storage", "none") == \
        f"changed the quota of user {addr}: storage=none messages=1000\n"
    assert set_quota(srv, addr, "--storage", "default", "--messages", "default") == \
        f"changed the quota of user {addr}: storage=5M (default) messages=none (default)\n"
    assert set_quota(srv, addr, "--storage", "1536k").endswith("storage=1536K messages=none (default)\n")
    for bad, why in (("0", "say none for no limit"), ("-5", "must be a number"), ("10X", "must be a number"),
                     ("", "must be a number"), ("99999999G", "too large")):
        p = quota(srv, addr, "--storage", bad)
        assert p.returncode == 2 and why in p.stderr, (bad, p.stderr)
    p = quota(srv, addr, "--messages", "10K")
    assert p.returncode == 2 and "number of messages" in p.stderr, p.stderr
    p = quota(srv, f"ghost-{uniq()}@{DOMAIN}", "--messages", "5")
    assert p.returncode == 1 and "no user" in p.stderr, p.stderr
    p = srv.cli("user", "quota", addr, "--storage")
    assert p.returncode == 2 and "usage:" in p.stderr
    # the last good value stayed
    assert "storage=1536K" in srv.cli("user", "list").stdout


# --------------------------------------------------------------------------
# RCPT

def test_rcpt_for_a_full_mailbox_is_452(make_server):
    """Port 25 and submission: a mailbox at its message limit gets 452
    4.2.2 at RCPT (the sender keeps the message); the other recipients of
    the transaction are unaffected; raising the limit takes effect at once;
    an expunge over IMAP makes room at once (no stale usage)."""
    srv = make_server()
    full, fpw = srv.add_user()
    other, _ = srv.add_user()
    sender, spw = srv.add_user()
    set_quota(srv, full, "--messages", "2")
    for i in range(2):
        assert send25(srv, full)[0] == 250
        wait_files(srv, full, i + 1)
    wait_files(srv, full, 3)  # and the warning: at 100 %, delivered past the limit
    assert len(warnings_in(srv, full)) == 1
    rc, rt, _ = send25(srv, full)
    assert (rc, rt) == (452, f"4.2.2 <{full}>: mailbox full"), (rc, rt)
    rc, rt, _ = submit(srv, sender, spw, full)
    assert (rc, rt) == (452, f"4.2.2 <{full}>: mailbox full"), (rc, rt)
    # one refused recipient does not stop the others (smtplib sends to the rest)
    with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=10) as s:
        refused = s.sendmail("sender@remote.test", [full, other], body_of(200, "two"))
    assert refused == {full: (452, f"4.2.2 <{full}>: mailbox full".encode())}, refused
    wait_files(srv, other, 1)
    assert len(srv.mail_files(full)) == 3
    assert f"to={full} result=452" in srv.log_text()
    # usage falls after an expunge: room again at once
    c = Raw(srv)
    c.login(full, fpw)
    c.ok(b"S1 SELECT INBOX")
    c.ok(b"S2 STORE 1:2 +FLAGS (\\Deleted)")
    c.ok(b"S3 EXPUNGE")
    c.close()
    assert len(srv.mail_files(full)) == 1
    assert send25(srv, full)[0] == 250
    wait_files(srv, full, 2)
    assert send25(srv, full)[0] == 452
    set_quota(srv, full, "--messages", "none")
    assert send25(srv, full)[0] == 250


def test_rcpt_for_an_alias(make_server):
    """An alias reaching a full mailbox and one with room is taken (the
    full one waits in the queue); one reaching only full mailboxes gets
    the 452."""
    srv = make_server()
    full, _ = srv.add_user()
    roomy, _ = srv.add_user()
    set_quota(srv, full, "--messages", "1")
    assert send25(srv, full)[0] == 250
    wait_files(srv, full, 2)  # and its warning
    team, only_full = f"team-{uniq()}@{DOMAIN}", f"solo-{uniq()}@{DOMAIN}"
    srv.add_alias(team, full, roomy)
    srv.add_alias(only_full, full)
    assert send25(srv, only_full)[:2] == (452, f"4.2.2 <{only_full}>: mailbox full")
    assert send25(srv, team)[0] == 250
    wait_files(srv, roomy, 1)
    wait_until(lambda: f"to={full} result=deferred status=4.2.2" in srv.log_text(), 10, what="the deferral")
    assert len(srv.mail_files(full)) == 2
    assert len(queue_ids(srv)) == 1


def test_rcpt_uses_mail_size(make_server):
    """RFC 1870: with SIZE= declared, usage + SIZE over the storage limit is
    full at RCPT; a size that fits, or none declared, is accepted."""
    srv = make_server()
    addr, _ = srv.add_user()
    set_quota(srv, addr, "--storage", "10K")
    assert send25(srv, addr, 3000, mail_options=["SIZE=3100"])[0] == 250
    wait_files(srv, addr, 1)
    used = sum(f.stat().st_size for f in srv.mail_files(addr))
    room = 10 * 1024 - used
    rc, rt, _ = send25(srv, addr, 100, mail_options=[f"SIZE={room + 1}"])
    assert (rc, rt) == (452, f"4.2.2 <{addr}>: mailbox full")
    assert f"size={room + 1}" in srv.log_text()
    rc, _, dc = send25(srv, addr, 100, mail_options=[f"SIZE={room - 200}"])
    assert (rc, dc) == (250, 250)
    wait_files(srv, addr, 2)


def test_quota_default_and_none(make_server):
    """The default from limits.mailbox_quota_messages applies to an account
    with no value of its own; none lifts it for one account."""
    srv = make_server(limits={"mailbox_quota_messages": 1})
    a, _ = srv.add_user()
    b, _ = srv.add_user()
    set_quota(srv, b, "--messages", "none")
    for addr in (a, b):
        assert send25(srv, addr)[0] == 250
        wait_files(srv, addr, 1)
    assert send25(srv, a)[0] == 452
    assert send25(srv, b)[0] == 250
    wait_files(srv, b, 2)


# --------------------------------------------------------------------------
# accepted, then full at delivery

def queue_ids(srv):
    return re.findall(r"^(\S+)  age=", srv.cli("queue", "list").stdout, re.M)


def test_full_at_delivery_waits_then_bounces(make_server):
    """A message that fits at RCPT (no SIZE=) but not at delivery stays in
    the queue with 4.2.2, is tried again, and goes back to its sender with
    Status 5.2.2 once delivery.lifetime is over; never lost."""
    srv = make_server(extra="delivery: { lifetime = 4; };")
    box, _ = srv.add_user()
    sender, spw = srv.add_user()
    set_quota(srv, box, "--storage", "6K")
    assert submit(srv, sender, spw, box, 4000, "first")[2] == 250
    wait_files(srv, box, 1)
    rc, _, dc = submit(srv, sender, spw, box, 4000, "too much")
    assert (rc, dc) == (250, 250)
    wait_until(lambda: "status=4.2.2" in srv.log_text(), 10, what="the deferral")
    log = srv.log_text()
    assert re.search(rf"to={re.escape(box)} result=deferred status=4\.2\.2 reason=\"mailbox full\"", log), log
    (qid,) = queue_ids(srv)
    shown = srv.cli("queue", "show", qid).stdout
    assert "4.2.2" in shown and "mailbox full" in shown, shown
    assert len(srv.mail_files(box)) == 1
    # a retry before the lifetime is over: still waiting
    assert srv.cli("queue", "flush").returncode == 0
    wait_until(lambda: srv.log_text().count("status=4.2.2") >= 2, 10, what="a second deferral")
    assert queue_ids(srv) == [qid]
    # one defer record for the same reply: the file does not grow per retry
    qfile = (srv.data_dir / "queue" / "active" / qid).read_bytes()
    assert qfile.count(b"\ndefer ") == 1, qfile[-300:]
    time.sleep(4.5)
    assert srv.cli("queue", "flush").returncode == 0
    wait_until(lambda: not queue_ids(srv), 10, what="the queue file gone")
    assert len(srv.mail_files(box)) == 1, "delivered past the quota"
    assert re.search(rf"qid={qid} to={re.escape(box)} result=bounced status=5\.2\.2", srv.log_text())
    # the bounce is in the sender's mailbox
    (dsn,) = srv.wait_mail(sender, 1)
    m = email.message_from_bytes(dsn)
    assert m["To"] == f"<{sender}>" or sender in m["To"], m["To"]
    assert m.get_content_type() == "multipart/report"
    status = next(p for p in m.walk() if p.get_content_type() == "message/delivery-status")
    text = status.as_bytes().decode()
    assert "Action: failed" in text and "Status: 5.2.2" in text, text
    assert f"rfc822;{box}" in text.replace(" ", ""), text
    human = next(p for p in m.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert "mailbox is full" in human, human


def test_hold_and_release_a_message_waiting_for_a_full_mailbox(make_server):
    """`yubin queue hold` works for a message that only waits for a local
    mailbox (no remote recipient, so the outbound scheduler has no entry
    for it): once room is made it still waits, until `queue release`."""
    srv = make_server()
    box, _ = srv.add_user()
    sender, spw = srv.add_user()
    set_quota(srv, box, "--storage", "6K")
    assert submit(srv, sender, spw, box, 4000, "first")[2] == 250
    wait_files(srv, box, 1)
    assert submit(srv, sender, spw, box, 4000, "waits")[2] == 250
    wait_until(lambda: "status=4.2.2" in srv.log_text(), 10, what="the deferral")
    (qid,) = queue_ids(srv)
    p = srv.cli("queue", "hold", qid)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "held" in srv.cli("queue", "show", qid).stdout.lower()
    set_quota(srv, box, "--storage", "none")          # room now
    assert srv.cli("queue", "flush").returncode in (0, 1)
    time.sleep(1.5)
    assert len(srv.mail_files(box)) == 1, "a held message was delivered"
    assert queue_ids(srv) == [qid]
    p = srv.cli("queue", "release", qid)
    assert p.returncode == 0, p.stdout + p.stderr
    wait_files(srv, box, 2)
    wait_until(lambda: not queue_ids(srv), 10, what="the queue file gone")


def test_account_deleted_while_queued(make_server):
    """An account deleted while its mail waits for room has the default
    limit: the message still waits, then goes back to its sender; and the
    deleted account gets no more warnings at each retry."""
    srv = make_server(limits={"mailbox_quota": 6 * 1024}, extra="delivery: { lifetime = 3; };")
    box, _ = srv.add_user()
    sender, spw = srv.add_user()
    set_quota(srv, sender, "--storage", "none")
    set_quota(srv, box, "--storage", "none")
    assert submit(srv, sender, spw, box, 5400)[2] == 250
    wait_files(srv, box, 1)
    set_quota(srv, box, "--storage", "default")  # now over 90 %, not yet full
    assert submit(srv, sender, spw, box, 4000)[2] == 250
    wait_until(lambda: "status=4.2.2" in srv.log_text(), 10, what="the deferral")
    wait_files(srv, box, 2)
    assert len(warnings_in(srv, box)) == 1  # seen at the deferral
    assert srv.cli("user", "del", box).returncode == 0
    assert srv.cli("queue", "flush").returncode == 0
    wait_until(lambda: srv.log_text().count("status=4.2.2") >= 2, 10, what="a deferral after the deletion")
    time.sleep(3.5)
    assert srv.cli("queue", "flush").returncode == 0
    wait_until(lambda: not queue_ids(srv), 10, what="the queue file gone")
    (dsn,) = srv.wait_mail(sender, 1)
    assert b"Status: 5.2.2" in dsn
    assert len(warnings_in(srv, box)) == 1, srv.mail_files(box)


# --------------------------------------------------------------------------
# the 90 % warning

def test_warning_once_per_crossing(make_server):
    """Crossing 90 % of the storage limit puts one warning in the INBOX
    (even when it takes the box past its limit); more mail above 90 % sends
    no second one; after falling below 85 % (an expunge), the next crossing
    warns again.  The state survives a restart."""
    srv = make_server()
    box, pw = srv.add_user()
    set_quota(srv, box, "--storage", "100K")
    # 100K = 102400 bytes; 90 % = 92160; each of these is about 47 KB
    send25(srv, box, 47500, "one")
    wait_files(srv, box, 1)
    assert warnings_in(srv, box) == []
    send25(srv, box, 47500, "two")
    wait_files(srv, box, 3)
    (w,) = warnings_in(srv, box)
    m = email.message_from_bytes(w)
    assert m["From"] == "Mail Delivery System <MAILER-DAEMON@mx.yubin.test>" or "MAILER-DAEMON@" in m["From"]
    assert m["To"] == f"<{box}>" and m["Auto-Submitted"] == "auto-generated"
    text = m.get_payload(decode=True).decode()
    assert f"Your mailbox {box} has used 90 % or more of its storage quota." in text, text
    assert re.search(r"storage:  9\d KiB of 100 KiB \(9\d %\)", text), text
    srv.restart()
    send25(srv, box, 1000, "three")
    wait_files(srv, box, 4)
    assert len(warnings_in(srv, box)) == 1
    # below 85 %: armed again by the next delivery
    c = Raw(srv)
    c.login(box, pw)
    c.ok(b"S1 SELECT INBOX")
    for subject in (b"one", b"two"):
        (found,) = c.ok(b"S2 SEARCH SUBJECT " + subject)
        c.ok(b"S3 STORE " + found.split()[2] + b" +FLAGS (\\Deleted)")
    c.ok(b"S4 EXPUNGE")
    c.close()
    send25(srv, box, 1000, "four")
    wait_files(srv, box, 3)
    assert len(warnings_in(srv, box)) == 1
    send25(srv, box, 92000, "five")
    wait_files(srv, box, 5)
    assert len(warnings_in(srv, box)) == 2
    # the server logs each warning just after writing it into the Maildir
    wait_until(lambda: srv.log_text().count("quota_warning") >= 2, 10, what="two quota_warning lines")
    assert srv.log_text().count("quota_warning") == 2


def test_warning_for_messages(make_server):
    """The message limit warns the same way, naming the message count."""
    srv = make_server()
    box, _ = srv.add_user()
    set_quota(srv, box, "--messages", "20")
    for i in range(18):
        send25(srv, box, 100, f"m{i}")
    wait_files(srv, box, 19)
    (w,) = warnings_in(srv, box)
    text = email.message_from_bytes(w).get_payload(decode=True).decode()
    assert "of its message count quota" in text and "messages: 18 of 20 (90 %)" in text, text


# --------------------------------------------------------------------------
# IMAP

def test_imap_reports_and_enforces_the_accounts_values(make_server):
    """GETQUOTAROOT shows the account's own limits, APPEND past them is NO
    [OVERQUOTA]; an account with none has no quota root even when a
    default is set."""
    srv = make_server(limits={"mailbox_quota": 1024 * 1024})
    a, apw = srv.add_user()
    b, bpw = srv.add_user()
    set_quota(srv, a, "--storage", "8K", "--messages", "3")
    set_quota(srv, b, "--storage", "none")
    c = Raw(srv)
    c.login(a, apw)
    assert c.ok(b"Q1 GETQUOTAROOT INBOX") == [b'* QUOTAROOT "INBOX" ""\r\n',
                                              b'* QUOTA "" (STORAGE 0 8 MESSAGE 0 3)\r\n']
    assert append(c, b"INBOX", b"Subject: a\r\n\r\n" + b"x" * 5000).startswith(b"P1 OK ")
    t = append(c, b"INBOX", b"Subject: b\r\n\r\n" + b"x" * 5000)
    assert t.startswith(b"P1 NO [OVERQUOTA] "), t
    # a change is seen by the open session
    set_quota(srv, a, "--storage", "default")
    assert c.ok(b'Q2 GETQUOTA ""') == [b'* QUOTA "" (STORAGE 5 1024 MESSAGE 1 3)\r\n']
    c.close()
    c = Raw(srv)
    c.login(b, bpw)
    assert c.ok(b"Q3 GETQUOTAROOT INBOX") == [b'* QUOTAROOT "INBOX"\r\n']
    c.close()


def imap_message(size, subject):
    head = f"From: me@{DOMAIN}\r\nSubject: {subject}\r\n\r\n".encode()
    return head + b"x" * (size - len(head))


def test_imap_append_warns_once(make_server):
    """APPEND that takes the account past 90 % of its storage limit puts the
    warning in the INBOX, as delivery does, whichever folder it went to;
    more APPENDs and deliveries above 90 % send no second one (the state is
    the account's, shared with delivery)."""
    srv = make_server()
    box, pw = srv.add_user()
    set_quota(srv, box, "--storage", "100K")   # 90 % = 92160 bytes
    c = Raw(srv)
    c.login(box, pw)
    assert append(c, b"Sent", imap_message(50000, "one")).startswith(b"P1 OK ")
    assert warnings_in(srv, box) == []
    assert append(c, b"Sent", imap_message(45000, "two")).startswith(b"P1 OK ")
    (w,) = warnings_in(srv, box)               # there when APPEND answered
    m = email.message_from_bytes(w)
    assert m["To"] == f"<{box}>" and m["Auto-Submitted"] == "auto-generated"
    text = m.get_payload(decode=True).decode()
    assert f"Your mailbox {box} has used 90 % or more of its storage quota." in text, text
    assert re.search(r"storage:  9\d KiB of 100 KiB \(9\d %\)", text), text
    assert c.ok(b"T1 STATUS INBOX (MESSAGES)") == [b'* STATUS "INBOX" (MESSAGES 1)\r\n']
    assert append(c, b"INBOX", imap_message(1000, "three")).startswith(b"P1 OK ")
    assert append(c, b"Drafts", imap_message(1000, "four")).startswith(b"P1 OK ")
    send25(srv, box, 500, "five")
    wait_files(srv, box, 3)
    assert len(warnings_in(srv, box)) == 1
    assert c.ok(b"T2 STATUS INBOX (MESSAGES)") == [b'* STATUS "INBOX" (MESSAGES 3)\r\n']
    c.close()
    assert srv.log_text().count("quota_warning") == 1


def test_imap_copy_warns_and_move_does_not(make_server):
    """COPY adds mail too and warns at 90 % of the message limit; MOVE adds
    nothing and does not (here the limit is set on an account already
    holding 9 messages: no warning is due until mail is added)."""
    srv = make_server()
    box, pw = srv.add_user()
    c = Raw(srv)
    c.login(box, pw)
    for i in range(9):
        assert append(c, b"Archive", imap_message(200, f"m{i}")).startswith(b"P1 OK ")
    set_quota(srv, box, "--messages", "10")
    c.ok(b"S1 SELECT Archive")
    c.ok(b"M1 MOVE 1 Trash")
    assert warnings_in(srv, box) == []
    _, t = c.cmd(b"K1 COPY 1 Drafts")          # 10 of 10
    assert t.startswith(b"K1 OK "), t
    (w,) = warnings_in(srv, box)
    text = email.message_from_bytes(w).get_payload(decode=True).decode()
    assert "of its message count quota" in text and "messages: 10 of 10 (100 %)" in text, text
    c.close()
