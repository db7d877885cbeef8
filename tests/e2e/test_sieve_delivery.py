"""Sieve at local delivery (issue 13): the account's active script, stored
where ManageSieve and the dashboard keep it (<maildir>/sieve/NAME.sieve
and .active), decides where each message goes.  Messages come in over
SMTP (smtplib-compatible raw sessions and submission with AUTH) and the
tests look at what a user sees: the files in the Maildir folders and their
flags, the redirected copy in another mailbox, the vacation reply, the
refusals (an MDN for reject, a DSN for ereject) in the sender's mailbox,
and the log line for what the script did.  Failure paths: a script that
does not compile, a runtime error, a redirect loop, a redirect to nobody:
each keeps the message in INBOX."""

import email
import email.policy
import os
import re
import time

from conftest import DOMAIN, make_message, submit, uniq, wait_until
from test_srs import world  # noqa: F401  (the fixture: DNS, MX peers, SRS on)


def install(srv, addr, text, name="main"):
    """Put script `name` in the account's store and make it active, as
    ManageSieve's PUTSCRIPT + SETACTIVE would."""
    d = srv.maildir(addr) / "sieve"
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / f".{name}.tmp"
    tmp.write_text(text)
    os.replace(tmp, d / f"{name}.sieve")
    act = d / ".active.tmp"
    act.write_text(f"{name}.sieve")
    os.replace(act, d / ".active")
    # the cache keys on the folder's and the file's times: make sure a
    # replacement within the same clock tick is seen as new
    now = time.time() + 0.01 * (len(text) % 7 + 1)
    os.utime(d, (now, now))


def send25(srv, rcpt, subject, body=("hello",), sender="sender@remote.test", headers=()):
    msg = make_message(sender, rcpt, subject, list(body), extra_headers=list(headers))
    with srv.conn("smtp") as c:
        c.ehlo()
        rr, final = c.mail_transaction(sender, [rcpt], msg)
        assert final.code == 250, final
        c.quit()
    return final


def folder_files(srv, addr, folder):
    md = srv.maildir(addr) / (("." + folder) if folder != "INBOX" else "")
    out = []
    for sub in ("new", "cur"):
        d = md / sub
        if d.is_dir():
            out.extend(sorted(p for p in d.iterdir() if p.is_file()))
    return out


def wait_folder(srv, addr, folder, n=1, timeout=15):
    wait_until(lambda: len(folder_files(srv, addr, folder)) >= n, timeout,
               what=f"{n} message(s) in {folder} of {addr}")
    return folder_files(srv, addr, folder)


def wait_log(srv, pattern, timeout=15):
    rx = re.compile(pattern)
    wait_until(lambda: rx.search(srv.log_text()), timeout, what=pattern)
    return rx.search(srv.log_text())


def test_fileinto_create_flags_and_copy(server):
    addr, _ = server.add_user()
    install(server, addr, '''require ["fileinto", "mailbox", "imap4flags", "copy"];
if header :contains "subject" "invoice" {
    fileinto :create :flags ["\\\\Seen", "\\\\Flagged", "$Billing"] "Finance.Invoices";
    stop;
}
if address :is "from" "boss@remote.test" {
    fileinto :copy :create "Boss";
}
''')
    s1 = uniq("invoice")
    send25(server, addr, f"Your {s1}")
    # flags are in the file name in cur/ (the copy passes through new/),
    # keywords by their letter
    cur = server.maildir(addr) / ".Finance.Invoices" / "cur"
    wait_until(lambda: cur.is_dir() and any(cur.iterdir()), 15, what="the copy in cur/")
    files = folder_files(server, addr, "Finance.Invoices")
    assert len(files) == 1
    f = files[0]
    info = f.name.split(":2,")[1]
    assert "F" in info and "S" in info, f.name
    kw = (server.maildir(addr) / ".Finance.Invoices" / "yubin-keywords").read_text()
    letter = chr(ord("a") + int(next(ln.split()[0] for ln in kw.splitlines() if ln.endswith("$Billing"))))
    assert letter in info
    assert s1.encode() in f.read_bytes()
    assert folder_files(server, addr, "INBOX") == []  # fileinto cancelled the keep
    # :copy keeps the implicit keep
    msg = make_message("boss@remote.test", addr, "from the boss", ["hi"])
    with server.conn("smtp") as c:
        c.ehlo()
        _, final = c.mail_transaction("boss@remote.test", [addr], msg)
        assert final.code == 250
    wait_folder(server, addr, "Boss")
    inbox = wait_folder(server, addr, "INBOX")
    assert b"from the boss" in inbox[0].read_bytes()
    # the delivery line follows the files a moment later
    wait_log(server, rf"event=deliver [^\n]*to={re.escape(addr)} [^\n]*folder=(?:Boss,INBOX|INBOX,Boss) ")


