"""IMAP account limits, byte by byte: QUOTA (RFC 9208) with the STORAGE
resource from limits.mailbox_quota and the MESSAGE resource from
limits.mailbox_quota_messages (GETQUOTAROOT, GETQUOTA, SETQUOTA
refused, APPEND and COPY past the limit refused with NO [OVERQUOTA], MOVE
allowed), the folder limit (limits.imap_max_folders: CREATE and RENAME
INBOX refused with NO [LIMIT]), LIST-STATUS over many folders giving back
what it opened, and IMAP on a full disk (a small tmpfs holding the data
directory): the user can still read and delete mail, and APPEND answers NO
[OVERQUOTA] with a sentence, not [SERVERBUG]."""

import fcntl
import os
import re
import subprocess
import time

import pytest

from conftest import IS_ROOT, deliver_local, wait_until
from test_imap_rfc import Raw, append, check_response  # noqa: F401  (the grammar checks)


def login(srv, user):
    c = Raw(srv)
    c.login(*user)
    return c


def message(size, subject="q"):
    head = f"From: a@example.test\r\nSubject: {subject}\r\n\r\n".encode()
    body = b"x" * 70 + b"\r\n"
    data = head
    while len(data) + len(body) <= size:
        data += body
    return data + b"y" * (size - len(data))


# --------------------------------------------------------------------------
# QUOTA

def test_quota_responses(make_server):
    """RFC 9208 4.2-4.3, 5.1: the capability, QUOTAROOT and QUOTA responses
    (STORAGE in KiB, usage rounded up), a missing mailbox or root, SETQUOTA
    refused (no QUOTASET), and the grammar of every response."""
    srv = make_server(limits={"mailbox_quota": 10 * 1024 + 500})
    user = srv.add_user()
    c = login(srv, user)
    caps = c.ok(b"C1 CAPABILITY")[0].split()
    assert b"QUOTA" in caps and b"QUOTA=RES-STORAGE" in caps and b"QUOTASET" not in caps, caps
    assert c.ok(b"Q1 GETQUOTAROOT INBOX") == [b'* QUOTAROOT \"INBOX\" ""\r\n',
                                              b'* QUOTA "" (STORAGE 0 10)\r\n']
    assert append(c, b"INBOX", message(3000)).startswith(b"P1 OK [APPENDUID ")
    assert append(c, b"Sent", message(100)).startswith(b"P1 OK [APPENDUID ")
    # every folder of the account is in the one root
    assert c.ok(b"Q2 GETQUOTAROOT Sent") == [b'* QUOTAROOT \"Sent\" ""\r\n',
                                             b'* QUOTA "" (STORAGE 4 10)\r\n']
    assert c.ok(b'Q3 GETQUOTA ""') == [b'* QUOTA "" (STORAGE 4 10)\r\n']
    _, t = c.cmd(b'Q4 GETQUOTA "User quota"')
    assert t.startswith(b"Q4 NO "), t
    # RFC 9208 4.1.2: the root a mailbox would have once made
    assert c.ok(b"Q5 GETQUOTAROOT Nowhere") == [b'* QUOTAROOT "Nowhere" ""\r\n',
                                                b'* QUOTA "" (STORAGE 4 10)\r\n']
    _, t = c.cmd(b"Q5 GETQUOTAROOT foo/bar")
    assert t.startswith(b"Q5 NO [CANNOT] "), t
    _, t = c.cmd(b'Q6 SETQUOTA "" (STORAGE 100000)')
    assert t.startswith(b"Q6 NO "), t
    for bad in (b"Q7 GETQUOTAROOT", b"Q7 GETQUOTA", b'Q7 SETQUOTA ""', b"Q7 GETQUOTAROOT INBOX x"):
        _, t = c.cmd(bad)
        assert t.startswith(b"Q7 BAD "), (bad, t)
    c.close()
    # not before login
    c = Raw(srv)
    _, t = c.cmd(b"Q8 GETQUOTAROOT INBOX")
    assert t.startswith((b"Q8 BAD ", b"Q8 NO ")), t
    c.close()


def test_no_quota_root_without_a_limit(make_server):
    """limits.mailbox_quota = 0: no resource is limited, so no mailbox has a
    quota root (RFC 9208 4.3: QUOTAROOT with the mailbox alone)."""
    srv = make_server()
    user = srv.add_user()
    c = login(srv, user)
    assert c.ok(b"Q1 GETQUOTAROOT INBOX") == [b'* QUOTAROOT "INBOX"\r\n']
    _, t = c.cmd(b'Q2 GETQUOTA ""')
    assert t.startswith(b"Q2 NO [NONEXISTENT] "), t
    assert append(c, b"INBOX", message(50000)).startswith(b"P1 OK ")
    c.close()


