"""`yubin --dev serve`: no config, fixed loopback ports, a self-signed
certificate and a demo account made on first start and reused after."""

import hashlib
import imaplib
import os
import poplib
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from conftest import KEEP, YUBIN_BIN, exclusive, make_tempdir, port_open, uniq, wait_until

DEV_PORTS = {"smtp": 10025, "submission": 10587, "submissions": 10465, "alt": 12525,
             "pop3": 10110, "pop3s": 10995, "imap": 10143, "imaps": 10993,
             "https": 10443, "https_alt": 18443, "managesieve": 14190}
DEMO_RE = re.compile(r"demo account: (\S+@\S+) password: (\S+)")


@pytest.fixture(autouse=True)
def dev_ports_to_ourselves():
    """The ports are fixed: a test process running in parallel with this one
    (another pytest-xdist worker, scripts/test's other pass) waits for its
    turn here instead of finding them taken."""
    with exclusive("yubin-dev-ports"):
        yield


class DevServer:
    def __init__(self, base):
        self.base = base
        self.dev_dir = base / "dev"
        self.env = dict(os.environ, YUBIN_DEV_DIR=str(self.dev_dir))
        self.proc = None
        self.n = 0
        self.out = None

    def start(self):
        self.n += 1
        self.out = self.base / f"dev-{self.n}.out"
        with open(self.out, "wb") as o:
            self.proc = subprocess.Popen([YUBIN_BIN, "--dev", "serve"], cwd=str(self.base),
                                         env=self.env, stdin=subprocess.DEVNULL, stdout=o,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"dev server exited {self.proc.returncode}: {self.text()[-2000:]}")
            return all(port_open(p) for p in DEV_PORTS.values())
        wait_until(ready, 30, what="dev-mode listeners")

    def text(self):
        return self.out.read_bytes().decode("utf-8", "replace") if self.out else ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        return self.proc.returncode if self.proc else None

    def cli(self, *args, input=None):
        p = subprocess.run([YUBIN_BIN, "--dev", *args], cwd=str(self.base), env=self.env,
                           capture_output=True, timeout=30,
                           input=input.encode() if input is not None else b"")
        return p.returncode, p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")


def _peer_cert():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", DEV_PORTS["submissions"]), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            return t.getpeercert(binary_form=True)


def _find_delivered(dev_dir, marker):
    hits = []
    for p in dev_dir.rglob("*"):
        if p.is_file() and p.parent.name in ("new", "cur"):
            try:
                if marker.encode() in p.read_bytes():
                    hits.append(p)
            except OSError:
                pass
    return hits


def _send(user, pw, rcpt, subject, port):
    msg = f"From: {user}\r\nTo: {rcpt}\r\nSubject: {subject}\r\n\r\nhello from the dev test\r\n"
    s = smtplib.SMTP("127.0.0.1", port, timeout=10)
    try:
        s.starttls(context=ssl._create_unverified_context())
        s.login(user, pw)
        refused = s.sendmail(user, [rcpt], msg)
        assert refused == {}
        s.quit()
    finally:
        s.close()


SPECIAL_USE = {"Sent": "\\Sent", "Drafts": "\\Drafts", "Trash": "\\Trash", "Junk": "\\Junk",
               "Archive": "\\Archive"}


def _check_folders_and_fingerprint(dev, user, pw, cert_der):
    """The demo account has the default special-use folders, as accounts
    from `user add` do; the banner and `tls fingerprint` show the SHA-256
    fingerprint of the certificate the server presents."""
    m = imaplib.IMAP4_SSL("127.0.0.1", DEV_PORTS["imaps"], ssl_context=ssl._create_unverified_context(),
                          timeout=10)
    try:
        assert m.login(user, pw)[0] == "OK"
        typ, lines = m.list()
        assert typ == "OK", lines
        listed = {}
        for raw in lines:
            lm = re.match(rb'\(([^)]*)\) (?:"[^"]*"|NIL) "?([^"]*)"?$', raw)
            assert lm, raw
            listed[lm.group(2).decode()] = lm.group(1).decode().split()
        for name, attr in SPECIAL_USE.items():
            assert name in listed, f"{name} missing from LIST: {lines}"
            assert attr in listed[name], f"{name} without {attr}: {lines}"
        assert "INBOX" in listed
    finally:
        m.logout()
    fp = ":".join(f"{b:02X}" for b in hashlib.sha256(cert_der).digest())
    assert f"SHA-256 fingerprint is {fp}" in dev.text(), dev.text()[-1500:]
    rc, out = dev.cli("tls", "fingerprint")
    assert rc == 0 and re.search(rf"^SHA-256\s+{fp}$", out, re.M), out
    cert = dev.dev_dir / "tls" / "cert.pem"
    ossl = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-fingerprint", "-sha256"],
                          capture_output=True, text=True, check=True, timeout=30).stdout
    assert ossl.strip() == f"sha256 Fingerprint={fp}", ossl


