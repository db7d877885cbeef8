"""The audit trail (issue 12): every message's timeline in data_dir/audit.db,
chained by hash.  Mail is sent with smtplib through submission to a local
mailbox and to remote aiosmtpd peers found through the test DNS server;
`yubin trace` must then show what happened (received with its TLS facts,
the delivery attempt with the remote TLS facts, delivered / bounced, the
DSN), IMAP and POP3 reads and deletes, and the same after a restart.
`yubin audit verify` must fail, naming the record, when a row is edited or
deleted with sqlite3, and pass after `yubin audit prune`.  The searches
(--from, --to, --since, --status), the Subject modes, journaling and the
absence of passwords in audit.db are checked too.  Every wait is bounded.
"""

import hashlib
import imaplib
import json
import poplib
import re
import smtplib
import sqlite3
import time

import pytest

from conftest import (DOMAIN, client_tls_context, deliver_local, imap_login, make_message,
                      outbound_config, uniq, wait_until)

REMOTE = "remote.test"
MX1 = "mx1.remote.test"
IP1 = "127.0.0.2"
WAIT = 15.0


# ---------------------------------------------------------------- helpers

def start(make_server, dns, mx, test_ca=None, extra=""):
    dns.set(REMOTE, "MX", [(10, MX1)])
    dns.set(MX1, "A", [IP1])
    cert = {"cert": test_ca["cert"], "key": test_ca["key"]} if test_ca else None
    rx = mx.add(IP1, hostname=MX1, cert=cert)
    conf = outbound_config(dns, mx.port, ca_file=test_ca["ca"] if test_ca else None, retry=(60, 120))
    return make_server(extra=conf + "\n" + extra), rx


def smtp_send(srv, user, pw, rcpts, subject, body="hello", sender=None, mail_options=(), rcpt_options=()):
    """Submit over 587 with smtplib (STARTTLS + AUTH); returns the queue id."""
    msg = make_message(sender or user, rcpts[0], subject, [body]).decode()
    with smtplib.SMTP("127.0.0.1", srv.submission, timeout=10) as s:
        s.ehlo("client.test")
        s.starttls(context=client_tls_context(verify=False))
        s.ehlo("client.test")
        s.login(user, pw)
        s.mail(sender or user, list(mail_options))
        for r in rcpts:
            code, text = s.rcpt(r, list(rcpt_options))
            assert code == 250, (code, text)
        code, text = s.data(msg.encode())
        assert code == 250, (code, text)
    m = re.search(r"queued as (\S+)", text.decode())
    assert m, text
    return m.group(1)


def trace(srv, *args, ok=True):
    p = srv.cli("trace", *args)
    if ok:
        assert p.returncode == 0, f"trace {args} failed ({p.returncode}): {p.stdout}{p.stderr}"
    return p


def trace_json(srv, *args):
    p = trace(srv, *args, "--json")
    return json.loads(p.stdout)


def records(srv, qid):
    (msg,) = trace_json(srv, qid)
    assert msg["qid"] == qid
    return msg["records"]


def kinds(recs, kind, rcpt=None):
    return [r for r in recs if r["kind"] == kind and (rcpt is None or (r.get("rcpt") or "").lower() == rcpt.lower())]


def wait_records(srv, qid, pred, what):
    """The trail is written by a thread in batches: wait (bounded) until
    pred(records) holds."""
    def look():
        p = srv.cli("trace", qid, "--json")
        msgs = json.loads(p.stdout) if p.returncode == 0 else []
        if not msgs:
            return None
        recs = msgs[0]["records"]
        return recs if pred(recs) else None
    return wait_until(look, WAIT, what=what)


def db_path(srv):
    return srv.data_dir / "audit.db"


def verify(srv):
    return srv.cli("audit", "verify")


def assert_verified(srv):
    p = verify(srv)
    assert p.returncode == 0, f"audit verify failed: {p.stdout}{p.stderr}"
    m = re.fullmatch(r"(\d+) records, chain intact\n", p.stdout)
    assert m, p.stdout
    return int(m.group(1))


