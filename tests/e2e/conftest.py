"""End-to-end test fixtures for yubin.

Every test talks to a real `yubin serve` started on free loopback ports, with
real clients (smtplib, swaks, curl, smtp-source) or raw sockets for protocol
abuse.  Servers are started by the fixtures below and always stopped by PID
(SIGTERM, then SIGKILL) in teardown.  Every wait is bounded.

Tests may run in several processes at once (pytest-xdist's -n, and
scripts/test's plain and sanitized passes side by side): each process
draws its ports from a block of its own (free_port), every server has its
own temporary directory, and a test that needs a fixed port takes a
machine-wide lock first (exclusive).

Environment:
  YUBIN_BIN       the binary under test (default: <repo>/build/yubin)
  YUBIN_E2E_KEEP  set to 1 to keep the temporary directories (logs, Maildirs)
"""

import base64
import contextlib
import email.utils
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
YUBIN_BIN = os.environ.get("YUBIN_BIN", str(REPO / "build" / "yubin"))
IS_ROOT = os.geteuid() == 0
HOSTNAME = "mx.test.example"
DOMAIN = "example.test"
KEEP = os.environ.get("YUBIN_E2E_KEEP") == "1"

START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
REPLY_TIMEOUT = 10.0
MAIL_TIMEOUT = 10.0



def _stop_as_on_ctrl_c(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


# scripts/test stops a pass with SIGTERM to its process group (its
# pytest-xdist workers are in the background, where SIGINT is ignored):
# taken as Ctrl-C, pytest still tears the fixtures down, and so stops every
# server it started.
if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGTERM, _stop_as_on_ctrl_c)


# --------------------------------------------------------------------------
# small helpers

# Ports come from a block of the range just below the kernel's ephemeral
# range, so that no connect() and no bind(port 0) anywhere on the machine
# hands one out.  Each test process (one per pytest-xdist worker, one per
# concurrent run such as scripts/test's plain and sanitized passes) holds
# one block through an flock on a file under /tmp: no two processes ever
# draw from the same block, and the kernel drops the lock when a process
# dies.  Within its block a process takes the ports in turn, skipping any
# that something is bound to (on any address, IPv4 or IPv6).
PORT_BLOCK = 1000
LOCK_DIR = Path("/tmp/yubin-e2e-locks")

_port_lock = threading.Lock()
_port_block = None          # [first, last, next, lock file]


def _lock_file(name):
    try:
        LOCK_DIR.mkdir()
        os.chmod(LOCK_DIR, 0o1777)          # any user's test run may lock here
    except FileExistsError:
        pass
    return open(LOCK_DIR / f"{name}.lock", "a")


@contextlib.contextmanager
def exclusive(name, timeout=600):
    """Hold a machine-wide lock on a fixed resource that tests in other
    processes (pytest-xdist workers, a concurrent pass) also use, such as
    yubin --dev's fixed ports; waits for it at most timeout seconds."""
    import fcntl
    f = _lock_file(name)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise AssertionError(f"another test process held {LOCK_DIR}/{name}.lock "
                                         f"for more than {timeout}s")
                time.sleep(0.2)
        yield
    finally:
        f.close()           # drops the lock


