"""ManageSieve (RFC 5804) on the real server's port-4190 role: the greeting
and its capabilities before and after STARTTLS, AUTHENTICATE (PLAIN, LOGIN,
challenges, the "*" abort, no password in the clear, the shared throttle),
every script command with its response codes, the limits (lines, literals,
script size, scripts per account, errors), and real clients: sieve-connect,
python3-sievelib and `openssl s_client -starttls sieve`."""

import base64
import json
import os
import shutil
import socket
import ssl
import subprocess
import time

import pytest

from conftest import DOMAIN, Server, client_tls_context, free_port, run_yubin

SIEVE_CONNECT = shutil.which("sieve-connect")
MAX_SCRIPT = 4096
MAX_SCRIPTS = 4
EXTENSIONS = ("fileinto reject ereject envelope vacation imap4flags copy mailbox variables body "
              "relational comparator-i;ascii-numeric subaddress date index include encoded-character")


class SieveServer(Server):
    """The usual test server plus a managesieve listener."""

    def __init__(self, cert, **kw):
        super().__init__(cert, extra=f"managesieve: {{ max_script_size = {MAX_SCRIPT}; "
                                     f"max_scripts = {MAX_SCRIPTS}; }};", **kw)
        self.ports["managesieve"] = free_port()
        text = self.config_path.read_text()
        head, rest = text.split("listeners = (", 1)
        body, tail = rest.split("\n);", 1)
        body += (f',\n  {{ role = "managesieve"; address = "127.0.0.1"; '
                 f'port = {self.ports["managesieve"]}; }}')
        self.config_path.write_text(head + "listeners = (" + body + "\n);" + tail)

    @property
    def sieve(self):
        return self.ports["managesieve"]

    def sieve_dir(self, address):
        return self.maildir(address) / "sieve"


@pytest.fixture(scope="module")
def srv(tls_cert):
    s = SieveServer(tls_cert)
    try:
        s.start()
        yield s
        s.stop()
        s.assert_clean()
    finally:
        s.cleanup()


@pytest.fixture
def user(srv):
    return srv.add_user()


def b64(s):
    return base64.b64encode(s.encode()).decode()


def unquote(s):
    if not (s.startswith('"') and s.endswith('"')):
        return s
    return s[1:-1].replace('\\"', '"').replace("\\\\", "\\")


