#!/usr/bin/python3
"""Command-flood benchmark for issue 10 (run through bench/flood.sh).

The server's peak memory while CLIENTS clients at once pipeline commands as
fast as their sockets take them and never read a reply, for yubin and, in
the same run, the established server of each protocol:
  imap   IMAP CAPABILITY before login on the plain IMAP listener (Dovecot)
  pop3   POP3 CAPA before login on the plain POP3 listener (Dovecot)
  smtp   SMTP EHLO on the port-25 listener (Postfix)
  fetch  IMAP FETCH 1:* BODY.PEEK[] after LOGIN + SELECT, over IMAPS, on a
         folder of MESSAGES messages of MSG_SIZE bytes (Dovecot)
Each client socket gets a small SO_RCVBUF before it connects, so that the
replies back up in the server and not in the client's kernel.  Each row
runs on a freshly started server: one warm-up session of the same kind
(so that lazily started helpers are part of the baseline), the summed PSS
of the server's processes once it settles (the baseline), then the flood,
bounded by FLOOD_SECS and FLOOD_MIB per client, with the summed PSS sampled
every 0.1 s from before the clients connect until they are gone.

Process helpers and the docs writer come from smtp_accept.py, the IMAP
client, the Maildir and the Dovecot / yubin set-up from imap.py; see
bench/flood.sh for the environment overrides.
"""

import atexit
import os
import random
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

import smtp_accept as sa
import imap as im

CLIENTS = int(os.environ.get("CLIENTS", "50"))
FLOOD_SECS = float(os.environ.get("FLOOD_SECS", "20"))
FLOOD_BYTES = int(float(os.environ.get("FLOOD_MIB", "32")) * 1048576)
RCVBUF = int(os.environ.get("RCVBUF", "4096"))
SNDBUF = int(os.environ.get("SNDBUF", "32768"))
MESSAGES = int(os.environ.get("MESSAGES", "200"))
MSG_SIZE = int(os.environ.get("MSG_SIZE", "40000"))
SCENARIOS = os.environ.get("SCENARIOS", "imap pop3 smtp fetch").split()
SERVERS = os.environ.get("SERVERS", "yubin dovecot postfix").split()
WRITE_DOCS = os.environ.get("WRITE_DOCS", "0") == "1"
YUBIN_BIN = os.environ.get("YUBIN_BIN",
                           os.path.join(sa.REPO, "build-release", "yubin"))
SAMPLE_SECS = 0.1
LIMIT_MIB = 64                 # what issue 10 asks of yubin's peak
CONNECT_TIMEOUT = 90.0         # all clients connected (and logged in)
SEED = 10
SECTION = "## Memory under a command flood (issue 10)"
BEGIN, END = ("<!-- bench/flood.sh: generated, begin -->",
              "<!-- bench/flood.sh: generated, end -->")
# Raised in yubin's bench configuration; see notes().
YUBIN_LIMIT = 4 * CLIENTS + 100
COMMANDS_BEFORE_MAIL = 100000  # the schema's maximum
POSTFIX_JUNK_LIMIT = 100000


def log(msg):
    sa.log(msg)


# ---------------------------------------------------------------- scenarios

class Scenario:
    """One row: what each client sends, on which listener, to whom."""

    def __init__(self, key, label, listener, command, peer, tls=False,
                 login=False):
        self.key, self.label, self.listener = key, label, listener
        self.command, self.peer, self.tls, self.login = command, peer, tls, login

    def chunk(self):
        """About 64 KiB of pipelined commands (16 KiB under TLS, which
        writes all of a chunk or nothing); IMAP tags differ in a chunk."""
        size = 16384 if self.tls else 65536
        out, i, n = [], 0, 0
        while n < size:
            i += 1
            out.append(self.command.replace(b"TAG", b"f%d" % i))
            n += len(out[-1])
        return b"".join(out)