def test_discard_and_log(server):
    addr, _ = server.add_user()
    install(server, addr, 'if header :contains "subject" "spam" { discard; }')
    send25(server, addr, "pure spam here")
    wait_log(server, rf"event=deliver .*to={re.escape(addr)} .*sieve=discard")
    assert server.mail_files(addr) == []
    send25(server, addr, "a real one")
    server.wait_mail(addr, 1)


def test_redirect_keeps_sender_and_marks_loop(server):
    a, _ = server.add_user()
    b, _ = server.add_user()
    install(server, a, f'redirect "{b}";')
    subj = uniq("fwd")
    send25(server, a, subj)
    got = server.wait_mail(b, 1)[0]
    assert subj.encode() in got
    m = email.message_from_bytes(got)
    assert m["Return-Path"] == "<sender@remote.test>"  # the original envelope sender
    assert f"Delivered-To: {a}".encode() in got       # our loop marker
    assert server.mail_files(a) == []
    # b sends everything back to a: the second visit to a is a loop; a keeps it
    install(server, b, f'redirect "{a}";')
    subj2 = uniq("loop")
    send25(server, a, subj2)
    kept = server.wait_mail(a, 1)
    assert subj2.encode() in kept[0]
    wait_log(server, rf"to={re.escape(a)} .*sieve_error=\"redirect to {re.escape(b)} refused: the message was here before")


def test_redirect_to_nobody_keeps(server):
    a, _ = server.add_user()
    install(server, a, f'redirect "nobody-{uniq()}@{DOMAIN}";')
    send25(server, a, "to nobody")
    got = server.wait_mail(a, 1)
    assert b"to nobody" in got[0]


def test_reject_sends_mdn(server):
    sender, pw = server.add_user()
    rcpt, _ = server.add_user()
    install(server, rcpt, 'require "reject"; reject "I do not take mail on Sundays.";')
    msg = make_message(sender, rcpt, "please read", ["body"])
    msgid = email.message_from_bytes(msg)["Message-ID"]
    submit(server, sender, pw, [rcpt], msg)
    mdn = server.wait_mail(sender, 1)[0]
    m = email.message_from_bytes(mdn)
    assert m.get_content_type() == "multipart/report"
    assert m.get_param("report-type") == "disposition-notification"
    parts = list(m.walk())
    text = parts[1].get_payload(decode=True).decode()
    assert "I do not take mail on Sundays." in text
    notif = [p for p in parts if p.get_content_type() == "message/disposition-notification"][0]
    raw = notif.as_bytes().decode()
    assert "automatic-action/MDN-sent-automatically; deleted" in raw
    assert f"Final-Recipient: rfc822; {rcpt}" in raw
    assert f"Original-Message-ID: {msgid}" in raw
    assert server.mail_files(rcpt) == []


def test_ereject_sends_dsn(server):
    sender, pw = server.add_user()
    rcpt, _ = server.add_user()
    install(server, rcpt, 'require "ereject"; ereject "go away";')
    submit(server, sender, pw, [rcpt], make_message(sender, rcpt, "x", ["body"]))
    dsn = server.wait_mail(sender, 1)[0]
    m = email.message_from_bytes(dsn)
    assert m.get_param("report-type") == "delivery-status"
    assert b"Status: 5.7.1" in dsn
    assert b"go away" in dsn
    assert server.mail_files(rcpt) == []


