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
