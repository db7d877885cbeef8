"""NOTIFY (RFC 5465), byte by byte on raw sockets: changes pushed without a
command — EXISTS / FETCH / EXPUNGE for the selected mailbox (with MessageNew
fetch attributes), STATUS for other mailboxes the filters take (personal,
inboxes, subtree, mailboxes, subscribed), LIST for MailboxName and
SubscriptionChange from another session — NOTIFY SET STATUS, NOTIFY NONE,
and the bad forms (BAD, NO [BADEVENT])."""

import re
import time

import pytest

from test_imap_rfc import Raw, capability_set

SERVER_LIMITS = {"errors": 1000}


@pytest.fixture(scope="module")
def srv(server):
    return server


def session(srv, user, pw):
    c = Raw(srv)
    c.login(user, pw)
    return c


def lit(data):
    return b"{%d+}\r\n" % len(data) + data


def append(c, box=b"INBOX", subject=b"x"):
    msg = b"Subject: " + subject + b"\r\n\r\nbody\r\n"
    c.send(b"ap APPEND " + box + b" " + lit(msg) + b"\r\n")
    _, tagged = c.until_tagged(b"ap")
    assert tagged.startswith(b"ap OK "), tagged


def pushed(c, want, timeout=5.0):
    """Responses that arrive without a command, until one matches want."""
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            r = c.response(timeout=max(0.1, deadline - time.monotonic()))
        except Exception:
            break
        got.append(r)
        if re.search(want, r):
            return got
    raise AssertionError(f"no {want!r} pushed; got {got}")


@pytest.fixture
def pair(srv):
    user, pw = srv.add_user()
    a = session(srv, user, pw)
    b = session(srv, user, pw)
    yield srv, user, pw, a, b
    a.close()
    b.close()


def test_capability(srv):
    user, pw = srv.add_user()
    c = session(srv, user, pw)
    assert b"NOTIFY" in capability_set(c, b"c1")
    c.close()


