"""How failed logins are throttled, on the real server, across SMTP AUTH,
POP3 and IMAP (one throttle for all three): an attacked account still
lets its owner in from an address they logged in from before; a success
forgives only its own account and address pair, so an attacker cannot
reset an address's count by logging in to an account of their own; the
replies of a throttled login in each protocol (SMTP 454 4.7.0, POP3
-ERR [SYS/TEMP], IMAP NO [UNAVAILABLE]) against those of bad credentials
(535 5.7.8, -ERR [AUTH], NO [AUTHENTICATIONFAILED]); the log lines (the
scope of a lock-out, POP3's [IN-USE] refusal); the per-address
connection limit shared by every protocol; the auth.known_days bounds.

The conftest servers lock after 3 failures (auth.lockout_failures) for
300 s, so every test uses its own client addresses in 127.0.0.0/8."""

import re
import shutil
import socket
import time

from conftest import (Conn, b64, client_tls_context, config_text, free_port, make_tempdir,
                      run_yubin, wait_until)


class Line:
    """A line-level client of POP3 or IMAP over implicit TLS from a chosen
    source address (poplib and imaplib cannot bind one)."""

    def __init__(self, port, source, tls=True):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(10)
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        self.sock = client_tls_context().wrap_socket(s, server_hostname="localhost") if tls else s
        self.buf = b""
        self.greeting = self.line()

    def line(self, timeout=10):
        deadline = time.monotonic() + timeout
        while b"\r\n" not in self.buf:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"closed by the server; so far {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def send(self, text):
        self.sock.sendall(text.encode() + b"\r\n")

    def cmd(self, text):
        """POP3: one command, its status line."""
        self.send(text)
        return self.line()

    def tagged(self, tag, text):
        """IMAP: one command; its tagged reply line."""
        self.send(f"{tag} {text}")
        while True:
            line = self.line()
            if line.startswith(tag + " "):
                return line

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def smtp_auth(srv, source, user, pw):
    c = Conn(srv.submissions, tls=True, source=source)
    try:
        c.ehlo()
        return c.auth_plain(user, pw)
    finally:
        c.close()


def pop3_pass(srv, source, user, pw):
    p = Line(srv.pop3s, source)
    try:
        assert p.greeting.startswith("+OK"), p.greeting
        r = p.cmd(f"USER {user}")
        assert r.startswith("+OK"), r
        r = p.cmd(f"PASS {pw}")
        if r.startswith("+OK"):
            p.cmd("QUIT")
        return r
    finally:
        p.close()


def imap_login(srv, source, user, pw):
    m = Line(srv.imaps, source)
    try:
        assert m.greeting.startswith("* OK"), m.greeting
        r = m.tagged("a1", f'LOGIN "{user}" "{pw}"')
        m.tagged("a2", "LOGOUT")
        return r
    finally:
        m.close()


def auth_lines(srv, **want):
    """The auth log lines whose key=value pairs include want."""
    out = []
    for line in srv.log_text().splitlines():
        if " event=auth " not in line:
            continue
        if all(re.search(rf"\b{k}={re.escape(str(v))}(\s|$)", line) for k, v in want.items()):
            out.append(line)
    return out


# ---------------------------------------------------------------- the policy

