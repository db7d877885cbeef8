"""Outbound connections (issue 3): reuse of a connection for the next
message to the same destination, the per-destination and overall limits on
connections, PIPELINING (RFC 2920) and CHUNKING (RFC 3030) in the client,
AUTH LOGIN to a relay, and SMTPUTF8 refused by the remote.

Receivers are aiosmtpd (conftest.Receiver), a scripted raw-socket server
(ScriptedMX, below) where the test must see bytes as they came off the wire,
and a second yubin.  Every wait is bounded.
"""

import socket
import threading
import time

from conftest import (make_message, outbound_config, parse_dsn, qid_lines, submit, uniq,
                      wait_final, wait_queue_empty, wait_until)
from test_outbound import (DELIVERY_TIMEOUT, IP1, IP2, IP3, MX1, REMOTE, assert_arrived,
                           one_mx, relay_config, start)


class ScriptedMX:
    """A small SMTP server on ip:port that records every recv() as it came
    (to see what was pipelined) and the message bytes exactly as sent (DATA
    dot-unstuffed, or BDAT chunks).  One connection at a time."""

    def __init__(self, ip, port, extensions=("PIPELINING",), rcpt_reply=None,
                 close_after_message=False, eightbitmime=True):
        self.ip, self.port = ip, port
        self.extensions = list(extensions) + (["8BITMIME"] if eightbitmime else [])
        self.rcpt_reply = rcpt_reply or (lambda addr: "250 2.1.5 ok")
        self.close_after_message = close_after_message
        self.reads = []          # per connection: list of recv() chunks
        self.commands = []       # command lines, all connections
        self.messages = []       # (verb, bytes)
        self.lock = threading.Lock()
        self.sock = socket.create_server((ip, port))
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping = True
        self.thread.join(10)
        self.sock.close()

    def _serve(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            with c:
                c.settimeout(10)
                try:
                    self._session(c)
                except (OSError, ValueError):
                    pass

    def _session(self, c):
        reads = []
        with self.lock:
            self.reads.append(reads)
        buf = bytearray()

        def more():
            chunk = c.recv(65536)
            if not chunk:
                raise ValueError("closed")
            reads.append(bytes(chunk))
            buf.extend(chunk)

        def line():
            while b"\r\n" not in buf:
                more()
            i = buf.index(b"\r\n")
            text = bytes(buf[:i]).decode("utf-8", "replace")
            del buf[:i + 2]
            return text

        c.sendall(b"220 scripted ESMTP\r\n")
        while True:
            cmd = line()
            with self.lock:
                self.commands.append(cmd)
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                lines = ["scripted"] + self.extensions
                c.sendall("".join(f"250{'-' if i < len(lines) - 1 else ' '}{l}\r\n"
                                  for i, l in enumerate(lines)).encode())
            elif verb == "MAIL":
                c.sendall(b"250 2.1.0 ok\r\n")
            elif verb == "RCPT":
                addr = cmd.split("<", 1)[1].split(">", 1)[0]
                c.sendall((self.rcpt_reply(addr) + "\r\n").encode())
            elif verb == "DATA":
                c.sendall(b"354 go ahead\r\n")
                while b"\r\n.\r\n" not in buf:
                    more()
                i = buf.index(b"\r\n.\r\n")
                body = bytes(buf[:i + 2])
                del buf[:i + 5]
                body = b"\r\n".join(l[1:] if l.startswith(b".") else l
                                    for l in body.split(b"\r\n"))
                self._message(c, "DATA", body)
                if self.close_after_message:
                    return
            elif verb == "BDAT":
                n = int(cmd.split()[1])
                while len(buf) < n:
                    more()
                body = bytes(buf[:n])
                del buf[:n]
                self._message(c, cmd, body)
                if self.close_after_message:
                    return
            elif verb == "QUIT":
                c.sendall(b"221 2.0.0 bye\r\n")
                return
            else:
                c.sendall(b"250 2.0.0 ok\r\n")

    def _message(self, c, verb, body):
        with self.lock:
            self.messages.append((verb, body))
        c.sendall(b"250 2.0.0 queued\r\n")

    def wait_messages(self, n, timeout=DELIVERY_TIMEOUT):
        wait_until(lambda: len(self.messages) >= n, timeout, what=f"{n} message(s) at {self.ip}")
        with self.lock:
            return list(self.messages)


def scripted(dns, mx, **kw):
    one_mx(dns)
    return ScriptedMX(IP1, mx.port, **kw)


def submit_one(srv, user, pw, rcpt, subject, body=("x",)):
    msg = make_message(user, rcpt, subject, list(body))
    return submit(srv, user, pw, [rcpt], msg), msg


# ---------------------------------------------------------------- reuse

def test_connection_reused_for_the_next_message(make_server, dns, mx):
    one_mx(dns)
    rx = mx.add(IP1, hostname=MX1, extensions=["PIPELINING"])
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    sent = []
    for i in range(3):
        rcpt = f"{uniq('r')}@{REMOTE}"
        qid, msg = submit_one(srv, user, pw, rcpt, f"reuse {i}")
        sent.append((qid, rcpt, msg))
        rx.wait_messages(i + 1)
    for (qid, rcpt, msg), m in zip(sent, rx.messages):
        assert_arrived(m, user, [rcpt], msg)
        assert wait_final(srv, qid, rcpt)["result"] == "sent"
    assert len(rx.sessions) == 1, f"{len(rx.sessions)} connections for 3 messages: {rx.commands}"
    assert rx.count("MAIL") == 3 and rx.count("RSET") == 0, rx.commands
    # an unused connection is closed politely after a moment
    wait_until(lambda: rx.count("QUIT") == 1 and rx.active == 0, 8,
               what="the idle connection to be closed with QUIT")


def test_refused_transaction_is_reset_before_reuse(make_server, dns, mx):
    one_mx(dns)
    rx = mx.add(IP1, hostname=MX1)
    bad, good = f"{uniq('bad')}@{REMOTE}", f"{uniq('good')}@{REMOTE}"
    rx.rcpt(bad, then="550 5.1.1 no such user")
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    q1, _ = submit_one(srv, user, pw, bad, "refused")
    assert wait_final(srv, q1, bad)["result"] == "bounced"
    q2, msg = submit_one(srv, user, pw, good, "after the refusal")
    (m,) = rx.wait_messages(1)
    assert_arrived(m, user, [good], msg)
    assert len(rx.sessions) == 1, rx.commands
    verbs = rx.verbs()
    assert verbs.index("RSET") < len(verbs) - 1 - verbs[::-1].index("MAIL"), verbs
    srv.wait_mail(user)  # the bounce for the refused one


def test_connection_closed_by_the_server_is_not_reused(make_server, dns, mx):
    sm = scripted(dns, mx, close_after_message=True)
    try:
        srv = start(make_server, dns, mx)
        user, pw = srv.add_user()
        for i in range(3):
            rcpt = f"{uniq('c')}@{REMOTE}"
            qid, msg = submit_one(srv, user, pw, rcpt, f"closing {i}")
            sm.wait_messages(i + 1)
            fin = wait_final(srv, qid, rcpt)
            assert fin["result"] == "sent", fin["_line"]
            assert [l["result"] for l in qid_lines(srv, qid) if "result" in l and "to" in l] == ["sent"]
        assert len(sm.reads) == 3, "a closed connection was used again"
    finally:
        sm.stop()


# ---------------------------------------------------------------- limits

def test_per_destination_limit(make_server, dns, mx):
    one_mx(dns)
    rx = mx.add(IP1, hostname=MX1, delay=0.4)
    srv = start(make_server, dns, mx, max_per_destination=2)
    user, pw = srv.add_user()
    rcpts = [f"{uniq('l')}@{REMOTE}" for _ in range(8)]
    with srv.submit_conn(user, pw) as c:
        for r in rcpts:
            _, final = c.mail_transaction(user, [r], make_message(user, r, "limit", ["x"]))
            assert final.code == 250, final
    rx.wait_messages(8, 30)
    assert rx.max_active == 2, f"{rx.max_active} connections at once (limit 2)"
    assert len(rx.sessions) < 8, "no connection was reused"


def test_overall_limit_shared_by_destinations(make_server, dns, mx):
    doms = [("one.test", IP1), ("two.test", IP2), ("three.test", IP3)]
    rxs = []
    for d, ip in doms:
        dns.set(d, "MX", [(10, f"mx.{d}")]).set(f"mx.{d}", "A", [ip])
        rxs.append(mx.add(ip, hostname=f"mx.{d}", delay=0.3))
    srv = start(make_server, dns, mx, max_connections=2)
    user, pw = srv.add_user()
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], sum(r.active for r in rxs))
            time.sleep(0.005)
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        with srv.submit_conn(user, pw) as c:
            for i in range(3):
                for d, _ in doms:
                    r = f"{uniq('o')}@{d}"
                    _, final = c.mail_transaction(user, [r], make_message(user, r, "all", ["x"]))
                    assert final.code == 250, final
        for r in rxs:
            r.wait_messages(3, 30)
    finally:
        stop.set()
        t.join(5)
    assert 1 <= peak[0] <= 2, f"{peak[0]} connections at once (limit 2)"