def _port_range():
    """Ports [lo, hi) outside the kernel's ephemeral range and above
    yubin --dev's fixed ports (10025-18443)."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    if low - 20000 >= 2 * PORT_BLOCK:
        return 20000, low
    return max(high + 1, 20000), 65536


def _claim_port_block():
    import fcntl
    lo, hi = _port_range()
    first = lo
    while first + PORT_BLOCK <= hi:
        f = _lock_file(f"ports-{first}")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            first += PORT_BLOCK
            continue
        return [first, first + PORT_BLOCK - 1, first, f]
    raise RuntimeError(f"every block of {PORT_BLOCK} ports in {lo}-{hi - 1} is held by "
                       f"another test process (locks in {LOCK_DIR})")


def _port_unbound(port):
    for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        try:
            s = socket.socket(fam, socket.SOCK_STREAM)
        except OSError:         # no IPv6 on this machine
            continue
        try:
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((addr, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_port():
    """A TCP port that nothing is bound to right now, from this process's
    own block (see above), not handed out again before the rest of the
    block has been."""
    global _port_block
    with _port_lock:
        if _port_block is None:
            _port_block = _claim_port_block()
        first, last, nxt, _ = _port_block
        for _ in range(last - first + 1):
            port = nxt
            nxt = first if nxt == last else nxt + 1
            if _port_unbound(port):
                _port_block[2] = nxt
                return port
        _port_block[2] = nxt
    raise RuntimeError(f"no free port in {first}-{last}")


def make_tempdir(prefix):
    """A directory under /tmp that the service user can traverse (0755)."""
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o755)
    return Path(d)


def wait_until(pred, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def read_until_closed(sock, timeout=5.0):
    """Everything the server sends until it closes the connection (bounded)."""
    got = b""
    deadline = time.monotonic() + timeout
    sock.settimeout(timeout)
    while time.monotonic() < deadline:
        chunk = sock.recv(4096)
        if not chunk:
            break
        got += chunk
    return got


def port_open(port, host="127.0.0.1", timeout=0.3):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def ascii_lower(s):
    return "".join(ch.lower() if ch.isascii() else ch for ch in s)


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def uniq(prefix="t"):
    return f"{prefix}{secrets.token_hex(4)}"


def make_message(sender, rcpt, subject, body_lines, extra_headers=()):
    """An RFC 5322 message with CRLF line ends (as it goes over the wire,
    before dot-stuffing).  Returns bytes."""
    hdrs = [
        f"From: <{sender}>",
        f"To: <{rcpt}>",
        f"Subject: {subject}",
        f"Message-ID: <{secrets.token_hex(8)}@client.test>",
        "Date: Mon, 01 Jan 2024 12:00:00 +0000",
        *extra_headers,
    ]
    text = "\r\n".join(hdrs) + "\r\n\r\n" + "".join(l + "\r\n" for l in body_lines)
    return text.encode("utf-8")


def dot_stuff(msg):
    """Dot-stuff a CRLF message for DATA (RFC 5321 4.5.2)."""
    out = []
    for line in msg.split(b"\r\n"):
        out.append(b"." + line if line.startswith(b".") else line)
    return b"\r\n".join(out)


def to_lf(msg):
    return msg.replace(b"\r\n", b"\n")


QUEUED_RE = re.compile(r"queued as (\S+)")


def qid_from(text):
    m = QUEUED_RE.search(text)
    assert m, f"no 'queued as <QID>' in reply {text!r}"
    return m.group(1)


# --------------------------------------------------------------------------
# delivered-file checks

def split_delivered(data):
    """Split a Maildir file into (return_path_line, delivered_to_line,
    received_unfolded, rest).  Asserts the header order of the contract."""
    assert isinstance(data, bytes)
    pos = 0

    def next_line():
        nonlocal pos
        nl = data.find(b"\n", pos)
        assert nl >= 0, f"truncated file: {data[:300]!r}"
        line = data[pos:nl]
        pos = nl + 1
        return line

    rp = next_line()
    assert rp.startswith(b"Return-Path: "), f"first line is not Return-Path: {rp!r}"
    dt = next_line()
    assert dt.startswith(b"Delivered-To: "), f"second line is not Delivered-To: {dt!r}"
    rcv = next_line()
    assert rcv.startswith(b"Received: "), f"third line is not Received: {rcv!r}"
    parts = [rcv]
    while data[pos:pos + 1] in (b"\t", b" "):
        parts.append(next_line())
    unfolded = b" ".join(p.strip() for p in parts).decode("utf-8", "replace")
    return rp, dt, unfolded, data[pos:]


def check_delivered(data, sender, mailbox, body, qid=None, rcpt=None, proto=None):
    """Assert the exact layout of a delivered file:
    Return-Path, Delivered-To, Received (with the queue id), then the message
    byte for byte with LF line ends."""
    rp, dt, rcv, rest = split_delivered(data)
    assert rp == f"Return-Path: <{sender}>".encode(), rp
    assert dt == f"Delivered-To: {mailbox}".encode() or \
        dt == f"Delivered-To: <{mailbox}>".encode(), dt
    assert rcv.startswith("Received: from "), rcv
    assert f"by {HOSTNAME} (yubin)" in rcv, rcv
    if qid is not None:
        assert re.search(rf"\bid {re.escape(qid)}\b", rcv), f"queue id {qid} not in {rcv!r}"
    if rcpt is not None:
        assert f"for <{rcpt}>" in rcv, rcv
    if proto is not None:
        assert re.search(rf"\bwith {re.escape(proto)}\b", rcv), f"'with {proto}' not in {rcv!r}"
    assert ";" in rcv, rcv
    date = rcv.rsplit(";", 1)[1].strip()
    assert email.utils.parsedate_to_datetime(date) is not None, date
    expected = to_lf(body) if b"\r\n" in body else body
    assert rest == expected, (
        f"message body differs\n--- got ---\n{rest[:2000]!r}\n--- expected ---\n{expected[:2000]!r}")
    return rcv


# --------------------------------------------------------------------------
# a raw SMTP connection

class SMTPError(AssertionError):
    pass


class Reply:
    def __init__(self, code, lines, raw):
        self.code = code
        self.lines = lines          # text after "NNN-" / "NNN "
        self.raw = raw

    @property
    def text(self):
        return "\n".join(self.lines)

    @property
    def first(self):
        return self.lines[0] if self.lines else ""

    def enhanced(self):
        m = re.match(r"^([245])\.(\d{1,3})\.(\d{1,3})\b", self.first)
        return m.group(0) if m else None

    def __repr__(self):
        return f"Reply({self.code}, {self.lines!r})"


class Conn:
    """A line-level SMTP client over a plain or TLS socket."""

    def __init__(self, port, tls=False, source=None, timeout=REPLY_TIMEOUT,
                 ctx=None, read_greeting=True):
        self.port = port
        self.timeout = timeout
        self.ctx = ctx
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        if source:
            self.sock.bind((source, 0))
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""
        self.tls = False
        if tls:
            self._wrap()
        self.greeting = self.reply() if read_greeting else None

    def _wrap(self):
        ctx = self.ctx or client_tls_context()
        self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")
        self.tls = True

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def _fill(self, timeout):
        self.sock.settimeout(timeout)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by server")
        self.buf += chunk

    def readline(self, timeout=None):
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while b"\r\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out waiting for a reply line")
            self._fill(left)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self, timeout=None):
        lines, raw = [], b""
        code = None
        while True:
            line = self.readline(timeout)
            raw += line + b"\r\n"
            m = re.match(rb"^(\d{3})([ -])(.*)$", line)
            if not m:
                raise SMTPError(f"malformed reply line {line!r}")
            c = int(m.group(1))
            if code is not None and c != code:
                raise SMTPError(f"reply code changed inside a reply: {raw!r}")
            code = c
            lines.append(m.group(3).decode("utf-8", "replace"))
            if m.group(2) == b" ":
                return Reply(code, lines, raw)

    def cmd(self, line, timeout=None):
        self.send(line + "\r\n" if isinstance(line, str) else line + b"\r\n")
        return self.reply(timeout)

    def ehlo(self, name="client.test"):
        r = self.cmd(f"EHLO {name}")
        assert r.code == 250, r
        return r

    def extensions(self, ehlo_reply):
        return {l.split(" ", 1)[0].upper(): l for l in ehlo_reply.lines[1:]}

    def starttls(self):
        r = self.cmd("STARTTLS")
        assert r.code == 220, r
        assert self.buf == b"", f"bytes after 220 to STARTTLS before the handshake: {self.buf!r}"
        self._wrap()
        return r

    def auth_plain(self, user, pw):
        return self.cmd("AUTH PLAIN " + b64(f"\0{user}\0{pw}".encode("utf-8")))

    def auth_login(self, user, pw):
        r = self.cmd("AUTH LOGIN")
        if r.code != 334:
            return r
        r = self.cmd(b64(user.encode("utf-8")))
        if r.code != 334:
            return r
        return self.cmd(b64(pw.encode("utf-8")))

    def mail_transaction(self, sender, rcpts, msg, mail_params=""):
        """MAIL/RCPT/DATA one step at a time; returns (rcpt replies, final reply)."""
        r = self.cmd(f"MAIL FROM:<{sender}>{(' ' + mail_params) if mail_params else ''}")
        assert r.code == 250, r
        rr = [self.cmd(f"RCPT TO:<{rc}>") for rc in rcpts]
        r = self.cmd("DATA")
        assert r.code == 354, r
        self.send(dot_stuff(msg) + b"\r\n.\r\n" if not msg.endswith(b"\r\n")
                  else dot_stuff(msg) + b".\r\n")
        return rr, self.reply()

    def closed(self, timeout=5.0):
        """True when the server closes the connection within timeout (any
        bytes still queued before the close are kept in self.buf)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.sock.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            except ssl.SSLError:
                return True
            if not chunk:
                return True
            self.buf += chunk
        return False

    def nothing_arrives(self, wait=0.5):
        """True when no byte arrives within wait seconds."""
        if self.buf:
            return False
        try:
            self.sock.settimeout(wait)
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return True
        except (OSError, ssl.SSLError):
            return True
        if chunk:
            self.buf += chunk
            return False
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def quit(self):
        try:
            r = self.cmd("QUIT", timeout=3)
        except (OSError, SMTPError, ssl.SSLError):
            r = None
        self.close()
        return r

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