def test_owner_keeps_access_while_account_is_attacked(make_server):
    """Three failures for an account from three other addresses lock it for
    unknown addresses (even with the right password), in every protocol;
    its owner at an address that logged in before still gets in, in every
    protocol; another account is not concerned."""
    srv = make_server()
    owner, opw = srv.add_user()
    bystander, bpw = srv.add_user()
    home = "127.0.0.31"
    assert smtp_auth(srv, home, owner, opw).code == 235
    # three attackers, one failure each, one per protocol
    r = smtp_auth(srv, "127.0.0.32", owner, "guess-1")
    assert r.code == 535 and r.enhanced() == "5.7.8", r
    r = pop3_pass(srv, "127.0.0.33", owner, "guess-2")
    assert r.startswith("-ERR [AUTH] "), r
    r = imap_login(srv, "127.0.0.34", owner, "guess-3")
    assert re.match(r"a1 NO \[AUTHENTICATIONFAILED\] ", r), r
    # a fourth address is refused without a check, even with the password
    r = smtp_auth(srv, "127.0.0.35", owner, opw)
    assert r.code == 454 and r.enhanced() == "4.7.0", r
    r = pop3_pass(srv, "127.0.0.35", owner, opw)
    assert r.startswith("-ERR [SYS/TEMP] "), r
    r = imap_login(srv, "127.0.0.35", owner, opw)
    assert re.match(r"a1 NO \[UNAVAILABLE\] ", r), r
    assert auth_lines(srv, client="127.0.0.35", user=owner, result="locked", scope="account")
    # the owner at home is not locked out, in any protocol
    r = smtp_auth(srv, home, owner, opw)
    assert r.code == 235, f"owner locked out of an account under attack: {r}"
    assert pop3_pass(srv, home, owner, opw).startswith("+OK")
    assert re.match(r"a1 OK ", imap_login(srv, home, owner, opw))
    # and the owner's logins do not lift the lock for the others
    assert smtp_auth(srv, "127.0.0.36", owner, opw).code == 454
    # another account from the attackers' addresses is fine
    assert smtp_auth(srv, "127.0.0.35", bystander, bpw).code == 235
    srv.assert_no_secrets()


def test_own_account_does_not_reset_address_count(make_server):
    """An attacker who owns an account cannot wipe out their address's
    failures by logging in to it between guesses: the third failure from
    the address locks it, for their own account too."""
    srv = make_server()
    victim, vpw = srv.add_user()
    mine, mpw = srv.add_user()
    attacker = "127.0.0.41"
    assert smtp_auth(srv, "127.0.0.42", victim, vpw).code == 235  # the victim's usual address
    assert smtp_auth(srv, attacker, victim, "guess-1").code == 535
    assert smtp_auth(srv, attacker, mine, mpw).code == 235
    assert smtp_auth(srv, attacker, victim, "guess-2").code == 535
    assert re.match(r"a1 OK ", imap_login(srv, attacker, mine, mpw))
    assert smtp_auth(srv, attacker, victim, "guess-3").code == 535
    r = smtp_auth(srv, attacker, mine, mpw)
    assert r.code == 454 and r.enhanced() == "4.7.0", \
        f"a success cleared the address's failures: {r}"
    assert auth_lines(srv, client=attacker, user=mine, result="locked", scope="address")
    # the victim from their usual address is still served
    assert smtp_auth(srv, "127.0.0.42", victim, vpw).code == 235


def test_success_forgives_its_own_failures(make_server):
    """A user who mistypes and then gets it right starts again from zero:
    two more mistakes later are answered 535, not 454."""
    srv = make_server()
    user, pw = srv.add_user()
    src = "127.0.0.51"
    for _ in range(2):
        assert smtp_auth(srv, src, user, pw + "x").code == 535
    assert smtp_auth(srv, src, user, pw).code == 235
    for _ in range(2):
        r = smtp_auth(srv, src, user, pw + "y")
        assert r.code == 535, r
    assert smtp_auth(srv, src, user, pw).code == 235


def test_address_lockout_spans_protocols_and_runs_out(make_server):
    """Failures from one address against different accounts and protocols
    add up; the locked address gets each protocol's "try later" for every
    account, and is served again after auth.lockout_seconds."""
    srv = make_server(auth={"lockout_seconds": 2})
    a, apw = srv.add_user()
    b, bpw = srv.add_user()
    src = "127.0.0.56"
    assert smtp_auth(srv, src, a, "wrong").code == 535
    assert pop3_pass(srv, src, b, "wrong").startswith("-ERR [AUTH] ")
    r = imap_login(srv, src, f"nobody@{a.split('@')[1]}", "wrong")
    assert r.startswith("a1 NO [AUTHENTICATIONFAILED] "), r
    assert smtp_auth(srv, src, b, bpw).code == 454
    assert pop3_pass(srv, src, a, apw).startswith("-ERR [SYS/TEMP] ")
    assert imap_login(srv, src, a, apw).startswith("a1 NO [UNAVAILABLE] ")
    time.sleep(2.5)
    assert smtp_auth(srv, src, b, bpw).code == 235


# ---------------------------------------------------------------- POP3 codes