# ---------------------------------------------------------------- the timeline

def test_timeline_local_remote_bounce_read_delete_restart(make_server, dns, mx, test_ca):
    srv, rx = start(make_server, dns, mx, test_ca)
    user, pw = srv.add_user()
    local, lpw = srv.add_user()
    good, bad = f"{uniq('bob')}@{REMOTE}", f"{uniq('nobody')}@{REMOTE}"
    rx.rcpt(bad, then="550 5.1.1 no such user")
    subject = "audit " + uniq()
    qid = smtp_send(srv, user, pw, [local, good, bad], subject)
    rx.wait_messages(1, WAIT)
    srv.wait_mail(local)
    recs = wait_records(srv, qid, lambda r: kinds(r, "bounced") and kinds(r, "dsn") and kinds(r, "delivered", good)
                        and kinds(r, "delivered", local), "received, delivered x2, bounced and a DSN")
    (rcv,) = kinds(recs, "received")
    d = rcv["data"]
    assert d["listener"] == "submission" and d["client_ip"] == "127.0.0.1", d
    assert d["helo"] == "client.test" and d["user"] == user, d
    assert d["tls_version"].startswith("TLSv1."), d
    assert d["tls_cipher"], d
    assert d["sender"] == user and sorted(d["rcpts"]) == sorted([local, good, bad]), d
    assert d["size"] > 0 and d["message_id"].startswith("<"), d
    # the Subject is hashed by default
    assert d["subject"] == "sha256:" + hashlib.sha256(subject.encode()).hexdigest(), d
    # the remote attempt: host, IP, port, TLS version, certificate verified, reply, duration
    att = kinds(recs, "attempt")
    assert att, recs
    a = att[0]["data"]
    assert a["host"].rstrip(".") == MX1 and a["ip"] == IP1 and a["port"] == mx.port, a
    assert a["tls_version"].startswith("TLSv1.") and a["tls_verified"] is True, a
    assert a["tls_cipher"], a
    assert a["policy"] == "none", a     # neither DANE nor MTA-STS applied
    assert a["reply"].startswith("250") and a["code"] == 250, a
    assert isinstance(a["duration_ms"], int) and 0 <= a["duration_ms"] < 20000, a
    assert sorted(a["rcpts"]) == sorted([good, bad]), a
    (dl,) = kinds(recs, "delivered", local)
    assert dl["data"]["mailbox"] == local, dl
    (bn,) = kinds(recs, "bounced", bad)
    assert bn["data"]["reply"].startswith("550 5.1.1"), bn
    (dsn,) = kinds(recs, "dsn")
    assert dsn["data"]["action"] == "failed" and dsn["data"]["to"] == user, dsn
    # the DSN itself has a timeline: received from us, delivered to the sender
    wait_records(srv, dsn["data"]["dsn_qid"], lambda r: kinds(r, "delivered", user), "the DSN delivered")
    # recipients' states
    (msg,) = trace_json(srv, qid)
    states = {r["rcpt"]: r["state"] for r in msg["recipients"]}
    assert states == {local: "delivered", good: "delivered", bad: "bounced"}, states

    # the human form: one line per record, time, kind, the key facts
    text = trace(srv, qid).stdout
    assert text.startswith(f"message {qid}\n"), text
    lines = text.splitlines()[1:]
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z \w+", l) for l in lines), text
    rline = next(l for l in lines if " received " in l)
    assert f"from={user}" in rline and "via=submission" in rline and "tls=TLSv1." in rline, rline
    aline = next(l for l in lines if " attempt " in l)
    assert f"host={MX1}" in aline and "verified=yes" in aline and 'reply="250' in aline, aline
    assert any(" bounced " in l and f"to={bad}" in l for l in lines), text

    # IMAP: the first read (FETCH of the body sets \Seen) and the deletion
    m = imap_login(srv, local, lpw)
    m.select("INBOX")
    typ, _ = m.fetch("1", "(BODY[])")
    assert typ == "OK"
    m.fetch("1", "(BODY[])")           # a second read is not a first read
    m.store("1", "+FLAGS", "(\\Deleted)")
    m.expunge()
    m.logout()
    recs = wait_records(srv, qid, lambda r: kinds(r, "deleted"), "READ and DELETED")
    (rd,) = kinds(recs, "read", local)
    assert rd["data"]["protocol"] == "imap" and rd["data"]["mailbox"] == local, rd
    assert rd["data"]["folder"] == "INBOX", rd
    (de,) = kinds(recs, "deleted", local)
    assert de["data"]["protocol"] == "imap", de

    # the bounce puts the recipient on the suppression list: the follower
    # does that from the trail within a second or so, and its record is
    # part of the timeline (taken before it, the copy below missed it)
    recs = wait_records(srv, qid, lambda r: kinds(r, "suppressed", bad), "SUPPRESSED after the bounce")
    (sp,) = kinds(recs, "suppressed", bad)
    assert sp["data"]["source"] == "bounce" and "550 5.1.1" in sp["data"]["reason"], sp

    # the timeline is complete after a restart, and the chain holds
    before = records(srv, qid)
    srv.restart()
    assert records(srv, qid) == before
    assert_verified(srv) >= len(before)
    # no password ever in the trail
    raw = b"".join(p.read_bytes() for p in srv.data_dir.glob("audit.db*"))
    assert pw.encode() not in raw and lpw.encode() not in raw


