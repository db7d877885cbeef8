"""Nothing lost, and the right answer, at the edges of the queue.

- A full disk is refused early and precisely: 452 4.3.1 at MAIL (against
  the declared SIZE) or RCPT when the queue's file system is below its
  reserve (queue.min_free), 452 4.3.1 when it fills during DATA, with no
  staging file left; mail flows again once space is freed.  These run on a
  small tmpfs mounted over the queue folder (root only).
- SIGTERM: every session, idle or busy, SMTP, POP3 or IMAP, gets its
  goodbye at its next command boundary (421 4.3.2, -ERR [SYS/TEMP],
  * BYE); a message being sent when the signal came is finished, committed
  and answered 250 before the 421; nothing pipelined after the signal
  starts; a body never finished is never committed.
- A queue file is checksummed: a changed byte is quarantined (with its
  reason in `yubin queue list`), never delivered; a version 1 file (no
  checksum) still is.
- The fsync order behind every 250 is checked in a trace of the real
  server: fsync of the file, then of its directory, then the reply.
"""

import errno
import hashlib
import os
import random
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import (DOMAIN, IS_ROOT, YUBIN_BIN, make_message, port_open, qid_from, uniq,
                      wait_until)

QID_ALPHABET = "0123456789BCDFGHJKLMNPQRSTVWXZ"
MIB = 1024 * 1024


# --------------------------------------------------------------------------
# helpers

def queue_dir(srv):
    return srv.data_dir / "queue"


def queue_files(srv, sub):
    d = queue_dir(srv) / sub
    return sorted(p.name for p in d.iterdir()) if d.is_dir() else []


def sigterm(srv):
    os.kill(srv.proc.pid, signal.SIGTERM)


def wait_exit(srv, timeout=15):
    """The server exits by itself after SIGTERM, with status 0."""
    srv.proc.wait(timeout)
    srv.term_statuses.append(srv.proc.returncode)
    assert srv.proc.returncode == 0, srv.log_text()[-3000:]


def raw_line(sock, buf, timeout=5.0):
    """One CRLF line from a raw socket; (line, rest)."""
    sock.settimeout(timeout)
    while b"\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed; had {buf!r}")
        buf += chunk
    line, rest = buf.split(b"\r\n", 1)
    return line, rest


def closed_after(sock, timeout=5.0):
    """Everything the server still sends, once it has closed the socket."""
    sock.settimeout(timeout)
    out = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return out
        out += chunk


def start_transaction(srv, rcpt, sender="s@remote.test"):
    c = srv.conn("smtp")
    c.ehlo()
    assert c.cmd(f"MAIL FROM:<{sender}>").code == 250
    assert c.cmd(f"RCPT TO:<{rcpt}>").code == 250
    assert c.cmd("DATA").code == 354
    return c


# --------------------------------------------------------------------------
# a small tmpfs over the queue folder

class TmpfsQueue:
    """Stops srv, mounts a tmpfs of size bytes over data_dir/queue (owned
    like the folder it hides), starts srv; on exit stops srv and unmounts."""

    def __init__(self, srv, size):
        self.srv, self.size = srv, size
        self.mounted = False

    def __enter__(self):
        assert IS_ROOT, "mounting a tmpfs needs root, as in CI"
        srv = self.srv
        srv.stop()
        q = queue_dir(srv)
        st = q.stat()
        r = subprocess.run(["mount", "-t", "tmpfs", "-o",
                            f"size={self.size},uid={st.st_uid},gid={st.st_gid},mode=0700",
                            "tmpfs", str(q)], capture_output=True, text=True)
        assert r.returncode == 0, f"cannot mount a tmpfs: {r.stderr.strip()}"
        self.mounted = True
        srv.start()
        return self

    def __exit__(self, *exc):
        self.srv.stop()
        if self.mounted:
            r = subprocess.run(["umount", str(queue_dir(self.srv))], capture_output=True, text=True)
            if r.returncode != 0:
                subprocess.run(["umount", "-l", str(queue_dir(self.srv))], capture_output=True)

    def avail(self):
        st = os.statvfs(queue_dir(self.srv))
        return st.f_bavail * st.f_frsize

    def fill_to(self, free):
        """Grow the filler file until about `free` bytes are left."""
        path = queue_dir(self.srv) / "filler"
        with open(path, "ab") as f:
            need = self.avail() - free
            while need > 0:
                n = min(need, MIB)
                f.write(b"\0" * n)
                f.flush()
                need -= n
        left = self.avail()
        assert abs(left - free) <= 64 * 1024, (left, free)

    def fill_up(self):
        """Fill every byte there is."""
        path = queue_dir(self.srv) / "filler"
        with open(path, "ab", buffering=0) as f:
            for size in (MIB, 64 * 1024, 4096):
                while True:
                    try:
                        f.write(b"\0" * size)
                    except OSError as e:
                        assert e.errno == errno.ENOSPC, e
                        break
        assert self.avail() < 4096

    def free_all(self):
        (queue_dir(self.srv) / "filler").unlink()