_CA_FILE = None


def client_tls_context(verify=True):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify and _CA_FILE:
        ctx.load_verify_locations(_CA_FILE)
        ctx.check_hostname = True
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


# --------------------------------------------------------------------------
# TLS certificate

@pytest.fixture(scope="session")
def tls_cert():
    """Self-signed EC P-256 certificate for localhost / 127.0.0.1."""
    global _CA_FILE
    d = make_tempdir("yubin-e2e-cert-")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "400",
         "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30)
    os.chmod(cert, 0o644)
    _CA_FILE = str(cert)
    yield {"cert": str(cert), "key": str(key), "dir": d}
    if not KEEP:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def rsa_cert():
    d = make_tempdir("yubin-e2e-rsacert-")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "400", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60)
    os.chmod(cert, 0o644)
    yield {"cert": str(cert), "key": str(key), "dir": d}
    if not KEEP:
        shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------
# config

DEFAULT_LIMITS = {
    "message_size": 1048576,
    "recipients": 5,
    "line_length": 1000,
    "errors": 10,
}

DEFAULT_AUTH = {
    "fail_delay_ms": 50,
    "fail_delay_max_ms": 200,
    "lockout_failures": 3,
    "lockout_window": 600,
    "lockout_seconds": 300,
}


# a UDP port on which nothing answers (reserved for the whole test run)
_dead_dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
_dead_dns.bind(("127.0.0.1", 0))
DEAD_DNS_PORT = _dead_dns.getsockname()[1]


def config_text(data_dir, cert, key, ports, limits=None, auth=None, hostname=HOSTNAME,
                domains=(DOMAIN,), extra=""):
    lim = dict(DEFAULT_LIMITS)
    lim.update(limits or {})
    au = dict(DEFAULT_AUTH)
    au.update(auth or {})
    lines = []
    if hostname is not None:
        lines.append(f'hostname = "{hostname}";')
    lines.append(f'data_dir = "{data_dir}";')
    if IS_ROOT:
        lines.append('user = "nobody";')
    lines.append('log = "stderr";')
    lines.append("domains = [ " + ", ".join(f'"{d}"' for d in domains) + " ];")
    lines.append(f'tls: {{ cert = "{cert}"; key = "{key}"; }};')
    lines.append("listeners = (")
    ls = [
        f'  {{ role = "smtp"; address = "127.0.0.1"; port = {ports["smtp"]}; }}',
        f'  {{ role = "submission"; address = "127.0.0.1"; port = {ports["submission"]}; }}',
        f'  {{ role = "submission"; address = "127.0.0.1"; port = {ports["alt"]}; }}',
        f'  {{ role = "submissions"; address = "127.0.0.1"; port = {ports["submissions"]}; }}',
        f'  {{ role = "pop3"; address = "127.0.0.1"; port = {ports["pop3"]}; }}',
        f'  {{ role = "pop3s"; address = "127.0.0.1"; port = {ports["pop3s"]}; }}',
        f'  {{ role = "imap"; address = "127.0.0.1"; port = {ports["imap"]}; }}',
        f'  {{ role = "imaps"; address = "127.0.0.1"; port = {ports["imaps"]}; }}',
    ]
    if "https" in ports:
        ls.append(f'  {{ role = "https"; address = "127.0.0.1"; port = {ports["https"]}; }}')
    lines.append(",\n".join(ls))
    lines.append(");")
    lines.append("limits: { " + " ".join(f"{k} = {v};" for k, v in lim.items()) + " };")
    lines.append("auth: { " + " ".join(f"{k} = {v};" for k, v in au.items()) + " };")
    lines.append("workers = 4;")
    if "dns:" not in extra:
        # Hermetic by default: a DNS server that never answers, so mail for
        # remote domains is deferred (and stays queued) instead of asking the
        # machine's resolver.  Outbound tests bring their own (mxworld.py).
        lines.append(f'dns: {{ resolver = "127.0.0.1@{DEAD_DNS_PORT}"; timeout = 2; }};')
    if "msgauth:" not in extra:
        # No SPF / DKIM / DMARC checks on port 25 unless a test asks (they
        # would wait for the dead DNS above on every message); test_msgauth
        # turns them on with its own DNS server.
        lines.append("msgauth: { verify = 0; };")
    if extra:
        lines.append(extra)
    return "\n".join(lines) + "\n"


