#!/usr/bin/python3
"""IMAP benchmark for issue 4 (run through bench/imap.sh).

yubin against a private Dovecot 2.3 instance on the same machine, in one
run, on copies of the same generated 10,000-message Maildir, all over
implicit TLS (IMAPS) on 127.0.0.1:
  1. connect + TLS + LOGIN + SELECT INBOX (and SELECT alone);
  2. FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE);
  3. 1,000 full bodies (every 10th UID): one UID FETCH n BODY.PEEK[] per
     message, waiting for each answer, and all 1,000 in one UID FETCH;
  4. SEARCH TEXT on a word that 1 % of the messages contain;
  5. PSS per idle connection: IDLE_CONNS connections, each logged in, INBOX
     selected, IDLE sent; (summed PSS of the server's processes) minus the
     same sum before the connections, divided by IDLE_CONNS.  Dovecot is
     measured twice: with its process model as shipped (one imap process
     and one imap-login TLS proxy per connection) and with
     service imap { client_limit } raised (many connections per process).
Each timed figure is the median of REPEAT runs, after one untimed first
run (reported too); every run uses a fresh session.  The first SELECT after
the Maildir was copied in (both servers take in new/ then) is timed apart.
The client is this Python process (raw sockets + ssl, its own literal-aware
response reader), the same code for both servers.

Process helpers come from smtp_accept.py; see bench/imap.sh for the
environment overrides.
"""

import atexit
import concurrent.futures
import os
import pwd
import grp
import random
import re
import resource
import shutil
import signal
import socket
import sqlite3
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

import smtp_accept as sa

MESSAGES = int(os.environ.get("MESSAGES", "10000"))
REPEAT = max(1, int(os.environ.get("REPEAT", "5")))
BODIES = int(os.environ.get("BODIES", "1000"))
IDLE_CONNS = int(os.environ.get("IDLE_CONNS", "1000"))
OPEN_THREADS = int(os.environ.get("OPEN_THREADS", "8"))
OP_TIMEOUT = float(os.environ.get("OP_TIMEOUT", "120"))
OPEN_TIMEOUT = float(os.environ.get("OPEN_TIMEOUT", "240"))
SERVERS = os.environ.get("SERVERS", "yubin dovecot").split()
WRITE_DOCS = os.environ.get("WRITE_DOCS", "0") == "1"
YUBIN_BIN = os.environ.get("YUBIN_BIN",
                           os.path.join(sa.REPO, "build-release", "yubin"))
SEED = 4
# Dovecot's second memory row: connections per imap process.  One process
# for all 1,000 dies at its default vsz_limit (256 MB) after ~440 sessions
# on this mailbox, so 100 (10 processes).
DENSE_LIMIT = int(os.environ.get("DENSE_LIMIT", "100"))
DOMAIN = "bench.test"
LOCAL = "bench"
USER = LOCAL + "@" + DOMAIN
PASSWORD = "bench-password"
WORD = "kumquat"              # in the text of every 100th message, nowhere else
SECTION = "## IMAP (issue 4)"
BEGIN, END = ("<!-- bench/imap.sh: generated, begin -->",
              "<!-- bench/imap.sh: generated, end -->")


def log(msg):
    sa.log(msg)


# ---------------------------------------------------------------- messages

VOCAB = """the of and to in is that for it as was with be by on not he this are
or his from at which but have an they you were her she there been one all we
their has would when if so no what up can out about who more some them time
into only do could new other than then now my made over did like just any
people after also first way well may back much where year years should these
very still through good our because between work life long great must part
how both under day being while last world state little men own even before
same too going around place might here again house report meeting budget
project quarter review draft schedule invoice shipment customer account
release server network update change request approval agenda minutes note
office team plan design test result issue fix support contract payment order
delivery price market sales figure table chart summary proposal question
answer detail travel hotel flight dinner lunch weekend holiday family garden
weather coffee train station ticket concert library museum school class
lesson homework doctor appointment insurance bank transfer receipt deadline
monday tuesday wednesday thursday friday morning afternoon evening tomorrow
yesterday please thanks regards attached following below above soon later""".split()

NAMES = ["Alice Archer", "Bob Baker", "Carol Chen", "Dan Duarte", "Erin Evans",
         "Frank Fischer", "Grace Gupta", "Hiro Hayashi", "Ines Ibarra",
         "Jun Jeong", "Kofi Kumah", "Lena Lund", "Marta Molina", "Nils Nygaard",
         "Olga Orlova", "Priya Patel", "Quinn Quigley", "Rosa Rossi",
         "Sven Strand", "Tomoko Tanaka", "Uma Urban", "Victor Vidal",
         "Wen Wang", "Yara Yilmaz", "Zoe Zimmer"]
HOSTS = ["example.com", "example.org", "example.net", "mail.example.com",
         "corp.example", "lists.example.org"]


def addr(rng):
    n = rng.choice(NAMES)
    return n, "%s.%s@%s" % (n.split()[0].lower(), n.split()[1].lower(),
                             rng.choice(HOSTS))