def test_pop3_retr_and_dele(make_server):
    srv = make_server()
    user, pw = srv.add_user()
    deliver_local(srv, user, "pop " + uniq())
    p = poplib.POP3("127.0.0.1", srv.pop3, timeout=10)
    p.stls(client_tls_context(verify=False))
    p.user(user)
    p.pass_(pw)
    resp, lines, _ = p.retr(1)
    assert resp.startswith(b"+OK")
    got = b"\r\n".join(lines)
    m = re.search(rb"with E?SMTPS? id (\w+)", got)
    assert m, got[:500]
    qid = m.group(1).decode()
    p.dele(1)
    p.quit()
    recs = wait_records(srv, qid, lambda r: kinds(r, "deleted"), "READ and DELETED over POP3")
    (rd,) = kinds(recs, "read", user)
    assert rd["data"]["protocol"] == "pop3", rd
    (de,) = kinds(recs, "deleted", user)
    assert de["data"]["protocol"] == "pop3", de
    assert kinds(recs, "received")[0]["data"]["listener"] == "smtp"


def test_policy_verdicts(make_server):
    rules = '''policy: { rules = (
      { name = "slow-down"; rcpt = "busy@example.test"; action = "tempfail"; text = "Busy, try later"; },
      { name = "tag-it"; header = "Subject: /tag me/"; action = "hold"; }
    ); };'''
    srv = make_server(extra=rules)
    user, pw = srv.add_user()
    srv.add_user("busy@example.test")
    msg = make_message(user, user, "please tag me", ["hi"]).decode()
    with smtplib.SMTP("127.0.0.1", srv.submission, timeout=10) as s:
        s.starttls(context=client_tls_context(verify=False))
        s.login(user, pw)
        s.mail(user)
        assert s.rcpt("busy@example.test")[0] == 451
        assert s.rcpt(user)[0] == 250
        code, text = s.data(msg.encode())
    assert code == 250, text
    qid = re.search(r"queued as (\S+)", text.decode()).group(1)
    recs = wait_records(srv, qid, lambda r: len(kinds(r, "policy")) >= 2, "two POLICY records")
    pol = [r["data"] for r in kinds(recs, "policy")]
    rcpt_stage = next(p for p in pol if p["stage"] == "rcpt")
    assert rcpt_stage["decision"] == "tempfail" and rcpt_stage["by"] == "rule slow-down", rcpt_stage
    assert rcpt_stage["rcpt"] == "busy@example.test" and rcpt_stage["code"] == 451, rcpt_stage
    assert rcpt_stage["text"] == "Busy, try later", rcpt_stage
    data_stage = next(p for p in pol if p["stage"] == "data")
    assert data_stage["matched"] == ["tag-it"] and data_stage["hold"] is True, data_stage
    # the RCPT verdict comes right after RECEIVED, with the message's id
    assert [r["kind"] for r in recs][:2] == ["received", "policy"], recs