# ---------------------------------------------------------------- PIPELINING, CHUNKING

def test_pipelining_sends_the_envelope_in_one_write(make_server, dns, mx):
    sm = scripted(dns, mx, extensions=["PIPELINING"])
    try:
        srv = start(make_server, dns, mx)
        user, pw = srv.add_user()
        a, b = f"{uniq('a')}@{REMOTE}", f"{uniq('b')}@{REMOTE}"
        body = ["first", ".leading dot", "..two", "last"]
        msg = make_message(user, a, "pipelined", body)
        qid = submit(srv, user, pw, [a, b], msg)
        ((verb, got),) = sm.wait_messages(1)
        assert verb == "DATA"
        assert got.endswith(msg), got
        envelope = [r for r in sm.reads[0] if b"MAIL FROM" in r]
        assert envelope, sm.reads[0]
        group = envelope[0]
        assert group.count(b"RCPT TO") == 2 and group.endswith(b"DATA\r\n"), group
        for r in (a, b):
            assert wait_final(srv, qid, r)["result"] == "sent"
    finally:
        sm.stop()


def test_pipelining_mail_refused(make_server, dns, mx):
    one_mx(dns)
    rx = mx.add(IP1, hostname=MX1, extensions=["PIPELINING"])
    rx.mail("550 5.7.1 sender refused")
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    r1, r2 = f"{uniq('p')}@{REMOTE}", f"{uniq('q')}@{REMOTE}"
    q1 = submit(srv, user, pw, [r1, r2], make_message(user, r1, "refused", ["x"]))
    for r in (r1, r2):
        fin = wait_final(srv, q1, r)
        assert fin["result"] == "bounced" and "5.7.1 sender refused" in fin["reply"], fin["_line"]
    d = parse_dsn(srv.wait_mail(user)[0])
    assert "5.7.1" in d["text"], d["text"]
    r3 = f"{uniq('ok')}@{REMOTE}"
    _, msg = submit_one(srv, user, pw, r3, "next one")
    (m,) = rx.wait_messages(1)
    assert_arrived(m, user, [r3], msg)
    assert len(rx.sessions) == 1 and rx.count("RSET") == 1, rx.commands