def paragraph(rng, nbytes, word=False):
    words, size = [], 0
    while size < nbytes:
        w = rng.choice(VOCAB)
        words.append(w)
        size += len(w) + 1
    if word:
        words.insert(rng.randrange(len(words)), WORD)
    out, line = [], ""
    for w in words:
        if len(line) + len(w) + 1 > 72:
            out.append(line)
            line = w
        else:
            line = (line + " " + w) if line else w
    out.append(line)
    return "\n".join(out) + "\n"


def message(i, rng):
    """Message i: LF line ends (as Maildir stores them); ~2/3 plain text,
    ~1/5 multipart/mixed with a base64 attachment, the rest
    multipart/alternative (text + HTML).  The word WORD is in the text of
    every 100th message."""
    fname, faddr = addr(rng)
    tname, taddr = addr(rng)
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000",
                         time.gmtime(1700000000 + i * 600))
    subject = " ".join(rng.choice(VOCAB) for _ in range(rng.randint(3, 8)))
    has_word = i % 100 == 37
    hdr = [
        "Return-Path: <%s>" % faddr,
        "Delivered-To: %s" % USER,
        "Received: from mx%d.%s (mx%d.%s [192.0.2.%d])\n\tby mx.bench.test "
        "with ESMTPS id %08X\n\tfor <%s>; %s" % (i % 7, HOSTS[i % 6], i % 7,
                                                HOSTS[i % 6], i % 250 + 1, i,
                                                USER, date),
        "Received: from [10.0.%d.%d] by mx%d.%s with ESMTPSA; %s"
        % (i % 250, i % 200, i % 7, HOSTS[i % 6], date),
        "From: %s <%s>" % (fname, faddr),
        "To: %s <%s>" % (tname, taddr),
    ]
    if rng.random() < 0.3:
        cname, caddr = addr(rng)
        hdr.append("Cc: %s <%s>, %s" % (cname, caddr, USER))
    hdr += ["Subject: %s%s" % ("Re: " if rng.random() < 0.3 else "", subject),
            "Date: %s" % date,
            "Message-ID: <%d.%x@%s>" % (i, rng.getrandbits(48), HOSTS[i % 6])]
    if i > 0 and rng.random() < 0.3:
        hdr.append("In-Reply-To: <%d.0@%s>" % (i - 1, HOSTS[(i - 1) % 6]))
    hdr.append("MIME-Version: 1.0")
    text = paragraph(rng, rng.randint(800, 4500), has_word)
    kind = rng.random()
    if kind < 0.65:
        hdr += ["Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: 8bit"]
        body = text
    elif kind < 0.85:
        b = "=_mixed_%d" % i
        raw = rng.randbytes(rng.randint(1500, 9000))
        import base64
        enc = base64.encodebytes(raw).decode()
        name = "%s-%d.pdf" % (rng.choice(VOCAB), i)
        hdr.append('Content-Type: multipart/mixed; boundary="%s"' % b)
        body = ("This is a multi-part message in MIME format.\n\n--%s\n"
                "Content-Type: text/plain; charset=utf-8\n"
                "Content-Transfer-Encoding: 8bit\n\n%s\n--%s\n"
                "Content-Type: application/pdf; name=\"%s\"\n"
                "Content-Disposition: attachment; filename=\"%s\"\n"
                "Content-Transfer-Encoding: base64\n\n%s\n--%s--\n"
                % (b, text, b, name, name, enc, b))
    else:
        b = "=_alt_%d" % i
        html = "<html><body><p>%s</p></body></html>\n" % \
            text.replace("\n\n", "</p><p>")
        hdr.append('Content-Type: multipart/alternative; boundary="%s"' % b)
        body = ("--%s\nContent-Type: text/plain; charset=utf-8\n\n%s\n--%s\n"
                "Content-Type: text/html; charset=utf-8\n\n%s\n--%s--\n"
                % (b, text, b, html, b))
    return ("\n".join(hdr) + "\n\n" + body).encode()


def make_maildir(top):
    """MESSAGES messages in top/new/, named and dated in UID order (both
    servers take in new/ sorted by the time in the name / the file time).
    Returns (total bytes, messages containing WORD)."""
    rng = random.Random(SEED)
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(top, sub))
    total = 0
    for i in range(MESSAGES):
        data = message(i, rng)
        t = 1700000000 + i
        p = os.path.join(top, "new", "%d.M%dP4242Q%d.gen.bench.test" % (t, i, i))
        with open(p, "wb") as f:
            f.write(data)
        os.utime(p, (t, t))
        total += len(data)
    return total, len(range(37, MESSAGES, 100))


def copy_maildir(src, dst):
    shutil.copytree(src, dst, copy_function=shutil.copy2, dirs_exist_ok=True)
    nobody = pwd.getpwnam("nobody")
    for d, dirs, files in os.walk(dst):
        os.chown(d, nobody.pw_uid, nobody.pw_gid)
        for f in files:
            os.chown(os.path.join(d, f), nobody.pw_uid, nobody.pw_gid)


# ---------------------------------------------------------------- client

class ImapError(sa.BenchError):
    pass


LITERAL = re.compile(rb"\{(\d+)\+?\}$")