def test_pop3_throttled_is_sys_temp_not_auth(make_server):
    """RFC 3206: [AUTH] says the credentials are wrong; a login refused
    because of earlier failures is a temporary condition, [SYS/TEMP], for
    USER/PASS and for AUTH PLAIN alike."""
    srv = make_server()
    user, pw = srv.add_user()
    src = "127.0.0.61"
    for i in range(3):
        r = pop3_pass(srv, src, user, f"wrong-{i}")
        assert r.startswith("-ERR [AUTH] "), r
    r = pop3_pass(srv, src, user, pw)
    assert r.startswith("-ERR [SYS/TEMP] ") and "[AUTH]" not in r, r
    p = Line(srv.pop3s, src)
    try:
        r = p.cmd("AUTH PLAIN " + b64(f"\0{user}\0{pw}"))
        assert r.startswith("-ERR [SYS/TEMP] "), r
        # the session goes on: the client may try again later or quit
        assert p.cmd("QUIT").startswith("+OK")
    finally:
        p.close()
    srv.assert_no_secrets()


def test_pop3_in_use_is_logged(make_server):
    """A second POP3 session for a maildrop that is open gets [IN-USE],
    and the refusal is in the log with the session id and the account."""
    srv = make_server()
    user, pw = srv.add_user()
    first = Line(srv.pop3s, "127.0.0.66")
    try:
        first.cmd(f"USER {user}")
        assert first.cmd(f"PASS {pw}").startswith("+OK")
        second = Line(srv.pop3s, "127.0.0.66")
        try:
            second.cmd(f"USER {user}")
            r = second.cmd(f"PASS {pw}")
            assert r.startswith("-ERR [IN-USE] "), r
        finally:
            second.close()
    finally:
        first.cmd("QUIT")
        first.close()

    def in_use():
        return [l for l in srv.log_text().splitlines()
                if " event=pop3 " in l and "refused=in-use" in l and f"user={user}" in l]
    lines = wait_until(in_use, 5, what="the [IN-USE] log line")
    assert re.search(r"\bsid=P[0-9a-z.]+\b", lines[0]), lines[0]
    # not counted as a failed login: the password was right
    assert not auth_lines(srv, user=user, result="failed")


# ---------------------------------------------------------------- IMAP codes

def test_imap_throttled_is_unavailable(make_server):
    """RFC 5530: NO [AUTHENTICATIONFAILED] for bad credentials, NO
    [UNAVAILABLE] for a login refused by the throttle, for LOGIN and for
    AUTHENTICATE PLAIN with SASL-IR."""
    srv = make_server()
    user, pw = srv.add_user()
    src = "127.0.0.71"
    for i in range(3):
        r = imap_login(srv, src, user, f"wrong-{i}")
        assert r.startswith("a1 NO [AUTHENTICATIONFAILED] "), r
    assert imap_login(srv, src, user, pw).startswith("a1 NO [UNAVAILABLE] ")
    m = Line(srv.imaps, src)
    try:
        r = m.tagged("a1", "AUTHENTICATE PLAIN " + b64(f"\0{user}\0{pw}"))
        assert r.startswith("a1 NO [UNAVAILABLE] "), r
        assert m.tagged("a2", "LOGOUT").startswith("a2 OK")
    finally:
        m.close()


# ---------------------------------------------------------------- connections per address

def test_connection_limit_per_address_spans_protocols(make_server):
    """The per-address connection limit counts one address over every
    protocol; the refusal is each protocol's "try later"; other addresses
    are served."""
    srv = make_server(limits={"connections_per_ip": 2})
    time.sleep(0.5)  # the start-up probes' sessions end on the server side
    src = "127.0.0.81"
    held = []
    try:
        held.append(Conn(srv.smtp, source=src))
        assert held[0].greeting.code == 220
        held.append(Line(srv.imap, src, tls=False))
        assert held[1].greeting.startswith("* OK"), held[1].greeting
        p = Line(srv.pop3, src, tls=False)
        held.append(p)
        assert p.greeting.startswith("-ERR [SYS/TEMP] "), p.greeting
        m = Line(srv.imap, src, tls=False)
        held.append(m)
        assert m.greeting.startswith("* BYE [UNAVAILABLE] "), m.greeting
        other = Line(srv.pop3, "127.0.0.82", tls=False)
        held.append(other)
        assert other.greeting.startswith("+OK"), other.greeting
    finally:
        for c in held:
            c.close()
    log = srv.log_text()
    want = r"event=refuse client=127\.0\.0\.81 reason=\"per-address connection limit\""
    assert re.search(want, log), log[-2000:]