SCENARIO_LIST = [
    Scenario("imap", "IMAP `CAPABILITY` before login (plain IMAP, port 143 role)",
             "imap", b"TAG CAPABILITY\r\n", "Dovecot"),
    Scenario("pop3", "POP3 `CAPA` before login (plain POP3, port 110 role)",
             "pop3", b"CAPA\r\n", "Dovecot"),
    Scenario("smtp", "SMTP `EHLO` (port 25 role)",
             "smtp", b"EHLO flood.bench.test\r\n", "Postfix"),
    Scenario("fetch", "IMAP `FETCH 1:* BODY.PEEK[]` after LOGIN + SELECT, "
             "IMAPS, %d × %d KB" % (MESSAGES, MSG_SIZE // 1000),
             "imaps", b"TAG FETCH 1:* BODY.PEEK[]\r\n", "Dovecot",
             tls=True, login=True),
]


# ---------------------------------------------------------------- folder

def make_folder(top):
    """MESSAGES plain-text messages of about MSG_SIZE bytes in top/new/.
    Returns the bytes a FETCH 1:* BODY[] literal carries (CRLF line ends)."""
    rng = random.Random(SEED)
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(top, sub))
    total = 0
    for i in range(MESSAGES):
        head = ("From: Flood Sender <sender@example.org>\n"
                "To: %s\nSubject: flood message %d\n"
                "Date: %s\nMessage-ID: <flood.%d@example.org>\n"
                "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
                % (im.USER, i, time.strftime(
                    "%a, %d %b %Y %H:%M:%S +0000",
                    time.gmtime(1700000000 + i * 60)), i))
        body = im.paragraph(rng, MSG_SIZE - len(head))
        data = (head + body).encode()
        t = 1700000000 + i
        p = os.path.join(top, "new", "%d.M%dP10Q%d.flood.bench.test" % (t, i, i))
        with open(p, "wb") as f:
            f.write(data)
        os.utime(p, (t, t))
        total += len(data) + data.count(b"\n")
    return total


# ---------------------------------------------------------------- servers

YUBIN_CONF = ("# yubin command-flood benchmark instance (bench/flood.py).\n"
              + im.YUBIN_BASE + """\
listeners = (
  {{ role = "smtp";  address = "127.0.0.1"; port = {smtp}; }},
  {{ role = "pop3";  address = "127.0.0.1"; port = {pop3}; }},
  {{ role = "imap";  address = "127.0.0.1"; port = {imap}; }},
  {{ role = "imaps"; address = "127.0.0.1"; port = {imaps}; }}
);
limits: {{
  connections = {conns};
  connections_per_ip = {conns};
  imap_sessions_per_user = {conns};
  commands_before_mail = {cbm};
}};
""")


class Yubin(im.Yubin):
    """imap.py's yubin with an smtp, a pop3, an imap and an imaps
    listener."""

    def write_conf(self):
        self.ports = {"imaps": self.port, "imap": self.imap_port,
                      "pop3": sa.free_port(), "smtp": sa.free_port()}
        with open(self.conf, "w") as f:
            f.write(YUBIN_CONF.format(
                data=self.data, base=self.base, domain=im.DOMAIN,
                conns=YUBIN_LIMIT, cbm=COMMANDS_BEFORE_MAIL, **self.ports))


DOVECOT_CONF = ("# Private Dovecot instance for bench/flood.py.  Everything "
                "not set here is\n# Dovecot's default.\n") + im.DOVECOT_BASE + """\
mail_max_userip_connections = {userip}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
"""


