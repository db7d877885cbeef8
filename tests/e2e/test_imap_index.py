"""IMAP on the shared folder view and the account index: keywords kept as
Maildir letters, CONDSTORE (RFC 7162: HIGHESTMODSEQ, MODSEQ, CHANGEDSINCE,
UNCHANGEDSINCE with MODIFIED, SEARCH MODSEQ, STATUS HIGHESTMODSEQ),
mod-sequences that survive a restart and a rebuilt index, `yubin mailbox
reindex` keeping UIDs, changes made by a Maildir tool behind the server's
back, and a message expunged by one session while another still numbers
it (EXPUNGEISSUED).  Driven by imaplib and raw sockets."""

import imaplib
import os
import re
import socket
import time

import pytest

from conftest import client_tls_context, deliver_local, stored_crlf, imap_login as login

HOST = "localhost"


def raw_login(srv, user, pw):
    """A raw IMAPS session; returns (send, read_response)."""
    s = client_tls_context().wrap_socket(socket.create_connection(("127.0.0.1", srv.imaps), timeout=10),
                                         server_hostname=HOST)
    f = s.makefile("rb")
    f.readline()
    n = [0]

    def cmd(line):
        n[0] += 1
        tag = b"t%d" % n[0]
        s.sendall(tag + b" " + line.encode() + b"\r\n")
        untagged = []
        while True:
            got = f.readline()
            assert got, "connection closed"
            if got.startswith(tag + b" "):
                return untagged, got.rstrip(b"\r\n")
            untagged.append(got.rstrip(b"\r\n"))

    _, ok = cmd(f"LOGIN {user} {pw}")
    assert b" OK" in ok
    return s, cmd


def modseq_of(line):
    return int(re.search(rb"MODSEQ \((\d+)\)", line).group(1))


def highest(untagged):
    for line in untagged:
        m = re.search(rb"\[HIGHESTMODSEQ (\d+)\]", line)
        if m:
            return int(m.group(1))
    raise AssertionError(f"no HIGHESTMODSEQ in {untagged}")


@pytest.fixture
def box(server):
    user, pw = server.add_user()
    return server, user, pw


def test_keywords_are_kept_and_searchable(box):
    srv, user, pw = box
    for i in range(3):
        deliver_local(srv, user, f"k{i}")
    m = login(srv, user, pw)
    typ, _ = m.select("INBOX")
    assert b"\\*" in m.untagged_responses["OK"][0] or any(b"PERMANENTFLAGS" in x and b"\\*" in x
                                                             for x in m.untagged_responses["OK"])
    typ, data = m.store("1,3", "+FLAGS", "($Forwarded $Label1)")
    assert typ == "OK", data
    assert data == [b"1 (FLAGS (\\Recent $Forwarded $Label1))", b"3 (FLAGS (\\Recent $Forwarded $Label1))"], data
    flags = m.untagged_responses["FLAGS"][-1]
    assert b"$Forwarded" in flags and b"$Label1" in flags, flags
    # keywords are compared without case and kept with the first spelling
    typ, data = m.store("2", "+FLAGS", "($forwarded)")
    assert data == [b"2 (FLAGS (\\Recent $Forwarded))"], data
    typ, data = m.search(None, "KEYWORD", "$Label1")
    assert data == [b"1 3"], data
    typ, data = m.search(None, "UNKEYWORD", "$Label1")
    assert data == [b"2"], data
    typ, data = m.search(None, "KEYWORD", "$NeverUsed")
    assert data == [b""], data
    typ, data = m.store("1", "FLAGS", "(\\Seen $Label1)")
    assert data == [b"1 (FLAGS (\\Recent \\Seen $Label1))"], data
    m.logout()
    # in the file names as Maildir letters, the names in yubin-keywords
    md = srv.maildir(user)
    kwfile = (md / "yubin-keywords").read_text()
    assert "$Forwarded" in kwfile and "$Label1" in kwfile, kwfile
    names = sorted(p.name.split(":2,")[1] for p in (md / "cur").iterdir())
    assert names == ["Sb", "a", "ab"], names
    # a new session (and a restart) sees them
    srv.restart()
    m = login(srv, user, pw)
    m.select("INBOX")
    typ, data = m.fetch("1:3", "(FLAGS)")
    assert data == [b"1 (FLAGS (\\Seen $Label1))", b"2 (FLAGS ($Forwarded))",
                    b"3 (FLAGS ($Forwarded $Label1))"], data
    m.logout()