class Imap:
    """Minimal IMAP client over implicit TLS: sends a command, reads the
    answer up to its tagged line, skipping literals by their length."""

    def __init__(self, port, ctx, timeout=OP_TIMEOUT):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = ctx.wrap_socket(self.sock)
        self.buf = bytearray()
        self.n = 0
        self.literals = 0          # literal bytes in the last answer
        greeting = self.line()
        if not greeting.startswith(b"* OK"):
            raise ImapError("greeting %r" % greeting[:200])

    def fill(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ImapError("connection closed by the server")
        self.buf += chunk

    def line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return out
            self.fill()

    def send(self, text):
        self.n += 1
        tag = b"a%d" % self.n
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        return tag

    def answer(self, tag, keep=True):
        """Read up to the tagged line; returns (untagged bytes, tagged line)."""
        start, pos, lit = 0, 0, 0
        prefix = tag + b" "
        deadline = time.monotonic() + OP_TIMEOUT
        while True:
            i = self.buf.find(b"\r\n", pos)
            if i < 0:
                if time.monotonic() > deadline:
                    raise ImapError("no answer to %s within %.0f s" % (tag, OP_TIMEOUT))
                self.fill()
                continue
            m = LITERAL.search(self.buf, max(start, i - 12), i)
            if m:
                n = int(m.group(1))
                while len(self.buf) < i + 2 + n:
                    self.fill()
                lit += n
                pos = i + 2 + n
                continue
            if self.buf.startswith(prefix, start):
                tagged = bytes(self.buf[start:i])
                data = bytes(self.buf[:start]) if keep else b""
                del self.buf[:i + 2]
                self.literals = lit
                if not tagged.startswith(prefix + b"OK"):
                    raise ImapError("%s" % tagged[:300])
                return data, tagged
            start = pos = i + 2

    def cmd(self, text, keep=True):
        return self.answer(self.send(text), keep)

    def login_select(self):
        self.cmd('LOGIN "%s" "%s"' % (USER, PASSWORD))
        return self.cmd("SELECT INBOX")

    def close(self):
        try:
            self.sock.sendall(b"z LOGOUT\r\n")
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


def client_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    return ctx


# ---------------------------------------------------------------- servers

def make_cert(path):
    r = sa.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-days", "60",
                "-keyout", os.path.join(path, "key.pem"),
                "-out", os.path.join(path, "cert.pem"),
                "-subj", "/CN=imap.bench.test"], timeout=60)
    if r.returncode != 0:
        raise sa.BenchError("openssl: %s" % r.stderr)
    os.chmod(os.path.join(path, "key.pem"), 0o644)


def wait_imaps(port, timeout, alive):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise sa.BenchError("server exited while starting")
        try:
            c = Imap(port, client_ctx(), timeout=5)
            c.close()
            return
        except (OSError, ImapError, ssl.SSLError):
            time.sleep(0.2)
    raise sa.BenchError("no IMAPS greeting on port %d within %ds" % (port, timeout))


# What every benchmark's yubin configuration starts with (bench/flood.py's
# too): its data directory, the domain, the certificate make_cert() wrote.
YUBIN_BASE = """\
hostname = "yubin.bench.test";
data_dir = "{data}";
user = "nobody";
log = "stderr";
domains = [ "{domain}" ];
tls: {{ cert = "{base}/../cert.pem"; key = "{base}/../key.pem"; }};
"""

YUBIN_CONF = "# yubin IMAP benchmark instance (bench/imap.py).\n" + YUBIN_BASE + """\
listeners = (
  {{ role = "imap";  address = "127.0.0.1"; port = {imap}; }},
  {{ role = "imaps"; address = "127.0.0.1"; port = {imaps}; }}
);
limits: {{ connections = {conns}; connections_per_ip = {conns}; imap_sessions_per_user = {conns}; }};
"""


class Yubin:
    name = "yubin"

    def __init__(self, root):
        self.base = os.path.join(root, "yubin")
        os.makedirs(self.base)
        self.conf = os.path.join(self.base, "yubin.conf")
        self.logfile = os.path.join(self.base, "yubin.log")
        self.data = os.path.join(self.base, "data")
        self.maildir = os.path.join(self.data, "mail", DOMAIN, LOCAL)
        self.port, self.imap_port = sa.free_port(), sa.free_port()
        self.proc = None
        self.write_conf()

    def write_conf(self):
        with open(self.conf, "w") as f:
            f.write(YUBIN_CONF.format(data=self.data, base=self.base,
                                      domain=DOMAIN, imap=self.imap_port,
                                      imaps=self.port,
                                      conns=IDLE_CONNS + 500))
        self.config_note = ("`limits.connections`, `connections_per_ip` and "
                            "`imap_sessions_per_user` = "
                            "%d, every other setting at its default "
                            "(`workers = 8`)" % (IDLE_CONNS + 500))

    def setup(self, master, pw_hash=None):
        r = sa.run([YUBIN_BIN, "--config", self.conf, "user", "add", USER,
                    "--password-stdin"], input=PASSWORD + "\n", timeout=60)
        if r.returncode != 0:
            raise sa.BenchError("yubin user add: %s%s" % (r.stdout, r.stderr))
        copy_maildir(master, self.maildir)
        db = sqlite3.connect(os.path.join(self.data, "accounts.db"))
        try:
            return db.execute("SELECT hash FROM users WHERE address = ?",
                              (USER,)).fetchone()[0]
        finally:
            db.close()

    def start(self):
        with open(self.logfile, "ab") as logf:
            self.proc = subprocess.Popen(
                [YUBIN_BIN, "--config", self.conf, "serve"],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                start_new_session=True)
        sa.started_pids.append(self.proc.pid)
        wait_imaps(self.port, 30, lambda: self.proc.poll() is None)

    @property
    def root_pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc is not None:
            sa.stop_pid(self.proc.pid)
            if self.proc.pid in sa.started_pids:
                sa.started_pids.remove(self.proc.pid)
            self.proc = None

    @staticmethod
    def version():
        r = sa.run(["git", "-C", sa.REPO, "rev-parse", "--short", "HEAD"])
        return "yubin commit %s (release build)" % r.stdout.strip()


