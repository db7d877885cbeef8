"""End-to-end test fixtures for yubin.

Every test talks to a real `yubin serve` started on free loopback ports, with
real clients (smtplib, swaks, curl, smtp-source) or raw sockets for protocol
abuse.  Servers are started by the fixtures below and always stopped by PID
(SIGTERM, then SIGKILL) in teardown.  Every wait is bounded.

Environment:
  YUBIN_BIN       the binary under test (default: <repo>/build/yubin)
  YUBIN_E2E_KEEP  set to 1 to keep the temporary directories (logs, Maildirs)
"""

import base64
import email.utils
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


# --------------------------------------------------------------------------
# small helpers

_used_ports = set()
_port_lock = threading.Lock()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with _port_lock:
        for _ in range(200):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            finally:
                s.close()
            if port not in _used_ports:
                _used_ports.add(port)
                return port
    raise RuntimeError("no free port")


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
    ]
    lines.append(",\n".join(ls))
    lines.append(");")
    lines.append("limits: { " + " ".join(f"{k} = {v};" for k, v in lim.items()) + " };")
    lines.append("auth: { " + " ".join(f"{k} = {v};" for k, v in au.items()) + " };")
    lines.append("workers = 4;")
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
                      "alt": free_port(), "submissions": free_port()}
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
        return [f.read_bytes() for f in self.mail_files(address)]

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
def server(tls_cert):
    """One server per test module (tests use distinct addresses)."""
    s = Server(tls_cert)
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