def test_keyword_limit_and_bad_keywords(box):
    srv, user, pw = box
    deliver_local(srv, user, "limit")
    m = login(srv, user, pw)
    m.select("INBOX")
    for i in range(26):
        typ, data = m.store("1", "+FLAGS.SILENT", f"(kw{i})")
        assert typ == "OK", (i, data)
    typ, data = m.store("1", "+FLAGS", "(onetoomany)")
    assert typ == "NO" and b"[LIMIT]" in data[0], data
    # removing a keyword the folder never had changes nothing and is fine
    typ, data = m.store("1", "-FLAGS", "(unknownkw)")
    assert typ == "OK", data
    with pytest.raises(imaplib.IMAP4.error):
        m.store("1", "+FLAGS", "(\\Bogus)")       # not a system flag
    with pytest.raises(imaplib.IMAP4.error):
        m.store("1", "+FLAGS", "(\\Recent)")      # cannot be set
    m.logout()


def test_condstore_modseq_changedsince_unchangedsince(box):
    srv, user, pw = box
    for i in range(3):
        deliver_local(srv, user, f"c{i}")
    s, cmd = raw_login(srv, user, pw)
    caps, _ = cmd("CAPABILITY")
    assert b"CONDSTORE" in caps[0], caps
    untagged, ok = cmd("SELECT INBOX (CONDSTORE)")
    assert b"OK [READ-WRITE]" in ok, ok
    h0 = highest(untagged)
    untagged, ok = cmd("FETCH 1:* (MODSEQ)")
    seqs = [modseq_of(x) for x in untagged]
    assert len(seqs) == 3 and max(seqs) <= h0 and min(seqs) > 0, (seqs, h0)
    # a change gives a higher mod-sequence, told in the STORE reply
    untagged, ok = cmd("STORE 2 +FLAGS (\\Flagged)")
    assert ok.endswith(b"OK STORE completed"), ok
    m2 = modseq_of(untagged[0])
    assert m2 > h0 and b"FLAGS (\\Recent \\Flagged)" in untagged[0], untagged
    # CHANGEDSINCE: only what changed after h0
    untagged, ok = cmd(f"FETCH 1:* (FLAGS) (CHANGEDSINCE {h0})")
    assert len(untagged) == 1 and untagged[0].startswith(b"* 2 FETCH"), untagged
    assert f"MODSEQ ({m2})".encode() in untagged[0], untagged
    # UNCHANGEDSINCE: 2 changed after h0, so it is refused and named
    untagged, ok = cmd(f"STORE 1:3 (UNCHANGEDSINCE {h0}) +FLAGS (\\Seen)")
    assert re.search(rb"OK \[MODIFIED 2\]", ok), ok
    assert sorted(x.split()[1] for x in untagged) == [b"1", b"3"], untagged
    untagged, ok = cmd("FETCH 2 (FLAGS)")
    assert b"\\Seen" not in untagged[0], untagged
    # UID STORE names UIDs in MODIFIED; .SILENT still gives the MODSEQ
    untagged, ok = cmd("UID FETCH 2 (UID)")
    uid2 = int(re.search(rb"UID (\d+)", untagged[0]).group(1))
    untagged, ok = cmd(f"UID STORE {uid2} (UNCHANGEDSINCE 1) +FLAGS.SILENT (\\Seen)")
    assert f"[MODIFIED {uid2}]".encode() in ok, ok
    untagged, ok = cmd(f"UID STORE {uid2} (UNCHANGEDSINCE {m2}) +FLAGS.SILENT (\\Answered)")
    assert ok.endswith(b"OK UID STORE completed") and len(untagged) == 1, (untagged, ok)
    assert b"FLAGS" not in untagged[0] and b"MODSEQ" in untagged[0], untagged
    m3 = modseq_of(untagged[0])
    # SEARCH MODSEQ, with the highest mod-sequence of the hits
    untagged, ok = cmd(f"SEARCH MODSEQ {m3}")
    assert untagged == [f"* SEARCH 2 (MODSEQ {m3})".encode()], untagged
    untagged, ok = cmd(f"SEARCH MODSEQ {m3 + 1}")
    assert untagged == [b"* SEARCH"], untagged
    # STATUS HIGHESTMODSEQ of the selected folder
    untagged, ok = cmd("STATUS INBOX (HIGHESTMODSEQ MESSAGES)")
    assert re.search(rb"HIGHESTMODSEQ (\d+)", untagged[0]) and \
        int(re.search(rb"HIGHESTMODSEQ (\d+)", untagged[0]).group(1)) >= m3, untagged
    s.close()


