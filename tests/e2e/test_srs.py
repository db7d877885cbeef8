"""Forwarding with SRS (issue 11): an alias that points to an external
address is delivered to that domain's MX (an aiosmtpd peer) with an SRS0
envelope sender at our domain, whose SPF passes (pyspf against the test DNS
server) where the original sender's would fail; the hash and time stamp
are checked here apart from yubin, with Python's hmac over the secret file.
A bounce to that address is reversed and goes to the original sender
(remote: relayed to its MX; local: its mailbox); a forged hash or an
expired stamp is refused with 550 5.1.1 and a sentence; an SRS0 sender is
re-forwarded as SRS1 and a bounce to it goes back to the first forwarder.
Null senders and our users' own mail are not rewritten."""

import base64
import hashlib
import hmac
import os
import re
import stat
import time

import pytest

from conftest import DOMAIN, HOSTNAME, make_message, outbound_config, parse_logfmt, submit, wait_until

REMOTE = "remote.test"        # where the alias forwards to
ORIGIN = "origin.test"        # the original sender's domain
FIRST = "first.example"       # another forwarder, for SRS1
IP_REMOTE, IP_ORIGIN, IP_FIRST = "127.0.0.2", "127.0.0.3", "127.0.0.4"
TIME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


# ---- the scheme, written here apart from yubin's C

def srs_hash(secret, *fields):
    data = "".join(f.lower() for f in fields).encode()
    return base64.b64encode(hmac.new(secret.encode(), data, hashlib.sha1).digest()).decode()[:4]