class Dovecot(im.Dovecot):
    """imap.py's private Dovecot with plain IMAP, IMAPS and plain POP3
    listeners, its process model as shipped."""

    def __init__(self, root):
        super().__init__(root)
        self.ports = {"imaps": self.port, "imap": sa.free_port(),
                      "pop3": sa.free_port()}

    def write_conf(self, dense=False):
        with open(self.conf, "w") as f:
            f.write(DOVECOT_CONF.format(
                instance="yubin-flood-dovecot", protocols="imap pop3",
                ssl="yes", userip=2 * CLIENTS, **self.ports,
                **self.conf_args()))

    @staticmethod
    def note():
        return ("Dovecot: a private instance (`dovecot -c FILE -F`, as in the "
                "IMAP section) with a plain IMAP, an IMAPS and a plain POP3 "
                "listener, `ssl = yes`, passwd-file passdb with yubin's hash "
                "of the password, static userdb, and "
                "`mail_max_userip_connections = %d` (default 10: the fetch "
                "row logs 50 sessions of one user in from one address); "
                "everything else at Dovecot's defaults, which take the 50 "
                "clients as they are (`default_process_limit` 100, "
                "`default_client_limit` 1000). Its process model as shipped: "
                "one imap-login or pop3-login process per connection "
                "(`service_count = 1`), which answers everything before "
                "login, and after LOGIN one imap process per session, with "
                "the imap-login process kept as its TLS proxy; the sum counts "
                "the master and every descendant (login, imap, auth, anvil, "
                "log, config, stats)." % (2 * CLIENTS))


class Postfix(sa.Postfix):
    """smtp_accept.py's private Postfix, with the junk-command limit raised
    like yubin's."""

    def setup(self):
        super().setup()
        r = sa.run(["postconf", "-c", self.etc, "-e",
                    "smtpd_junk_command_limit = %d" % POSTFIX_JUNK_LIMIT])
        if r.returncode != 0:
            raise sa.BenchError("postconf: %s%s" % (r.stdout, r.stderr))
        self.ports = {"smtp": self.port}

    @property
    def root_pid(self):
        return self.master

    @staticmethod
    def version():
        return "Postfix %s (Debian package)" % sa.postfix_version()

    @staticmethod
    def note():
        return ("Postfix: a private instance as in the SMTP acceptance "
                "section (`postfix -c DIR start`, Debian's master.cf services "
                "with chroot off), with `smtpd_junk_command_limit = %d` "
                "(default 100: EHLO counts, and past the limit each command "
                "is an error, so the flood would end in a disconnect after "
                "about 120 EHLOs); one smtpd process per connection "
                "(`default_process_limit` 100 takes the 50 clients); the sum "
                "counts the master and every descendant (smtpd, anvil, "
                "postlogd, ...)." % POSTFIX_JUNK_LIMIT)


# ---------------------------------------------------------------- clients

TCP_ESTABLISHED = 1


def tcp_state(sock):
    """The kernel's TCP state of a client socket (tcp_info.tcpi_state)."""
    try:
        return struct.unpack("B", sock.getsockopt(socket.IPPROTO_TCP,
                                                  socket.TCP_INFO, 8)[:1])[0]
    except OSError:
        return 0


def socket_queues(port):
    """Bytes in the kernel's send and receive queues of the server's
    established connections on 127.0.0.1:port (/proc/net/tcp)."""
    tx = rx = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if int(parts[1].split(":")[1], 16) != port or parts[3] != "01":
                continue
            q = parts[4].split(":")
            tx, rx = tx + int(q[0], 16), rx + int(q[1], 16)
    return tx, rx