# The part of a private Dovecot instance's configuration that every benchmark
# shares (bench/flood.py too): its own directories, TLS, the passwd-file
# passdb and a static userdb; format it with Dovecot.conf_args().
DOVECOT_BASE = """\
base_dir = {base}/run
state_dir = {base}/state
instance_name = {instance}
log_path = {base}/dovecot.log
protocols = {protocols}
listen = 127.0.0.1
ssl = {ssl}
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = plain
mail_location = maildir:{maildir}
passdb {{
  driver = passwd-file
  args = {base}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid={group} home={home}
}}
"""

# Everything not set here is Dovecot's default.  The per-connection limits
# are raised so that IDLE_CONNS connections from one address and one user are
# accepted; {dense} is empty for Dovecot's process model as shipped.
DOVECOT_CONF = "# Private Dovecot instance for bench/imap.py.\n" + DOVECOT_BASE + """\
mail_max_userip_connections = {limit}
default_client_limit = {client_limit}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
  }}
  process_limit = {limit}
{dense_login}}}
service imap {{
  process_limit = {limit}
{dense_imap}}}
"""


class Dovecot:
    name = "Dovecot"

    def __init__(self, root):
        self.base = os.path.join(root, "dovecot")
        os.makedirs(self.base)
        os.chmod(self.base, 0o755)
        self.conf = os.path.join(self.base, "dovecot.conf")
        self.maildir = os.path.join(self.base, "home", "Maildir")
        self.port = sa.free_port()
        self.proc = None
        self.dense = False

    def write_conf(self, dense):
        self.dense = dense
        limit = IDLE_CONNS + 200
        dense_login = ("  service_count = 0\n  client_limit = %d\n"
                       "  process_min_avail = 2\n" % limit) if dense else ""
        dense_imap = ("  client_limit = %d\n  service_count = 0\n"
                      % DENSE_LIMIT if dense else "")
        with open(self.conf, "w") as f:
            f.write(DOVECOT_CONF.format(
                instance="yubin-bench-dovecot", protocols="imap",
                ssl="required", limit=limit, client_limit=4 * limit,
                port=self.port, dense_login=dense_login,
                dense_imap=dense_imap, **self.conf_args()))

    def conf_args(self):
        """The values DOVECOT_BASE needs besides instance, protocols and
        ssl."""
        return {"base": self.base,
                "cert": os.path.join(self.base, "..", "cert.pem"),
                "key": os.path.join(self.base, "..", "key.pem"),
                "maildir": self.maildir,
                "group": grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name,
                "home": os.path.join(self.base, "home")}

    def config_note(self):
        limit = IDLE_CONNS + 200
        return (
            "`mail_max_userip_connections = %d` (default 10), "
            "`service imap-login { process_limit = %d }` and "
            "`service imap { process_limit = %d }` (default "
            "`default_process_limit` = 100), `default_client_limit = %d` "
            "(default 1000; auth, anvil, stats and log take a connection from "
            "every process), `ssl = required`, passwd-file passdb with yubin's own yescrypt hash of the password (`{CRYPT}$y$...`, so both check the same hash), static userdb; "
            "everything else at Dovecot's defaults (`service imap { "
            "client_limit = 1 }`, imap-login `service_count = 1`: one imap "
            "process and one imap-login process, which proxies the TLS, per "
            "connection; no `imap_hibernate_timeout`; no FTS plugin)" %
            (limit, limit, limit, 4 * limit))

    def dense_note(self):
        limit = IDLE_CONNS + 200
        return ("the same plus `service imap { client_limit = %d; "
                "service_count = 0 }` (default 1: a process serves one "
                "connection in its life, whatever its client_limit; one "
                "process for all 1,000 connections died at the default "
                "`vsz_limit` of 256 MB after about 440 sessions on this "
                "mailbox) and imap-login in Dovecot's \"high-performance "
                "mode\" (`service_count = 0`, `client_limit = %d`, "
                "`process_min_avail = 2`)" % (DENSE_LIMIT, limit))

    def setup(self, master, pw_hash):
        with open(os.path.join(self.base, "passwd"), "w") as f:
            f.write("%s:{CRYPT}%s::::::\n" % (USER, pw_hash))
        os.makedirs(os.path.join(self.base, "home"))
        copy_maildir(master, self.maildir)
        nobody = pwd.getpwnam("nobody")
        os.chown(os.path.join(self.base, "home"), nobody.pw_uid, nobody.pw_gid)
        self.write_conf(False)

    def start(self):
        logf = open(os.path.join(self.base, "dovecot.stderr"), "ab")
        self.proc = subprocess.Popen(["dovecot", "-c", self.conf, "-F"],
                                     stdin=subprocess.DEVNULL, stdout=logf,
                                     stderr=logf, start_new_session=True)
        logf.close()
        sa.started_pids.append(self.proc.pid)
        wait_imaps(self.port, 30, lambda: self.proc.poll() is None)

    @property
    def root_pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc is not None:
            sa.stop_pid(self.proc.pid, grace=20)
            if self.proc.pid in sa.started_pids:
                sa.started_pids.remove(self.proc.pid)
            self.proc = None

    @staticmethod
    def version():
        r = sa.run(["dovecot", "--version"])
        return "Dovecot %s (Debian package)" % r.stdout.strip()