def run_yubin(args, input=None, timeout=30, env=None):
    """Run the binary; returns CompletedProcess with str stdout/stderr."""
    if not os.path.exists(YUBIN_BIN):
        pytest.fail(f"yubin binary not found at {YUBIN_BIN} (build it or set YUBIN_BIN)")
    p = subprocess.run([YUBIN_BIN, *args], input=input.encode("utf-8") if isinstance(input, str) else input,
                       capture_output=True, timeout=timeout, env=env, stdin=None if input is not None else subprocess.DEVNULL)
    p.stdout = p.stdout.decode("utf-8", "replace")
    p.stderr = p.stderr.decode("utf-8", "replace")
    return p


# --------------------------------------------------------------------------
# the server under test

class Server:
    def __init__(self, cert, limits=None, auth=None, extra="", domains=(DOMAIN,)):
        self.base = make_tempdir("yubin-e2e-")
        self.data_dir = self.base / "data"
        self.cert = cert
        self.ports = {"smtp": free_port(), "submission": free_port(),
                      "alt": free_port(), "submissions": free_port(),
                      "pop3": free_port(), "pop3s": free_port(),
                      "imap": free_port(), "imaps": free_port(),
                      "https": free_port()}
        self.limits = dict(DEFAULT_LIMITS, **(limits or {}))
        self.auth = dict(DEFAULT_AUTH, **(auth or {}))
        self.config_path = self.base / "yubin.conf"
        self.config_path.write_text(config_text(
            self.data_dir, cert["cert"], cert["key"], self.ports, limits, auth,
            domains=domains, extra=extra))
        os.chmod(self.config_path, 0o644)
        self.proc = None
        self.starts = 0
        self.term_statuses = []
        self.log_files = []
        self.secrets = set()
        self._n = 0

    # ports by role
    @property
    def smtp(self):
        return self.ports["smtp"]

    @property
    def submission(self):
        return self.ports["submission"]

    @property
    def alt(self):
        return self.ports["alt"]

    @property
    def submissions(self):
        return self.ports["submissions"]

    @property
    def pop3(self):
        return self.ports["pop3"]

    @property
    def pop3s(self):
        return self.ports["pop3s"]

    @property
    def imap(self):
        return self.ports["imap"]

    @property
    def imaps(self):
        return self.ports["imaps"]

    @property
    def https(self):
        return self.ports["https"]

    # ---- HTTPS (python's http.client; the test certificate is not checked)
    def https_conn(self, timeout=15, source=None):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return http.client.HTTPSConnection("127.0.0.1", self.https, timeout=timeout, context=ctx,
                                           source_address=(source, 0) if source else None)

    def http(self, method, path, body=None, headers=None, conn=None):
        """One request; returns (status, headers, body bytes).  With conn,
        on that (kept-alive) connection."""
        c = conn or self.https_conn()
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
                headers = {"Content-Type": "application/json", **(headers or {})}
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.headers, r.read()
        finally:
            if conn is None:
                c.close()

    # ---- process control
    def start(self, timeout=START_TIMEOUT):
        if not os.path.exists(YUBIN_BIN):
            pytest.fail(f"yubin binary not found at {YUBIN_BIN} (build it or set YUBIN_BIN)")
        assert self.proc is None or self.proc.poll() is not None, "already running"
        n = self.starts
        self.starts += 1
        errf = self.base / f"serve-{n}.stderr"
        outf = self.base / f"serve-{n}.stdout"
        self.log_files.append(errf)
        self.log_files.append(outf)
        with open(errf, "wb") as e, open(outf, "wb") as o:
            self.proc = subprocess.Popen(
                [YUBIN_BIN, "--config", str(self.config_path), "serve"],
                stdin=subprocess.DEVNULL, stdout=o, stderr=e, start_new_session=True)
        deadline = time.monotonic() + timeout
        pending = set(self.ports.values())
        while pending:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"yubin serve exited with {self.proc.returncode} during start-up:\n"
                    + self.log_text()[-3000:])
            for p in list(pending):
                if port_open(p):
                    pending.discard(p)
            if pending and time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"yubin did not listen on {sorted(pending)} within {timeout}s:\n"
                                     + self.log_text()[-3000:])
            if pending:
                time.sleep(0.05)
        # The ports listen before the rest is set up (the resolver, the
        # trust anchor, the queue's recovery): a test that went on at once
        # could tear down what start-up was still reading.  "ready" is
        # logged when the server serves.
        while b"event=ready " not in errf.read_bytes():
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"yubin serve exited with {self.proc.returncode} during start-up:\n"
                    + self.log_text()[-3000:])
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"yubin did not log event=ready within {timeout}s:\n"
                                     + self.log_text()[-3000:])
            time.sleep(0.02)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM by PID, then SIGKILL.  Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
                self.term_statuses.append(self.proc.returncode)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout)
                self.term_statuses.append("did not stop on SIGTERM")
        return self.proc.returncode

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(STOP_TIMEOUT)

    def restart(self):
        self.stop()
        return self.start()

    def cleanup(self):
        self.stop()
        if not KEEP:
            shutil.rmtree(self.base, ignore_errors=True)

    # ---- logs
    def log_text(self):
        out = []
        for f in self.log_files:
            try:
                out.append(f.read_bytes().decode("utf-8", "replace"))
            except FileNotFoundError:
                pass
        return "".join(out)

    def stderr_text(self):
        out = []
        for f in self.log_files:
            if f.suffix == ".stderr":
                try:
                    out.append(f.read_bytes().decode("utf-8", "replace"))
                except FileNotFoundError:
                    pass
        return "".join(out)

    def assert_clean(self):
        """No sanitizer report in any log, and every SIGTERM stop exited 0
        (under ASan a leak at exit makes the exit status non-zero)."""
        log = self.log_text()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            assert marker not in log, f"sanitizer report in the server log:\n{log[-4000:]}"
        bad = [rc for rc in self.term_statuses if rc != 0]
        assert not bad, f"yubin serve exited with {bad} after SIGTERM:\n{log[-3000:]}"
        self.assert_no_secrets()

    def assert_no_secrets(self):
        log = self.log_text()
        for pw in self.secrets:
            assert pw not in log, f"password {pw!r} appears in the server log"
            assert b64(pw) not in log, "base64 of a password appears in the server log"
        for blob in getattr(self, "secret_blobs", ()):
            assert blob not in log, "an AUTH response appears in the server log"

    # ---- admin CLI
    def cli(self, *args, input=None, timeout=30):
        return run_yubin(["--config", str(self.config_path), *args], input=input, timeout=timeout)

    def add_user(self, address=None, password=None, prefix="user"):
        if address is None:
            self._n += 1
            address = f"{prefix}{self._n}{secrets.token_hex(2)}@{DOMAIN}"
        if password is None:
            password = "pw-" + secrets.token_urlsafe(12)
        self.secrets.add(password)
        blobs = getattr(self, "secret_blobs", set())
        blobs.add(b64(f"\0{address}\0{password}".encode("utf-8")))
        self.secret_blobs = blobs
        p = self.cli("user", "add", address, "--password-stdin", input=password + "\n")
        assert p.returncode == 0, f"user add {address} failed ({p.returncode}): {p.stdout}{p.stderr}"
        return address, password

    def add_alias(self, alias, *targets):
        p = self.cli("alias", "add", alias, *targets)
        assert p.returncode == 0, f"alias add failed: {p.stdout}{p.stderr}"

    # ---- Maildir
    def maildir(self, address):
        """data_dir/mail/<domain>/<local part>, both normalised: ASCII
        letters lower-cased, UTF-8 kept as it is."""
        local, domain = address.rsplit("@", 1)
        return self.data_dir / "mail" / ascii_lower(domain) / ascii_lower(local)

    def mail_files(self, address):
        md = self.maildir(address)
        files = []
        for sub in ("new", "cur"):
            d = md / sub
            if d.is_dir():
                files.extend(sorted(p for p in d.iterdir() if p.is_file()))
        return files

    def mails(self, address):
        return settled(lambda: [f.read_bytes() for f in self.mail_files(address)])

    def wait_mail(self, address, count=1, timeout=MAIL_TIMEOUT):
        wait_until(lambda: len(self.mail_files(address)) >= count, timeout,
                   what=f"{count} message(s) in the Maildir of {address}")
        return self.mails(address)

    def assert_no_mail(self, address, wait=1.0):
        time.sleep(wait)
        files = self.mail_files(address)
        assert not files, f"unexpected mail for {address}: {[f.read_bytes()[:200] for f in files]}"

    # ---- connections
    def conn(self, role="smtp", tls=None, **kw):
        port = self.ports[role]
        if tls is None:
            tls = role == "submissions"
        return Conn(port, tls=tls, **kw)

    def submit_conn(self, user, pw, role="submission", **kw):
        """A connection on a submission port, after EHLO, STARTTLS, EHLO and
        a successful AUTH PLAIN."""
        c = self.conn(role, **kw)
        c.ehlo()
        if role != "submissions":
            c.starttls()
            c.ehlo()
        r = c.auth_plain(user, pw)
        assert r.code == 235, r
        return c