def test_vacation_once_per_sender_not_to_lists(server):
    sender, pw = server.add_user()
    other, pw2 = server.add_user()
    rcpt, _ = server.add_user()
    install(server, rcpt, f'''require "vacation";
vacation :days 3 :subject "Away until Monday" :addresses ["{rcpt}"] "I am away. Back on Monday.";
''')
    msg = make_message(sender, rcpt, "hello", ["are you there?"])
    msgid = email.message_from_bytes(msg)["Message-ID"]
    submit(server, sender, pw, [rcpt], msg)
    reply = server.wait_mail(sender, 1)[0]
    m = email.message_from_bytes(reply)
    assert m["Subject"] == "Away until Monday"
    assert m["Auto-Submitted"].startswith("auto-replied")
    assert m["In-Reply-To"] == msgid and m["References"] == msgid
    assert m["To"] == f"<{sender}>"
    assert "I am away" in m.get_payload(decode=True).decode()
    assert b"Return-Path: <>" in reply        # from the null sender
    server.wait_mail(rcpt, 1)                 # vacation does not cancel the keep
    # the same sender again: no second reply within :days
    submit(server, sender, pw, [rcpt], make_message(sender, rcpt, "again", ["?"]))
    server.wait_mail(rcpt, 2)
    wait_log(server, rf"to={re.escape(rcpt)} .*vacation:skipped \(replied to this sender already\)")
    # a list message: never answered (RFC 5230 5)
    submit(server, other, pw2, [rcpt], make_message(other, rcpt, "list", ["x"], extra_headers=["List-Id: <l.x.test>"]))
    server.wait_mail(rcpt, 3)
    time.sleep(0.5)
    assert len(server.mail_files(sender)) == 1
    assert server.mail_files(other) == []


def test_vacation_utf8_subject_is_encoded(server):
    sender, pw = server.add_user()
    rcpt, _ = server.add_user()
    install(server, rcpt, 'require "vacation"; vacation :subject "Abwesend – zurück am Montag" "Grüße";')
    submit(server, sender, pw, [rcpt], make_message(sender, rcpt, "hi", ["x"]))
    reply = server.wait_mail(sender, 1)[0]
    head = reply.split(b"\n\n", 1)[0]
    assert b"=?UTF-8?B?" in head and all(c < 0x80 for c in head)
    m = email.message_from_bytes(reply, policy=email.policy.default)
    assert str(m["Subject"]) == "Abwesend – zurück am Montag"
    assert m.get_content().strip() == "Grüße"


def test_broken_and_failing_scripts_keep(server):
    addr, _ = server.add_user()
    install(server, addr, 'if header :is "subject" { keep; }')  # does not compile
    send25(server, addr, "kept despite a broken script")
    server.wait_mail(addr, 1)
    wait_log(server, rf"to={re.escape(addr)} .*sieve_error=\"the active script does not compile: line 1, column")
    # fileinto a folder that does not exist, without :create: a runtime error
    install(server, addr, 'require "fileinto"; fileinto "NoSuchFolder";')
    send25(server, addr, "kept after a runtime error")
    server.wait_mail(addr, 2)
    assert not (server.maildir(addr) / ".NoSuchFolder").exists()


def test_script_change_takes_effect(server):
    addr, _ = server.add_user()
    install(server, addr, 'require "fileinto"; fileinto :create "A";' if False else
            'require ["fileinto", "mailbox"]; fileinto :create "A";')
    send25(server, addr, "one")
    wait_folder(server, addr, "A")
    install(server, addr, 'require ["fileinto", "mailbox"]; fileinto :create "B";')
    send25(server, addr, "two")
    wait_folder(server, addr, "B")
    # deactivated: plain delivery again
    (server.maildir(addr) / "sieve" / ".active").unlink()
    send25(server, addr, "three")
    server.wait_mail(addr, 1)


def test_redirect_to_remote_goes_out_with_srs(world):
    """A redirect to another domain leaves with an SRS0 sender (rewrite.srs),
    so that the original sender's SPF does not fail at the destination."""
    from test_srs import IP_REMOTE, ORIGIN, REMOTE, port25, secret_of, srs0
    srv, _dns, rx = world
    user, _ = srv.add_user()
    install(srv, user, f'redirect "friend@{REMOTE}";')
    sender = f"carol@{ORIGIN}"
    msg = make_message(sender, user, "redirect me", ["hello"])
    t0 = time.time()
    rr, final = port25(srv, sender, [user], msg)
    assert rr[0].code == 250 and final.code == 250, (rr, final)
    (m,) = rx[IP_REMOTE].wait_messages(1)
    assert m["rcpt_tos"] == [f"friend@{REMOTE}"]
    secret = secret_of(srv)
    assert m["mail_from"] in (srs0(secret, sender, t0), srs0(secret, sender, time.time())), m["mail_from"]
    assert m["content"].startswith(f"Delivered-To: {user}\r\n".encode())
    assert m["content"].endswith(msg)
    assert srv.mail_files(user) == []


