"""Local delivery shares the worker threads fairly (delivery.local_concurrency).

The worker threads run the work clients wait for (password checks, queue
commits, DKIM signing, the API's preparation) and local delivery (Maildir
writes and their fsyncs).  A burst of accepted mail must not put thousands
of Maildir writes ahead of a login: at most delivery.local_concurrency
deliveries run at once, the rest wait in the queue's own line.

The burst here is the one a restart makes: messages whose delivery failed
(the mailbox path was a file) are all due at once when the server starts
again.  An IMAP login right after the start must be answered while most of
them are still waiting, not after all of them.
"""

import imaplib
import smtplib

from conftest import client_tls_context, make_message, uniq, wait_until

BURST = 800


def test_login_is_not_queued_behind_a_burst_of_local_deliveries(make_server):
    srv = make_server(extra="delivery: { local_concurrency = 1; };")
    first, _ = srv.add_user(prefix="first")
    rcpt, pw = srv.add_user(prefix="burst")
    sender = f"sender@{uniq('ext')}.example"
    with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as s:
        s.sendmail(sender, [first], make_message(sender, first, "makes the domain folder", ["x"]))
    srv.wait_mail(first, 1)
    # the mailbox path is a file: every delivery to it fails for now and
    # stays queued for the next attempt
    md = srv.maildir(rcpt)
    away = md.with_name(md.name + ".away")
    md.rename(away)
    md.write_text("not a Maildir\n")
    with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=60) as s:
        for i in range(BURST):
            s.sendmail(sender, [rcpt], make_message(sender, rcpt, f"burst {i}", [f"message {i}"]))
    assert srv.mail_files(rcpt) == []
    srv.stop()
    md.unlink()
    away.rename(md)

    srv.start()  # every one of the BURST messages is due now
    im = imaplib.IMAP4_SSL("127.0.0.1", srv.imaps, ssl_context=client_tls_context(verify=False), timeout=60)
    try:
        im.login(rcpt, pw)
        stored_at_login = len(srv.mail_files(rcpt))
    finally:
        im.logout()
    assert stored_at_login < BURST // 2, (
        f"the login was answered only after {stored_at_login} of {BURST} local deliveries")
    # and every message still arrives
    wait_until(lambda: len(srv.mail_files(rcpt)) == BURST, 180, interval=0.2,
               what=f"{BURST} messages in {rcpt}'s Maildir")