SMALL_LIMITS = {"message_size": MIB}


def test_reserve_refuses_at_mail_and_rcpt_then_recovers(make_server):
    srv = make_server(limits=SMALL_LIMITS, extra="queue: { min_free = 4194304; };")
    rcpt, _ = srv.add_user()
    with TmpfsQueue(srv, 8 * MIB) as fs:
        # above the reserve with 0.5 MiB to spare: no SIZE and a small one
        # pass, a declared size that would eat into the reserve does not
        fs.fill_to(4 * MIB + MIB // 2)
        time.sleep(1.2)  # the server looks at most once a second
        with srv.conn("smtp") as c:
            c.ehlo()
            assert c.cmd("MAIL FROM:<a@remote.test>").code == 250
            assert c.cmd("RSET").code == 250
            r = c.cmd("MAIL FROM:<a@remote.test> SIZE=900000")
            assert (r.code, r.enhanced()) == (452, "4.3.1"), r
            assert "storage" in r.text.lower(), r
            assert c.cmd("MAIL FROM:<a@remote.test> SIZE=400000").code == 250
            # over the size limit stays the permanent 552, checked first
            assert c.cmd("RSET").code == 250
            assert c.cmd("MAIL FROM:<a@remote.test> SIZE=2000000").code == 552
        # a session that got past MAIL before the disk filled: 452 at RCPT
        early = srv.conn("smtp")
        early.ehlo()
        assert early.cmd("MAIL FROM:<b@remote.test>").code == 250
        fs.fill_to(3 * MIB)
        time.sleep(1.2)
        r = early.cmd(f"RCPT TO:<{rcpt}>")
        assert (r.code, r.enhanced()) == (452, "4.3.1"), r
        early.close()
        with srv.conn("smtp") as c:
            c.ehlo()
            r = c.cmd("MAIL FROM:<a@remote.test>")
            assert (r.code, r.enhanced()) == (452, "4.3.1"), r
            # it is temporary: the session goes on
            assert c.cmd("NOOP").code == 250
        assert "below its free-space reserve" in srv.log_text()
        assert queue_files(srv, "staging") == []
        # space freed: mail flows again
        fs.free_all()
        time.sleep(1.2)
        msg = make_message("a@remote.test", rcpt, "after the disk was freed", ["back"])
        with srv.conn("smtp") as c:
            c.ehlo()
            _, final = c.mail_transaction("a@remote.test", [rcpt], msg)
            assert final.code == 250, final
        srv.wait_mail(rcpt)


def test_disk_full_during_data_is_452_and_leaves_no_staging_file(make_server):
    srv = make_server(limits=SMALL_LIMITS, extra="queue: { min_free = 0; };")
    rcpt, _ = srv.add_user()
    body = ["line %06d of a message that will not fit" % i for i in range(6000)]  # ~290 KB
    msg = make_message("a@remote.test", rcpt, "too big for the disk", body)
    with TmpfsQueue(srv, 8 * MIB) as fs:
        for how in ("DATA", "BDAT LAST", "BDAT chunk"):
            c = srv.conn("smtp")
            c.ehlo()
            assert c.cmd("MAIL FROM:<a@remote.test>").code == 250
            assert c.cmd(f"RCPT TO:<{rcpt}>").code == 250
            if how == "DATA":
                assert c.cmd("DATA").code == 354
            fs.fill_up()  # the disk fills while the body is on its way
            if how == "DATA":
                c.send(msg + b".\r\n")
                r = c.reply()
            elif how == "BDAT LAST":
                r = c.cmd(b"BDAT %d LAST\r\n" % len(msg) + msg[:-2])
            else:
                # a first chunk larger than what is buffered: the failure
                # shows at that chunk, not only at the last one
                r = c.cmd(b"BDAT %d\r\n" % len(msg) + msg[:-2])
            assert (r.code, r.enhanced()) == (452, "4.3.1"), (how, r)
            # the session goes on, and no trace of the message stays
            assert c.cmd("RSET").code == 250
            c.close()
            wait_until(lambda: queue_files(srv, "staging") == [], 5, what="staging to be empty")
            assert [f for f in queue_files(srv, "active")] == []
            fs.free_all()
        assert re.search(r"queue_commit qid=\S+ result=failed error=\"No space left on device\"",
                         srv.log_text()), srv.log_text()[-3000:]
        srv.assert_no_mail(rcpt, wait=0.5)
        time.sleep(1.2)
        with srv.conn("smtp") as c:
            c.ehlo()
            _, final = c.mail_transaction("a@remote.test", [rcpt], msg)
            assert final.code == 250, final
        srv.wait_mail(rcpt)


# --------------------------------------------------------------------------
# SIGTERM

def test_sigterm_idle_sessions_of_every_protocol(make_server):
    srv = make_server()
    smtp = srv.conn("smtp")
    smtp.ehlo()
    greeted = srv.conn("smtp")  # before EHLO
    pop = socket.create_connection(("127.0.0.1", srv.pop3))
    line, pbuf = raw_line(pop, b"")
    assert line.startswith(b"+OK"), line
    imap = socket.create_connection(("127.0.0.1", srv.imap))
    line, ibuf = raw_line(imap, b"")
    assert line.startswith(b"* OK"), line
    t0 = time.monotonic()
    sigterm(srv)
    for c in (smtp, greeted):
        r = c.reply()
        assert (r.code, r.enhanced()) == (421, "4.3.2"), r
        assert c.closed()
    line, _ = raw_line(pop, pbuf)
    assert line.startswith(b"-ERR [SYS/TEMP] "), line
    assert closed_after(pop) == b""
    line, _ = raw_line(imap, ibuf)
    assert line.startswith(b"* BYE "), line
    assert closed_after(imap) == b""
    wait_exit(srv)
    # no session was left waiting: no grace was needed
    assert time.monotonic() - t0 < 3, "the stop waited although every session had ended"
    for s in (pop, imap):
        s.close()


def test_sigterm_logged_in_pop3_and_idling_imap(make_server):
    """Sessions in the middle of their work hear the goodbye too; a POP3
    DELE without QUIT is not carried out (RFC 1939: no UPDATE state)."""
    import imaplib
    import poplib
    from conftest import client_tls_context, imap_login
    srv = make_server()
    user, pw = srv.add_user()
    with srv.conn("smtp") as c:
        c.ehlo()
        _, final = c.mail_transaction("s@remote.test", [user],
                                      make_message("s@remote.test", user, "keep", ["x"]))
        assert final.code == 250
    srv.wait_mail(user)
    p = poplib.POP3_SSL("127.0.0.1", srv.pop3s, context=client_tls_context(), timeout=10)
    p.user(user)
    p.pass_(pw)
    assert p.dele(1).startswith(b"+OK")
    m = imap_login(srv, user, pw)
    assert m.select("INBOX")[0] == "OK"
    m.send(b"i1 IDLE\r\n")
    assert m.readline().startswith(b"+ ")
    sigterm(srv)
    line = p.file.readline()
    assert line.startswith(b"-ERR [SYS/TEMP] "), line
    line = m.readline()
    assert line.startswith(b"* BYE "), line
    wait_exit(srv)
    for close in (p.close, m.shutdown):
        try:
            close()
        except (OSError, imaplib.IMAP4.error):
            pass
    srv.start()
    p = poplib.POP3_SSL("127.0.0.1", srv.pop3s, context=client_tls_context(), timeout=10)
    p.user(user)
    p.pass_(pw)
    assert p.stat()[0] == 1, "a DELE without QUIT was carried out"
    p.quit()


def test_sigterm_during_data_finishes_the_message_then_421(make_server):
    srv = make_server()
    rcpt, _ = srv.add_user()
    tid = uniq("term")
    msg = make_message("s@remote.test", rcpt, "sent across the stop", ["payload " + tid] * 40)
    half = len(msg) // 2
    c = start_transaction(srv, rcpt)
    c.send(msg[:half])
    idle = srv.conn("smtp")
    idle.ehlo()
    time.sleep(0.2)
    sigterm(srv)
    # the idle session hears at once; the one inside DATA is not cut off
    r = idle.reply()
    assert (r.code, r.enhanced()) == (421, "4.3.2"), r
    assert c.nothing_arrives(0.5)
    c.send(msg[half:] + b".\r\n")
    r = c.reply()
    assert r.code == 250, r
    qid = qid_from(r.text)
    r = c.reply()
    assert (r.code, r.enhanced()) == (421, "4.3.2"), r
    assert c.closed()
    wait_exit(srv)
    assert queue_files(srv, "staging") == []
    srv.start()
    datas = srv.wait_mail(rcpt)
    time.sleep(0.5)
    datas = srv.mails(rcpt)
    assert len(datas) == 1 and tid.encode() in datas[0] and qid.encode() in datas[0]


def test_sigterm_nothing_pipelined_after_the_signal_starts(make_server):
    srv = make_server()
    rcpt, _ = srv.add_user()
    msg = make_message("s@remote.test", rcpt, "the last one", ["only this one"])
    c = start_transaction(srv, rcpt)
    c.send(msg[:20])
    time.sleep(0.2)
    sigterm(srv)
    time.sleep(0.3)
    # the end of the message and a whole next transaction, in one write
    c.send(msg[20:] + b".\r\nMAIL FROM:<s@remote.test>\r\nRCPT TO:<" + rcpt.encode()
           + b">\r\nDATA\r\n" + msg + b".\r\nQUIT\r\n")
    r = c.reply()
    assert r.code == 250, r
    r = c.reply()
    assert (r.code, r.enhanced()) == (421, "4.3.2"), r
    assert c.closed()
    assert c.buf == b"", f"more replies after the 421: {c.buf!r}"
    wait_exit(srv)
    srv.start()
    srv.wait_mail(rcpt)
    time.sleep(1.0)
    assert len(srv.mails(rcpt)) == 1


def test_sigterm_between_pipelined_commands(make_server):
    """MAIL and RCPT answered, then the signal, then the client goes on:
    the 421 came first, and DATA is never answered 354."""
    srv = make_server()
    rcpt, _ = srv.add_user()
    s = socket.create_connection(("127.0.0.1", srv.smtp))
    line, buf = raw_line(s, b"")
    s.sendall(b"EHLO c.test\r\nMAIL FROM:<s@remote.test>\r\nRCPT TO:<" + rcpt.encode() + b">\r\n")
    got = b""
    s.settimeout(5)
    while got.count(b"\r\n250 ") + got.startswith(b"250 ") < 3:
        got += s.recv(65536)
    sigterm(srv)
    time.sleep(0.3)
    try:
        s.sendall(b"DATA\r\n")
    except OSError:
        pass
    rest = closed_after(s)
    assert rest.startswith(b"421 4.3.2 "), rest
    assert b"354" not in rest
    s.close()
    wait_exit(srv)


def test_sigterm_abandoned_body_is_never_committed(make_server):
    srv = make_server()
    rcpt, _ = srv.add_user()
    msg = make_message("s@remote.test", rcpt, "never finished", ["half a message"] * 20)
    c = start_transaction(srv, rcpt)
    c.send(msg[: len(msg) // 2])
    time.sleep(0.2)
    t0 = time.monotonic()
    sigterm(srv)
    # the grace ends: the goodbye comes anyway, in the middle of the body
    r = c.reply(timeout=15)
    assert (r.code, r.enhanced()) == (421, "4.3.2"), r
    assert c.closed()
    assert time.monotonic() - t0 >= 4
    wait_exit(srv)
    assert queue_files(srv, "staging") == [] and queue_files(srv, "active") == []
    srv.start()
    srv.assert_no_mail(rcpt, wait=1.0)


# --------------------------------------------------------------------------
# checksums and quarantine

def new_qid():
    return "".join(random.choice(QID_ALPHABET) for _ in range(12))


def qfile(qid, rcpt, body, version=2):
    """A queue file as the format (src/queue/qfile.h) defines it, made here
    independently of the server's code."""
    nonce = "%016x" % random.getrandbits(64)
    head = (f"YUBIN-QUEUE {version}\nid {qid}\ntime {int(time.time())}\nfrom q@remote.test\n"
            f"client 192.0.2.1\nhelo h.test\nauth -\nutf8 0\nnonce {nonce}\nrcpt L {rcpt}\nbody\n")
    prefix = head.encode() + body + b"\n"
    end = f"end {len(body)} {nonce}"
    if version == 2:
        end += " " + hashlib.sha256(prefix).hexdigest()
    return prefix + end.encode() + b"\n"


def place(srv, name, data):
    active = queue_dir(srv) / "active"
    p = active / name
    p.write_bytes(data)
    st = active.stat()
    os.chown(p, st.st_uid, st.st_gid)
    os.chmod(p, 0o600)
    return p


def test_changed_byte_is_quarantined_not_delivered(make_server):
    srv = make_server()
    rcpt, _ = srv.add_user()
    body = b"Subject: checked\n\nThe money goes to account 12345.\n"
    srv.stop()
    good, bad, old = new_qid(), new_qid(), new_qid()
    place(srv, good, qfile(good, rcpt, body))
    damaged = bytearray(qfile(bad, rcpt, body))
    at = damaged.index(b"12345")
    damaged[at] ^= 0x01  # "02345"
    place(srv, bad, bytes(damaged))
    # written before checksums existed: still delivered
    place(srv, old, qfile(old, rcpt, body.replace(b"checked", b"version 1"), version=1))
    srv.start()
    srv.wait_mail(rcpt, 2)
    time.sleep(1.0)
    datas = srv.mails(rcpt)
    assert len(datas) == 2, datas
    assert all(b"account 12345" in d for d in datas)
    assert not any(b"02345" in d for d in datas)
    assert (queue_dir(srv) / "corrupt" / bad).exists()
    assert queue_files(srv, "active") == []
    q = srv.cli("queue", "list")
    assert q.returncode == 0, q.stderr
    line = next((l for l in q.stdout.splitlines() if l.startswith(bad)), None)
    assert line is not None and "QUARANTINED" in line, q.stdout
    assert 'reason="checksum mismatch' in line, line
    assert "0 messages in the queue, 1 quarantined" in q.stdout, q.stdout
    assert re.search(rf"queue_quarantine qid={bad} .*reason=\"checksum mismatch", srv.log_text())


def queue_remote_message(srv):
    """A message for a remote recipient, which stays queued (the tests'
    DNS never answers) and has "abcdef" in its body; its queue id."""
    user, pw = srv.add_user()
    remote = f"{uniq('far')}@remote.test"
    c = srv.submit_conn(user, pw)
    _, final = c.mail_transaction(user, [remote], make_message(user, remote, "held", ["abcdef"]))
    c.close()
    assert final.code == 250, final
    return qid_from(final.text)


def test_changed_byte_in_a_queued_message_written_by_the_server(make_server):
    """A real queue file (a remote recipient keeps it queued): one changed
    byte, and after a restart it is quarantined, not tried again."""
    srv = make_server()
    qid = queue_remote_message(srv)
    srv.stop()
    p = queue_dir(srv) / "active" / qid
    data = bytearray(p.read_bytes())
    assert data.startswith(b"YUBIN-QUEUE 2\n")
    assert re.search(rb"\nend \d+ [0-9a-f]{16} [0-9a-f]{64}\n", bytes(data)), bytes(data[-200:])
    data[data.index(b"abcdef")] = ord("x")
    p.write_bytes(bytes(data))
    srv.start()
    wait_until(lambda: (queue_dir(srv) / "corrupt" / qid).exists(), 10, what="quarantine")
    q = srv.cli("queue", "list")
    assert re.search(rf"^{qid}  QUARANTINED  size=\d+  reason=\"checksum mismatch", q.stdout, re.M), \
        q.stdout


def test_changed_byte_while_running_is_quarantined_by_remote_delivery(make_server):
    """Changed while queued for a remote recipient: the next attempt finds
    it and quarantines it, without a restart and without sending it."""
    srv = make_server()
    qid = queue_remote_message(srv)
    wait_until(lambda: re.search(rf"event=delivery qid={qid} .*result=deferred", srv.log_text()), 15,
               what="the first attempt to be deferred")
    p = queue_dir(srv) / "active" / qid
    at = p.read_bytes().index(b"abcdef")
    with open(p, "r+b") as f:  # one byte, in place
        f.seek(at)
        f.write(b"x")
    assert srv.cli("queue", "flush", qid).returncode == 0
    wait_until(lambda: (queue_dir(srv) / "corrupt" / qid).exists(), 15, what="quarantine")
    assert re.search(rf"queue_quarantine qid={qid} .*reason=\"checksum mismatch", srv.log_text())
    q = srv.cli("queue", "list")
    assert f"{qid}  QUARANTINED" in q.stdout, q.stdout


# --------------------------------------------------------------------------
# the fsync order behind every 250, in a trace

TRACED = "openat,rename,renameat,renameat2,fsync,fdatasync,close,write,writev,sendmsg,sendto"
LINE_RE = re.compile(r"^(\d+) +(.*)$")
CALL_RE = re.compile(r"^(\w+)\((.*)\) += (-?\d+)")
UNFINISHED_RE = re.compile(r"^(\w+)\((.*) <unfinished \.\.\.>$")
RESUMED_RE = re.compile(r"^<\.\.\. (\w+) resumed>(.*)\) += (-?\d+)")


def parse_trace(text):
    """Completed system calls as (start index, end index, name, args, result)."""
    events, pending = [], {}
    for i, raw in enumerate(text.splitlines()):
        m = LINE_RE.match(raw)
        if not m:
            continue
        pid, rest = m.groups()
        u = UNFINISHED_RE.match(rest)
        if u:
            pending[pid] = (i, u.group(1), u.group(2))
            continue
        r = RESUMED_RE.match(rest)
        if r and pid in pending:
            start, name, args = pending.pop(pid)
            events.append((start, i, name, args + r.group(2), int(r.group(3))))
            continue
        c = CALL_RE.match(rest)
        if c:
            events.append((i, i, c.group(1), c.group(2), int(c.group(3))))
    return sorted(events, key=lambda e: e[1])


def check_order(text, qids):
    """For every qid: the file's fsync, then a directory fsync that began
    after its rename, both finished before the 250 naming it is written."""
    fdmap, file_synced, renamed, dir_syncs, replied = {}, {}, {}, [], {}
    qid_re = re.compile(r"/(staging|active)/([0-9B-Z]{12})(\.p)?\"")
    # A close gives its number back as it starts: another thread's openat
    # can return that number before the close's own end is in the trace, so
    # a close counts where it began and everything else where it ended.
    events = sorted(parse_trace(text), key=lambda e: e[0] if e[2] == "close" else e[1])
    for start, end, name, args, res in events:
        if name == "openat" and res >= 0:
            fdmap[res] = args
        elif name == "close":
            fdmap.pop(int(args.split(",")[0]), None)
        elif name.startswith("rename") and res == 0:
            m = re.search(r"/active/([0-9B-Z]{12})\"", args)
            if m:
                renamed[m.group(1)] = end
        elif name in ("fsync", "fdatasync") and res == 0:
            path = fdmap.get(int(args.split(",")[0]), "")
            m = qid_re.search(path)
            if m:
                file_synced[m.group(2)] = end
            elif re.search(r"/queue/active\"", path) and "O_DIRECTORY" in path:
                dir_syncs.append((start, end))
        elif name in ("write", "writev", "sendmsg", "sendto"):
            for q in re.findall(r"250 2\.0\.0 Ok: queued as ([0-9B-Z]{12})", args):
                replied.setdefault(q, start)
    for q in qids:
        assert q in replied, f"no 250 for {q} in the trace"
        assert q in file_synced, f"{q}: no fsync of its file"
        assert q in renamed, f"{q}: no rename into active/"
        assert file_synced[q] < replied[q], f"{q}: 250 written before the file's fsync finished"
        covering = [d for d in dir_syncs if d[0] > renamed[q] and d[1] < replied[q]]
        assert covering, f"{q}: no directory fsync between its rename and its 250"
    return dir_syncs


def test_fsync_order_before_every_250(make_server, tmp_path):
    r = subprocess.run(["strace", "-f", "-o", "/dev/null", "true"], capture_output=True, text=True)
    assert r.returncode == 0, f"strace (scripts/install-deps) cannot trace here: {r.stderr.strip()}"
    srv = make_server(start=False)
    rcpt, _ = srv.add_user()
    trace = tmp_path / "trace"
    errf = srv.base / "traced.stderr"
    srv.log_files.append(errf)
    with open(errf, "wb") as e:
        proc = subprocess.Popen(["strace", "-f", "-qq", "-s", "300", "-e", f"trace={TRACED}",
                                 "-o", str(trace), YUBIN_BIN, "--config", str(srv.config_path),
                                 "serve"], stdin=subprocess.DEVNULL, stdout=e, stderr=e,
                                start_new_session=True)
    try:
        wait_until(lambda: port_open(srv.smtp), 30, what="the traced server to listen")
        qids = []
        # one at a time
        for i in range(3):
            with srv.conn("smtp") as c:
                c.ehlo()
                _, final = c.mail_transaction("s@remote.test", [rcpt],
                                              make_message("s@remote.test", rcpt, f"one {i}", ["x"]))
                assert final.code == 250, final
                qids.append(qid_from(final.text))
        # several at once: their commits share directory fsyncs
        conns = [srv.conn("smtp") for _ in range(6)]
        for c in conns:
            c.ehlo()
            assert c.cmd("MAIL FROM:<s@remote.test>").code == 250
            assert c.cmd(f"RCPT TO:<{rcpt}>").code == 250
            assert c.cmd("DATA").code == 354
        for i, c in enumerate(conns):
            c.send(make_message("s@remote.test", rcpt, f"group {i}", ["y"]) + b".\r\n")
        group = []
        for c in conns:
            r = c.reply()
            assert r.code == 250, r
            group.append(qid_from(r.text))
            c.close()
        srv.wait_mail(rcpt, 9)
    finally:
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        kids = children.read_text().split() if children.exists() else []
        for k in kids:
            os.kill(int(k), signal.SIGTERM)
        proc.wait(30)
    dir_syncs = check_order(trace.read_text(errors="replace"), qids + group)
    # group commit: never more directory fsyncs than messages
    assert len(dir_syncs) <= len(qids) + len(group) + 1


def test_sigterm_mid_imap_literal_waits_for_the_command(make_server):
    """An APPEND whose literal is still arriving is a command in progress:
    the goodbye waits until it is done (and the message is kept)."""
    import imaplib
    from conftest import imap_login
    srv = make_server()
    user, pw = srv.add_user()
    m = imap_login(srv, user, pw)
    msg = b"Subject: in flight\r\n\r\n" + b"x" * 78 + b"\r\n"
    m.send(b"a1 APPEND INBOX {%d}\r\n" % len(msg))
    assert m.readline().startswith(b"+ ")
    m.send(msg[:40])
    sigterm(srv)
    m.sock.settimeout(1.0)
    try:
        early = m.sock.recv(4096)
    except (TimeoutError, OSError):
        early = b""
    assert b"BYE" not in early, early
    m.sock.settimeout(10)
    m.send(msg[40:] + b"\r\n")
    got = early
    while b"* BYE" not in got:
        d = m.sock.recv(4096)
        if not d:
            break
        got += d
    assert re.search(rb"a1 OK \[APPENDUID \d+ \d+\]", got), got
    assert got.index(b"a1 OK") < got.index(b"* BYE"), got
    wait_exit(srv)
    try:
        m.shutdown()
    except (OSError, imaplib.IMAP4.error):
        pass
    srv.start()
    m = imap_login(srv, user, pw)
    assert m.select("INBOX")[1] == [b"1"]
    m.logout()