# ---------------------------------------------------------------- settings

def test_known_days_bounds(tls_cert):
    """auth.known_days is a setting with bounds: 1 to 3650 days."""
    d = make_tempdir("yubin-e2e-cfg-")
    try:
        _check_known_days(d, tls_cert)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _check_known_days(d, tls_cert):
    ports = {k: 10001 + i for i, k in enumerate(("smtp", "submission", "alt", "submissions",
                                                 "pop3", "pop3s", "imap", "imaps"))}
    for value, ok in ((1, True), (3650, True), (0, False), (3651, False)):
        path = d / "yubin.conf"
        path.write_text(config_text(d / "data", tls_cert["cert"], tls_cert["key"], ports,
                                    auth={"known_days": value}))
        p = run_yubin(["--config", str(path), "config", "check"])
        out = p.stdout + p.stderr
        if ok:
            assert p.returncode == 0, (value, out)
        else:
            assert p.returncode == 1 and re.search(r":\d+: .*known_days", out), (value, out)
    path.write_text(config_text(d / "data", tls_cert["cert"], tls_cert["key"], ports))
    p = run_yubin(["--config", str(path), "config", "defaults"])
    assert re.search(r"auth\.known_days\D+30\b", p.stdout + p.stderr), p.stdout


def test_connection_limit_per_address_ipv6(make_server):
    """On an IPv6 listener the limit counts the client's /64 (here ::1,
    the only IPv6 address loopback has): over the limit is 421, and a
    closed session gives its slot back (taken and given back under the
    same key)."""
    srv = make_server(start=False, limits={"connections_per_ip": 2})
    port = free_port()
    text = srv.config_path.read_text()
    v6 = f'  {{ role = "smtp"; address = "::1"; port = {port}; }},\n'
    text = text.replace("listeners = (\n", "listeners = (\n" + v6, 1)
    srv.config_path.write_text(text)
    srv.start()

    def conn6():
        s = socket.create_connection(("::1", port), timeout=10)
        f = s.makefile("rb")
        return s, f.readline().decode()

    def port6_open():
        try:
            s, _ = conn6()
            s.close()
            return True
        except OSError:
            return False
    wait_until(port6_open, 10, what="the ::1 listener")
    time.sleep(0.5)  # the probe's session ends on the server side
    held = []
    try:
        for _ in range(2):
            s, greeting = conn6()
            held.append(s)
            assert greeting.startswith("220 "), greeting
        s, greeting = conn6()
        held.append(s)
        assert greeting.startswith("421 4."), greeting
        held.pop(0).close()

        def slot_free():
            s, greeting = conn6()
            held.append(s)
            return greeting.startswith("220 ")
        wait_until(slot_free, 5, interval=0.2, what="the slot of a closed IPv6 session")
    finally:
        for s in held:
            s.close()
    assert re.search(r"event=refuse client=::1 reason=\"per-address connection limit\"",
                     srv.log_text())


def test_login_storm_waits_in_line(make_server):
    """auth.max_checks bounds the password checks running at once (each
    yescrypt check takes 16 MiB); the others wait in line and every one is
    answered: twelve IMAP logins at once with max_checks = 1 all succeed,
    and the log shows them all."""
    import imaplib
    import threading
    srv = make_server(auth={"max_checks": 1})
    users = [srv.add_user() for _ in range(12)]
    results = []

    def login(user, pw):
        m = imaplib.IMAP4_SSL("localhost", srv.imaps, ssl_context=client_tls_context(), timeout=30)
        results.append(m.login(user, pw)[0])
        m.logout()

    threads = [threading.Thread(target=login, args=u) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == ["OK"] * 12, results
    assert len(re.findall(r"event=auth .* result=ok", srv.log_text())) == 12
    p = srv.cli("config", "check")
    assert p.returncode == 0
    bad = srv.config_path.read_text().replace("max_checks = 1;", "max_checks = 0;")
    srv.config_path.write_text(bad)
    p = srv.cli("config", "check")
    assert p.returncode == 1 and "max_checks" in p.stdout + p.stderr, p.stdout + p.stderr