@pytest.fixture(scope="module")
def server(tls_cert, request):
    """One server per test module (tests use distinct addresses); a module
    may set SERVER_LIMITS (a dict) to change limits for its server."""
    s = Server(tls_cert, limits=getattr(request.module, "SERVER_LIMITS", None))
    try:
        s.start()
        yield s
        s.stop()
        s.assert_clean()
    finally:
        s.cleanup()


@pytest.fixture
def make_server(tls_cert):
    """Factory for a fresh server per test, with optional config overrides."""
    made = []

    def make(start=True, **kw):
        s = Server(tls_cert, **kw)
        made.append(s)
        if start:
            s.start()
        return s

    yield make
    try:
        for s in made:
            s.stop()
            s.assert_clean()     # no sanitizer report, no password in any log, ever
    finally:
        for s in made:
            s.cleanup()


# --------------------------------------------------------------------------
# outbound delivery (issue 3): a test DNS server, receiving MX hosts
# (aiosmtpd on 127.0.0.2, 127.0.0.3, ... all on one port), config, log and
# DSN helpers.  aiosmtpd and dnslib are imported lazily so that the suites
# above never depend on them.

OUT_DEFAULTS = {
    "retry": (1, 2),
    "lifetime": 60,
    "delay_warning": 3600,
    "connect_timeout": 3,
    "command_timeout": 10,
    "data_timeout": 20,
}