class MS:
    """A raw ManageSieve client: lines, literals, and responses as
    (status, code, text, [lines before it])."""

    def __init__(self, port, source=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10,
                                             source_address=(source, 0) if source else None)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError("connection closed")
        self.buf += d

    def readline(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def item(self):
        """One line, with a literal at its end read in (bytes)."""
        line = self.readline()
        if line.endswith(b"}") and b"{" in line:
            n = int(line[line.rindex(b"{") + 1:-1])
            lit = self.read_exact(n)
            rest = self.readline()
            return line[:line.rindex(b"{")] + b"<lit>" + rest, lit
        return line, None

    def response(self):
        lines = []
        while True:
            line, lit = self.item()
            for st in (b"OK", b"NO", b"BYE"):
                if line == st or line.startswith(st + b" "):
                    rest = line[len(st):].lstrip()
                    code = None
                    if rest.startswith(b"("):
                        code, rest = rest[1:].split(b")", 1)
                        code = code.decode()
                        rest = rest.lstrip()
                    text = lit.decode() if rest.startswith(b"<lit>") else unquote(rest.decode())
                    return st.decode(), code, text, lines
            lines.append((line, lit))

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.response()

    def starttls(self):
        st = self.cmd("STARTTLS")
        assert st[0] == "OK", st
        assert self.buf == b""
        self.sock = client_tls_context().wrap_socket(self.sock, server_hostname="localhost")
        return self.response()

    def login(self, user, pw):
        st = self.cmd(f'AUTHENTICATE "PLAIN" "{b64(chr(0) + user + chr(0) + pw)}"')
        assert st[:2] == ("OK", None), st
        return st

    def closed(self):
        try:
            self.sock.settimeout(5)
            return self.sock.recv(1) == b""
        except (ConnectionResetError, ssl.SSLError):
            return True

    def close(self):
        self.sock.close()


def caps(lines):
    out = {}
    for line, _ in lines:
        parts = line.decode().split('" "')
        name = parts[0].strip('"')
        out[name] = parts[1].rstrip('"') if len(parts) > 1 else None
    return out


def authed(srv, user):
    c = MS(srv.sieve)
    c.response()
    c.starttls()
    c.login(*user)
    return c


# ---------------------------------------------------------------- greeting, TLS, login

def test_greeting_before_tls(srv):
    c = MS(srv.sieve)
    st, code, text, lines = c.response()
    assert st == "OK" and "ManageSieve" in text
    cp = caps(lines)
    assert cp["IMPLEMENTATION"].startswith("yubin")
    assert cp["SASL"] == ""  # no password in the clear: nothing offered
    assert cp["SIEVE"] == EXTENSIONS
    assert "STARTTLS" in cp and cp["STARTTLS"] is None
    assert cp["VERSION"] == "1.0" and cp["MAXREDIRECTS"] == "4"
    assert "OWNER" not in cp
    st, code, text, lines = c.cmd("CAPABILITY")
    assert st == "OK" and caps(lines) == cp
    c.close()


def test_starttls_resends_capabilities(srv, user):
    c = MS(srv.sieve)
    c.response()
    st, code, text, lines = c.starttls()  # unsolicited, right after the handshake
    cp = caps(lines)
    assert st == "OK"
    assert cp["SASL"] == "PLAIN LOGIN" and "STARTTLS" not in cp and cp["VERSION"] == "1.0"
    assert c.cmd("STARTTLS")[0] == "NO"
    c.login(*user)
    st, code, text, lines = c.cmd("CAPABILITY")
    assert caps(lines)["OWNER"] == user[0]
    c.close()


def test_starttls_drops_pipelined_plaintext(srv):
    c = MS(srv.sieve)
    c.response()
    c.send("STARTTLS\r\nLISTSCRIPTS\r\n")
    assert c.response()[0] == "OK"
    c.sock = client_tls_context().wrap_socket(c.sock, server_hostname="localhost")
    st, code, text, lines = c.response()  # the capabilities, then nothing else
    assert st == "OK" and "SASL" in caps(lines)
    assert c.cmd("NOOP")[:3] == ("OK", None, "Done")
    c.close()


def test_plaintext_auth_refused(srv, user):
    c = MS(srv.sieve)
    c.response()
    st = c.cmd(f'AUTHENTICATE "PLAIN" "{b64(chr(0) + user[0] + chr(0) + user[1])}"')
    assert st[:2] == ("NO", "ENCRYPT-NEEDED"), st
    st = c.cmd('AUTHENTICATE "LOGIN"')
    assert st[:2] == ("NO", "ENCRYPT-NEEDED"), st
    c.close()


def test_commands_before_auth(srv):
    c = MS(srv.sieve)
    c.response()
    for cmd in ("LISTSCRIPTS", 'GETSCRIPT "a"', 'SETACTIVE ""', 'PUTSCRIPT "a" "keep;"',
                'DELETESCRIPT "a"', 'HAVESPACE "a" 10', "UNAUTHENTICATE"):
        st, code, text, _ = c.cmd(cmd)
        assert st == "NO" and "uthenticate" in text, (cmd, st, text)
    assert c.cmd('NOOP "t1"')[:3] == ("OK", 'TAG "t1"', "Done")
    st = c.cmd("LOGOUT")
    assert st[0] == "OK" and c.closed()


def test_authenticate_challenges_and_abort(srv, user):
    c = MS(srv.sieve)
    c.response()
    c.starttls()
    c.send('AUTHENTICATE "PLAIN"\r\n')
    assert c.readline() == b'""'  # the empty challenge
    st = c.cmd('"*"')
    assert st[0] == "NO" and "cancel" in st[2].lower()
    assert c.cmd("LISTSCRIPTS")[0] == "NO"  # still not logged in
    # LOGIN: user name and password each after their challenge, one as a literal
    c.send('AUTHENTICATE "LOGIN"\r\n')
    assert base64.b64decode(c.readline().strip(b'"')) == b"Username:"
    c.send(f'"{b64(user[0])}"\r\n')
    assert base64.b64decode(c.readline().strip(b'"')) == b"Password:"
    pw = b64(user[1])
    c.send(f"{{{len(pw)}+}}\r\n{pw}\r\n")
    assert c.response()[:2] == ("OK", None)
    assert c.cmd("LISTSCRIPTS")[0] == "OK"
    assert c.cmd('AUTHENTICATE "PLAIN" ""')[0] == "NO"  # already logged in
    c.close()


def test_plain_challenge_then_response(srv, user):
    c = MS(srv.sieve)
    c.response()
    c.starttls()
    c.send('AUTHENTICATE "PLAIN"\r\n')
    assert c.readline() == b'""'
    st = c.cmd(f'"{b64(chr(0) + user[0] + chr(0) + user[1])}"')
    assert st[:2] == ("OK", None), st
    c.close()


def test_wrong_password_throttled(srv, user):
    """The login throttle shared with IMAP and POP3: three failures from an
    address (the test server's lockout_failures) lock it out."""
    c = MS(srv.sieve, source="127.0.0.9")
    c.response()
    c.starttls()
    for _ in range(3):
        st = c.cmd(f'AUTHENTICATE "PLAIN" "{b64(chr(0) + user[0] + chr(0) + "wrong")}"')
        assert st[:3] == ("NO", None, "Authentication failed"), st
    c.close()
    c = MS(srv.sieve, source="127.0.0.9")
    c.response()
    c.starttls()
    st = c.cmd(f'AUTHENTICATE "PLAIN" "{b64(chr(0) + user[0] + chr(0) + user[1])}"')
    assert st[:2] == ("NO", "TRYLATER"), st  # even the right password
    c.close()
    log = srv.log_text()
    assert "event=auth" in log and "client=127.0.0.9" in log and "result=locked" in log
    # counted under its own protocol in /metrics (failures, not the lock-out)
    status, _, body = srv.http("GET", "/metrics")
    assert status == 200
    line = [l for l in body.decode().splitlines()
            if l.startswith('yubin_auth_failures_total{protocol="managesieve"}')]
    assert line and float(line[0].split()[-1]) >= 3, line


def test_unauthenticate(srv, user):
    c = authed(srv, user)
    assert c.cmd("UNAUTHENTICATE")[0] == "OK"
    assert c.cmd("LISTSCRIPTS")[0] == "NO"
    st, code, text, lines = c.cmd("CAPABILITY")
    assert "OWNER" not in caps(lines)
    c.login(*user)
    assert c.cmd("LISTSCRIPTS")[0] == "OK"
    c.close()


# ---------------------------------------------------------------- scripts

def test_script_lifecycle(srv, user):
    c = authed(srv, user)
    script = 'require "fileinto";\r\nif header :contains "subject" "x" { fileinto "X"; }\r\n'
    n = len(script.encode())
    assert c.cmd(f'HAVESPACE "main" {n}')[:2] == ("OK", None)
    assert c.cmd(f'PUTSCRIPT "main" {{{n}+}}\r\n{script}')[:2] == ("OK", None)
    # {n} without "+" from old clients: read, no continuation sent
    assert c.cmd(f'PUTSCRIPT "other" {{5}}\r\nkeep;')[:2] == ("OK", None)
    assert c.cmd('PUTSCRIPT "quoted" "discard;"')[:2] == ("OK", None)
    st, code, text, lines = c.cmd("LISTSCRIPTS")
    assert st == "OK" and [l for l, _ in lines] == [b'"main"', b'"other"', b'"quoted"']
    assert c.cmd('SETACTIVE "main"')[:2] == ("OK", None)
    st, code, text, lines = c.cmd("LISTSCRIPTS")
    assert [l for l, _ in lines] == [b'"main" ACTIVE', b'"other"', b'"quoted"']
    st, code, text, lines = c.cmd('GETSCRIPT "main"')
    assert st == "OK" and lines[0][1] == script.encode()
    assert c.cmd('SETACTIVE "nope"')[:2] == ("NO", "NONEXISTENT")
    assert c.cmd('GETSCRIPT "nope"')[:2] == ("NO", "NONEXISTENT")
    assert c.cmd('DELETESCRIPT "main"')[:2] == ("NO", "ACTIVE")
    assert c.cmd('DELETESCRIPT "nope"')[:2] == ("NO", "NONEXISTENT")
    assert c.cmd('RENAMESCRIPT "other" "quoted"')[:2] == ("NO", "ALREADYEXISTS")
    assert c.cmd('RENAMESCRIPT "nope" "x"')[:2] == ("NO", "NONEXISTENT")
    # the active script stays active under its new name
    assert c.cmd('RENAMESCRIPT "main" "renamed"')[:2] == ("OK", None)
    st, code, text, lines = c.cmd("LISTSCRIPTS")
    assert [l for l, _ in lines] == [b'"other"', b'"quoted"', b'"renamed" ACTIVE']
    d = srv.sieve_dir(user[0])
    assert (d / ".active").read_text() == "renamed.sieve"
    assert (d / "renamed.sieve").read_bytes() == script.encode()
    # replacing the active script: the new text is active at once
    assert c.cmd('PUTSCRIPT "renamed" "keep;"')[0] == "OK"
    assert (d / "renamed.sieve").read_bytes() == b"keep;"
    assert c.cmd('SETACTIVE ""')[:2] == ("OK", None)
    assert not (d / ".active").exists()
    assert c.cmd('DELETESCRIPT "renamed"')[:2] == ("OK", None)
    st, code, text, lines = c.cmd("LISTSCRIPTS")
    assert [l for l, _ in lines] == [b'"other"', b'"quoted"']
    for name in ("other", "quoted"):
        assert c.cmd(f'DELETESCRIPT "{name}"')[0] == "OK"
    assert c.cmd("LOGOUT")[0] == "OK" and c.closed()


def test_empty_script_and_listing_of_new_account(srv, user):
    c = authed(srv, user)
    st, code, text, lines = c.cmd("LISTSCRIPTS")
    assert st == "OK" and lines == []
    assert c.cmd('PUTSCRIPT "empty" {0+}\r\n')[0] == "OK"
    st, code, text, lines = c.cmd('GETSCRIPT "empty"')
    assert st == "OK" and lines[0][1] == b""
    c.close()


def test_script_names(srv, user):
    c = authed(srv, user)
    for bad in ('""', '"a\x01b"', '"a\x7fb"', '"' + "n" * 129 + '"'):
        st = c.cmd(f"PUTSCRIPT {bad} \"keep;\"")
        assert st[0] == "NO" and st[1] is None, (bad, st)
    # U+2028 and invalid UTF-8, as literals
    for raw in ("a\u2028b".encode(), b"a\xffb"):
        c.send(b"PUTSCRIPT {%d+}\r\n" % len(raw) + raw + b' "keep;"\r\n')
        st = c.response()
        assert st[0] == "NO", (raw, st)
    # names that look like paths stay inside the account's sieve folder
    d = srv.sieve_dir(user[0])
    for batch in (("../../escape", "a/b", ".active"), ("%2E", "ünïcødé €", "x" * 128)):
        for name in batch:
            assert c.cmd(f'PUTSCRIPT "{name}" "keep;"')[:2] == ("OK", None), name
            st, code, text, lines = c.cmd(f'GETSCRIPT "{name}"')
            assert st == "OK" and lines[0][1] == b"keep;"
        st, code, text, lines = c.cmd("LISTSCRIPTS")
        names = [l.decode()[1:-1] for l, _ in lines]
        assert names == sorted(batch, key=lambda n: n.encode())
        assert not (d / ".active").exists()  # the marker is not the script called ".active"
        assert not (d.parent.parent / "escape.sieve").exists()
        assert all(p.parent == d for p in d.rglob("*"))
        for name in names:
            assert c.cmd(f'DELETESCRIPT "{name}"')[0] == "OK"
    c.close()


def test_quotas(srv, user):
    c = authed(srv, user)
    assert c.cmd(f'HAVESPACE "x" {MAX_SCRIPT + 1}')[:2] == ("NO", "QUOTA/MAXSIZE")
    for i in range(MAX_SCRIPTS):
        assert c.cmd(f'PUTSCRIPT "s{i}" "keep;"')[0] == "OK"
    assert c.cmd('HAVESPACE "new" 10')[:2] == ("NO", "QUOTA/MAXSCRIPTS")
    assert c.cmd('HAVESPACE "s0" 10')[:2] == ("OK", None)  # a replacement
    assert c.cmd('PUTSCRIPT "new" "keep;"')[:2] == ("NO", "QUOTA/MAXSCRIPTS")
    assert c.cmd('PUTSCRIPT "s0" "discard;"')[:2] == ("OK", None)
    big = "#" * (MAX_SCRIPT + 1)
    assert c.cmd(f'PUTSCRIPT "s1" {{{len(big)}+}}\r\n{big}')[:2] == ("NO", "QUOTA/MAXSIZE")
    assert c.cmd(f'CHECKSCRIPT {{{len(big)}+}}\r\n{big}')[:2] == ("NO", "QUOTA/MAXSIZE")
    # the session goes on after a refused literal
    assert c.cmd("NOOP")[0] == "OK"
    exact = "#" * MAX_SCRIPT
    assert c.cmd(f'PUTSCRIPT "s1" {{{len(exact)}+}}\r\n{exact}')[:2] == ("OK", None)
    for i in range(MAX_SCRIPTS):
        assert c.cmd(f'DELETESCRIPT "s{i}"')[0] == "OK"
    c.close()


def test_storage_error_trylater(srv, user):
    """A file system that refuses the write: NO (TRYLATER), the detail in
    the log, the old script kept."""
    c = authed(srv, user)
    assert c.cmd('PUTSCRIPT "kept" "keep;"')[0] == "OK"
    d = srv.sieve_dir(user[0])
    os.chmod(d, 0o500)
    try:
        st = c.cmd('PUTSCRIPT "kept" "discard;"')
        assert st[:2] == ("NO", "TRYLATER"), st
        assert "Internal error" in st[2]
    finally:
        os.chmod(d, 0o700)
    assert "event=managesieve_store" in srv.log_text()
    st, code, text, lines = c.cmd('GETSCRIPT "kept"')
    assert lines[0][1] == b"keep;"
    assert c.cmd('DELETESCRIPT "kept"')[0] == "OK"
    c.close()


def test_checkscript(srv, user):
    c = authed(srv, user)
    assert c.cmd('CHECKSCRIPT "keep;"')[:2] == ("OK", None)
    c.send(b'CHECKSCRIPT {11+}\r\nkeep;\r\n\xff\xfe\r\n\r\n')
    st = c.response()
    assert st[0] == "NO" and st[2].startswith("2:1: "), st
    c.send(b'PUTSCRIPT "nul" {6+}\r\nkeep\x00;\r\n')
    st = c.response()
    assert st[0] == "NO" and st[2].startswith("1:5: "), st
    assert c.cmd('GETSCRIPT "nul"')[:2] == ("NO", "NONEXISTENT")
    c.close()


def test_checkscript_language_errors(srv, user):
    c = authed(srv, user)
    script = 'require "fileinto";\r\nfileinot "x";\r\n'
    st = c.cmd(f'CHECKSCRIPT {{{len(script)}+}}\r\n{script}')
    assert st[0] == "NO" and st[2].startswith("2:1:") and "fileinot" in st[2], st
    st = c.cmd(f'PUTSCRIPT "bad" {{{len(script)}+}}\r\n{script}')
    assert st[0] == "NO" and st[2].startswith("2:1:"), st
    assert c.cmd('GETSCRIPT "bad"')[:2] == ("NO", "NONEXISTENT")
    # an unknown extension is refused where it is named (RFC 5228 3.2)
    script = 'require ["fileinto", "frobnicate"];\r\n'
    st = c.cmd(f'PUTSCRIPT "bad" {{{len(script)}+}}\r\n{script}')
    assert st[0] == "NO" and st[2].startswith("1:") and "frobnicate" in st[2], st
    # a script it includes may come later: stored, with a warning (RFC 6609)
    script = 'require "include";\r\ninclude :personal "later";\r\n'
    st = c.cmd(f'PUTSCRIPT "incl" {{{len(script)}+}}\r\n{script}')
    assert st[:2] == ("OK", "WARNINGS") and "'later'" in st[2], st
    assert c.cmd('DELETESCRIPT "incl"')[0] == "OK"
    c.close()


# ---------------------------------------------------------------- protocol errors and bounds

def test_syntax_errors(srv, user):
    c = authed(srv, user)
    for bad in ("FROBNICATE", 'GETSCRIPT main', 'GETSCRIPT "a" "b"', 'PUTSCRIPT "a"',
                'HAVESPACE "a" "10"', 'HAVESPACE "a" 99999999999', 'NOOP "a\\x"',
                'GETSCRIPT  "a"', 'GETSCRIPT "unterminated'):
        st = c.cmd(bad)
        assert st[0] == "NO", (bad, st)
    c.close()


def test_too_many_errors_bye(srv):
    c = MS(srv.sieve)
    c.response()
    for i in range(9):  # the test server's limits.errors is 10
        assert c.cmd("FROBNICATE")[0] == "NO"
    st = c.cmd("FROBNICATE")
    assert st[0] == "NO"
    st = c.response()
    assert st[0] == "BYE" and "errors" in st[2].lower()
    assert c.closed()


def test_line_too_long_before_auth(srv):
    c = MS(srv.sieve)
    c.response()
    c.send("NOOP " + "x" * 5000 + "\r\n")
    st = c.response()
    assert st[0] == "BYE" and "too long" in st[2].lower()
    assert c.closed()


def test_line_bounds_after_auth(srv, user):
    c = authed(srv, user)
    st = c.cmd("NOOP " + "x" * 5000)  # past the 4 KiB of before login, within the 8 KiB after
    assert st[0] == "NO" and "quoted strings" in st[2], st
    c.send("NOOP " + "x" * 9000 + "\r\n")
    st = c.response()
    assert st[0] == "BYE" and "too long" in st[2].lower()
    assert c.closed()


def test_literal_bounds_before_auth(srv):
    c = MS(srv.sieve)
    c.response()
    c.send('NOOP {5000+}\r\n' + "x" * 5000 + "\r\n")
    st = c.response()
    assert st[0] == "NO" and "5000" in st[2], st
    assert c.cmd("NOOP")[0] == "OK"  # the literal was read and dropped
    c.send('NOOP {4294967296+}\r\n')
    st = c.response()
    assert st[0] == "BYE", st
    assert c.closed()


def test_huge_literal_after_auth_closes(srv, user):
    c = authed(srv, user)
    c.send('PUTSCRIPT "x" {100000000+}\r\n')
    st = c.response()
    assert st[0] == "BYE" and "large" in st[2], st
    assert c.closed()


def test_literal_byte_by_byte(srv, user):
    c = authed(srv, user)
    data = b'PUTSCRIPT "slow" {7+}\r\nkeep;\r\n\r\n'
    for i in range(len(data)):
        c.send(data[i:i + 1])
        time.sleep(0.002)
    assert c.response()[:2] == ("OK", None)
    st, code, text, lines = c.cmd('GETSCRIPT "slow"')
    assert lines[0][1] == b"keep;\r\n"
    assert c.cmd('DELETESCRIPT "slow"')[0] == "OK"
    c.close()


# ---------------------------------------------------------------- real clients

def test_openssl_starttls_sieve(srv):
    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{srv.sieve}", "-starttls", "sieve",
                        "-crlf", "-ign_eof", "-CAfile", srv.cert["cert"], "-verify_return_error",
                        "-verify_hostname", "localhost"],
                       input=b"CAPABILITY\nLOGOUT\n", capture_output=True, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    assert "Verify return code: 0 (ok)" in out, out + p.stderr.decode()
    assert '"SASL" "PLAIN LOGIN"' in out and 'OK "Logout completed"' in out, out