class Client(threading.Thread):
    """One flooding client: connects (small SO_RCVBUF), reads the greeting,
    logs in and selects INBOX for the fetch row, waits for go, then sends
    its chunk of commands again and again until the deadline or FLOOD_BYTES,
    never reading."""

    def __init__(self, port, scen, ctx, ready, go):
        super().__init__(daemon=True)
        self.port, self.scen, self.ctx = port, scen, ctx
        self.ready, self.go = ready, go
        self.sock, self.buf = None, bytearray()
        self.sent, self.error, self.closed_at = 0, None, None
        self.connected = False
        self.deadline = None

    def line(self, deadline):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return out
            if time.monotonic() > deadline:
                raise sa.BenchError("no reply within %.0f s" % CONNECT_TIMEOUT)
            data = self.sock.recv(65536)
            if not data:
                raise sa.BenchError("closed by the server while connecting")
            self.buf += data

    def setup(self):
        deadline = time.monotonic() + CONNECT_TIMEOUT
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SNDBUF)
        s.settimeout(CONNECT_TIMEOUT)
        s.connect(("127.0.0.1", self.port))
        self.sock = self.ctx.wrap_socket(s) if self.scen.tls else s
        greeting = self.line(deadline)
        while greeting[3:4] == b"-":          # SMTP multi-line greeting
            greeting = self.line(deadline)
        if not greeting[:1] in (b"*", b"+", b"2"):
            raise sa.BenchError("greeting %r" % greeting[:200])
        if self.scen.login:
            for tag, cmd in ((b"l1", b'LOGIN "%s" "%s"' % (
                    im.USER.encode(), im.PASSWORD.encode())),
                    (b"l2", b"SELECT INBOX")):
                self.sock.sendall(tag + b" " + cmd + b"\r\n")
                while True:
                    ln = self.line(deadline)
                    if ln.startswith(tag + b" "):
                        break
                if not ln.startswith(tag + b" OK"):
                    raise sa.BenchError("%s: %r" % (cmd[:6], ln[:200]))
        self.connected = True

    def flood(self):
        data = memoryview(self.scen.chunk())
        off = 0
        self.sock.settimeout(0.2)
        while self.sent < FLOOD_BYTES and time.monotonic() < self.deadline:
            try:
                n = self.sock.send(data[off:])
            except (socket.timeout, ssl.SSLWantWriteError):
                continue
            except (OSError, ssl.SSLError) as e:
                self.error = "%s" % (e.strerror or e)
                self.closed_at = time.monotonic()
                return
            self.sent += n
            off = (off + n) % len(data)

    def run(self):
        try:
            self.setup()
        except (OSError, ssl.SSLError, sa.BenchError) as e:
            self.error = "connect: %r" % e
        self.ready.release()
        if not self.go.wait(CONNECT_TIMEOUT + 30) or not self.connected:
            return
        self.deadline = self.go.deadline
        self.flood()

    def close(self):
        if self.sock is None:
            return
        try:       # a reset: no server should spend time flushing to us
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


class Go(threading.Event):
    deadline = None


def warm_up(srv, scen, ctx):
    """One ordinary session of the row's kind, read to the end."""
    port = srv.ports[scen.listener]
    if scen.key == "fetch":
        c = im.Imap(port, ctx)
        c.login_select()
        c.cmd("FETCH 1:* BODY.PEEK[]", keep=False)
        got = c.literals
        c.close()
        return got
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        f = s.makefile("rb")
        f.readline()
        end = {"imap": (b"a1 CAPABILITY\r\n", b"a1 "),
               "pop3": (b"CAPA\r\n", b"."),
               "smtp": (b"EHLO warm.bench.test\r\n", b"250 ")}[scen.key]
        s.sendall(end[0])
        while True:
            ln = f.readline()
            if not ln or ln.startswith(end[1]):
                break
        s.sendall({"imap": b"a2 LOGOUT\r\n"}.get(scen.key, b"QUIT\r\n"))
    return None