def test_modseqs_survive_restart_and_rise_after_reindex(box):
    srv, user, pw = box
    for i in range(2):
        deliver_local(srv, user, f"r{i}")
    s, cmd = raw_login(srv, user, pw)
    untagged, _ = cmd("SELECT INBOX")
    before_uids, _ = cmd("UID FETCH 1:* (UID MODSEQ FLAGS)")
    h1 = highest(untagged)
    cmd("STORE 1 +FLAGS (\\Seen)")
    untagged, _ = cmd("FETCH 1:* (MODSEQ)")
    kept = [modseq_of(x) for x in untagged]
    s.close()
    srv.restart()
    s, cmd = raw_login(srv, user, pw)
    untagged, _ = cmd("SELECT INBOX")
    h2 = highest(untagged)
    assert h2 >= max(kept) > h1, (h1, h2, kept)
    untagged, _ = cmd("FETCH 1:* (MODSEQ)")
    assert [modseq_of(x) for x in untagged] == kept, untagged   # the index kept them
    s.close()
    srv.stop()
    uids_before = sorted(p.name for p in (srv.maildir(user) / "cur").iterdir())
    (srv.maildir(user) / "yubin-index.db").unlink()        # lost: rebuilt from the files
    for extra in ("yubin-index.db-wal", "yubin-index.db-shm"):
        try:
            (srv.maildir(user) / extra).unlink()
        except FileNotFoundError:
            pass
    p = srv.cli("mailbox", "reindex", user)
    assert p.returncode == 0, p.stderr
    assert re.search(r"INBOX\s+2 messages", p.stdout), p.stdout
    assert re.search(r"Sent\s+0 messages", p.stdout), p.stdout
    assert sorted(p.name for p in (srv.maildir(user) / "cur").iterdir()) == uids_before
    srv.start()
    s, cmd = raw_login(srv, user, pw)
    untagged, _ = cmd("SELECT INBOX")
    h3 = highest(untagged)
    assert h3 > h2, (h2, h3)                          # never back, even with the index lost
    after_uids, _ = cmd("UID FETCH 1:* (UID FLAGS)")
    strip = [re.sub(rb" MODSEQ \(\d+\)", b"", x) for x in before_uids]
    assert [re.search(rb"UID \d+", x).group(0) for x in after_uids] == \
        [re.search(rb"UID \d+", x).group(0) for x in strip]       # UIDs kept
    assert b"\\Seen" in after_uids[0], after_uids                # flags from the names
    s.close()


def test_reindex_bad_arguments(server):
    p = server.cli("mailbox", "reindex")
    assert p.returncode == 2 and "usage" in p.stderr
    p = server.cli("mailbox", "reindex", "not an address")
    assert p.returncode == 1 and "not a valid address" in p.stderr, p.stderr
    p = server.cli("mailbox", "reindex", "nobody@example.test")
    assert p.returncode == 1 and "no mailbox" in p.stderr, p.stderr


def test_maildir_tool_changes_are_seen(box):
    """mutt (or any Maildir tool) renames and removes files behind the
    server's back: the shared view notices and tells the session."""
    srv, user, pw = box
    for i in range(3):
        deliver_local(srv, user, f"t{i}")
    m = login(srv, user, pw)
    m.select("INBOX")
    cur = srv.maildir(user) / "cur"
    files = sorted(cur.iterdir(), key=lambda p: int(re.search(r",U=(\d+)", p.name).group(1)))
    os.rename(files[0], str(files[0]).replace(":2,", ":2,F"))   # flagged by mutt
    os.unlink(files[2])                                          # deleted by mutt
    m.untagged_responses.clear()
    typ, _ = m.noop()
    assert m.untagged_responses.pop("EXPUNGE") == [b"3"], m.untagged_responses
    assert m.untagged_responses.pop("FETCH") == [b"1 (FLAGS (\\Recent \\Flagged))"], m.untagged_responses
    typ, data = m.fetch("1:*", "(FLAGS)")
    assert data == [b"1 (FLAGS (\\Recent \\Flagged))", b"2 (FLAGS (\\Recent))"], data
    m.logout()