def test_sieve_connect(srv, user, tmp_path):
    assert SIEVE_CONNECT is not None, "sieve-connect is not installed: run scripts/install-deps"
    address, pw = user
    local = tmp_path / "vacation.sieve"
    script = 'require ["vacation"];\nvacation :days 7 "away";\n'
    local.write_text(script)

    def sc(*args):
        r, w = os.pipe()
        os.write(w, (pw + "\n").encode())
        os.close(w)
        try:
            p = subprocess.run([SIEVE_CONNECT, "--nosrv", "-s", "127.0.0.1", "-p", str(srv.sieve),
                                "-u", address, "--tlscafile", srv.cert["cert"], "--tlshostname",
                                "localhost", "--passwordfd", str(r), "--authmech", "PLAIN", *args],
                               capture_output=True, timeout=60, pass_fds=(r,), stdin=subprocess.DEVNULL)
        finally:
            os.close(r)
        return p.returncode, p.stdout.decode() + p.stderr.decode()

    rc, out = sc("--upload", "--localsieve", str(local), "--remotesieve", "vac")
    assert rc == 0, out
    rc, out = sc("--checkscript", "--localsieve", str(local))
    assert rc == 0, out
    rc, out = sc("--activate", "--remotesieve", "vac")
    assert rc == 0, out
    rc, out = sc("--list")
    assert rc == 0 and '"vac" ACTIVE' in out, out
    dl = tmp_path / "back.sieve"
    rc, out = sc("--download", "--remotesieve", "vac", "--localsieve", str(dl))
    assert rc == 0 and dl.read_text() == script, out
    rc, out = sc("--deactivate")
    assert rc == 0, out
    rc, out = sc("--delete", "--remotesieve", "vac")
    assert rc == 0, out
    rc, out = sc("--list")
    assert rc == 0 and "vac" not in out, out