def test_status_for_other_mailboxes(pair):
    """RFC 5465 example shape: personal mailboxes get STATUS when a message
    arrives in one that is not selected."""
    srv, user, pw, a, b = pair
    a.ok(b"s SELECT INBOX")
    a.ok(b"n1 NOTIFY SET (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange)) "
         b"(personal (MessageNew MessageExpunge MailboxName))")
    append(b, b"Sent")
    got = pushed(a, rb'^\* STATUS "?Sent"? \(')
    m = re.search(rb"MESSAGES (\d+) UIDNEXT (\d+) UIDVALIDITY \d+ UNSEEN (\d+)", got[-1])
    assert m and m.group(1) == b"1" and m.group(2) == b"2", got
    # the selected mailbox: EXISTS and the FETCH of the new message, unasked
    append(b, b"INBOX")
    got = pushed(a, rb"^\* 1 FETCH \(UID 1 FLAGS \((\\Recent)?\)\)\r\n")
    assert b"* 1 EXISTS\r\n" in got, got
    assert not any(b"STATUS" in r and b"INBOX" in r for r in got), got
    # flags changed by the other session
    b.ok(b"s2 SELECT INBOX")
    b.ok(b"s3 STORE 1 +FLAGS.SILENT (\\Flagged)")
    got = pushed(a, rb"^\* 1 FETCH \(.*FLAGS \((\\Recent )?\\Flagged\)")
    # expunge, told at once (selected, not selected-delayed)
    b.ok(b"s4 STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.ok(b"s5 EXPUNGE")
    pushed(a, rb"^\* 1 EXPUNGE\r\n")


def test_selected_delayed_holds_expunges(pair):
    srv, user, pw, a, b = pair
    append(b)
    a.ok(b"s SELECT INBOX")
    a.ok(b"n1 NOTIFY SET (selected-delayed (MessageNew MessageExpunge))")
    b.ok(b"s2 SELECT INBOX")
    b.ok(b"s3 STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.ok(b"s4 EXPUNGE")
    append(b)
    got = pushed(a, rb"^\* \d+ EXISTS\r\n")
    assert not any(b"EXPUNGE" in r for r in got), got
    untagged = a.ok(b"n2 NOOP")
    assert b"* 1 EXPUNGE\r\n" in untagged, untagged


def test_notify_set_status_and_none(pair):
    srv, user, pw, a, b = pair
    append(b, b"Drafts")
    untagged = a.ok(b"n1 NOTIFY SET STATUS (mailboxes (Drafts Trash) (MessageNew MessageExpunge))")
    names = sorted(re.search(rb'STATUS "?([A-Za-z]+)"? ', r).group(1) for r in untagged)
    assert names == [b"Drafts", b"Trash"], untagged
    assert any(b"Drafts" in r and b"MESSAGES 1 " in r for r in untagged), untagged
    a.ok(b"n2 NOTIFY NONE")
    append(b, b"Drafts")
    assert a.nothing_arrives(0.7)


def test_filters_inboxes_subtree_subscribed(pair):
    srv, user, pw, a, b = pair
    b.ok(b"c1 CREATE Work")
    b.ok(b"c2 CREATE Work.Sub")
    a.ok(b"n1 NOTIFY SET (subtree Work (MessageNew MessageExpunge)) (inboxes (MessageNew MessageExpunge))")
    append(b, b"Work.Sub")
    pushed(a, rb'^\* STATUS "?Work\.Sub"? \(MESSAGES 1 ')
    append(b, b"INBOX")
    pushed(a, rb'^\* STATUS "?INBOX"? \(MESSAGES 1 ')
    append(b, b"Sent")                         # taken by no filter
    assert a.nothing_arrives(0.7)
    b.ok(b"u1 UNSUBSCRIBE Junk")
    a.ok(b"n2 NOTIFY SET (subscribed (MessageNew MessageExpunge))")
    append(b, b"Junk")
    append(b, b"Archive")
    got = pushed(a, rb'^\* STATUS "?Archive"? ')
    assert not any(b"Junk" in r for r in got), got


def test_mailbox_name_and_subscription_change(pair):
    srv, user, pw, a, b = pair
    a.ok(b"n1 NOTIFY SET (personal (MailboxName SubscriptionChange))")
    b.ok(b"c1 CREATE Projects")
    pushed(a, rb'^\* LIST \(\) "\." "?Projects"?\r\n$')
    b.ok(b"c2 RENAME Projects Old")
    pushed(a, rb'^\* LIST \(\) "\." "?Old"? \("OLDNAME" \("?Projects"?\)\)\r\n$')
    b.ok(b"c3 SUBSCRIBE Old")
    pushed(a, rb'^\* LIST \(\\Subscribed\) "\." "?Old"?\r\n$')
    b.ok(b"c4 UNSUBSCRIBE Old")
    pushed(a, rb'^\* LIST \(\) "\." "?Old"?\r\n$')
    b.ok(b"c5 DELETE Old")
    pushed(a, rb'^\* LIST \(\\NonExistent\) "\." "?Old"?\r\n$')
    # the session that made the change is not told
    assert b.nothing_arrives(0.3)


@pytest.mark.parametrize("args,status", [
    (b"", b"BAD"),
    (b"FOO", b"BAD"),
    (b"SET", b"BAD"),
    (b"SET STATUS", b"BAD"),
    (b"NONE x", b"BAD"),
    (b"SET (personal (MessageNew))", b"BAD"),                     # without MessageExpunge
    (b"SET (personal (MessageExpunge))", b"BAD"),
    (b"SET (personal (FlagChange))", b"BAD"),                     # FlagChange alone
    (b"SET (personal (MessageNew (FLAGS) MessageExpunge))", b"BAD"),  # fetch atts: selected only
    (b"SET (selected (MessageNew (BODY[]) MessageExpunge))", b"BAD"),
    (b"SET (selected (MessageNew ()) MessageExpunge))", b"BAD"),
    (b"SET (selected NONE) (selected-delayed NONE)", b"BAD"),
    (b"SET (everything (MessageNew MessageExpunge))", b"BAD"),
    (b"SET (subtree (MessageNew MessageExpunge))", b"BAD"),
    (b"SET (mailboxes () (MessageNew MessageExpunge))", b"BAD"),
    (b"SET (personal (Bogus))", b"BAD"),
    (b"SET (personal ())", b"BAD"),
    (b"SET (personal)", b"BAD"),
    (b"SET personal", b"BAD"),
    (b"SET (personal (MessageNew MessageExpunge AnnotationChange))", b"NO [BADEVENT (MessageNew "
     b"MessageExpunge FlagChange MailboxName SubscriptionChange)]"),
    (b"SET (personal (MailboxMetadataChange))", b"NO [BADEVENT "),
    (b"SET (personal (ServerMetadataChange))", b"NO [BADEVENT "),
])
def test_bad_forms(srv, args, status):
    user, pw = srv.add_user()
    c = session(srv, user, pw)
    _, tagged = c.cmd(b"n1 NOTIFY " + args if args else b"n1 NOTIFY")
    assert tagged.startswith(b"n1 " + status), (args, tagged)
    assert b"Unknown or unsupported command" not in tagged, tagged
    c.ok(b"n2 NOOP")
    c.close()


def test_needs_login(srv):
    c = Raw(srv)
    _, tagged = c.cmd(b"n1 NOTIFY NONE")
    assert tagged.startswith(b"n1 BAD "), tagged
    c.close()


def test_idle_then_notify_again(pair):
    """IDLE takes over the pushing while it runs; after DONE, NOTIFY goes on."""
    srv, user, pw, a, b = pair
    a.ok(b"s SELECT INBOX")
    a.ok(b"n1 NOTIFY SET (selected (MessageNew MessageExpunge))")
    a.send(b"i1 IDLE\r\n")
    assert a.response().startswith(b"+ ")
    append(b)
    pushed(a, rb"^\* 1 EXISTS\r\n")
    a.send(b"DONE\r\n")
    _, tagged = a.until_tagged(b"i1")
    assert tagged.startswith(b"i1 OK"), tagged
    append(b)
    pushed(a, rb"^\* 2 EXISTS\r\n")


def test_set_status_pipelined_with_logout(pair):
    """The STATUS replies, the tagged OK, then the pipelined commands in
    order; the session may end right after (counts finishing at once)."""
    srv, user, pw, a, b = pair
    for box in (b"INBOX", b"Sent"):   # views open already: counted at once
        b.ok(b"st STATUS " + box + b" (MESSAGES)")
    a.send(b"n1 NOTIFY SET STATUS (personal (MessageNew MessageExpunge))\r\nn2 NOTIFY NONE\r\n"
           b"n3 NOTIFY SET STATUS (inboxes (MessageNew MessageExpunge))\r\nn4 LOGOUT\r\n")
    untagged, tagged = a.until_tagged(b"n1")
    assert tagged.startswith(b"n1 OK"), tagged
    assert len([r for r in untagged if r.startswith(b"* STATUS ")]) >= 6, untagged
    _, tagged = a.until_tagged(b"n2")
    assert tagged.startswith(b"n2 OK"), tagged
    untagged, tagged = a.until_tagged(b"n3")
    assert tagged.startswith(b"n3 OK") and len(untagged) == 1 and b"INBOX" in untagged[0], untagged
    untagged, tagged = a.until_tagged(b"n4")
    assert untagged[0].startswith(b"* BYE") and tagged.startswith(b"n4 OK"), (untagged, tagged)
    assert a.closed()