# ---------------------------------------------------------------- operations

def op_login_select(srv, ctx):
    t0 = time.perf_counter()
    c = Imap(srv.port, ctx)
    t1 = time.perf_counter()
    c.cmd('LOGIN "%s" "%s"' % (USER, PASSWORD))
    t2 = time.perf_counter()
    data, _ = c.cmd("SELECT INBOX")
    t3 = time.perf_counter()
    c.close()
    m = re.search(rb"\* (\d+) EXISTS", data)
    if not m or int(m.group(1)) != MESSAGES:
        raise ImapError("%s: SELECT says %r" % (srv.name, m and m.group(0)))
    return {"total": t3 - t0, "select": t3 - t2, "login": t2 - t1,
            "connect": t1 - t0}


def session(srv, ctx):
    c = Imap(srv.port, ctx)
    c.login_select()
    return c


def op_fetch_all(srv, ctx):
    c = session(srv, ctx)
    t0 = time.perf_counter()
    data, _ = c.cmd("FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)")
    t = time.perf_counter() - t0
    c.close()
    n = data.count(b" FETCH (")
    sizes = sum(int(x) for x in re.findall(rb"RFC822\.SIZE (\d+)", data))
    if n != MESSAGES:
        raise ImapError("%s: FETCH 1:* gave %d responses" % (srv.name, n))
    return {"total": t, "bytes": len(data) + c.literals, "sizes": sizes}