def test_dev_mode_end_to_end():
    # the ports are fixed: wait (bounded) for anyone else's dev server to go
    try:
        wait_until(lambda: not any(port_open(p) for p in DEV_PORTS.values()), 20,
                   interval=0.5, what="dev-mode ports to be free")
    except AssertionError:
        busy = [p for p in DEV_PORTS.values() if port_open(p)]
        raise AssertionError(f"dev-mode ports already in use by another process: {busy}")
    base = make_tempdir("yubin-e2e-devmode-")
    dev = DevServer(base)
    try:
        dev.start()
        m = wait_until(lambda: DEMO_RE.search(dev.text()), 15, what="demo account line")
        user, pw = m.group(1), m.group(2)
        assert user.endswith("@yubin.test"), user
        cert1 = _peer_cert()

        _check_folders_and_fingerprint(dev, user, pw, cert1)

        subject = "dev " + uniq()
        _send(user, pw, user, subject, DEV_PORTS["submission"])
        wait_until(lambda: _find_delivered(dev.dev_dir, subject), 10, what="delivery in dev mode")
        (path,) = _find_delivered(dev.dev_dir, subject)
        data = path.read_bytes()
        assert data.startswith(f"Return-Path: <{user}>\nDelivered-To: {user}\n".encode()), data[:200]
        assert data.endswith(b"\n\nhello from the dev test\n"), data[-200:]
        # and read it back over POP3S, as the banner shows
        pop = poplib.POP3_SSL("127.0.0.1", DEV_PORTS["pop3s"],
                              context=ssl._create_unverified_context(), timeout=10)
        pop.user(user)
        pop.pass_(pw)
        assert b"\r\n".join(pop.retr(1)[1]) + b"\r\n" == data.replace(b"\n", b"\r\n")
        pop.quit()
        assert "pop3s://127.0.0.1:10995/1" in dev.text()
        # the https listener answers with the same certificate, as the banner says
        assert "https        127.0.0.1:10443" in dev.text()
        assert "managesieve  127.0.0.1:14190" in dev.text()
        p = subprocess.run(["curl", "-sk", f"https://127.0.0.1:{DEV_PORTS['https']}/v1/health"],
                           capture_output=True, timeout=30)
        assert p.stdout == b'{"status":"ok","accepting_mail":true}', p

        # admin commands act on this instance's data while it runs
        rc, out = dev.cli("user", "list")
        assert rc == 0 and user in out, out
        rc, out = dev.cli("user", "add", "second@yubin.test", "--password-stdin",
                          input="second-pass-42\n")
        assert rc == 0, out
        _send("second@yubin.test", "second-pass-42", user, "from second " + uniq(),
              DEV_PORTS["submission"])

        assert dev.stop() == 0
        logged = [l for l in dev.text().splitlines() if l.startswith("ts=")]
        assert logged, "dev server wrote no log lines"
        assert not [l for l in logged if pw in l], "demo password in a log line"

        # restart in the same folder: same account, same certificate, same data
        dev.start()
        time.sleep(0.5)
        text2 = dev.text()
        m2 = DEMO_RE.search(text2)
        if m2:
            assert (m2.group(1), m2.group(2)) == (user, pw), "demo account changed on restart"
        assert _peer_cert() == cert1, "certificate regenerated on restart"
        subject2 = "dev2 " + uniq()
        _send(user, pw, user, subject2, DEV_PORTS["alt"])
        wait_until(lambda: _find_delivered(dev.dev_dir, subject2), 10, what="delivery after restart")
        assert len(_find_delivered(dev.dev_dir, subject)) == 1
    finally:
        dev.stop()
        if not KEEP:
            shutil.rmtree(base, ignore_errors=True)