def test_expunged_by_another_session_is_expungeissued(box):
    srv, user, pw = box
    for i in range(3):
        deliver_local(srv, user, f"e{i}")
    a = login(srv, user, pw)
    a.select("INBOX")
    b = login(srv, user, pw)
    b.select("INBOX")
    b.store("2", "+FLAGS", "(\\Deleted)")
    b.expunge()
    # a still numbers three messages until it is told; message 2 is gone
    a.untagged_responses.clear()
    typ, data = a.fetch("1:3", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "NO" and b"EXPUNGEISSUED" in data[-1], (typ, data)
    got = a.untagged_responses.pop("FETCH")         # the two that still exist were sent
    assert [x[0][:8] for x in got if isinstance(x, tuple)] == [b"1 (UID 1", b"3 (UID 3"], got
    typ, data = a.fetch("3", "(FLAGS)")       # sequence numbers have not moved under a
    assert typ == "OK" and data == [b"3 (FLAGS (\\Recent))"], data
    assert "EXPUNGE" not in a.untagged_responses, a.untagged_responses   # not during FETCH
    typ, _ = a.noop()
    assert a.untagged_responses.get("EXPUNGE") == [b"2"], a.untagged_responses
    typ, data = a.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"e2" in data[0][1], data
    a.logout()
    b.logout()


def test_sessions_share_one_view(box):
    """Many sessions on one folder: each gets its own sequence numbers and
    is told of the others' changes; the EXISTS counts stay consistent."""
    srv, user, pw = box
    deliver_local(srv, user, "s0")
    sessions = [login(srv, user, pw) for _ in range(5)]
    for m in sessions:
        m.select("INBOX")
    deliver_local(srv, user, "s1")
    for k, m in enumerate(sessions):
        m.untagged_responses.clear()
        m.noop()
        assert m.untagged_responses.get("EXISTS") == [b"2"], (k, m.untagged_responses)
    sessions[0].store("1", "+FLAGS", "(\\Deleted)")
    sessions[0].expunge()
    deliver_local(srv, user, "s2")
    for k, m in enumerate(sessions[1:], 1):
        m.untagged_responses.clear()
        m.noop()
        assert m.untagged_responses.get("EXPUNGE") == [b"1"], (k, m.untagged_responses)
        assert m.untagged_responses.get("EXISTS") == [b"2"], (k, m.untagged_responses)
        typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        subjects = [x[1] for x in data if isinstance(x, tuple)]
        assert [b"s1" in subjects[0], b"s2" in subjects[1]] == [True, True], subjects
    for m in sessions:
        m.logout()


def test_copy_and_move_carry_keywords_and_tell_the_target(box):
    """A copy carries flags and keywords by name (the target folder gives
    the keyword its own letter); a session with the target open hears of
    the new message; COPY into the selected folder says EXISTS."""
    srv, user, pw = box
    deliver_local(srv, user, "cp0")
    deliver_local(srv, user, "cp1")
    watcher = login(srv, user, pw)
    watcher.select("Archive")
    m = login(srv, user, pw)
    m.select("INBOX")
    m.store("1", "+FLAGS", "(\\Flagged $Label3)")
    typ, data = m.copy("1", "Archive")
    assert typ == "OK" and re.match(rb"\[COPYUID \d+ 1 1\]", data[0]), data
    watcher.untagged_responses.clear()
    watcher.noop()
    assert watcher.untagged_responses.get("EXISTS") == [b"1"], watcher.untagged_responses
    typ, data = watcher.fetch("1", "(FLAGS)")
    assert data == [b"1 (FLAGS (\\Recent \\Flagged $Label3))"], data
    # the target's own letter for it: Archive never had a keyword before
    assert (srv.maildir(user) / ".Archive" / "yubin-keywords").read_text() == "0 $Label3\n"
    # COPY into the selected folder itself
    m.untagged_responses.clear()
    typ, data = m.copy("2", "INBOX")
    assert typ == "OK" and m.untagged_responses.get("EXISTS") == [b"3"], (data, m.untagged_responses)
    # MOVE: gone from here, there in the target with its flags
    m.untagged_responses.clear()
    typ, data = m._simple_command("UID", "MOVE", "1", "Archive")
    assert typ == "OK" and m.untagged_responses.get("EXPUNGE") == [b"1"], m.untagged_responses
    watcher.untagged_responses.clear()
    watcher.noop()
    assert watcher.untagged_responses.get("EXISTS") == [b"2"], watcher.untagged_responses
    typ, data = watcher.fetch("2", "(FLAGS)")
    assert data == [b"2 (FLAGS (\\Recent \\Flagged $Label3))"], data
    m.logout()
    watcher.logout()


def test_append_with_keywords_into_the_selected_folder(box):
    srv, user, pw = box
    m = login(srv, user, pw)
    m.select("INBOX")
    m.untagged_responses.clear()
    msg = b"From: a@example.test\r\nSubject: appended\r\n\r\nbody\r\n"
    typ, data = m.append("INBOX", "(\\Seen $Important)", None, msg)
    assert typ == "OK" and re.match(rb"\[APPENDUID \d+ 1\]", data[0]), data
    assert m.untagged_responses.get("EXISTS") == [b"1"], m.untagged_responses   # told at once
    typ, data = m.fetch("1", "(FLAGS BODY.PEEK[])")
    assert data[0][0].startswith(b"1 (FLAGS (\\Recent \\Seen $Important) BODY[] {"), data
    assert data[0][1] == msg, data
    with pytest.raises(imaplib.IMAP4.error, match="Unknown system flag"):
        m.append("INBOX", "(\\Bogus)", None, msg)            # not a flag: refused
    typ, data = m.status("INBOX", "(MESSAGES)")
    assert b"MESSAGES 1" in data[0], data                      # and nothing stored
    m.logout()


def test_rename_inbox_create_with_delimiter_and_delete_recreate(box):
    srv, user, pw = box
    for i in range(2):
        deliver_local(srv, user, f"ri{i}")
    want = stored_crlf(srv, user)
    other = login(srv, user, pw)
    other.select("INBOX")
    m = login(srv, user, pw)
    m.select("Archive")
    # RENAME INBOX moves its messages into the new folder; INBOX stays, empty
    typ, data = m.rename("INBOX", "Old-Inbox")
    assert typ == "OK", data
    typ, data = m.status("INBOX", "(MESSAGES)")
    assert b"MESSAGES 0" in data[0], data
    m.select("Old-Inbox")
    typ, data = m.fetch("1:*", "(BODY.PEEK[])")
    assert [x[1] for x in data if isinstance(x, tuple)] == want
    other.untagged_responses.clear()
    other.noop()                                   # a session on INBOX is told
    assert other.untagged_responses.get("EXPUNGE") == [b"2", b"1"], other.untagged_responses
    # renaming to a name that exists, or INBOX to INBOX, is refused
    typ, data = m.rename("INBOX", "Archive")
    assert typ == "NO" and b"ALREADYEXISTS" in data[0], data
    # CREATE with the hierarchy delimiter at the end makes the name without it
    typ, data = m.create("Projects.")
    assert typ == "OK", data
    typ, data = m.list('""', "Projects*")
    assert data == [b'(\\HasNoChildren) "." "Projects"'], data
    # a deleted folder made again is a new folder: no message of the old one
    m.select("INBOX")
    typ, data = m.append("Projects", None, None, b"Subject: p\r\n\r\nx\r\n")
    assert typ == "OK", data
    typ, data = m.select("Projects")
    old_validity = m.untagged_responses["UIDVALIDITY"][-1]
    m.select("INBOX")
    time.sleep(1.1)                                # UIDVALIDITY is a time in seconds
    assert m.delete("Projects")[0] == "OK"
    assert m.create("Projects")[0] == "OK"
    typ, data = m.status("Projects", "(MESSAGES UIDVALIDITY)")
    assert b"MESSAGES 0" in data[0], data
    assert f"UIDVALIDITY {old_validity.decode()}".encode() not in data[0], (data, old_validity)
    m.logout()
    other.logout()


def test_select_parameters_and_enable_condstore(box):
    srv, user, pw = box
    deliver_local(srv, user, "p")
    s, cmd = raw_login(srv, user, pw)
    _, ok = cmd("SELECT INBOX (QRESYNC)")              # not offered: BAD, nothing selected
    assert b" BAD " in ok, ok
    _, ok = cmd("FETCH 1 (FLAGS)")
    assert b" BAD " in ok, ok
    _, ok = cmd("SELECT INBOX (CONDSTORE")             # unbalanced
    assert b" BAD " in ok, ok
    untagged, ok = cmd("ENABLE CONDSTORE")
    assert untagged == [b"* ENABLED CONDSTORE"] and b" OK " in ok, (untagged, ok)
    untagged, ok = cmd("SELECT INBOX")
    assert any(b"[HIGHESTMODSEQ " in x for x in untagged), untagged
    # after ENABLE CONDSTORE every FETCH with FLAGS carries MODSEQ
    untagged, _ = cmd("FETCH 1 (FLAGS)")
    assert re.fullmatch(rb"\* 1 FETCH \(FLAGS \(\\Recent\) MODSEQ \(\d+\)\)", untagged[0]), untagged
    _, ok = cmd("FETCH 1 (FLAGS) (CHANGEDSINCE x)")
    assert b" BAD " in ok, ok
    _, ok = cmd("STORE 1 (UNCHANGEDSINCE -1) +FLAGS (\\Seen)")
    assert b" BAD " in ok, ok
    s.close()