def test_append_and_copy_past_the_quota(make_server):
    """RFC 9208 4.4: APPEND and COPY that would take the account past its
    limit fail with NO [OVERQUOTA] and leave nothing behind; MOVE adds
    nothing and works, so does expunging; after that APPEND works again.
    Mail delivered by SMTP counts too."""
    srv = make_server(limits={"mailbox_quota": 10000})
    user = srv.add_user()
    c = login(srv, user)
    assert append(c, b"INBOX", message(6000)).startswith(b"P1 OK ")
    t = append(c, b"INBOX", message(6000, "second"))
    assert t.startswith(b"P1 NO [OVERQUOTA] ") and len(t) > len(b"P1 NO [OVERQUOTA] \r\n"), t
    c.ok(b"S1 SELECT INBOX")
    _, t = c.cmd(b"K1 COPY 1 Trash")
    assert t.startswith(b"K1 NO [OVERQUOTA] "), t
    _, t = c.cmd(b"K2 UID COPY 1:* Archive")
    assert t.startswith(b"K2 NO [OVERQUOTA] "), t
    assert c.ok(b"T1 STATUS Trash (MESSAGES)") == [b"* STATUS \"Trash\" (MESSAGES 0)\r\n"]
    assert c.ok(b"T2 STATUS Archive (MESSAGES)") == [b"* STATUS \"Archive\" (MESSAGES 0)\r\n"]
    assert c.ok(b"T3 STATUS INBOX (MESSAGES)") == [b"* STATUS \"INBOX\" (MESSAGES 1)\r\n"]
    # MOVE adds nothing to the account
    c.ok(b"M1 MOVE 1 Trash")
    assert c.ok(b"T4 STATUS Trash (MESSAGES)") == [b"* STATUS \"Trash\" (MESSAGES 1)\r\n"]
    # delivered mail counts as well, and so does the 90 % warning that
    # delivery put in the INBOX with it (test_quota.py)
    deliver_local(srv, user[0], "delivered", body=["z" * 70] * 50)
    srv.wait_mail(user[0], 2)  # the message, then the warning
    assert b"STORAGE 11 9" in c.ok(b"Q1 GETQUOTAROOT INBOX")[1]
    t = append(c, b"INBOX", message(500, "small"))
    assert t.startswith(b"P1 NO [OVERQUOTA] "), t
    # deleting mail makes room
    c.ok(b"S2 SELECT Trash")
    c.ok(b"D1 STORE 1 +FLAGS.SILENT (\\Deleted)")
    c.ok(b"D2 EXPUNGE")
    assert append(c, b"INBOX", message(500, "small")).startswith(b"P1 OK [APPENDUID ")
    c.close()
    assert "append_refused=" in srv.log_text()


def test_message_count_quota(make_server):
    """The MESSAGE resource (RFC 9208 5.2) from limits.mailbox_quota_messages,
    alone and with STORAGE in one QUOTA response."""
    srv = make_server(limits={"mailbox_quota_messages": 2})
    user = srv.add_user()
    c = login(srv, user)
    assert b"QUOTA=RES-MESSAGE" in c.ok(b"C1 CAPABILITY")[0].split()
    assert c.ok(b'Q1 GETQUOTA ""') == [b'* QUOTA "" (MESSAGE 0 2)\r\n']
    assert append(c, b"INBOX", message(100, "one")).startswith(b"P1 OK ")
    assert append(c, b"Drafts", message(100, "two")).startswith(b"P1 OK ")
    t = append(c, b"INBOX", message(100, "three"))
    assert t.startswith(b"P1 NO [OVERQUOTA] "), t
    c.ok(b"S1 SELECT INBOX")
    _, t = c.cmd(b"K1 COPY 1 Trash")
    assert t.startswith(b"K1 NO [OVERQUOTA] "), t
    # two of two is past 90 %: the warning went into the INBOX, and counts
    # (test_quota.py)
    assert c.ok(b'Q2 GETQUOTA ""') == [b'* QUOTA "" (MESSAGE 3 2)\r\n']
    c.close()
    both = make_server(limits={"mailbox_quota_messages": 5, "mailbox_quota": 4096})
    user = both.add_user()
    c = login(both, user)
    assert append(c, b"INBOX", message(1500)).startswith(b"P1 OK ")
    assert c.ok(b'Q1 GETQUOTA ""') == [b'* QUOTA "" (STORAGE 2 4 MESSAGE 1 5)\r\n']
    c.close()