def test_bdat_in_pieces_size_subject_message_id(make_server):
    """Port 25 with BDAT chunks split inside the header, then DATA sent a
    few bytes per write: size, Subject and Message-ID are still right."""
    srv = make_server(extra='audit: { subject = "plain"; };')
    rcpt, _ = srv.add_user()
    subject = "chunked subject " + uniq()
    msg = make_message("b@remote.test", rcpt, subject, ["part one", "part two"])
    cut = msg.index(b"Subject:") + 12
    chunks = [msg[:cut], msg[cut:cut + 9], msg[cut + 9:]]
    with srv.conn("smtp") as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<b@remote.test>").code == 250
        assert c.cmd(f"RCPT TO:<{rcpt}>").code == 250
        for ch in chunks[:-1]:
            c.send(b"BDAT %d\r\n" % len(ch) + ch)
            assert c.reply().code == 250
        c.send(b"BDAT %d LAST\r\n" % len(chunks[-1]) + chunks[-1])
        final = c.reply()
        assert final.code == 250, final
        qid = re.search(r"queued as (\S+)", final.text).group(1)
        # DATA in pieces of 7 bytes
        assert c.cmd("MAIL FROM:<b@remote.test>").code == 250
        assert c.cmd(f"RCPT TO:<{rcpt}>").code == 250
        assert c.cmd("DATA").code == 354
        wire = msg + b".\r\n"
        for i in range(0, len(wire), 7):
            c.send(wire[i:i + 7])
        final = c.reply()
        assert final.code == 250, final
        qid2 = re.search(r"queued as (\S+)", final.text).group(1)
        c.quit()
    stored = len(msg.replace(b"\r\n", b"\n"))
    mid = re.search(rb"Message-ID: (<[^>]+>)", msg).group(1).decode()
    for q in (qid, qid2):
        recs = wait_records(srv, q, lambda r: kinds(r, "received"), "RECEIVED")
        d = kinds(recs, "received")[0]["data"]
        assert d["size"] == stored, (d["size"], stored)
        assert d["subject"] == subject and d["message_id"] == mid, d


# ---------------------------------------------------------------- verify and prune

def send_local(srv, user, pw, to, n, subject="v"):
    return [smtp_send(srv, user, pw, [to], f"{subject} {i} {uniq()}") for i in range(n)]


def test_verify_detects_edit_and_delete(make_server):
    srv = make_server()
    user, pw = srv.add_user()
    qids = send_local(srv, user, pw, user, 3)
    wait_records(srv, qids[-1], lambda r: kinds(r, "delivered"), "the last delivery")
    srv.stop()   # the server is not needed to read or tamper with the trail
    n = assert_verified(srv)
    assert n >= 6
    db = sqlite3.connect(db_path(srv))
    (rid, data) = db.execute("SELECT id, data FROM records WHERE kind = 'delivered' ORDER BY id LIMIT 1").fetchone()
    db.execute("UPDATE records SET data = ? WHERE id = ?", (data.replace("delivered", "dropped"), rid))
    db.commit()
    p = verify(srv)
    assert p.returncode != 0 and "chain intact" not in p.stdout, p.stdout
    assert f"record {rid}:" in p.stderr and "does not match its hash" in p.stderr, p.stderr
    db.execute("UPDATE records SET data = ? WHERE id = ?", (data, rid))
    db.commit()
    assert_verified(srv) == n
    # a deleted row
    db.execute("DELETE FROM records WHERE id = ?", (rid + 1,))
    db.commit()
    p = verify(srv)
    assert p.returncode != 0, p.stdout
    assert f"record {rid + 1}: missing" in p.stderr, p.stderr
    db.close()
    db_path(srv).with_name("audit.db-wal").unlink(missing_ok=True)
    db_path(srv).with_name("audit.db-shm").unlink(missing_ok=True)
    # the readers ran as root: the files SQLite made must still be the
    # server's, or it could not write the trail after a start
    srv.cli("trace", "--since", "1d")
    owner = db_path(srv).stat().st_uid
    for f in srv.data_dir.glob("audit.db*"):
        assert f.stat().st_uid == owner, f"{f.name} belongs to uid {f.stat().st_uid}, not the server's"
    srv.start()
    q = smtp_send(srv, user, pw, [user], "after the readers")
    wait_records(srv, q, lambda r: kinds(r, "delivered"), "a delivery after the CLI read the trail")