def test_vacation_new_handle_replies_again_and_never_to_null_sender(server):
    sender, pw = server.add_user()
    rcpt, _ = server.add_user()
    install(server, rcpt, 'require "vacation"; vacation "Out of office.";')
    submit(server, sender, pw, [rcpt], make_message(sender, rcpt, "one", ["x"]))
    server.wait_mail(sender, 1)
    # a new reason is a new handle (RFC 5230 4.2): the sender hears of it
    install(server, rcpt, 'require "vacation"; vacation "Out of office until the 20th.";')
    submit(server, sender, pw, [rcpt], make_message(sender, rcpt, "two", ["x"]))
    replies = server.wait_mail(sender, 2)
    assert any(b"until the 20th" in r for r in replies)
    # a bounce (null sender) never gets an automatic reply
    with server.conn("smtp") as c:
        c.ehlo()
        _, final = c.mail_transaction("", [rcpt], make_message("MAILER-DAEMON@remote.test", rcpt, "bounce", ["x"]))
        assert final.code == 250
    server.wait_mail(rcpt, 3)
    wait_log(server, rf"to={re.escape(rcpt)} .*vacation:skipped \(")


def test_envelope_to_is_the_address_before_detail_and_aliases(server):
    """subaddress (RFC 5233) on the envelope: mail to user+work@ lands in
    the user's mailbox, and the script sees the +work it was sent to."""
    addr, _ = server.add_user()
    local, domain = addr.split("@")
    install(server, addr, '''require ["envelope", "subaddress", "fileinto", "mailbox"];
if envelope :detail "to" "work" { fileinto :create "Work"; }
''')
    send25(server, f"{local}+work@{domain}", "tagged")
    got = wait_folder(server, addr, "Work")
    assert b"tagged" in got[0].read_bytes()
    send25(server, addr, "untagged")
    server.wait_mail(addr, 1)


def test_vacation_reply_is_dkim_signed(make_server):
    """A reply From the user's address is signed with the domain's key, so
    it passes DMARC where it arrives (dkimpy verifies it)."""
    import dkim
    from test_dkim import parse_record
    srv = make_server(start=False)
    p = srv.cli("dkim", "keygen", DOMAIN, "--algorithm", "rsa")
    assert p.returncode == 0, p.stderr
    name, value = parse_record(p.stdout)
    srv.start()
    sender, pw = srv.add_user()
    rcpt, _ = srv.add_user()
    install(srv, rcpt, 'require "vacation"; vacation "Away.";')
    submit(srv, sender, pw, [rcpt], make_message(sender, rcpt, "hi", ["x"]))
    reply = srv.wait_mail(sender, 1)[0]
    assert b"DKIM-Signature:" in reply
    wire = reply.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    records = {name: value}
    assert dkim.verify(wire, dnsfunc=lambda n, timeout=5: records.get(n.decode().rstrip("."), "").encode() or None)


def test_vacation_from_only_an_address_of_the_user(server):
    """:from is used only when the user may send as it (its own address, an
    alias of it): the reply is signed with the domain's key, so a script
    may not make it speak for another user (RFC 5230 4.4 leaves the check
    to the server).  Otherwise the reply comes from the user's address."""
    sender, pw = server.add_user()
    rcpt, _ = server.add_user()
    boss, _ = server.add_user()
    alias = f"{uniq('away')}@{DOMAIN}"
    server.add_alias(alias, rcpt)
    install(server, rcpt, f'require "vacation"; vacation :handle "one" :from "The Boss <{boss}>" "away";')
    submit(server, sender, pw, [rcpt], make_message(sender, rcpt, "first", ["x"]))
    m = email.message_from_bytes(server.wait_mail(sender, 1)[0])
    assert m["From"] == f"<{rcpt}>", m["From"]
    wait_log(server, rf"to={re.escape(rcpt)} .*vacation:from-ignored")
    install(server, rcpt, f'require "vacation"; vacation :handle "two" :from "Away Desk <{alias}>" "away";')
    submit(server, sender, pw, [rcpt], make_message(sender, rcpt, "second", ["x"]))
    replies = [email.message_from_bytes(r) for r in server.wait_mail(sender, 2)]
    assert sorted(r["From"] for r in replies) == sorted([f"<{rcpt}>", f"Away Desk <{alias}>"]), \
        [r["From"] for r in replies]
