"""CONTEXT=SEARCH (RFC 5267 4): SEARCH RETURN (PARTIAL n:m), RETURN
(UPDATE) kept up to date with unsolicited ESEARCH ADDTO / REMOVEFROM as
flags change, messages arrive and go (in UIDs for UID SEARCH, in message
numbers otherwise), CANCELUPDATE, the NOUPDATE limit, and the bad inputs.
Exact bytes on an imaplib session's socket."""

import time

import pytest

from conftest import deliver_local, imap_login, imap_raw

SERVER_LIMITS = {"errors": 1000}


def ok(m, line):
    lines, tagged = imap_raw(m, line)
    assert tagged.startswith(b"OK"), (line, tagged)
    return lines


def esearch_after_noop(m, want_count=1, timeout=5.0):
    """NOOP until the unsolicited ESEARCH updates arrive (they follow the
    look at the folder); every untagged line seen, in order."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen += ok(m, "NOOP")
        if sum(1 for ln in seen if ln.startswith(b"* ESEARCH")) >= want_count:
            return seen
        time.sleep(0.05)
    return seen


@pytest.fixture
def pair(server):
    user, pw = server.add_user()
    for k in range(4):
        deliver_local(server, user, f"ctx {k}")
    a = imap_login(server, user, pw)
    b = imap_login(server, user, pw)
    assert a.select("INBOX")[0] == "OK" and b.select("INBOX")[0] == "OK"
    typ, data = a.uid("SEARCH", None, "ALL")
    uids = [int(x) for x in data[0].split()]
    yield server, user, a, b, uids
    a.logout()
    b.logout()


def test_capability(pair):
    _, _, a, _, _ = pair
    assert b"CONTEXT=SEARCH" in a.capability()[1][0].split()


def test_partial(pair):
    _, _, a, _, uids = pair
    lines = ok(a, "SEARCH RETURN (PARTIAL 2:3) ALL")
    assert lines[0].endswith(b") PARTIAL (2:3 2:3)\r\n"), lines
    lines = ok(a, "UID SEARCH RETURN (COUNT PARTIAL 3:1) ALL")
    assert lines[0].endswith(b" UID COUNT 4 PARTIAL (1:3 %d:%d)\r\n" % (uids[0], uids[2])), lines
    lines = ok(a, "SEARCH RETURN (PARTIAL 5:9) ALL")
    assert lines[0].endswith(b") PARTIAL (5:9 NIL)\r\n"), lines
    for bad in ("SEARCH RETURN (PARTIAL) ALL", "SEARCH RETURN (PARTIAL 0:3) ALL",
                "SEARCH RETURN (PARTIAL 1:x) ALL", "SEARCH RETURN (PARTIAL 1:2 ALL) ALL",
                "SEARCH RETURN (UPDATE UPDATE) ALL", "SORT RETURN (PARTIAL 1:2) (DATE) UTF-8 ALL",
                "SORT RETURN (UPDATE) (DATE) UTF-8 ALL"):
        lines, tagged = imap_raw(a, bad)
        assert tagged.startswith(b"BAD "), (bad, tagged)


def test_update_uid(pair):
    srv, user, a, b, uids = pair
    a.send(b"U1 UID SEARCH RETURN (UPDATE) UNSEEN\r\n")
    assert a.readline() == b'* ESEARCH (TAG "U1") UID ALL %d:%d\r\n' % (uids[0], uids[3])
    assert a.readline() == b"U1 OK UID SEARCH completed\r\n"
    # another session marks one seen: it leaves the result
    assert b.uid("STORE", str(uids[1]), "+FLAGS", "(\\Seen)")[0] == "OK"
    seen = esearch_after_noop(a)
    assert b'* ESEARCH (TAG "U1") UID REMOVEFROM (0 %d)\r\n' % uids[1] in seen, seen
    # a new message arrives unseen: it joins
    deliver_local(srv, user, "ctx new")
    seen = esearch_after_noop(a)
    new = max(int(x) for x in a.uid("SEARCH", None, "ALL")[1][0].split())
    assert b"* 5 EXISTS\r\n" in seen
    assert b'* ESEARCH (TAG "U1") UID ADDTO (0 %d)\r\n' % new in seen, seen
    # one goes: expunged
    assert b.uid("STORE", str(uids[0]), "+FLAGS", "(\\Deleted)")[0] == "OK"
    assert b.expunge()[0] == "OK"
    seen = esearch_after_noop(a)
    assert b'* ESEARCH (TAG "U1") UID REMOVEFROM (0 %d)\r\n' % uids[0] in seen, seen
    # cancelled: nothing more is told
    assert imap_raw(a, 'CANCELUPDATE "U1"')[1] == b"OK CANCELUPDATE completed\r\n"
    assert b.uid("STORE", str(uids[2]), "+FLAGS", "(\\Seen)")[0] == "OK"
    seen = ok(a, "NOOP") + ok(a, "NOOP")
    time.sleep(0.3)
    seen += ok(a, "NOOP")
    assert not [ln for ln in seen if ln.startswith(b"* ESEARCH")], seen


def test_update_sequence_numbers(pair):
    srv, user, a, b, uids = pair
    a.send(b"S1 SEARCH RETURN (UPDATE COUNT) FLAGGED\r\n")
    assert a.readline() == b'* ESEARCH (TAG "S1") COUNT 0\r\n'
    assert a.readline() == b"S1 OK SEARCH completed\r\n"
    assert b.uid("STORE", "%d,%d" % (uids[1], uids[2]), "+FLAGS", "(\\Flagged)")[0] == "OK"
    seen = esearch_after_noop(a)
    assert b'* ESEARCH (TAG "S1") ADDTO (0 2:3)\r\n' in seen, seen
    assert b.uid("STORE", str(uids[2]), "-FLAGS", "(\\Flagged)")[0] == "OK"
    seen = esearch_after_noop(a)
    assert b'* ESEARCH (TAG "S1") REMOVEFROM (0 3)\r\n' in seen, seen
    # leaving the folder ends it
    assert a.select("INBOX")[0] == "OK"
    lines, tagged = imap_raw(a, 'CANCELUPDATE "S1"')
    assert tagged.startswith(b"BAD ")


def test_cancel_and_limits(pair):
    _, _, a, _, _ = pair
    for bad in ("CANCELUPDATE", 'CANCELUPDATE "nosuch"', "CANCELUPDATE NIL"):
        lines, tagged = imap_raw(a, bad)
        assert tagged.startswith(b"BAD "), (bad, tagged)
    for k in range(8):
        a.send(b"L%d SEARCH RETURN (UPDATE) ALL\r\n" % k)
        assert a.readline().startswith(b'* ESEARCH (TAG "L%d")' % k)
        assert a.readline().startswith(b"L%d OK" % k)
    a.send(b"L8 SEARCH RETURN (UPDATE MIN) ALL\r\n")
    assert a.readline() == b'* ESEARCH (TAG "L8") MIN 1\r\n'
    assert a.readline().startswith(b'* NO [NOUPDATE "L8"]')
    assert a.readline() == b"L8 OK SEARCH completed\r\n"
    assert imap_raw(a, 'CANCELUPDATE "L0" "L7"')[1] == b"OK CANCELUPDATE completed\r\n"
    lines, tagged = imap_raw(a, 'CANCELUPDATE "L1" "L0"')     # L0 is gone: nothing cancelled
    assert tagged.startswith(b"BAD ")
    assert imap_raw(a, 'CANCELUPDATE "L1"')[1] == b"OK CANCELUPDATE completed\r\n"