def test_prune_keeps_verify_passing(make_server):
    srv = make_server()
    user, pw = srv.add_user()
    old = send_local(srv, user, pw, user, 2, "old")
    wait_records(srv, old[-1], lambda r: kinds(r, "delivered"), "delivery")
    # a prune by hand while the server runs: nothing is 1 day old yet
    p = srv.cli("audit", "prune", "--days", "1")
    assert p.returncode == 0 and p.stdout.startswith("0 records"), p.stdout + p.stderr
    p = srv.cli("audit", "prune", "--days", "0")
    assert p.returncode == 0, p.stdout + p.stderr
    removed = int(p.stdout.split()[0])
    assert removed >= 4, p.stdout
    assert_verified(srv)
    assert srv.cli("trace", old[0]).returncode != 0   # gone
    # the server goes on chaining after the prune
    new = send_local(srv, user, pw, user, 1, "new")
    wait_records(srv, new[0], lambda r: kinds(r, "delivered"), "delivery after the prune")
    assert assert_verified(srv) >= 3
    db = sqlite3.connect(db_path(srv))
    (data,) = db.execute("SELECT data FROM records WHERE kind = 'pruned'").fetchone()
    db.close()
    assert json.loads(data)["removed"] == removed
    # bad --days
    p = srv.cli("audit", "prune", "--days", "x")
    assert p.returncode == 2 and "--days" in p.stderr


# ---------------------------------------------------------------- searches

def test_trace_searches(make_server, dns, mx):
    srv, rx = start(make_server, dns, mx)
    a, apw = srv.add_user()
    b, bpw = srv.add_user()
    gone = f"{uniq('gone')}@{REMOTE}"
    rx.rcpt(gone, then="550 5.1.1 gone")
    q1 = smtp_send(srv, a, apw, [b], "one")
    q2 = smtp_send(srv, b, bpw, [a], "two")
    q3 = smtp_send(srv, a, apw, [gone], "three")
    recs = wait_records(srv, q3, lambda r: kinds(r, "dsn"), "the bounce and its DSN")
    dsn = kinds(recs, "dsn")[0]["data"]["dsn_qid"]
    wait_records(srv, dsn, lambda r: kinds(r, "delivered"), "the DSN delivered")
    wait_records(srv, q2, lambda r: kinds(r, "delivered"), "delivery")

    def found(*args):
        return [m["qid"] for m in trace_json(srv, *args)]
    assert found("--from", a) == [q1, q3]
    assert found("--from", a.upper()) == [q1, q3]          # case-insensitive
    assert found("--to", a) == [q2, dsn]                  # the bounce came back to a
    assert found("--to", a, "--from", b) == [q2]
    assert found("--from", "") == [dsn]                   # the null sender
    assert found("--from", a, "--to", b) == [q1]
    assert found("--status", "bounced") == [q3]
    assert found("--status", "delivered", "--from", a) == [q1]
    assert found("--since", "1h") == [q1, q2, q3, dsn]
    assert found("--since", "2020-01-01", "--until", "2020-01-02") == []
    assert found("--to", gone, "--status", "bounced") == [q3]
    # whole timelines come back, not just the matching record
    (m,) = trace_json(srv, "--status", "bounced")
    assert {r["kind"] for r in m["records"]} >= {"received", "attempt", "bounced"}
    text = trace(srv, "--from", a).stdout
    assert f"message {q1}" in text and f"message {q3}" in text and q2 not in text
    # bad input: clear sentences, exit 2
    p = srv.cli("trace", "--since", "yesterday")
    assert p.returncode == 2 and "is not a time" in p.stderr, p.stderr
    p = srv.cli("trace", "--status", "lost")
    assert p.returncode == 2 and "--status must be" in p.stderr, p.stderr
    p = srv.cli("trace", "NOSUCHQID0000")
    assert p.returncode == 1 and "no record of NOSUCHQID0000" in p.stderr, p.stderr