def flood_row(srv, scen, ctx):
    """Start srv fresh, warm it up, measure the baseline, flood it."""
    srv.start()
    try:
        got = warm_up(srv, scen, ctx)
        base_pss, base_procs = im.settle_pss(srv.root_pid)
        # Two windows: while the clients connect (and log in), and from the
        # flood's start until the clients are gone.
        connecting = sa.MemSampler(srv.root_pid, SAMPLE_SECS)
        connecting.start()
        ready, go = threading.Semaphore(0), Go()
        clients = [Client(srv.ports[scen.listener], scen, ctx, ready, go)
                   for _ in range(CLIENTS)]
        t0 = time.monotonic()
        for c in clients:
            c.start()
        for _ in clients:
            ready.acquire(timeout=max(1, CONNECT_TIMEOUT + 5 -
                                      (time.monotonic() - t0)))
        connect_s = time.monotonic() - t0
        connecting.stop()
        sampler = sa.MemSampler(srv.root_pid, SAMPLE_SECS)
        sampler.start()
        go.deadline = time.monotonic() + FLOOD_SECS
        t_flood = time.monotonic()
        go.set()
        for c in clients:
            c.join(max(1, go.deadline + 10 - time.monotonic()))
        flood_s = time.monotonic() - t_flood
        states = [tcp_state(c.sock) if c.sock is not None and c.error is None
                  else 0 for c in clients]
        pss_end = im.pss_tree(srv.root_pid)[0]
        queues = socket_queues(srv.ports[scen.listener])
        names = im.proc_names(srv.root_pid)
        for c in clients:
            c.close()
        time.sleep(0.5)
        sampler.stop()
        r = {"server": srv.name, "scenario": scen.key, "base": base_pss,
             "base_procs": base_procs, "peak": sampler.peak_pss,
             "peak_procs": sampler.peak_procs, "end": pss_end,
             "connect_peak": connecting.peak_pss, "queues": queues,
             "names": names, "connect_s": connect_s, "flood_s": flood_s,
             "connected": sum(c.connected for c in clients),
             "closed": sum(1 for c in clients if c.closed_at is not None),
             "open_end": sum(1 for s in states if s == TCP_ESTABLISHED),
             "sent": sum(c.sent for c in clients),
             "errors": [c.error for c in clients if c.error],
             "warm_bytes": got}
        log("%s %s: %d/%d connected in %.1f s; sent %.1f MiB in %.1f s; "
            "PSS %.1f -> %.1f MiB at most while connecting, flood peak "
            "%.1f MiB (%d -> %d processes), %.1f at the "
            "end; %d disconnected by the server, %d still open; processes "
            "at the end: %s" % (
                srv.name, scen.key, r["connected"], CLIENTS, connect_s,
                r["sent"] / 1048576, flood_s, base_pss / 1024,
                r["connect_peak"] / 1024,
                r["peak"] / 1024, base_procs, r["peak_procs"],
                pss_end / 1024, r["closed"], r["open_end"], names))
        if r["errors"]:
            log("%s %s: first client error: %s (%d in all)" % (
                srv.name, scen.key, r["errors"][0], len(r["errors"])))
        return r
    finally:
        srv.stop()


# ---------------------------------------------------------------- report

def mib(kib):
    return "%.1f" % (kib / 1024)


def mem_table(res):
    out = ["| scenario | yubin peak PSS, MiB | yubin baseline, MiB | yubin "
           "growth, MiB | peer | peer peak PSS, MiB (processes at most) | "
           "peer baseline, MiB (processes) | ratio yubin/peer (peak) | yubin "
           "under %d MiB |" % LIMIT_MIB,
           "|---|---:|---:|---:|---|---:|---:|---:|---|"]
    for scen in SCENARIO_LIST:
        y = res.get(("yubin", scen.key))
        p = res.get((scen.peer, scen.key))
        if y is None and p is None:
            continue
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            scen.label,
            mib(y["peak"]) if y else "—", mib(y["base"]) if y else "—",
            mib(y["peak"] - y["base"]) if y else "—", scen.peer,
            "%s (%d)" % (mib(p["peak"]), p["peak_procs"]) if p else "—",
            "%s (%d)" % (mib(p["base"]), p["base_procs"]) if p else "—",
            "%.2f" % (y["peak"] / p["peak"]) if y and p else "—",
            ("yes" if y["peak"] < LIMIT_MIB * 1024 else "**no**") if y else "—"))
    return "\n".join(out)