def body_uids():
    step = max(1, MESSAGES // BODIES)
    return list(range(1, MESSAGES + 1, step))[:BODIES]


def op_bodies_each(srv, ctx):
    c = session(srv, ctx)
    got = 0
    t0 = time.perf_counter()
    for uid in body_uids():
        c.cmd("UID FETCH %d BODY.PEEK[]" % uid, keep=False)
        got += c.literals
    t = time.perf_counter() - t0
    c.close()
    return {"total": t, "bytes": got}


def op_bodies_one(srv, ctx):
    c = session(srv, ctx)
    t0 = time.perf_counter()
    c.cmd("UID FETCH %s BODY.PEEK[]" % ",".join(map(str, body_uids())),
          keep=False)
    t = time.perf_counter() - t0
    got = c.literals
    c.close()
    return {"total": t, "bytes": got}


def op_search(srv, ctx):
    c = session(srv, ctx)
    t0 = time.perf_counter()
    data, _ = c.cmd("SEARCH TEXT %s" % WORD)
    t = time.perf_counter() - t0
    c.close()
    m = re.search(rb"\* SEARCH([ 0-9]*)", data)
    hits = len(m.group(1).split()) if m else 0
    return {"total": t, "hits": hits}


OPS = [("login_select", op_login_select), ("fetch_all", op_fetch_all),
       ("bodies_each", op_bodies_each), ("bodies_one", op_bodies_one),
       ("search", op_search)]


def warm_select(srv, ctx):
    """The first SELECT after the Maildir was copied in: both servers take in
    the MESSAGES files from new/ (rename to cur/, build their index)."""
    c = Imap(srv.port, ctx)
    c.cmd('LOGIN "%s" "%s"' % (USER, PASSWORD))
    t0 = time.perf_counter()
    data, _ = c.cmd("SELECT INBOX")
    t = time.perf_counter() - t0
    c.close()
    m = re.search(rb"\* (\d+) EXISTS", data)
    log("%s: first SELECT (takes in %s messages from new/) %.3f s"
        % (srv.name, m and m.group(1).decode(), t))
    return t


# ---------------------------------------------------------------- memory

def proc_names(root):
    names = {}
    for p in sa.process_tree(root):
        try:
            with open("/proc/%d/comm" % p) as f:
                n = f.read().strip()
        except OSError:
            continue
        names[n] = names.get(n, 0) + 1
    return ", ".join("%s %d" % kv for kv in sorted(names.items(),
                                                    key=lambda kv: -kv[1]))


def pss_tree(root):
    pids = sa.process_tree(root)
    return (sum(sa.read_kib("/proc/%d/smaps_rollup" % p, "Pss:") for p in pids),
            len(pids))


def settle_pss(root, secs=3.0):
    """PSS of the server's processes once it stopped changing much (bounded)."""
    time.sleep(1.0)
    last, _ = pss_tree(root)
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        time.sleep(0.5)
        cur, _ = pss_tree(root)
        if abs(cur - last) < 256:
            break
        last = cur
    return pss_tree(root)


def open_idle(srv, ctx, mode="inbox"):
    """One idle connection: "inbox" (LOGIN, SELECT INBOX, IDLE), "empty"
    (LOGIN, SELECT of an empty folder, IDLE) or "tls" (greeted, nothing
    sent)."""
    c = Imap(srv.port, ctx, timeout=60)
    if mode == "tls":
        return c
    c.cmd('LOGIN "%s" "%s"' % (USER, PASSWORD))
    c.cmd("SELECT INBOX" if mode == "inbox" else "SELECT Empty")
    c.send("IDLE")
    line = c.line()
    if not line.startswith(b"+"):
        raise ImapError("IDLE answered %r" % line[:200])
    return c


def alive(conns):
    """How many of the connections the server has not closed."""
    n = 0
    for c in conns:
        c.sock.setblocking(False)
        try:
            n += 1 if c.sock.recv(1) != b"" else 0
        except (ssl.SSLWantReadError, BlockingIOError):
            n += 1
        except (OSError, ssl.SSLError):
            pass
        c.sock.setblocking(True)
    return n


def idle_memory(srv, label, mode="inbox"):
    ctx = client_ctx()
    base_pss, base_procs = settle_pss(srv.root_pid)
    conns, errors = [], []
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(OPEN_THREADS) as pool:
        futs = [pool.submit(open_idle, srv, ctx, mode) for _ in range(IDLE_CONNS)]
        for f in futs:
            try:
                conns.append(f.result(timeout=max(1, OPEN_TIMEOUT -
                                                  (time.perf_counter() - t0))))
            except Exception as e:           # noqa: BLE001 (reported)
                errors.append(repr(e))
    open_s = time.perf_counter() - t0
    pss, procs = settle_pss(srv.root_pid)
    names = proc_names(srv.root_pid)
    live = alive(conns)
    for c in conns:
        c.sock.settimeout(5)
        try:
            c.sock.sendall(b"DONE\r\n")
        except OSError:
            pass
        c.close()
    r = {"label": label, "server": srv.name, "base_pss": base_pss,
         "pss": pss, "base_procs": base_procs, "procs": procs,
         "open": len(conns), "errors": errors[:3], "nerrors": len(errors),
         "open_s": open_s, "names": names, "alive": live,
         "per_conn": (pss - base_pss) / len(conns) if conns else None}
    log("%s (%s): %d/%d idle connections in %.1f s; PSS %d -> %d KiB, "
        "processes %d -> %d, %.1f KiB per connection%s"
        % (srv.name, label, len(conns), IDLE_CONNS, open_s, base_pss, pss,
           base_procs, procs, r["per_conn"] or 0,
           ("; %d failed, first: %s" % (len(errors), errors[0])) if errors else ""))
    log("%s (%s) processes: %s; %d connections still open when measured"
        % (srv.name, label, names, live))
    time.sleep(2)
    return r


# ---------------------------------------------------------------- report

def med(runs):
    return statistics.median(r["total"] for r in runs)


def ms(x):
    return "%.1f" % (x * 1000) if x is not None else "—"


def ratio(a, b):
    return "%.2f" % (a / b) if a and b else "—"


LABELS = {
    "login_select": "connect + TLS + LOGIN + SELECT INBOX, ms",
    "select": "SELECT INBOX alone (same runs), ms",
    "fetch_all": "FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE), ms",
    "bodies_each": "1,000 × UID FETCH n BODY.PEEK[], one command each, ms",
    "bodies_one": "1,000 bodies in one UID FETCH BODY.PEEK[], ms",
    "search": "SEARCH TEXT (word in 1 % of messages), ms",
}


def table(res):
    y, d = res.get("yubin", {}), res.get("Dovecot", {})
    out = ["| what | yubin | Dovecot | ratio yubin/Dovecot (time) | yubin first run | Dovecot first run |",
           "|---|---:|---:|---:|---:|---:|"]
    for key in ("login_select", "select", "fetch_all", "bodies_each",
                "bodies_one", "search"):
        def val(r, first=False):
            if key == "select":
                runs = r.get("login_select")
                if not runs:
                    return None
                return runs[0]["select"] if first else \
                    statistics.median(x["select"] for x in runs[1:])
            runs = r.get(key)
            if not runs:
                return None
            return runs[0]["total"] if first else med(runs[1:])
        yv, dv = val(y), val(d)
        out.append("| %s | %s | %s | %s | %s | %s |" % (
            LABELS[key], ms(yv), ms(dv), ratio(yv, dv), ms(val(y, True)),
            ms(val(d, True))))
    return "\n".join(out)


def mem_table(mems):
    out = ["| server (process model) | PSS before, MiB (processes) | PSS with %d idle connections, MiB (processes) | KiB per idle connection | time to open them, s |" % IDLE_CONNS,
           "|---|---:|---:|---:|---:|"]
    for m in mems:
        out.append("| %s (%s) | %.1f (%d) | %.1f (%d) | %s | %.1f |" % (
            m["server"], m["label"], m["base_pss"] / 1024, m["base_procs"],
            m["pss"] / 1024, m["procs"],
            "%.0f" % m["per_conn"] if m["per_conn"] is not None else "—",
            m["open_s"]))
        if m["alive"] != m["open"]:
            out[-1] += " (only %d still open when measured)" % m["alive"]
    return "\n".join(out)


def section(res, mems, info, warm, checks, notes, problems, total_s):
    lines = [
        BEGIN,
        "Run %s with `bench/imap.sh` (%.0f s in all): %d generated messages "
        "(%.1f MiB, %.1f KiB on average; about 65 %% text/plain, 20 %% "
        "multipart/mixed with a base64 attachment of 1.5-9 KB, 15 %% "
        "multipart/alternative text + HTML; 4-6 header fields of addresses, two "
        "Received fields), written once into a Maildir's new/ and copied into "
        "each server's mail folder (yubin: data_dir/mail/%s/%s/; Dovecot: "
        "`mail_location = maildir:...`). Both servers run at the same time on "
        "127.0.0.1, every session over implicit TLS (IMAPS, TLS 1.3, ECDSA "
        "P-256 certificate, the same for both), driven by one Python client "
        "(raw sockets + ssl, the same code for both; its parsing is part of "
        "every figure)."
        % (info["date"], total_s, MESSAGES, info["bytes"] / 1048576,
           info["bytes"] / MESSAGES / 1024, DOMAIN, LOCAL),
        "",
        "- Machine: %s, %s cores, %s, kernel %s" % (
            info["cpu"], info["cores"], info["os"], info["kernel"]),
        "- %s, %s" % (info["yubin"], info["dovecot"]),
        "",
        "First SELECT after the copy, timed apart (each server takes in the "
        "%d files from new/: renames them into cur/ and writes its UID list / "
        "index): yubin %s ms, Dovecot %s ms." % (
            MESSAGES, ms(warm.get("yubin")), ms(warm.get("Dovecot"))),
        "",
        "Then each operation is run %d + 1 times, servers alternating, each "
        "run on a fresh session (connect, LOGIN and SELECT outside the timed "
        "part except in the first row); the table gives the median of the "
        "last %d runs and, apart, the first run (Dovecot builds its "
        "`dovecot.index.cache` for ENVELOPE on first use; yubin builds its "
        "cache of ENVELOPE and BODYSTRUCTURE when it takes a message in, "
        "during the first SELECT). Time is from "
        "sending the command to the tagged OK, all responses read. The 1,000 "
        "bodies are UIDs 1, 11, 21, …; \"one command each\" waits for each "
        "answer before sending the next (what a client that downloads one "
        "message at a time sees), \"one command\" sends `UID FETCH "
        "1,11,21,… BODY.PEEK[]`." % (REPEAT, REPEAT),
        "",
        table(res),
        "",
        "Checks: %s" % checks,
        "",
        "Memory per idle connection: before the connections, the PSS "
        "(`/proc/PID/smaps_rollup`) of every process of the server is summed "
        "(yubin: its one process; Dovecot: the master and every descendant); "
        "then %d IMAPS connections are opened (%d client threads), each logs "
        "in, SELECTs INBOX and sends IDLE, and once the `+ idling` of all has "
        "arrived and the sum has settled it is taken again: KiB per connection "
        "= (after − before) / %d. The client keeps every connection open "
        "meanwhile (RLIMIT_NOFILE raised for it and for the servers it "
        "starts)." % (IDLE_CONNS, OPEN_THREADS, IDLE_CONNS),
        "",
        mem_table(mems),
        "",
    ] + ["- " + n for n in notes]
    if problems:
        lines += ["", "Problems seen in this run:", ""] + ["- " + p for p in problems]
    lines.append(END)
    return "\n".join(lines)


def write_docs(text):
    sa.write_generated(SECTION, BEGIN, END, text)


# ---------------------------------------------------------------- main

def raise_nofile():
    want = 4 * IDLE_CONNS + 4096
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        hard = want            # root may raise the hard limit
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))