def outbound_config(dns, port, ca_file=None, dns_timeout=5, trust_anchor=None, **delivery):
    """The dns: and delivery: groups for Server(extra=...).  trust_anchor:
    a file for dns.trust_anchor (DNSSEC, dnssec_sign.py), else none."""
    d = dict(OUT_DEFAULTS)
    d.update(delivery)
    parts = []
    for k, v in d.items():
        if isinstance(v, (list, tuple)):
            parts.append(f"{k} = [ " + ", ".join(str(x) for x in v) + " ];")
        elif isinstance(v, str):
            parts.append(f'{k} = "{v}";')
        else:
            parts.append(f"{k} = {v};")
    if ca_file:
        parts.append(f'tls_ca_file = "{ca_file}";')
    anchor = f' trust_anchor = "{trust_anchor}";' if trust_anchor else ""
    return (f'dns: {{ resolver = "{dns.resolver_spec}"; timeout = {dns_timeout};{anchor} }};\n'
            f"delivery: {{ port = {port}; " + " ".join(parts) + " };")


@pytest.fixture
def dns():
    """A TestDNS (tests/e2e/dnsserver.py) on 127.0.0.1:<free port>, per test."""
    from dnsserver import TestDNS
    d = TestDNS().start()
    try:
        yield d
    finally:
        d.stop()


class _Seq:
    """Replies handed out in order, then `then` forever (None: accept)."""

    def __init__(self, replies, then=None):
        self.replies = list(replies)
        self.then = then

    def next(self):
        if self.replies:
            return self.replies.pop(0)
        return self.then


class Receiver:
    """One aiosmtpd SMTP server (a remote MX) on ip:port.

    Records every accepted message in .messages (dicts: mail_from, rcpt_tos,
    content (bytes as received, dot-unstuffed, CRLF), tls (TLS version or
    None), mail_options, peer) and every command in .commands as
    (verb, argument).  Replies can be scripted:
        r.rcpt("a@x.test", "450 4.2.0 busy", then=None)   # 450 once, then 250
        r.rcpt("*", then="550 5.1.1 no")                   # any rcpt, always
        r.data("451 4.3.0 later")                          # DATA end, once
        r.mail(...)                                        # MAIL FROM
    """

    def __init__(self, ip, port, hostname=None, cert=None, size=None, logins=None,
                 implicit_tls=False, extensions=(), delay=0.0, auth_exclude=(), smtputf8=True):
        self.ip = ip
        self.port = port
        self.hostname = hostname or f"rx-{ip}"
        self.cert = cert
        self.size = size
        self.logins = logins        # {user: password}: AUTH required (after TLS)
        self.implicit_tls = implicit_tls
        self.extensions = list(extensions)  # more EHLO keywords, e.g. "PIPELINING"
        self.delay = delay                  # seconds before the reply to the message
        self.auth_exclude = list(auth_exclude)
        self.smtputf8 = smtputf8
        self.active = 0             # connections open now, and the most at once
        self.max_active = 0
        self.auth_seen = []         # (mechanism, login, password) tried
        self.lock = threading.Lock()
        self.messages = []
        self.rejected = []          # (reply, mail_from, rcpt_tos) refused at DATA
        self.commands = []
        self.sessions = []          # one dict per connection that said EHLO/HELO
        self._rcpt = {}
        self._data = _Seq([])
        self._mail = _Seq([])
        self.controller = None

    # ---- scripting
    def rcpt(self, addr, *replies, then=None):
        with self.lock:
            self._rcpt[addr.lower()] = _Seq(replies, then)
        return self

    def data(self, *replies, then=None):
        with self.lock:
            self._data = _Seq(replies, then)
        return self

    def mail(self, *replies, then=None):
        with self.lock:
            self._mail = _Seq(replies, then)
        return self

    def accept_all(self):
        with self.lock:
            self._rcpt = {}
            self._data = _Seq([])
            self._mail = _Seq([])
        return self

    # ---- views
    def verbs(self):
        with self.lock:
            return [v for v, _ in self.commands]

    def count(self, verb):
        return self.verbs().count(verb.upper())

    def wait_messages(self, n=1, timeout=MAIL_TIMEOUT):
        wait_until(lambda: len(self.messages) >= n, timeout,
                   what=f"{n} message(s) at the receiver {self.ip}")
        with self.lock:
            return list(self.messages)

    # ---- aiosmtpd handler hooks
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self.lock:
            self.sessions.append({"helo": hostname, "peer": session.peer})
        return responses[:-1] + [f"250-{e}" for e in self.extensions] + responses[-1:]

    async def handle_MAIL(self, server, session, envelope, address, options):
        with self.lock:
            reply = self._mail.next()
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address, options):
        with self.lock:
            seq = self._rcpt.get(address.lower()) or self._rcpt.get("*")
            reply = seq.next() if seq else None
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            import asyncio
            await asyncio.sleep(self.delay)
        tls = None
        if session.ssl is not None:
            obj = session.ssl.get("ssl_object")
            tls = obj.version() if obj is not None else "?"
        elif self.implicit_tls:
            tls = "implicit"   # the whole connection is TLS (aiosmtpd sets no session.ssl)
        with self.lock:
            reply = self._data.next()
            if reply:
                self.rejected.append((reply, envelope.mail_from, list(envelope.rcpt_tos)))
                return reply
            self.messages.append({
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "content": bytes(envelope.original_content),
                "tls": tls,
                "mail_options": list(envelope.mail_options),
                "peer": session.peer,
            })
        return "250 2.0.0 Ok: queued"

    # ---- control
    def start(self):
        import functools
        import ssl as _ssl
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP

        recv = self

        class RecordingSMTP(SMTP):
            def __init__(self, *a, **kw):
                super().__init__(*a, **kw)
                for verb, meth in list(self._smtp_methods.items()):
                    self._smtp_methods[verb] = self._wrap(verb, meth)

            def connection_made(self, transport):
                with recv.lock:
                    recv.active += 1
                    recv.max_active = max(recv.max_active, recv.active)
                super().connection_made(transport)

            def connection_lost(self, exc):
                with recv.lock:
                    recv.active -= 1
                super().connection_lost(exc)

            @staticmethod
            def _wrap(verb, meth):
                @functools.wraps(meth)
                async def rec(arg):
                    with recv.lock:
                        recv.commands.append((verb, arg))
                    return await meth(arg)
                return rec

        tls_ctx = None
        if self.cert is not None:
            tls_ctx = _ssl.create_default_context(_ssl.Purpose.CLIENT_AUTH)
            tls_ctx.load_cert_chain(self.cert["cert"], self.cert["key"])
        kw = {"server_hostname": self.hostname, "enable_SMTPUTF8": self.smtputf8,
              "require_starttls": False, "tls_context": None if self.implicit_tls else tls_ctx,
              "timeout": 30}
        kw["data_size_limit"] = self.size if self.size is not None else 33554432
        if self.logins is not None:
            from aiosmtpd.smtp import AuthResult

            def authenticator(server, session, envelope, mechanism, data):
                login = data.login.decode() if data.login else ""
                password = data.password.decode() if data.password else ""
                with recv.lock:
                    recv.auth_seen.append((mechanism, login, password))
                return AuthResult(success=recv.logins.get(login) == password)
            # aiosmtpd counts only STARTTLS as TLS for its own check
            kw.update(authenticator=authenticator, auth_required=True,
                      auth_require_tls=not self.implicit_tls,
                      auth_exclude_mechanism=self.auth_exclude)

        class Ctl(Controller):
            def factory(self):
                return RecordingSMTP(self.handler, **self.SMTP_kwargs)

        extra = {"ssl_context": tls_ctx} if self.implicit_tls else {}
        self.controller = Ctl(self, hostname=self.ip, port=self.port, ready_timeout=5.0, **extra, **kw)
        self.controller.start()
        # the controller's own readiness probe is not a client
        wait_until(lambda: self.active == 0, 5, what="the readiness probe to close")
        with self.lock:
            self.commands.clear()
            self.sessions.clear()
            self.max_active = 0
        return self

    def stop(self):
        if self.controller is not None:
            try:
                self.controller.stop()
            except Exception:
                pass
            self.controller = None


