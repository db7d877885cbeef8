"""Real IMAP clients this project did not write, against the real server:
mbsync (isync) syncing a mailbox both ways over implicit TLS with the
certificate checked (down: byte-exact into a local Maildir; up: a message
written locally lands on the server via APPEND; flags and deletions travel
both ways); neomutt (or mutt) reading a folder over IMAPS through a
pseudo-terminal (copy and pipe a message byte for byte, flag, delete and
sync, checked on the server)."""

import os
import re
import shutil
import subprocess
import time

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


# --------------------------------------------------------------------------
# neomutt (or mutt) reading a folder over IMAPS, driven through a
# pseudo-terminal: its index needs a terminal, so the test is the terminal.

MUTT = shutil.which("neomutt") or shutil.which("mutt")


class PtyProgram:
    """A full-screen program on a pseudo-terminal of its own.  Everything it
    draws is read (so it never blocks on a full terminal) and kept in
    .screen for failure messages; stop() ends it by its PID."""

    def __init__(self, argv, env, rows=40, cols=132):
        import fcntl
        import struct
        import termios
        import threading
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.screen = bytearray()
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self):
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:          # EIO once the program's side is closed
                return
            if not chunk:
                return
            self.screen += chunk

    def text(self):
        """The terminal output with escape sequences removed, for messages."""
        raw = bytes(self.screen).decode("utf-8", "replace")
        return re.sub(r"\x1b(\[[0-9;?]*[A-Za-z]|[()][A-Z0-9]|[=>78M])", " ", raw)[-3000:]

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, 9)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        self.reader.join(5)
        os.close(self.master)


def run_mutt(tmp_path, srv, user, pw, pushed, done, timeout=40):
    """Open imaps://127.0.0.1:PORT/INBOX in neomutt, with the server's test
    certificate as the only trusted one, type `pushed` (keys and <functions>)
    into its index, and wait (bounded) until done() is true and the program
    has quit.  Returns done()'s value."""
    rc = tmp_path / "muttrc"
    rc.write_text(
        f'set imap_user="{user}"\nset imap_pass="{pw}"\n'
        f'set ssl_ca_certificates_file="{srv.cert["cert"]}"\n'
        f'set certificate_file="{tmp_path}/mutt-certificates"\n'
        "set ssl_force_tls=yes\nset ssl_starttls=no\nset ssl_verify_host=yes\n"
        'set header_cache=""\nset message_cachedir=""\n'
        "set imap_check_subscribed=no\nset imap_passive=yes\nset mail_check=3600\n"
        "set sort=unsorted\nset resolve=no\nset mark_old=no\nset move=no\n"
        "set confirmappend=no\nset confirmcreate=no\nset delete=yes\nset quit=yes\n"
        "set wait_key=no\nset beep=no\nset help=no\nset timeout=3600\n"
        "set mbox_type=Maildir\nset folder=\"" + str(tmp_path) + "\"\n"
        "set record=\"\"\nset postponed=\"" + str(tmp_path) + "/postponed\"\n")
    url = f"imaps://{user.replace('@', '%40')}@127.0.0.1:{srv.imaps}/INBOX"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "TERM": "xterm", "LANG": "C.UTF-8", "TMPDIR": str(tmp_path)}
    prog = PtyProgram([MUTT, "-n", "-F", str(rc), "-f", url, "-e", f"push '{pushed}'"], env)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if prog.proc.poll() is not None:
                break
            time.sleep(0.05)
        status = prog.proc.poll()
        got = done()
        assert got, (f"{os.path.basename(MUTT)} did not do its job (exit status {status}, "
                     f"None: still running after {timeout}s); its screen:\n{prog.text()}")
        assert status == 0, f"{MUTT} exited with {status}; its screen:\n{prog.text()}"
        return got
    finally:
        prog.stop()


def test_mutt_reads_copies_flags_and_deletes(server, tmp_path):
    assert MUTT, "neomutt (or mutt) not installed"
    import imaplib
    from conftest import client_tls_context
    srv = server
    user, pw = srv.add_user()
    deliver_local(srv, user, "for mutt one", ["first body", "From here on", ".dot", ""])
    deliver_local(srv, user, "for mutt two", ["second body"])
    deliver_local(srv, user, "for mutt three", ["third body"])
    want = stored_crlf(srv, user)
    out, piped = tmp_path / "saved", tmp_path / "piped"
    # (a) read over IMAP: copy the first message to a new local Maildir, and
    # pipe it, raw, to a file
    run_mutt(tmp_path, srv, user, pw,
             f"<first-entry><copy-message>{out}<enter>"
             f"<pipe-message>cat >{piped}<enter><quit>",
             lambda: files(out) and piped.exists() and piped.stat().st_size > 0)
    expect = want[0].replace(b"\r\n", b"\n")
    head, body = expect.split(b"\n\n", 1)
    # mutt's copy adds its own Content-Length: and Lines: after the header;
    # their values prove the body arrived whole, the rest is byte for byte
    mutt_len = b"Content-Length: %d\nLines: %d\n" % (len(body), body.count(b"\n"))
    got = [p.read_bytes() for p in files(out)]
    assert got == [head + b"\n" + mutt_len + b"\n" + body], (got, expect)
    # the pipe gets the message exactly (some mutt versions put an mbox
    # From_ line before it)
    raw = piped.read_bytes()
    if raw.startswith(b"From "):
        raw = raw.split(b"\n", 1)[1]
    assert raw == expect, (raw, expect)

    # (b) flag the second, delete the third and sync: the server sees both
    def server_state():
        m = imaplib.IMAP4_SSL("localhost", srv.imaps, ssl_context=client_tls_context(), timeout=10)
        m.login(user, pw)
        m.select("INBOX", readonly=True)
        typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        m.logout()
        return [(re.search(rb"FLAGS \(([^)]*)\)", d[0]).group(1), d[1].strip())
                for d in data if isinstance(d, tuple)]

    run_mutt(tmp_path, srv, user, pw,
             "<first-entry><next-entry><flag-message><next-entry><delete-message>"
             "<sync-mailbox><quit>",
             lambda: len(server_state()) == 2)
    state = server_state()
    assert [s for _, s in state] == [b"Subject: for mutt one", b"Subject: for mutt two"], state
    assert b"\\Flagged" not in state[0][0] and b"\\Flagged" in state[1][0], state
    assert len(srv.mail_files(user)) == 2