def srs_stamp(t):
    d = int(t // 86400) % 1024
    return TIME_CHARS[d >> 5] + TIME_CHARS[d & 31]


def srs0(secret, address, t, domain=DOMAIN):
    local, host = address.rsplit("@", 1)
    ts = srs_stamp(t)
    return f"SRS0={srs_hash(secret, ts, host, local)}={ts}={host}={local}@{domain}"


def secret_of(srv):
    path = srv.data_dir / "srs.secret"
    wait_until(lambda: path.exists(), 5, what="the SRS secret file made at start")
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    lines = [l for l in path.read_text().splitlines() if l and not l.startswith("#")]
    assert lines and len(lines[0]) >= 32, "a random secret of at least 32 characters"
    return lines[0]


def spf_result(dns, ip, sender):
    import dns.resolver as dres
    import spf
    r = dres.Resolver(configure=False)
    r.nameservers = [dns.address]
    r.port = dns.port
    old = dres.default_resolver
    dres.default_resolver = r
    try:
        return spf.check2(i=ip, s=sender, h=HOSTNAME, timeout=5)[0]
    finally:
        dres.default_resolver = old


def port25(srv, sender, rcpts, msg, helo="mx.origin.test"):
    """MAIL / RCPT / DATA on port 25; (RCPT replies, final reply or None)."""
    with srv.conn("smtp") as c:
        c.ehlo(helo)
        r = c.cmd(f"MAIL FROM:<{sender}>")
        assert r.code == 250, r
        rr = [c.cmd(f"RCPT TO:<{x}>") for x in rcpts]
        final = None
        if any(x.code == 250 for x in rr):
            assert c.cmd("DATA").code == 354
            c.send(msg + b".\r\n")
            final = c.reply()
        c.quit()
    return rr, final


@pytest.fixture
def world(make_server, dns, mx):
    dns.set(DOMAIN, "TXT", ["v=spf1 ip4:127.0.0.1 -all"])
    dns.set(ORIGIN, "TXT", ["v=spf1 ip4:192.0.2.1 -all"])
    for dom, ip in ((REMOTE, IP_REMOTE), (ORIGIN, IP_ORIGIN), (FIRST, IP_FIRST)):
        dns.set(dom, "MX", [(10, f"mx.{dom}")])
        dns.set(f"mx.{dom}", "A", [ip])
    rx = {ip: mx.add(ip, hostname=f"mx.{dom}") for dom, ip in
          ((REMOTE, IP_REMOTE), (ORIGIN, IP_ORIGIN), (FIRST, IP_FIRST))}
    srv = make_server(extra=outbound_config(dns, mx.port) + "\nrewrite: { srs: { enable = 1; }; };")
    srv.add_alias(f"fwd@{DOMAIN}", f"friend@{REMOTE}")
    return srv, dns, rx


def test_forward_with_srs0_passes_spf_and_bounce_returns(world):
    srv, dns, rx = world
    secret = secret_of(srv)
    sender = f"Bob.Smith@{ORIGIN}"
    msg = make_message(sender, f"fwd@{DOMAIN}", "forward me", ["hello"])
    t0 = time.time()
    rr, final = port25(srv, sender, [f"fwd@{DOMAIN}"], msg)
    assert rr[0].code == 250 and final.code == 250, (rr, final)
    (m,) = rx[IP_REMOTE].wait_messages(1)
    mail_from = m["mail_from"]
    assert m["rcpt_tos"] == [f"friend@{REMOTE}"]
    assert mail_from in (srs0(secret, sender, t0), srs0(secret, sender, time.time())), mail_from
    # SPF at the destination: ours passes, the original sender's would not
    peer_ip = "127.0.0.1"
    assert spf_result(dns, peer_ip, mail_from) == "pass"
    assert spf_result(dns, peer_ip, sender) == "fail"
    # the message itself is not changed (no header rewriting asked)
    assert m["content"].endswith(msg)
    assert any(d.get("sender") == sender and d.get("mail_from") == mail_from
               for d in map(parse_logfmt, srv.log_text().splitlines()) if d.get("event") == "srs_forward"), \
        srv.log_text()
    # the destination bounces: null sender to the SRS address
    bounce = make_message("MAILER-DAEMON@" + REMOTE, mail_from, "Undelivered", ["no such user"])
    rr, final = port25(srv, "", [mail_from], bounce, helo=f"mx.{REMOTE}")
    assert rr[0].code == 250 and final.code == 250, (rr, final)
    (b,) = rx[IP_ORIGIN].wait_messages(1)
    assert b["mail_from"] == "<>" and b["rcpt_tos"] == [sender], b
    assert b["content"].endswith(bounce)


def test_bounce_to_a_local_original_sender(world):
    srv, dns, rx = world
    alice, _ = srv.add_user()
    addr = srs0(secret_of(srv), alice, time.time())
    # yubin's own command makes the same address
    p = srv.cli("srs", "forward", alice)
    assert p.returncode == 0 and p.stdout.strip() == addr, (p.stdout, p.stderr, addr)
    assert srv.cli("srs", "reverse", addr).stdout.strip() == alice
    bounce = make_message("MAILER-DAEMON@" + REMOTE, addr, "Undelivered", ["returned"])
    rr, final = port25(srv, "", [addr.lower()], bounce)   # a hop may lower-case it
    assert rr[0].code == 250 and final.code == 250, (rr, final)
    (got,) = srv.wait_mail(alice)
    assert got.startswith(b"Return-Path: <>\n"), got[:100]
    assert b"Subject: Undelivered" in got


def test_forged_and_expired_are_refused(world):
    srv, dns, rx = world
    secret = secret_of(srv)
    good = srs0(secret, f"bob@{ORIGIN}", time.time())
    h = good.split("=")[1]
    forged = good.replace(f"SRS0={h}=", "SRS0=" + ("AAAA" if h != "AAAA" else "BBBB") + "=")
    expired = srs0(secret, f"bob@{ORIGIN}", time.time() - 30 * 86400)
    wrong_secret = srs0("not-the-secret", f"bob@{ORIGIN}", time.time())
    truncated = good.split("=")[0] + "=" + h + "@" + DOMAIN
    rr, final = port25(srv, "", [forged, expired, wrong_secret, truncated], b"x\r\n")
    assert final is None
    for r in (rr[0], rr[2], rr[3]):
        assert r.code == 550 and r.enhanced() == "5.1.1", r
        assert "was not made here" in r.text, r
    assert rr[1].code == 550 and rr[1].enhanced() == "5.1.1" and "expired" in rr[1].text, rr[1]
    # a 20-day-old address is still good (max_age 21)
    rr, final = port25(srv, "", [srs0(secret, f"bob@{ORIGIN}", time.time() - 20 * 86400)], b"x\r\n")
    assert rr[0].code == 250 and final.code == 250, (rr, final)
    rx[IP_ORIGIN].wait_messages(1)
    log = srv.log_text()
    assert "srs_reverse" in log and "forged" in log and "older than rewrite.srs.max_age" in log
    assert secret not in log and secret not in srv.stderr_text()


def test_srs0_sender_is_reforwarded_as_srs1(world):
    srv, dns, rx = world
    secret = secret_of(srv)
    first = f"SRS0=XyZ1=G3={ORIGIN}=carol@{FIRST}"      # made by another forwarder
    msg = make_message(first, f"fwd@{DOMAIN}", "forwarded twice", ["x"])
    rr, final = port25(srv, first, [f"fwd@{DOMAIN}"], msg, helo=f"mx.{FIRST}")
    assert final.code == 250, final
    (m,) = rx[IP_REMOTE].wait_messages(1)
    rest = f"=XyZ1=G3={ORIGIN}=carol"
    want = f"SRS1={srs_hash(secret, FIRST, rest)}={FIRST}={rest}@{DOMAIN}"
    assert m["mail_from"] == want, (m["mail_from"], want)
    assert spf_result(dns, "127.0.0.1", m["mail_from"]) == "pass"
    # a bounce to the SRS1 address goes back to the first forwarder's SRS0
    rr, final = port25(srv, "", [want], make_message("m@x", want, "bounce", ["y"]))
    assert final.code == 250, (rr, final)
    (b,) = rx[IP_FIRST].wait_messages(1)
    assert b["rcpt_tos"] == [first] and b["mail_from"] == "<>", b
    # SRS1 forged
    bad = want.replace("SRS1=" + want.split("=")[1], "SRS1=" + ("QQQQ" if want.split("=")[1] != "QQQQ" else "RRRR"))
    rr, _ = port25(srv, "", [bad], b"x\r\n")
    assert rr[0].code == 550 and "was not made here" in rr[0].text, rr[0]


def test_null_sender_and_own_users_are_not_rewritten(world):
    srv, dns, rx = world
    alice, pw = srv.add_user()
    submit(srv, alice, pw, [f"fwd@{DOMAIN}"], make_message(alice, f"fwd@{DOMAIN}", "mine", ["x"]))
    rr, final = port25(srv, "", [f"fwd@{DOMAIN}"], make_message("md@x", f"fwd@{DOMAIN}", "dsn", ["x"]))
    assert final.code == 250, final
    msgs = rx[IP_REMOTE].wait_messages(2)
    froms = sorted(m["mail_from"] for m in msgs)
    assert froms == sorted(["<>", alice]), froms


def test_srs_off_refuses_srs_addresses_as_unknown(make_server):
    srv = make_server()
    rr, final = port25(srv, "", [f"SRS0=abcd=G3={ORIGIN}=bob@{DOMAIN}"], b"x\r\n")
    assert rr[0].code == 550 and "No such user" in rr[0].text, rr[0]


def test_keygen_and_rotation(make_server):
    srv = make_server(start=False, extra="rewrite: { srs: { enable = 1; max_age = 5; }; };")
    p = srv.cli("srs", "keygen")
    assert p.returncode == 0 and "created" in p.stdout, p.stdout + p.stderr
    first = secret_of(srv)
    assert first not in p.stdout + p.stderr
    assert "exists" in srv.cli("srs", "keygen").stdout
    old_addr = srv.cli("srs", "forward", f"bob@{ORIGIN}").stdout.strip()
    p = srv.cli("srs", "keygen", "--rotate")
    assert p.returncode == 0 and "1 older kept" in p.stdout, p.stdout + p.stderr
    second = secret_of(srv)
    assert second != first
    lines = (srv.data_dir / "srs.secret").read_text().split()
    assert lines == [second, first]
    # the new secret signs, the old one still verifies
    assert srv.cli("srs", "forward", f"bob@{ORIGIN}").stdout.strip() == srs0(second, f"bob@{ORIGIN}", time.time())
    assert srv.cli("srs", "reverse", old_addr).stdout.strip() == f"bob@{ORIGIN}"
    # max_age = 5 days
    p = srv.cli("srs", "reverse", srs0(second, f"bob@{ORIGIN}", time.time() - 6 * 86400))
    assert p.returncode == 1 and "older than rewrite.srs.max_age" in p.stderr, p.stderr
    # a secret file others can read is refused at start
    os.chmod(srv.data_dir / "srs.secret", 0o644)
    p = srv.cli("srs", "reverse", old_addr)
    assert p.returncode == 1 and "chmod 600" in p.stderr, p.stderr


def test_arc_sealed_forward_verifies_with_dkimpy(make_server, dns, mx):
    """rewrite.arc_seal: the forwarded copy carries an ARC set (i=1,
    cv=none) over what was found on arrival; dkimpy's ARC verifier, with
    the key published in the test DNS, says the chain passes."""
    import dkim
    from test_msgauth import keygen
    dns.set(ORIGIN, "TXT", ["v=spf1 ip4:192.0.2.1 -all"])
    dns.set(REMOTE, "MX", [(10, f"mx.{REMOTE}")])
    dns.set(f"mx.{REMOTE}", "A", [IP_REMOTE])
    rx = mx.add(IP_REMOTE, hostname=f"mx.{REMOTE}")
    srv = make_server(start=False, extra=outbound_config(dns, mx.port) +
                      "\nmsgauth: { verify = 1; };\nrewrite: { arc_seal = 1; srs: { enable = 1; }; };")
    name, value = keygen(srv, "rsa")
    dns.set(name, "TXT", [[value[i:i + 255] for i in range(0, len(value), 255)]])
    srv.start()
    srv.add_alias(f"fwd@{DOMAIN}", f"friend@{REMOTE}")
    sender = f"bob@{ORIGIN}"
    msg = make_message(sender, f"fwd@{DOMAIN}", "sealed", ["hello"])
    rr, final = port25(srv, sender, [f"fwd@{DOMAIN}"], msg)
    assert final.code == 250, (rr, final)
    (m,) = rx.wait_messages(1)
    content = m["content"]
    head = content.split(b"\r\n\r\n")[0].decode()
    assert head.startswith("ARC-Seal: i=1; a=rsa-sha256;"), head[:300]
    assert "cv=none" in head and f"d={DOMAIN}" in head, head[:600]
    aar = re.search(r"(?m)^ARC-Authentication-Results: i=1;([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", head)
    assert aar and f"spf=fail smtp.mailfrom={ORIGIN}" in re.sub(r"\s+", " ", aar.group(1)), head

    def dnsfunc(qname, timeout=5):
        return value.encode() if qname.decode().rstrip(".") == name else None

    cv, results, comment = dkim.arc_verify(content, dnsfunc=dnsfunc)
    assert cv == dkim.CV_Pass, (cv, results, comment)
    # a change in transit breaks it
    cv, _, comment = dkim.arc_verify(content.replace(b"hello", b"HELLO"), dnsfunc=dnsfunc)
    assert cv == dkim.CV_Fail, (cv, comment)
    assert "event=arc_seal" in srv.log_text() and "result=sealed" in srv.log_text()


def test_arc_seal_of_the_7bit_copy(make_server, dns, mx):
    """To a server without 8BITMIME the converted copy goes, sealed on its
    own: still 7-bit only, and dkimpy's ARC verifier passes it."""
    import dkim
    from test_msgauth import keygen
    from test_outbound_conn import scripted
    rx = scripted(dns, mx, eightbitmime=False)     # remote.test's MX
    try:
        srv = make_server(start=False, extra=outbound_config(dns, mx.port) + "\nrewrite: { arc_seal = 1; };")
        name, value = keygen(srv, "rsa")
        srv.start()
        srv.add_alias(f"fwd@{DOMAIN}", f"friend@{REMOTE}")
        msg = make_message(f"bob@{ORIGIN}", f"fwd@{DOMAIN}", "eight bit", ["Gr\u00fc\u00dfe", "bye"],
                           extra_headers=("MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
                                          "Content-Transfer-Encoding: 8bit"))
        with srv.conn("smtp") as c:
            c.ehlo("mx.origin.test")
            _, final = c.mail_transaction(f"bob@{ORIGIN}", [f"fwd@{DOMAIN}"], msg, mail_params="BODY=8BITMIME")
            c.quit()
        assert final.code == 250, final
        ((verb, raw),) = rx.wait_messages(1)
        assert all(b < 0x80 for b in raw)
        assert raw.startswith(b"ARC-Seal: i=1;"), raw[:200]

        def dnsfunc(qname, timeout=5):
            return value.encode() if qname.decode().rstrip(".") == name else None

        cv, results, comment = dkim.arc_verify(raw, dnsfunc=dnsfunc)
        assert cv == dkim.CV_Pass, (cv, results, comment)
        # without msgauth.verify there is no result to record: "none"
        assert f"ARC-Authentication-Results: i=1; {HOSTNAME}; none".encode() in raw, raw[:800]
    finally:
        rx.stop()


def test_same_addresses_as_postsrsd(make_server):
    """postsrsd (Debian's, the libsrs2-compatible SRS daemon for Postfix),
    given the same secret file and domain, makes the addresses yubin makes
    and reads back the ones yubin made, and the other way round."""
    import shutil
    import socket
    import subprocess
    import urllib.parse
    from conftest import free_port
    exe = shutil.which("postsrsd") or ("/usr/sbin/postsrsd" if os.path.exists("/usr/sbin/postsrsd") else None)
    if exe is None:
        pytest.fail("postsrsd is not installed: run scripts/install-deps (Debian package postsrsd)")
    srv = make_server(start=False, extra="rewrite: { srs: { enable = 1; }; };")
    assert srv.cli("srs", "keygen").returncode == 0
    secret_file = srv.data_dir / "srs.secret"
    fwd_port, rev_port = free_port(), free_port()
    proc = subprocess.Popen([exe, "-s", str(secret_file), "-d", DOMAIN, "-f", str(fwd_port), "-r", str(rev_port),
                             "-l", "127.0.0.1", "-4"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def ask(port, address):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(f"get {urllib.parse.quote(address)}\n".encode())
                reply = s.recv(4096).decode().strip()
            code, _, value = reply.partition(" ")
            return code, urllib.parse.unquote(value)

        wait_until(lambda: _port_open(fwd_port) and _port_open(rev_port), 10, what="postsrsd listening")

        def yubin(cmd, address):
            p = srv.cli("srs", cmd, address)
            assert p.returncode == 0, (cmd, address, p.stderr)
            return p.stdout.strip()

        for sender in (f"Bob.Smith@{ORIGIN}", f"SRS0=XyZ1=G3={ORIGIN}=carol@{FIRST}",
                       f"SRS1=abcd={FIRST}==XyZ1=G3={ORIGIN}=carol@other.test"):
            ours = yubin("forward", sender)
            code, theirs = ask(fwd_port, sender)
            assert code == "200" and theirs == ours, (sender, ours, code, theirs)
            code, back = ask(rev_port, ours)
            assert code == "200", (ours, code, back)
            assert back == yubin("reverse", ours), (ours, back)
        # a forged address: both refuse it
        forged = yubin("forward", f"bob@{ORIGIN}").replace("SRS0=", "SRS0=Q", 1)
        assert ask(rev_port, forged)[0] == "500"
        assert srv.cli("srs", "reverse", forged).returncode == 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _port_open(port):
    import socket
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False