class MXFarm:
    """Receivers on 127.0.0.2, 127.0.0.3, ... all on one port (delivery.port)."""

    def __init__(self, port):
        self.port = port
        self.receivers = {}

    def add(self, ip, hostname=None, cert=None, size=None, **kw):
        r = Receiver(ip, self.port, hostname=hostname, cert=cert, size=size, **kw)
        r.start()
        self.receivers[ip] = r
        return r

    def stop_all(self):
        for r in self.receivers.values():
            r.stop()
        self.receivers = {}


@pytest.fixture
def mx():
    farm = MXFarm(free_port())
    try:
        yield farm
    finally:
        farm.stop_all()


@pytest.fixture(scope="session")
def test_ca():
    """A test CA and a certificate it signs for mx1.remote.test (and for
    mx2.remote.test), for verified STARTTLS to a remote MX."""
    d = make_tempdir("yubin-e2e-ca-")
    ca_key, ca_cert = d / "ca.key", d / "ca.pem"
    key, csr, cert = d / "mx.key", d / "mx.csr", d / "mx.pem"
    ext = d / "ext.cnf"
    run = lambda *a: subprocess.run(list(a), check=True, capture_output=True, timeout=60)
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", str(ca_key), "-out", str(ca_cert), "-days", "400",
        "-subj", "/CN=yubin e2e test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", str(key), "-out", str(csr), "-subj", "/CN=mx1.remote.test")
    ext.write_text("subjectAltName=DNS:mx1.remote.test,DNS:mx2.remote.test\n"
                   "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    run("openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
        "-CAcreateserial", "-out", str(cert), "-days", "400", "-extfile", str(ext))
    for f in (ca_cert, cert):
        os.chmod(f, 0o644)
    os.chmod(key, 0o644)
    yield {"ca": str(ca_cert), "cert": str(cert), "key": str(key), "dir": d}
    if not KEEP:
        shutil.rmtree(d, ignore_errors=True)


def deliver_local(srv, rcpt, subject, body=("hello",)):
    """A message from a remote sender to a local user over port 25; waits
    until it is in the Maildir and returns the submitted bytes."""
    msg = make_message("sender@remote.test", rcpt, subject, list(body))
    before = len(srv.mail_files(rcpt))
    with srv.conn("smtp") as c:
        c.ehlo()
        _, final = c.mail_transaction("sender@remote.test", [rcpt], msg)
        assert final.code == 250, final
        c.quit()
    srv.wait_mail(rcpt, before + 1)
    return msg


def imap_login(srv, user, pw):
    """An imaplib session over IMAPS, logged in."""
    import imaplib
    m = imaplib.IMAP4_SSL("localhost", srv.imaps, ssl_context=client_tls_context(), timeout=10)
    typ, _ = m.login(user, pw)
    assert typ == "OK"
    return m


_raw_tags = [0]


def imap_raw(m, line):
    """Send one command line on an imaplib session's socket, as it is;
    returns (the untagged lines, the tagged line without its tag), as
    bytes (a literal's bytes come as lines of their own)."""
    _raw_tags[0] += 1
    tag = b"R%d" % _raw_tags[0]
    m.send(tag + b" " + line.encode() + b"\r\n")
    lines = []
    while True:
        ln = m.readline()
        assert ln, "connection closed"
        if ln.startswith(tag + b" "):
            return lines, ln[len(tag) + 1:]
        lines.append(ln)


def settled(read):
    """read() over a Maildir listing, again when a file moved from new/ to
    cur/ between the listing and the read (an IMAP session with the folder
    open takes new mail in at once)."""
    for _ in range(50):
        try:
            return read()
        except FileNotFoundError:
            time.sleep(0.01)
    return read()