def test_pipelining_partial_failure(make_server, dns, mx):
    one_mx(dns)
    rx = mx.add(IP1, hostname=MX1, extensions=["PIPELINING"])
    bad, good = f"{uniq('bad')}@{REMOTE}", f"{uniq('good')}@{REMOTE}"
    rx.rcpt(bad, then="550 5.1.1 unknown")
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    msg = make_message(user, good, "partial", ["x"])
    qid = submit(srv, user, pw, [bad, good], msg)
    (m,) = rx.wait_messages(1)
    assert_arrived(m, user, [good], msg)
    assert wait_final(srv, qid, bad)["result"] == "bounced"
    assert wait_final(srv, qid, good)["result"] == "sent"


def test_chunking_sends_one_bdat_without_dot_stuffing(make_server, dns, mx):
    sm = scripted(dns, mx, extensions=["PIPELINING", "CHUNKING"])
    try:
        srv = start(make_server, dns, mx)
        user, pw = srv.add_user()
        rcpt = f"{uniq('c')}@{REMOTE}"
        body = [".", ".leading dot", "", "x" * 900, "end"]
        qid, msg = submit_one(srv, user, pw, rcpt, "chunked", body)
        ((verb, got),) = sm.wait_messages(1)
        assert verb == f"BDAT {len(got)} LAST", verb
        assert got.endswith(msg), got
        assert b"\r\n..leading" not in got
        assert not [c for c in sm.commands if c.upper() == "DATA"], sm.commands
        assert wait_final(srv, qid, rcpt)["result"] == "sent"
    finally:
        sm.stop()