# --------------------------------------------------------------------------
# the folder limit

def test_folder_limit(make_server):
    """limits.imap_max_folders (INBOX and the five default folders count):
    CREATE past it and RENAME INBOX (which makes a folder) answer NO
    [LIMIT]; RENAME of another folder does not add one; DELETE makes room."""
    srv = make_server(limits={"imap_max_folders": 8})
    user = srv.add_user()
    c = login(srv, user)
    c.ok(b"A1 CREATE one")
    c.ok(b"A2 CREATE two")
    _, t = c.cmd(b"A3 CREATE three")
    assert t.startswith(b"A3 NO [LIMIT] "), t
    _, t = c.cmd(b"A4 RENAME INBOX Old")
    assert t.startswith(b"A4 NO [LIMIT] "), t
    c.ok(b"A5 RENAME two zwei")
    names = [r for r in c.ok(b'L1 LIST "" "*"')]
    assert len(names) == 8 and not any(b"three" in r or b"Old" in r for r in names), names
    c.ok(b"A6 DELETE one")
    c.ok(b"A7 CREATE three")
    c.close()


# --------------------------------------------------------------------------
# LIST-STATUS over many folders

def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_list_status_gives_back_the_folders_it_opened(make_server):
    """LIST ... RETURN (STATUS) opens every folder (its message list, its
    index handle); afterwards they are let go at once, not held for a
    minute: the server's open files go back to where they were."""
    assert IS_ROOT, "reading the server's /proc/PID/fd needs root (it runs as nobody), as in CI"
    srv = make_server()
    user = srv.add_user()
    c = login(srv, user)
    for i in range(120):
        c.send(b"C%d CREATE f%03d\r\n" % (i, i))
    for i in range(120):
        _, t = c.until_tagged(b"C%d" % i)
        assert t.startswith(b"C%d OK" % i), t
    c.ok(b"N1 NOOP")
    before = fds(srv.proc.pid)
    got = c.ok(b'L1 LIST "" "*" RETURN (STATUS (MESSAGES UIDNEXT))')
    assert sum(1 for r in got if r.startswith(b"* STATUS ")) == 126, got[:3]
    wait_until(lambda: fds(srv.proc.pid) <= before + 4, 10, what="the folders' files closed")
    # a plain STATUS keeps its folder a while (asking again costs nothing)
    c.ok(b"T1 STATUS f001 (MESSAGES)")
    c.close()


# --------------------------------------------------------------------------
# a full disk

@pytest.fixture
def small_disk_server(make_server):
    """A server whose data directory is a 6 MB tmpfs (unmounted after)."""
    assert IS_ROOT, "mounting a tmpfs needs root, as in CI"
    # the queue's own reserve (queue.min_free) would refuse mail on so small
    # a disk; here only the 1.5 x message_size floor is kept
    srv = make_server(start=False, extra="queue: { min_free = 0; };")
    srv.data_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m,mode=0755", "tmpfs", str(srv.data_dir)],
                   check=True)
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()
        subprocess.run(["umount", str(srv.data_dir)], check=True)


def fill(path):
    """Fill the file system holding path to the last byte (filler files)."""
    for name, chunk in (("filler", 65536), ("filler2", 512), ("filler3", 1)):
        fd = os.open(path / name, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * chunk)
        except OSError:
            pass
        finally:
            os.close(fd)