def load_table(res):
    out = ["| scenario | server | commands the clients got in, MiB (commands) "
           "| clients connected | disconnected by the server during the flood "
           "| still connected at the end | PSS at the end of the flood, MiB "
           "| server's socket queues at the end, MiB (send + receive) "
           "| peak PSS while the clients connected, MiB |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for scen in SCENARIO_LIST:
        for name in ("yubin", scen.peer):
            r = res.get((name, scen.key))
            if r is None:
                continue
            per = len(scen.command.replace(b"TAG", b"f99"))
            out.append("| %s | %s | %.1f (%s) | %d | %d | %d | %s | %s + %s "
                       "| %s |" % (
                           scen.key, name, r["sent"] / 1048576,
                           "{:,}".format(r["sent"] // per), r["connected"],
                           r["closed"], r["open_end"], mib(r["end"]),
                           mib(r["queues"][0] / 1024),
                           mib(r["queues"][1] / 1024),
                           mib(r["connect_peak"])))
    return "\n".join(out)


def section(res, info, notes, problems, total_s):
    lines = [
        BEGIN,
        "Run %s with `bench/flood.sh` (%.0f s in all). Each row: %d clients "
        "connect at once (each socket with `SO_RCVBUF` = %d set before "
        "connect, so the kernel advertises a small window and the replies "
        "back up in the server, not in the client; and `SO_SNDBUF` = %d, so "
        "that what a client got into its socket is close to what the server "
        "read), read the greeting (the "
        "fetch row also logs in and SELECTs INBOX), and then all send the "
        "same command over and over, pipelined, as fast as their sockets "
        "take it, for %.0f s or %d MiB per client, never reading a reply. "
        "Then the clients reset their connections. The fetch row's folder: "
        "%d generated text/plain messages of %d bytes (%.1f MiB per "
        "`FETCH 1:* BODY.PEEK[]` answer), copied into each server's Maildir."
        % (info["date"], total_s, CLIENTS, RCVBUF, SNDBUF, FLOOD_SECS,
           FLOOD_BYTES // 1048576, MESSAGES, MSG_SIZE,
           info["fetch_bytes"] / 1048576),
        "",
        "- Machine: %s, %s cores, %s, kernel %s" % (
            info["cpu"], info["cores"], info["os"], info["kernel"]),
        "- %s" % ", ".join(info["versions"]),
        "",
        mem_table(res),
        "",
        "Memory: each row runs on a freshly started server, after one "
        "ordinary session of the row's kind read to its end (for fetch: "
        "LOGIN, SELECT and the whole `FETCH 1:* BODY.PEEK[]`), so that "
        "lazily started helpers and caches are in the baseline. The baseline "
        "is the summed PSS (`/proc/PID/smaps_rollup`) of every process of "
        "the server once it has settled; the peak is the largest such sum, "
        "sampled every %.1f s from the start of the flood (every client "
        "connected, and logged in for fetch) until after the clients are "
        "gone; growth = peak − baseline. The peak while the clients connect "
        "and log in is sampled the same way and shown apart in the second "
        "table: it is not the flood's. For yubin that is its one "
        "process; for Dovecot and Postfix the master and every descendant, "
        "which come and go. Memory the kernel holds for the sockets (their "
        "send and receive queues) is in no process's PSS and not counted; "
        "the second table shows how much of it the server's connections "
        "held when the flood ended (the send queue of a connection grows, "
        "up to `net.ipv4.tcp_wmem`'s maximum, before the server's own "
        "output backs up)."
        % SAMPLE_SECS,
        "",
        "What each server took: the bytes the clients got into the socket "
        "before the deadline (a server that stops reading stops them; "
        "commands = bytes / the command's length), and how the connections "
        "ended.",
        "",
        load_table(res),
        "",
    ] + ["- " + n for n in notes]
    if problems:
        lines += ["", "Problems seen in this run:", ""] + \
            ["- " + p for p in problems]
    lines.append(END)
    return "\n".join(lines)


def notes(servers):
    out = []
    if "yubin" in servers:
        out.append(
            "yubin: `yubin serve` with an smtp (port-25 behaviour), a pop3, "
            "an imap and an imaps listener; `limits.connections`, "
            "`connections_per_ip` and `imap_sessions_per_user` = %d "
            "(defaults 2000, 50 and 50: %d clients from one address would "
            "sit at or over the per-address limit while the warm-up session "
            "closes), and `limits.commands_before_mail` = %d (default 100: "
            "EHLO counts, and past the limit yubin answers 421 and closes, "
            "which would end the SMTP flood after 100 commands instead of "
            "measuring it); every other setting at its default."
            % (YUBIN_LIMIT, CLIENTS, COMMANDS_BEFORE_MAIL))
    if "Dovecot" in servers:
        out.append(Dovecot.note())
    if "Postfix" in servers:
        out.append(Postfix.note())
    return out


# ---------------------------------------------------------------- main

def main():
    t_start = time.monotonic()
    atexit.register(sa.cleanup)
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, sa.on_signal)
    if os.geteuid() != 0:
        raise sa.BenchError("run as root (the servers' privilege drop)")
    tools = {"dovecot": "dovecot", "postfix": "postfix"}
    for s in SERVERS:
        if s in tools and not shutil.which(tools[s]):
            raise sa.BenchError("%s not found (apt-get install dovecot-imapd "
                                "dovecot-pop3d postfix)" % tools[s])
    if "dovecot" in SERVERS and "pop3" in SCENARIOS and \
            not os.path.exists("/usr/lib/dovecot/pop3-login"):
        raise sa.BenchError("Dovecot's POP3 is not installed "
                            "(apt-get install dovecot-pop3d)")
    if "yubin" in SERVERS and not os.access(YUBIN_BIN, os.X_OK):
        raise sa.BenchError("%s is not built" % YUBIN_BIN)
    sa.tmp_root = root = tempfile.mkdtemp(prefix="yubin-flood-")
    os.chmod(root, 0o755)
    log("%d clients, %.0f s per row, %d MiB per client at most, SO_RCVBUF "
        "%d, scenarios %s, servers %s, in %s" % (
            CLIENTS, FLOOD_SECS, FLOOD_BYTES // 1048576, RCVBUF, SCENARIOS,
            SERVERS, root))
    info = sa.machine_info(root)
    master = os.path.join(root, "master-maildir")
    info["fetch_bytes"] = make_folder(master)
    im.make_cert(root)
    servers, versions = {}, []
    pw_hash = None
    if "yubin" in SERVERS:
        servers["yubin"] = Yubin(root)
        pw_hash = servers["yubin"].setup(master)
        versions.append(Yubin.version())
    if "dovecot" in SERVERS and {"imap", "pop3", "fetch"} & set(SCENARIOS):
        if pw_hash is None:
            pw_hash = sa.run(["openssl", "passwd", "-6",
                              im.PASSWORD]).stdout.strip()
        servers["Dovecot"] = Dovecot(root)
        servers["Dovecot"].setup(master, pw_hash)
        versions.append(Dovecot.version())
    if "postfix" in SERVERS and "smtp" in SCENARIOS:
        servers["Postfix"] = Postfix(root)
        servers["Postfix"].setup()
        versions.append(Postfix.version())
    info["versions"] = versions
    ctx = im.client_ctx()
    res, problems = {}, []
    for scen in SCENARIO_LIST:
        if scen.key not in SCENARIOS:
            continue
        for name in ("yubin", scen.peer):
            srv = servers.get(name)
            if srv is None:
                continue
            try:
                r = flood_row(srv, scen, ctx)
            except (OSError, ssl.SSLError, subprocess.SubprocessError,
                    sa.BenchError) as e:
                problems.append("%s, %s: %r" % (name, scen.key, e))
                log(problems[-1])
                continue
            res[(name, scen.key)] = r
            if r["connected"] != CLIENTS:
                problems.append("%s, %s: %d of %d clients connected (first "
                                "error: %s)" % (name, scen.key,
                                                r["connected"], CLIENTS,
                                                r["errors"][:1]))
            if r["warm_bytes"] is not None and \
                    r["warm_bytes"] != info["fetch_bytes"]:
                problems.append("%s: the warm-up FETCH 1:* BODY.PEEK[] "
                                "returned %d literal bytes, %d expected" % (
                                    name, r["warm_bytes"], info["fetch_bytes"]))
    total_s = time.monotonic() - t_start
    text = section(res, info, notes(servers), problems, total_s)
    print("\n" + text)
    if WRITE_DOCS:
        sa.write_generated(SECTION, BEGIN, END, text)
    log("done in %.0f s" % total_s)
    return 1 if problems else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except sa.BenchError as e:
        log("error: %s" % e)
        sys.exit(2)