def test_chunking_no_body_when_every_recipient_is_refused(make_server, dns, mx):
    sm = scripted(dns, mx, extensions=["PIPELINING", "CHUNKING"],
                  rcpt_reply=lambda a: "550 5.1.1 unknown")
    try:
        srv = start(make_server, dns, mx)
        user, pw = srv.add_user()
        rcpt = f"{uniq('c')}@{REMOTE}"
        qid, _ = submit_one(srv, user, pw, rcpt, "nobody")
        assert wait_final(srv, qid, rcpt)["result"] == "bounced"
        assert not [c for c in sm.commands if c.upper().startswith(("BDAT", "DATA"))], sm.commands
        assert sm.messages == []
    finally:
        sm.stop()


def test_yubin_to_yubin(make_server, dns, tls_cert):
    """A second yubin is the remote: PIPELINING, CHUNKING and STARTTLS from a
    real server; the bytes land in its Maildir."""
    far = make_server(domains=("far.test",))
    far_user, _ = far.add_user(f"{uniq('far')}@far.test")
    dns.set("far.test", "MX", [(10, "mx.far.test")]).set("mx.far.test", "A", ["127.0.0.1"])
    near = make_server(extra=outbound_config(dns, far.smtp))
    user, pw = near.add_user()
    body = ["over the wire", ".dot", "Unicode: naïve café", "end"]
    msg = make_message(user, far_user, "yubin to yubin", body)
    qid = submit(near, user, pw, [far_user], msg)
    assert wait_final(near, qid, far_user)["result"] == "sent"
    (data,) = far.wait_mail(far_user)
    assert data.replace(b"\n", b"\r\n").endswith(msg), data
    assert b"with ESMTPS" in data, data.split(b"\n\n")[0]
    wait_queue_empty(near, qid)


# ---------------------------------------------------------------- AUTH LOGIN, SMTPUTF8

def test_relay_login_when_only_login_is_offered(make_server, dns, tmp_path, test_ca):
    from conftest import Receiver, free_port
    port = free_port()
    rx = Receiver(IP3, port, hostname=MX1, cert={"cert": test_ca["cert"], "key": test_ca["key"]},
                  logins={"relayuser": "relay-Secret-77"}, auth_exclude=["PLAIN"]).start()
    try:
        srv = relay_config(make_server, dns, tmp_path, test_ca, [port])
        user, pw = srv.add_user()
        rcpt = f"{uniq('l')}@elsewhere.test"
        qid, msg = submit_one(srv, user, pw, rcpt, "via LOGIN")
        (m,) = rx.wait_messages(1)
        assert_arrived(m, user, [rcpt], msg)
        assert rx.auth_seen == [("LOGIN", "relayuser", "relay-Secret-77")], rx.auth_seen
        assert wait_final(srv, qid, rcpt)["result"] == "sent"
    finally:
        rx.stop()


def test_smtputf8_message_to_server_without_smtputf8(make_server, dns, mx):
    one_mx(dns)
    rx = mx.add(IP1, hostname=MX1, smtputf8=False)
    srv = start(make_server, dns, mx)
    user, pw = srv.add_user()
    rcpt = f"{uniq('jos')}é@{REMOTE}"
    msg = make_message(user, rcpt, "needs SMTPUTF8", ["x"])
    with srv.submit_conn(user, pw) as c:
        _, final = c.mail_transaction(user, [rcpt], msg, mail_params="SMTPUTF8")
        assert final.code == 250, final
        c.quit()
    fin = wait_final(srv, qid_of(final), rcpt)
    assert fin["result"] == "bounced" and fin["status"] == "5.6.7", fin["_line"]
    assert "SMTPUTF8" in fin["reply"], fin["_line"]
    d = parse_dsn(srv.wait_mail(user)[0])
    assert "SMTPUTF8" in d["text"], d["text"]
    assert rx.count("MAIL") == 0, rx.commands


def qid_of(reply):
    from conftest import qid_from
    return qid_from(reply.text)