def stored_crlf(srv, rcpt):
    """What delivery wrote for rcpt, oldest first, with CRLF line ends (what
    POP3 and IMAP must send)."""
    def read():
        files = sorted(srv.mail_files(rcpt), key=lambda p: (os.stat(p).st_mtime, p.name))
        return [p.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") for p in files]
    return settled(read)


def submit(srv, user, pw, rcpts, msg, sender=None):
    """Submit msg on 587 (STARTTLS + AUTH); all recipients must be accepted.
    Returns the queue id."""
    with srv.submit_conn(user, pw) as c:
        rr, final = c.mail_transaction(sender if sender is not None else user, list(rcpts), msg)
        for r in rr:
            assert r.code == 250, r
        assert final.code == 250, final
        c.quit()
    return qid_from(final.text)


_LOGFMT_RE = re.compile(r'([A-Za-z0-9_.-]+)=("(?:[^"\\]|\\.)*"|\S*)')


def parse_logfmt(line):
    """key=value pairs of one log line; quoted values unescaped."""
    out = {}
    for k, v in _LOGFMT_RE.findall(line):
        if v.startswith('"') and v.endswith('"') and len(v) >= 2:
            v = re.sub(r'\\x([0-9a-fA-F]{2})|\\(.)',
                       lambda m: chr(int(m.group(1), 16)) if m.group(1) else m.group(2), v[1:-1])
        out[k] = v
    return out


def _addr(v):
    return (v or "").strip().strip("<>").lower()


def qid_lines(srv, qid):
    """Parsed log lines that carry qid=<qid>."""
    out = []
    for line in srv.log_text().splitlines():
        if f"qid={qid}" in line:
            d = parse_logfmt(line)
            if d.get("qid") == qid:
                d["_line"] = line
                out.append(d)
    return out


def attempt_lines(srv, qid, rcpt=None):
    """Delivery-attempt lines: qid=, to=, mx=, ip=, port=, reply= and no result=."""
    return [d for d in qid_lines(srv, qid)
            if all(k in d for k in ("to", "mx", "ip", "port", "reply")) and "result" not in d
            and (rcpt is None or _addr(d["to"]) == rcpt.lower())]


def final_lines(srv, qid, rcpt=None):
    """Final per-recipient lines: result=sent|bounced|expired."""
    return [d for d in qid_lines(srv, qid)
            if d.get("result") in ("sent", "bounced", "expired") and "to" in d
            and (rcpt is None or _addr(d["to"]) == rcpt.lower())]


def wait_final(srv, qid, rcpt, timeout=MAIL_TIMEOUT):
    """Wait for the final line of one recipient; returns it."""
    lines = wait_until(lambda: final_lines(srv, qid, rcpt), timeout,
                       what=f"a result= line for qid={qid} to={rcpt}")
    return lines[-1]


def queue_text(srv):
    p = srv.cli("queue", "list")
    assert p.returncode == 0, f"queue list failed: {p.stdout}{p.stderr}"
    return p.stdout


def wait_queue_empty(srv, qid, timeout=MAIL_TIMEOUT):
    wait_until(lambda: qid not in queue_text(srv), timeout, what=f"{qid} to leave the queue")
    text = queue_text(srv)
    m = re.search(r"\b(\d+) messages?\b", text)
    assert m is None or m.group(1) == "0", f"queue not empty: {text}"
    return text


def parse_dsn(data):
    """Parse a delivered DSN (Maildir file bytes).  Returns a dict:
    msg (email.message.Message), report (the message/delivery-status part),
    per_message (Message of per-message fields), recipients (list of
    Messages of per-recipient fields), headers (text of the
    text/rfc822-headers part, or the headers of a message/rfc822 part),
    text (the first text/plain part)."""
    import email
    import email.policy
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    assert msg.get_content_type() == "multipart/report", msg.get_content_type()
    assert (msg.get_param("report-type") or "").lower() == "delivery-status", msg["Content-Type"]
    parts = msg.get_payload()
    assert isinstance(parts, list) and len(parts) >= 2, "multipart/report with fewer than 2 parts"
    out = {"msg": msg, "text": None, "report": None, "headers": None}
    for p in parts:
        ct = p.get_content_type()
        if ct == "text/plain" and out["text"] is None:
            out["text"] = p.get_payload(decode=True).decode("utf-8", "replace")
        elif ct == "message/delivery-status":
            out["report"] = p
        elif ct == "text/rfc822-headers":
            pl = p.get_payload(decode=True)
            out["headers"] = pl.decode("utf-8", "replace") if isinstance(pl, bytes) else str(pl)
        elif ct == "message/rfc822":
            inner = p.get_payload()
            inner = inner[0] if isinstance(inner, list) else inner
            out["headers"] = "".join(f"{k}: {v}\n" for k, v in inner.items())
    assert out["report"] is not None, "no message/delivery-status part"
    blocks = out["report"].get_payload()
    assert isinstance(blocks, list) and len(blocks) >= 2, \
        f"delivery-status without per-recipient fields: {blocks!r}"
    out["per_message"] = blocks[0]
    out["recipients"] = blocks[1:]
    return out


def dsn_recipient(dsn, rcpt):
    """The per-recipient block for rcpt (Final-Recipient: rfc822;rcpt)."""
    for b in dsn["recipients"]:
        fr = b.get("Final-Recipient", "")
        typ, _, addr = fr.partition(";")
        if typ.strip().lower() == "rfc822" and addr.strip().lower() == rcpt.lower():
            return b
    raise AssertionError(f"no Final-Recipient rfc822;{rcpt} in "
                         f"{[b.get('Final-Recipient') for b in dsn['recipients']]}")