def test_imap_on_a_full_disk(small_disk_server):
    """With no byte left, a user can still SELECT (new mail gets its UIDs),
    read, flag, delete and expunge; APPEND and COPY answer NO [OVERQUOTA]
    with a sentence, not [SERVERBUG]; once there is room again APPEND works."""
    srv = small_disk_server
    user = srv.add_user()
    c = login(srv, user)
    assert append(c, b"INBOX", message(2000, "seen before")).startswith(b"P1 OK ")
    c.ok(b"S0 SELECT INBOX")
    c.ok(b"U0 UNSELECT")
    c.close()
    time.sleep(0.2)
    # mail delivered, not yet seen by IMAP: it waits in new/ for its UID
    deliver_local(srv, user[0], "unseen one")
    deliver_local(srv, user[0], "unseen two")
    fill(srv.data_dir)
    # a server started on the full disk: no folder open, no index handle
    srv.stop()
    srv.start()
    c = login(srv, user)
    untagged, t = c.cmd(b"S1 SELECT INBOX")
    assert t.startswith(b"S1 OK "), (untagged, t)
    assert b"* 3 EXISTS\r\n" in untagged, untagged
    got = c.ok(b"F1 FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert len(got) == 3 and b"unseen two" in got[2], got
    c.ok(b"F2 STORE 1 +FLAGS (\\Seen)")
    t = append(c, b"INBOX", message(3000, "no room"))
    assert t.startswith(b"P1 NO [OVERQUOTA] ") and b"SERVERBUG" not in t, t
    _, t = c.cmd(b"K1 COPY 2 Trash")
    assert t.startswith((b"K1 OK ", b"K1 NO [OVERQUOTA] ")), t
    c.ok(b"D1 STORE 1:3 +FLAGS.SILENT (\\Deleted)")
    untagged = c.ok(b"D2 EXPUNGE")
    assert sorted(untagged) == [b"* 1 EXPUNGE\r\n", b"* 2 EXPUNGE\r\n", b"* 3 EXPUNGE\r\n"], untagged
    assert "SERVERBUG" not in "".join(r.decode("latin-1") for r in untagged)
    # room again
    for name in ("filler", "filler2", "filler3"):
        (srv.data_dir / name).unlink()
    assert append(c, b"INBOX", message(3000, "room")).startswith(b"P1 OK [APPENDUID ")
    c.close()


def test_getquotaroot_while_another_append_is_in_flight(make_server):
    """RFC 9208 4.1.2 counts what the account holds: while another session's
    big APPEND is still arriving (half its literal sent), GETQUOTAROOT is
    answered at once and does not count it; once the APPEND is done it
    does."""
    srv = make_server(limits={"mailbox_quota": 1024 * 1024})
    user = srv.add_user()
    a, b = login(srv, user), login(srv, user)
    assert append(a, b"INBOX", message(3000)).startswith(b"P1 OK ")
    big = message(400 * 1024, "big")
    b.send(b"P1 APPEND Sent {%d}\r\n" % len(big))
    assert b.response().startswith(b"+ ")
    b.send(big[:len(big) // 2])
    started = time.monotonic()
    assert a.ok(b"Q1 GETQUOTAROOT Sent") == [b'* QUOTAROOT "Sent" ""\r\n', b'* QUOTA "" (STORAGE 3 1024)\r\n']
    assert time.monotonic() - started < 2
    b.send(big[len(big) // 2:] + b"\r\n")
    assert b.until_tagged(b"P1")[1].startswith(b"P1 OK [APPENDUID ")
    assert a.ok(b'Q2 GETQUOTA ""') == [b'* QUOTA "" (STORAGE 403 1024)\r\n']
    a.close()
    b.close()


def test_quota_look_up_does_not_stall_other_sessions(make_server):
    """GETQUOTAROOT and GETQUOTA read the account store (SQLite) and count
    the Maildir on a worker: while another process holds the store locked
    (`yubin user quota` writing, say), the command waits for it, but every
    other session is served meanwhile; when the lock goes the answer comes,
    byte for byte as always."""
    srv = make_server(limits={"mailbox_quota": 10 * 1024 + 500})
    user = srv.add_user()
    a, b = login(srv, user), login(srv, user)
    # SQLite's WAL-index locks (its walformat document, "the shm file"):
    # write locks on the five read-mark bytes, 123 to 127 of the -shm file,
    # keep every new reader of the store waiting, as a slow disk would
    fd = os.open(srv.data_dir / "accounts.db-shm", os.O_RDWR)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX, 5, 123)
        a.send(b"Q1 GETQUOTAROOT INBOX\r\n")
        a.send(b'Q2 GETQUOTA ""\r\n')
        time.sleep(0.3)
        started = time.monotonic()
        b.ok(b"N1 NOOP")
        assert b.ok(b"T1 STATUS INBOX (MESSAGES)") == [b'* STATUS "INBOX" (MESSAGES 0)\r\n']
        assert time.monotonic() - started < 1, "another session waited for the locked account store"
    finally:
        os.close(fd)
    assert a.until_tagged(b"Q1") == ([b'* QUOTAROOT "INBOX" ""\r\n', b'* QUOTA "" (STORAGE 0 10)\r\n'],
                                     b"Q1 OK GETQUOTAROOT completed\r\n")
    assert a.until_tagged(b"Q2") == ([b'* QUOTA "" (STORAGE 0 10)\r\n'], b"Q2 OK GETQUOTA completed\r\n")
    a.close()
    b.close()