# ---------------------------------------------------------------- settings

@pytest.mark.parametrize("mode", ["plain", "off"])
def test_subject_modes(make_server, mode):
    srv = make_server(extra=f'audit: {{ subject = "{mode}"; }};')
    user, pw = srv.add_user()
    subject = "Quarterly report " + uniq()
    qid = smtp_send(srv, user, pw, [user], subject)
    recs = wait_records(srv, qid, lambda r: kinds(r, "received"), "RECEIVED")
    d = kinds(recs, "received")[0]["data"]
    if mode == "plain":
        assert d["subject"] == subject, d
    else:
        assert "subject" not in d, d
        raw = b"".join(p.read_bytes() for p in srv.data_dir.glob("audit.db*"))
        assert subject.encode() not in raw


def test_disabled_trail(make_server):
    srv = make_server(extra="audit: { enabled = false; };")
    user, pw = srv.add_user()
    qid = smtp_send(srv, user, pw, [user], "nothing recorded")
    srv.wait_mail(user)
    assert not db_path(srv).exists()
    p = srv.cli("trace", qid)
    assert p.returncode == 1 and "audit.enabled is false" in p.stderr, p.stderr


def test_bad_audit_settings(make_server):
    srv = make_server(start=False, extra='audit: { subject = "rot13"; journal = "nobody"; };')
    p = srv.cli("config", "check")
    assert p.returncode != 0
    assert 'audit.subject must be "off", "hash" or "plain"' in p.stderr, p.stderr
    assert "audit.journal must be a mail address" in p.stderr, p.stderr


# ---------------------------------------------------------------- journaling

def test_journal_to_local_archive(make_server, dns, mx):
    archive = f"archive@{DOMAIN}"
    srv, rx = start(make_server, dns, mx, extra=f'audit: {{ journal = "{archive}"; }};')
    srv.add_user(archive)
    user, pw = srv.add_user()
    rcpt = f"{uniq('carol')}@{REMOTE}"
    subject = "journal " + uniq()
    qid = smtp_send(srv, user, pw, [rcpt], subject, body="keep this")
    (m,) = rx.wait_messages(1, WAIT)
    assert m["rcpt_tos"] == [rcpt], m                  # the copy is hidden from the peer
    srv.wait_mail(archive)
    (copy,) = srv.mails(archive)
    assert f"Subject: {subject}".encode() in copy and b"keep this" in copy
    recs = wait_records(srv, qid, lambda r: kinds(r, "journaled") and kinds(r, "delivered", archive),
                        "JOURNALED and the archive delivery")
    (j,) = kinds(recs, "journaled")
    assert j["data"]["to"] == archive, j
    # NOTIFY=NEVER for the copy, as the queue file says
    assert not kinds(recs, "dsn")


