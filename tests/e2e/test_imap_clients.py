"""Real IMAP clients this project did not write, against the real server:
mbsync (isync) syncing a mailbox both ways over implicit TLS with the
certificate checked (down: byte-exact into a local Maildir; up: a message
written locally lands on the server via APPEND; flags and deletions travel
both ways)."""

import os
import re
import shutil
import subprocess

import pytest

from conftest import deliver_local, stored_crlf

MBSYNC = shutil.which("mbsync")


def mbsync(tmp_path, srv, user, pw):
    rc = tmp_path / "mbsyncrc"
    local = tmp_path / "local"
    local.mkdir(exist_ok=True)
    rc.write_text(
        f"IMAPAccount yubin\nHost localhost\nPort {srv.imaps}\nUser {user}\nPass {pw}\n"
        f"SSLType IMAPS\nCertificateFile {srv.cert['cert']}\n\n"
        f"IMAPStore remote\nAccount yubin\n\n"
        f"MaildirStore local\nPath {local}/\nInbox {local}/INBOX\nSubFolders Verbatim\n\n"
        f"Channel all\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\nExpunge Both\n"
        f"SyncState *\nSync All\n")
    p = subprocess.run([MBSYNC, "-c", str(rc), "-a"], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, HOME=str(tmp_path)))
    assert p.returncode == 0, p.stdout + p.stderr
    return local


def files(d):
    return sorted(p for sub in ("cur", "new") if (d / sub).is_dir() for p in (d / sub).iterdir())


def test_mbsync_both_ways(server, tmp_path):
    assert MBSYNC, "mbsync (isync) not installed"
    srv = server
    user, pw = srv.add_user()
    for i in range(3):
        deliver_local(srv, user, f"sync {i}", [f"synced body {i}", ".dot"])
    want = stored_crlf(srv, user)
    local = mbsync(tmp_path, srv, user, pw)
    got = files(local / "INBOX")
    assert len(got) == 3, got
    # mbsync adds its own X-TUID: tracking header; everything else is ours
    local_bytes = [re.sub(rb"X-TUID: [^\n]*\n", b"", p.read_bytes()) for p in got]
    assert sorted(local_bytes) == sorted(w.replace(b"\r\n", b"\n") for w in want)
    # the special-use folders came down too
    for name in ("Sent", "Drafts", "Trash", "Junk", "Archive"):
        assert (local / name / "cur").is_dir(), list(local.iterdir())
    # up: a message written locally (say, a sent mail) lands on the server
    msg = b"From: " + user.encode() + b"\nTo: x@remote.test\nSubject: sent locally\n\nhello up there\n"
    (local / "Sent" / "new" / "1700000000.local1.host").write_bytes(msg)
    # and a local deletion: mark the first INBOX message trashed
    first = files(local / "INBOX")[0]
    first.rename(first.parent.parent / "cur" / (first.name.split(":2,")[0] + ":2,ST"))
    mbsync(tmp_path, srv, user, pw)
    sent = [re.sub(rb"X-TUID: [^\n]*\n", b"", p.read_bytes())
            for p in (srv.maildir(user) / ".Sent" / "cur").iterdir()]
    assert sent == [msg], sent
    assert len(srv.mail_files(user)) == 2, "the locally deleted message is still on the server"
    # a flag set on the server comes down
    import imaplib
    from conftest import client_tls_context
    m = imaplib.IMAP4_SSL("localhost", srv.imaps, ssl_context=client_tls_context(), timeout=10)
    m.login(user, pw)
    m.select("INBOX")
    m.store("1", "+FLAGS", "(\\Flagged)")
    m.logout()
    mbsync(tmp_path, srv, user, pw)
    names = [p.name for p in files(local / "INBOX")]
    assert len(names) == 2 and sum(":2,F" in n for n in names) == 1, names


def test_submitted_on_587_read_back_over_imap_and_pop3(server):
    """The whole path: submitted with AUTH on 587, delivered, read back
    byte for byte over IMAP and over POP3."""
    import imaplib
    import poplib
    from conftest import client_tls_context, make_message, submit
    srv = server
    sender, spw = srv.add_user()
    rcpt, rpw = srv.add_user()
    msg = make_message(sender, rcpt, "the whole path", ["over 587", ".then IMAP and POP3", "end"])
    submit(srv, sender, spw, [rcpt], msg)
    (data,) = srv.wait_mail(rcpt)
    want = data.replace(b"\n", b"\r\n")
    assert want.endswith(msg), "the Maildir does not end with what was submitted"
    m = imaplib.IMAP4_SSL("localhost", srv.imaps, ssl_context=client_tls_context(), timeout=10)
    m.login(rcpt, rpw)
    m.select("INBOX")
    assert m.fetch("1", "(BODY.PEEK[])")[1][0][1] == want
    m.logout()
    p = poplib.POP3_SSL("localhost", srv.pop3s, context=client_tls_context(), timeout=10)
    p.user(rcpt)
    p.pass_(rpw)
    assert b"\r\n".join(p.retr(1)[1]) + b"\r\n" == want
    p.quit()