def test_sievelib(srv, user):
    from sievelib import managesieve  # python3-sievelib, from scripts/install-deps
    address, pw = user
    c = managesieve.Client("127.0.0.1", srv.sieve)
    assert c.connect(address, pw, starttls=True, authmech="PLAIN"), c.errmsg
    assert c.get_implementation().startswith("yubin")
    assert "vacation" in c.get_sieve_capabilities()
    script = 'require ["fileinto"];\r\nfileinto "Lists";\r\n'
    assert c.havespace("lib", len(script))
    assert c.putscript("lib", script), c.errmsg
    assert c.checkscript(script), c.errmsg
    assert c.setactive("lib"), c.errmsg
    active, others = c.listscripts()
    assert active == "lib" and others == []
    # sievelib hands the text back with "\n" line ends
    assert c.getscript("lib").replace("\r\n", "\n").rstrip() == script.replace("\r\n", "\n").rstrip()
    assert c.renamescript("lib", "lib2"), c.errmsg
    active, others = c.listscripts()
    assert active == "lib2"
    assert not c.deletescript("lib2")  # active
    assert c.setactive(""), c.errmsg
    assert c.deletescript("lib2"), c.errmsg
    assert c.listscripts() == (None, [])
    c.logout()


def test_doctor_checks_the_managesieve_listener(srv):
    """`yubin doctor` speaks ManageSieve to the port: capabilities, STARTTLS,
    the capabilities again after the handshake."""
    p = run_yubin(["--config", str(srv.config_path), "doctor", "--json"], timeout=300)
    rep = json.loads(p.stdout)
    [r] = [r for r in rep["results"]
           if r["check"] == "listener" and r["subject"] == f"managesieve 127.0.0.1:{srv.sieve}"]
    assert r["status"] == "ok" and r["detail"] == "answers and speaks managesieve with TLS", r