def main():
    t_start = time.monotonic()
    atexit.register(sa.cleanup)
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, sa.on_signal)
    if os.geteuid() != 0:
        raise sa.BenchError("run as root (yubin's and Dovecot's privilege drop)")
    for tool in ("dovecot", "openssl"):
        if not shutil.which(tool):
            raise sa.BenchError("%s not found (apt-get install dovecot-imapd)" % tool)
    if "yubin" in SERVERS and not os.access(YUBIN_BIN, os.X_OK):
        raise sa.BenchError("%s is not built" % YUBIN_BIN)
    raise_nofile()
    sa.tmp_root = root = tempfile.mkdtemp(prefix="yubin-imap-")
    os.chmod(root, 0o755)
    log("%d messages, %d repetitions, %d idle connections, servers %s, in %s"
        % (MESSAGES, REPEAT, IDLE_CONNS, SERVERS, root))
    info = sa.machine_info(root)
    master = os.path.join(root, "master-maildir")
    t = time.monotonic()
    info["bytes"], info["hits"] = make_maildir(master)
    log("generated %d messages (%.1f MiB) in %.1f s"
        % (MESSAGES, info["bytes"] / 1048576, time.monotonic() - t))
    make_cert(root)
    servers = []
    if "yubin" in SERVERS:
        servers.append(Yubin(root))
    if "dovecot" in SERVERS:
        servers.append(Dovecot(root))
    info["yubin"] = Yubin.version()
    info["dovecot"] = Dovecot.version()
    problems, res, warm, mems = [], {}, {}, []
    ctx = client_ctx()
    pw_hash = None
    for s in servers:
        h = s.setup(master, pw_hash)
        pw_hash = pw_hash or h
        if pw_hash is None:
            r = sa.run(["openssl", "passwd", "-6", PASSWORD])
            pw_hash = r.stdout.strip()
    for s in servers:
        s.start()
        warm[s.name] = warm_select(s, ctx)
    sa.run(["sync"], timeout=120)
    for key, fn in OPS:
        for i in range(REPEAT + 1):
            order = servers if i % 2 == 0 else servers[::-1]
            for s in order:
                try:
                    r = fn(s, ctx)
                except (OSError, ssl.SSLError, sa.BenchError) as e:
                    problems.append("%s, %s run %d: %r" % (s.name, key, i, e))
                    log(problems[-1])
                    continue
                res.setdefault(s.name, {}).setdefault(key, []).append(r)
        for s in servers:
            runs = res.get(s.name, {}).get(key, [])
            if len(runs) > 1:
                log("%s %s: first %.1f ms, median %.1f ms (%s)" % (
                    s.name, key, runs[0]["total"] * 1000, med(runs[1:]) * 1000,
                    ", ".join("%.1f" % (r["total"] * 1000) for r in runs)))
                if key == "login_select":
                    log("%s connect+TLS / LOGIN / SELECT medians: %s ms" % (
                        s.name, " / ".join("%.1f" % (1000 * statistics.median(
                            r[k] for r in runs[1:]))
                            for k in ("connect", "login", "select"))))
    checks = []
    for s in servers:
        r = res.get(s.name, {})
        parts = []
        if r.get("fetch_all"):
            parts.append("FETCH 1:* %d bytes, RFC822.SIZE sum %d" % (
                r["fetch_all"][-1]["bytes"], r["fetch_all"][-1]["sizes"]))
        if r.get("bodies_each"):
            parts.append("1,000 bodies %d bytes" % r["bodies_each"][-1]["bytes"])
        if r.get("search"):
            parts.append("SEARCH %d hits (%d expected)"
                         % (r["search"][-1]["hits"], info["hits"]))
            if r["search"][-1]["hits"] != info["hits"]:
                problems.append("%s: SEARCH TEXT %s found %d messages, %d "
                                "expected" % (s.name, WORD,
                                              r["search"][-1]["hits"], info["hits"]))
        checks.append("%s: %s" % (s.name, "; ".join(parts)))
    checks = ". ".join(checks) + "."
    notes = []
    # Memory: one server at a time, the other one stopped.
    for s in servers:
        s.stop()
    for s in servers:
        if isinstance(s, Dovecot):
            variants = [(False, "as shipped: a process per connection", "inbox"),
                        (True, "imap client_limit %d" % DENSE_LIMIT, "inbox")]
        else:
            variants = [(None, "one process", "inbox"),
                        (None, "one process; SELECT of an empty folder", "empty"),
                        (None, "one process; TLS greeting only, no LOGIN", "tls")]
        for dense, label, mode in variants:
            # A fresh server for each row: memory freed by an earlier row
            # stays in the allocator and would be reused unseen.
            if dense is not None:
                s.write_conf(dense)
            s.start()
            try:
                # One session first, so that lazily started helpers (auth,
                # worker threads) are part of the baseline.
                c = session(s, ctx)
                if mode == "empty":
                    c.cmd("CREATE Empty")
                c.close()
                m = idle_memory(s, label, mode)
                mems.append(m)
                if m["nerrors"] or m["alive"] != m["open"]:
                    problems.append(
                        "%s (%s): %d of %d idle connections failed (first: "
                        "%s), %d of the open ones closed by the server "
                        "before the measurement" % (
                            s.name, label, m["nerrors"], IDLE_CONNS,
                            m["errors"][0] if m["errors"] else "-",
                            m["open"] - m["alive"]))
            except (OSError, ssl.SSLError, sa.BenchError) as e:
                problems.append("%s memory: %r" % (s.name, e))
                log(problems[-1])
            finally:
                s.stop()
    for s in servers:
        if isinstance(s, Yubin):
            notes.append("yubin: `yubin serve` with an imap and an imaps "
                         "listener; %s." % s.config_note)
        else:
            notes.append("Dovecot: a private instance (`dovecot -c FILE -F`, "
                         "own base_dir, state_dir and instance_name, "
                         "`mail_location = maildir:...`, indexes in the "
                         "Maildir), %s. The second memory row: %s." %
                         (s.config_note(), s.dense_note()))
    total_s = time.monotonic() - t_start
    text = section(res, mems, info, warm, checks, notes, problems, total_s)
    print("\n" + text)
    if WRITE_DOCS:
        write_docs(text)
    log("done in %.0f s" % total_s)
    return 1 if problems else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except sa.BenchError as e:
        log("error: %s" % e)
        sys.exit(2)