def test_journal_never_notifies_and_match(make_server, dns, mx):
    archive = f"archive@{REMOTE}"
    srv, rx = start(make_server, dns, mx,
                    extra=f'audit: {{ journal = "{archive}"; journal_match = "partner.test, {DOMAIN}"; }};')
    rx.rcpt(archive, then="550 5.1.1 archive full")
    user, pw = srv.add_user()
    qid = smtp_send(srv, user, pw, [user], "journaled " + uniq(), mail_options=["RET=HDRS"],
                    rcpt_options=["NOTIFY=FAILURE"])
    recs = wait_records(srv, qid, lambda r: kinds(r, "bounced", archive), "the journal copy bounced")
    assert kinds(recs, "journaled")
    time.sleep(1.0)
    recs = records(srv, qid)
    assert not kinds(recs, "dsn"), "a DSN was sent for the hidden journal copy"
    assert len(srv.mails(user)) == 1, "the sender heard of the journal copy"
    # a message outside journal_match is not journaled
    srv2 = make_server(extra=outbound_config(dns, mx.port) +
                       f'\naudit: {{ journal = "{archive}"; journal_match = "partner.test"; }};')
    u2, p2 = srv2.add_user()
    q2 = smtp_send(srv2, u2, p2, [u2], "not journaled")
    recs = wait_records(srv2, q2, lambda r: kinds(r, "delivered"), "delivery")
    assert not kinds(recs, "journaled")
    assert archive not in kinds(recs, "received")[0]["data"]["rcpts"]


def test_queue_delete_ends_the_open_recipients(make_server):
    """`yubin queue delete` leaves a REMOVED record: the recipients still to
    do end "removed" (not queued or deferred for ever); the delivered one
    keeps its state; the chain still verifies."""
    srv = make_server()  # remote mail waits: the test DNS server never answers
    user, pw = srv.add_user()
    local, _ = srv.add_user()
    far = f"{uniq('far')}@nowhere.test"
    qid = smtp_send(srv, user, pw, [local, far], "to be deleted")
    srv.wait_mail(local, 1)
    wait_records(srv, qid, lambda recs: kinds(recs, "delivered", local), "the local delivery")
    p = srv.cli("queue", "delete", qid)
    assert p.returncode == 0, p.stdout + p.stderr
    recs = wait_records(srv, qid, lambda recs: kinds(recs, "removed"), "the REMOVED record")
    (rm,) = kinds(recs, "removed")
    assert rm["data"]["op"] == "delete"
    assert [m["qid"] for m in trace_json(srv, "--status", "removed")] == [qid]
    assert qid not in [m["qid"] for m in trace_json(srv, "--status", "queued")]
    assert qid not in [m["qid"] for m in trace_json(srv, "--status", "deferred")]
    assert qid in [m["qid"] for m in trace_json(srv, "--status", "delivered")]
    text = trace(srv, qid).stdout
    assert re.search(r"removed\s+by=delete", text), text
    p = srv.cli("trace", "--status", "gone")
    assert p.returncode != 0 and "removed" in p.stderr
    assert_verified(srv)


def test_queue_delete_during_an_attempt_stays_removed(make_server, dns, mx):
    """An attempt that is running when `yubin queue delete` removes the
    message still reports its deferral: the trail keeps that record, but the
    recipient stays "removed" (a deleted message waits for nothing)."""
    srv, rx = start(make_server, dns, mx)
    rx.delay = 4.0          # the MX holds the attempt at the end of DATA
    rx.data(then="451 4.3.0 try again later")
    user, pw = srv.add_user()
    far = f"{uniq('far')}@{REMOTE}"
    qid = smtp_send(srv, user, pw, [far], "deleted during the attempt")
    wait_until(lambda: rx.count("DATA") >= 1, WAIT, what="the attempt to reach DATA")
    p = srv.cli("queue", "delete", qid)
    assert p.returncode == 0, p.stdout + p.stderr
    recs = wait_records(srv, qid, lambda recs: kinds(recs, "deferred", far), "the attempt's deferral")
    order = [r["kind"] for r in recs if r["kind"] in ("removed", "deferred")]
    assert order == ["removed", "deferred"], order
    assert [m["qid"] for m in trace_json(srv, "--status", "removed")] == [qid]
    assert qid not in [m["qid"] for m in trace_json(srv, "--status", "deferred")]
    assert_verified(srv)
