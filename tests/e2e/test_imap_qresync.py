"""QRESYNC (RFC 7162 section 3.2), byte by byte on raw sockets: ENABLE
QRESYNC (implying CONDSTORE), SELECT / EXAMINE with the QRESYNC parameter
(VANISHED (EARLIER) and FETCH of what changed, known UIDs, sequence match
data), UID FETCH (CHANGEDSINCE n VANISHED), VANISHED instead of EXPUNGE, the
HIGHESTMODSEQ of EXPUNGE's tagged OK, the CLOSED response code, the
superset answered once the list of expunges no longer reaches back far
enough (after `yubin mailbox reindex`), and the bad inputs."""

import re

import pytest

from test_imap_rfc import Raw, capability_set

SERVER_LIMITS = {"errors": 1000}


@pytest.fixture(scope="module")
def srv(server):
    return server


def session(srv, user, pw, enable=True):
    c = Raw(srv)
    c.login(user, pw)
    if enable:
        assert c.ok(b"e1 ENABLE QRESYNC") == [b"* ENABLED QRESYNC\r\n"]
    return c


def fill(c, n):
    for i in range(n):
        msg = b"Subject: m%d\r\n\r\nbody %d\r\n" % (i + 1, i + 1)
        c.send(b"ap APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
        _, tagged = c.until_tagged(b"ap")
        assert tagged.startswith(b"ap OK "), tagged


def select_state(untagged):
    text = b"".join(untagged)
    uv = int(re.search(rb"\[UIDVALIDITY (\d+)\]", text).group(1))
    hm = int(re.search(rb"\[HIGHESTMODSEQ (\d+)\]", text).group(1))
    return uv, hm


def vanished_and_fetches(untagged):
    van = [r for r in untagged if r.startswith(b"* VANISHED")]
    fetches = [r for r in untagged if b" FETCH " in r]
    return van, fetches


@pytest.fixture
def mailbox(srv):
    """A user with messages UID 1..10; a session that deleted 5 and 7 after
    the returned state (uidvalidity, modseq) and set \\Seen on 3."""
    user, pw = srv.add_user()
    a = session(srv, user, pw)
    fill(a, 10)
    uv, m0 = select_state(a.ok(b"s1 SELECT INBOX"))
    a.ok(b"s2 STORE 3 +FLAGS.SILENT (\\Seen)")
    a.ok(b"s3 UID STORE 5,7 +FLAGS.SILENT (\\Deleted)")
    untagged, tagged = a.cmd(b"s4 EXPUNGE")
    assert untagged == [b"* VANISHED 5,7\r\n"], untagged
    m = re.match(rb"s4 OK \[HIGHESTMODSEQ (\d+)\] ", tagged)
    assert m and int(m.group(1)) > m0, tagged
    yield srv, user, pw, a, uv, m0
    a.close()


def test_capability_and_enable(srv):
    user, pw = srv.add_user()
    c = Raw(srv)
    c.login(user, pw)
    assert b"QRESYNC" in capability_set(c, b"c1")
    assert c.ok(b"e1 ENABLE QRESYNC") == [b"* ENABLED QRESYNC\r\n"]
    # CONDSTORE came with it: not newly enabled
    assert c.ok(b"e2 ENABLE CONDSTORE QRESYNC") == [b"* ENABLED\r\n"]
    c2 = Raw(srv)
    c2.login(user, pw)
    assert c2.ok(b"e3 ENABLE CONDSTORE QRESYNC") == [b"* ENABLED CONDSTORE QRESYNC\r\n"]
    c.close()
    c2.close()


def test_select_qresync_reports_vanished_and_changed(mailbox):
    srv, user, pw, a, uv, m0 = mailbox
    b = session(srv, user, pw)
    untagged = b.ok(b"q1 SELECT INBOX (QRESYNC (%d %d))" % (uv, m0))
    van, fetches = vanished_and_fetches(untagged)
    assert van == [b"* VANISHED (EARLIER) 5,7\r\n"], untagged
    assert len(fetches) == 1, untagged
    assert re.fullmatch(rb"\* 3 FETCH \(UID 3 FLAGS \(\\Seen\) MODSEQ \((\d+)\)\)\r\n", fetches[0]), fetches
    # VANISHED (EARLIER) comes before the FETCH, both before the tagged OK
    assert untagged.index(van[0]) < untagged.index(fetches[0])
    assert b"* 8 EXISTS\r\n" in untagged
    b.close()


def test_select_qresync_known_uids_limit_the_answer(mailbox):
    srv, user, pw, a, uv, m0 = mailbox
    b = session(srv, user, pw)
    untagged = b.ok(b"q1 EXAMINE INBOX (QRESYNC (%d %d 1:4,7))" % (uv, m0))
    van, fetches = vanished_and_fetches(untagged)
    assert van == [b"* VANISHED (EARLIER) 7\r\n"], untagged
    assert [f.split(b" (")[0] for f in fetches] == [b"* 3 FETCH"], fetches
    untagged = b.ok(b"q2 EXAMINE INBOX (QRESYNC (%d %d 8:10))" % (uv, m0))
    assert vanished_and_fetches(untagged) == ([], []), untagged
    b.close()


def test_select_qresync_other_uidvalidity_is_plain(mailbox):
    srv, user, pw, a, uv, m0 = mailbox
    b = session(srv, user, pw)
    untagged = b.ok(b"q1 SELECT INBOX (QRESYNC (%d %d))" % (uv + 1, m0))
    assert vanished_and_fetches(untagged) == ([], []), untagged
    # up to date: nothing to tell
    _, hm = select_state(untagged)
    untagged = b.ok(b"q2 SELECT INBOX (QRESYNC (%d %d))" % (uv, hm))
    assert vanished_and_fetches(untagged) == ([], []), untagged
    b.close()


def test_closed_response_code(mailbox):
    srv, user, pw, a, uv, m0 = mailbox
    untagged = a.ok(b"x1 EXAMINE INBOX")
    assert untagged[0] == b"* OK [CLOSED] Previous mailbox closed\r\n", untagged


def test_uid_fetch_changedsince_vanished(mailbox):
    srv, user, pw, a, uv, m0 = mailbox
    untagged = a.ok(b"f1 UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % m0)
    van, fetches = vanished_and_fetches(untagged)
    assert van == [b"* VANISHED (EARLIER) 5,7\r\n"], untagged
    assert len(fetches) == 1 and fetches[0].startswith(b"* 3 FETCH (UID 3 "), fetches
    untagged = a.ok(b"f2 UID FETCH 6:10 (FLAGS) (CHANGEDSINCE %d VANISHED)" % m0)
    assert vanished_and_fetches(untagged) == ([b"* VANISHED (EARLIER) 7\r\n"], []), untagged
    untagged = a.ok(b"f3 UID FETCH 1:4 (FLAGS) (CHANGEDSINCE %d VANISHED)" % m0)
    van, fetches = vanished_and_fetches(untagged)
    assert van == [] and len(fetches) == 1, untagged


def test_vanished_to_other_sessions(mailbox):
    """A second QRESYNC session hears of another's expunge as VANISHED; a
    session without QRESYNC as EXPUNGE."""
    srv, user, pw, a, uv, m0 = mailbox
    b = session(srv, user, pw)
    b.ok(b"b1 SELECT INBOX")
    c = session(srv, user, pw, enable=False)
    c.ok(b"c1 SELECT INBOX")
    a.ok(b"a1 UID STORE 1,2 +FLAGS.SILENT (\\Deleted)")
    untagged, _ = a.cmd(b"a2 EXPUNGE")
    assert untagged == [b"* VANISHED 1:2\r\n"], untagged
    untagged = b.ok(b"b2 NOOP")
    assert b"* VANISHED 1:2\r\n" in untagged, untagged
    assert not any(b"EXPUNGE" in r for r in untagged), untagged
    untagged = c.ok(b"c2 NOOP")
    assert untagged[:2] == [b"* 2 EXPUNGE\r\n", b"* 1 EXPUNGE\r\n"], untagged
    b.close()
    c.close()


def test_superset_after_reindex_and_seq_match_data(mailbox):
    """After a reindex the server no longer knows when messages went: it
    answers with every UID it has not (the superset RFC 7162 allows), and
    the sequence match data narrows that to what the client cannot know."""
    srv, user, pw, a, uv, m0 = mailbox
    a.ok(b"r1 UID STORE 2 +FLAGS.SILENT (\\Deleted)")
    a.ok(b"r2 UID EXPUNGE 2")
    _, m1 = select_state(a.ok(b"r3 SELECT INBOX"))
    b = session(srv, user, pw)
    untagged = b.ok(b"q1 EXAMINE INBOX (QRESYNC (%d %d))" % (uv, m1))
    assert vanished_and_fetches(untagged)[0] == [], untagged   # exact: nothing went since
    a.ok(b"r4 UNSELECT")
    b.ok(b"q2 UNSELECT")
    p = srv.cli("mailbox", "reindex", user)
    assert p.returncode == 0, p.stderr
    untagged = b.ok(b"q3 EXAMINE INBOX (QRESYNC (%d %d))" % (uv, m1))
    van, _ = vanished_and_fetches(untagged)
    assert van == [b"* VANISHED (EARLIER) 2,5,7\r\n"], untagged
    # the client knew 1,3,4,6,8 as 1..5: numbers 1 and 2 still match
    untagged = b.ok(b"q4 EXAMINE INBOX (QRESYNC (%d %d 1:10 (1:2 1,3)))" % (uv, m1))
    van, _ = vanished_and_fetches(untagged)
    assert van == [b"* VANISHED (EARLIER) 5,7\r\n"], untagged
    # a mismatch at the first pair: no narrowing
    untagged = b.ok(b"q5 EXAMINE INBOX (QRESYNC (%d %d 1:10 (1:2 2,3)))" % (uv, m1))
    assert vanished_and_fetches(untagged)[0] == [b"* VANISHED (EARLIER) 2,5,7\r\n"], untagged
    b.close()


def test_modseqs_and_expunges_survive_restart(mailbox):
    srv, user, pw, a, uv, m0 = mailbox
    a.close()
    srv.stop()
    srv.start()
    b = session(srv, user, pw)
    untagged = b.ok(b"q1 SELECT INBOX (QRESYNC (%d %d))" % (uv, m0))
    assert vanished_and_fetches(untagged)[0] == [b"* VANISHED (EARLIER) 5,7\r\n"], untagged
    b.close()


@pytest.mark.parametrize("params", [
    b"(QRESYNC (0 5))",            # uidvalidity from 1
    b"(QRESYNC (1 0))",            # mod-sequence from 1
    b"(QRESYNC (1))",
    b"(QRESYNC (1 2 1:5 (1:2 1:2) x))",
    b"(QRESYNC (1 2 1:5 (1:3 1:2)))",   # the match sets differ in size
    b"(QRESYNC (1 2 1:5 (1:* 1:2)))",
    b"(QRESYNC (1 2 $))",
    b"(QRESYNC (1 2) QRESYNC (1 2))",
    b"(QRESYNC)",
    b"(QRESYNC 1 2)",
    b"(QRESYNC (x 2))",
    b"(QRESYNC (1 2 1:5 (1 1) (2 2)))",
    b"()",
])
def test_bad_qresync_parameters(srv, params):
    user, pw = srv.add_user()
    c = session(srv, user, pw)
    _, tagged = c.cmd(b"b1 SELECT INBOX " + params)
    assert tagged.startswith(b"b1 BAD "), (params, tagged)
    c.ok(b"b2 NOOP")
    c.close()


def test_qresync_needs_enable(srv):
    user, pw = srv.add_user()
    c = session(srv, user, pw, enable=False)
    _, tagged = c.cmd(b"b1 SELECT INBOX (QRESYNC (1 2))")
    assert tagged.startswith(b"b1 BAD "), tagged
    c.ok(b"b2 SELECT INBOX (CONDSTORE)")
    _, tagged = c.cmd(b"b3 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")
    assert tagged.startswith(b"b3 BAD "), tagged
    c.close()
    c = session(srv, user, pw)
    c.ok(b"b5 SELECT INBOX")
    _, tagged = c.cmd(b"b6 FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")
    assert tagged.startswith(b"b6 BAD "), tagged     # only UID FETCH
    _, tagged = c.cmd(b"b7 UID FETCH 1:* (FLAGS) (VANISHED)")
    assert tagged.startswith(b"b7 BAD "), tagged     # needs CHANGEDSINCE
    c.close()


def test_fetch_and_store_carry_uid(mailbox):
    """After ENABLE QRESYNC every FETCH response names its UID, also for
    FETCH and STORE by sequence number (RFC 7162 3.2.4)."""
    srv, user, pw, a, uv, m0 = mailbox
    untagged = a.ok(b"u1 FETCH 3 (FLAGS)")
    assert re.fullmatch(rb"\* 3 FETCH \(UID 3 FLAGS \((\\Recent )?\\Seen\) MODSEQ \(\d+\)\)\r\n", untagged[0]), untagged
    untagged = a.ok(b"u2 STORE 1 +FLAGS (\\Flagged)")
    assert re.fullmatch(rb"\* 1 FETCH \(UID 1 FLAGS \((\\Recent )?\\Flagged\) MODSEQ \(\d+\)\)\r\n", untagged[0]), untagged
