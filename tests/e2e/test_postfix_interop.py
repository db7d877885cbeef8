"""Interop with a real Postfix (Debian's postfix package), both ways, on
loopback:

- yubin -> Postfix: submitted on 587, delivered by yubin to the MX that the
  test DNS server names (Postfix on 127.0.0.9, delivery.port), stored by
  Postfix's virtual(8) agent in a Maildir; plain and with STARTTLS that
  yubin verifies against the test CA;
- Postfix -> yubin: injected with Postfix's sendmail, relayed by Postfix
  (relayhost = yubin's port-25 listener) into yubin's Maildir;
- a recipient yubin does not know: 550 5.1.1 at RCPT, and Postfix bounces.

Each test has its own Postfix instance: main.cf, master.cf, queue, data,
Maildirs and log (maillog_file) in one temporary folder, started with
`postfix -c DIR start` and stopped with `postfix -c DIR stop`.  Postfix's
daemons run as the postfix user, so the instance needs root (as in CI).
"""

import os
import pwd
import re
import shutil
import subprocess

import pytest

from conftest import (DOMAIN, HOSTNAME, IS_ROOT, KEEP, attempt_lines, dsn_recipient,
                      free_port, make_message, make_tempdir, outbound_config, parse_dsn,
                      parse_logfmt, port_open, submit, to_lf, wait_final, wait_until)

PF_IP = "127.0.0.9"            # no other test uses this address
PF_DOMAIN = "remote.test"
PF_HOST = "mx1.remote.test"    # the name in test_ca's certificate
PF_USERS = ("bob", "sender")   # Postfix's mailboxes: <user>@remote.test
TIMEOUT = 15.0
SBIN = "/usr/sbin:/usr/bin:" + os.environ.get("PATH", "")   # root's PATH may lack sbin
# what must cross both servers unchanged: dot-stuffing, a lone dot,
# trailing white space, 8-bit text, a line near the 998-octet limit
BODY = ["Hello from the interop test.", "", ".", ".a line with a leading dot", "..two dots",
        "trailing spaces   ", "tab\there", "Unicode: naïve café", "x" * 990, "last line"]

MASTER_CF = """\
{ip}:{port} inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n -  0 cleanup
qmgr      unix n - n 300 1 qmgr
tlsmgr    unix - - n 1000? 1 tlsmgr
rewrite   unix - - n -  - trivial-rewrite
bounce    unix - - n -  0 bounce
defer     unix - - n -  0 bounce
trace     unix - - n -  0 bounce
verify    unix - - n -  1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n -  - proxymap
smtp      unix - - n -  - smtp
relay     unix - - n -  - smtp
showq     unix n - n -  - showq
error     unix - - n -  - error
retry     unix - - n -  - error
discard   unix - - n -  - discard
virtual   unix - n n -  - virtual
anvil     unix - - n -  1 anvil
scache    unix - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


class Postfix:
    """One private Postfix instance on PF_IP:<free port>."""

    def __init__(self, relay_port=None, cert=None):
        self.port = free_port()
        self.dir = make_tempdir("yubin-e2e-postfix-")
        self.etc = self.dir / "etc"
        self.mail = self.dir / "mail"
        self.logfile = self.dir / "postfix.log"
        self.started = False
        for d in (self.etc, self.dir / "queue", self.dir / "data", self.mail):
            d.mkdir()
        shutil.chown(self.dir / "data", "postfix")
        shutil.chown(self.mail, "nobody")
        nobody = pwd.getpwnam("nobody")                  # owns Postfix's Maildirs
        boxes = ", ".join(f"{u}@{PF_DOMAIN}={u}/" for u in PF_USERS)
        main = {
            "compatibility_level": "3.6",
            "queue_directory": self.dir / "queue",
            "data_directory": self.dir / "data",
            "mail_owner": "postfix",
            "maillog_file": self.logfile,
            "maillog_file_prefixes": self.dir,
            "myhostname": PF_HOST,
            "mydomain": PF_DOMAIN,
            "myorigin": PF_DOMAIN,
            "mydestination": "",
            "mynetworks": f"{PF_IP}/32",
            # Postfix accepts only interface addresses here; the smtpd line
            # in master.cf binds PF_IP itself, the client binds it too
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "smtp_bind_address": PF_IP,
            "smtp_dns_support_level": "disabled",     # never real DNS
            "smtp_host_lookup": "native",
            "smtpd_peername_lookup": "no",
            "alias_maps": "",
            "alias_database": "",
            "biff": "no",
            "virtual_mailbox_domains": PF_DOMAIN,
            "virtual_mailbox_base": self.mail,
            "virtual_mailbox_maps": f"inline:{{ {boxes} }}",
            "virtual_uid_maps": f"static:{nobody.pw_uid}",
            "virtual_gid_maps": f"static:{nobody.pw_gid}",
            "relayhost": f"[127.0.0.1]:{relay_port}" if relay_port else "",
            "smtp_tls_security_level": "may",         # to yubin: opportunistic
            "smtp_tls_loglevel": "1",
        }
        if cert is not None:
            main.update(smtpd_tls_cert_file=cert["cert"], smtpd_tls_key_file=cert["key"],
                        smtpd_tls_security_level="may", smtpd_tls_received_header="yes",
                        smtpd_tls_loglevel="1")
        (self.etc / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in main.items()))
        (self.etc / "master.cf").write_text(MASTER_CF.format(ip=PF_IP, port=self.port))

    def run(self, *args, input=None):
        cmd = [shutil.which(args[0], path=SBIN), *args[1:]]
        return subprocess.run(cmd, input=input, capture_output=True, timeout=30)

    def start(self):
        p = self.run("postfix", "-c", str(self.etc), "start")
        self.started = True
        assert p.returncode == 0, f"postfix start failed:\n{p.stderr.decode()}\n{self.log()}"
        wait_until(lambda: port_open(self.port, PF_IP), TIMEOUT, what="Postfix to listen")
        return self

    def stop(self):
        if not self.started:
            return
        self.run("postfix", "-c", str(self.etc), "stop")
        wait_until(lambda: self.run("postfix", "-c", str(self.etc), "status").returncode != 0,
                   TIMEOUT, what="Postfix to stop")
        self.started = False

    def log(self):
        return self.logfile.read_text("utf-8", "replace") if self.logfile.exists() else ""

    def sendmail(self, sender, rcpts, msg):
        """Inject msg (CRLF bytes) with this instance's sendmail."""
        p = self.run("sendmail", "-C", str(self.etc), "-i", "-f", sender, "--", *rcpts,
                     input=to_lf(msg))
        assert p.returncode == 0, p.stderr.decode()

    def queue_empty(self):
        p = self.run("postqueue", "-c", str(self.etc), "-p")
        assert p.returncode == 0, p.stderr.decode()
        return p.stdout.decode().strip() == "Mail queue is empty"

    def wait_mail(self, user, count=1):
        new = self.mail / user / "new"
        wait_until(lambda: new.is_dir() and len(list(new.iterdir())) >= count, TIMEOUT,
                   what=f"{count} message(s) in Postfix's Maildir of {user}")
        return [f.read_bytes() for f in sorted(new.iterdir())]

    def wait_log(self, pattern):
        return wait_until(lambda: re.search(pattern, self.log()), TIMEOUT,
                          what=f"/{pattern}/ in Postfix's log")


@pytest.fixture
def postfix():
    """Factory: postfix(relay_port=..., cert=...) starts a private Postfix."""
    # scripts/install-deps installs Postfix and the suite runs as root (as CI
    # does): without them these tests fail rather than pass unseen
    assert shutil.which("postfix", path=SBIN), "postfix is not installed: run scripts/install-deps"
    assert IS_ROOT, "a private Postfix instance needs root (its daemons run as postfix)"
    made = []

    def make(**kw):
        made.append(Postfix(**kw))
        return made[-1].start()

    yield make
    for pf in made:
        pf.stop()
        if not KEEP:
            shutil.rmtree(pf.dir, ignore_errors=True)


def header_fields(data, content):
    """data must be header fields followed by content; returns those fields
    as (name, unfolded value) pairs."""
    assert data.endswith(content), (
        f"the message is not stored unchanged\n--- stored ---\n{data[:3000]!r}\n"
        f"--- sent ---\n{content[:3000]!r}")
    prefix = data[:len(data) - len(content)].decode("utf-8", "replace")
    fields = re.split(r"\n(?![ \t])", prefix.rstrip("\n"))
    out = []
    for f in fields:
        name, colon, value = f.partition(":")
        assert colon and re.fullmatch(r"[!-9;-~]+", name), f"not a header field: {f!r}"
        out.append((name, " ".join(value.split())))
    return out


# ---------------------------------------------------------------- yubin -> Postfix

@pytest.mark.parametrize("tls", [False, True], ids=["plain", "starttls"])
def test_yubin_delivers_to_postfix(make_server, dns, postfix, test_ca, tls):
    pf = postfix(cert=test_ca if tls else None)
    dns.set(PF_DOMAIN, "MX", [(10, PF_HOST)]).set(PF_HOST, "A", [PF_IP])
    srv = make_server(extra=outbound_config(dns, pf.port, ca_file=test_ca["ca"] if tls else None))
    user, pw = srv.add_user()
    rcpt = f"bob@{PF_DOMAIN}"
    msg = make_message(user, rcpt, "yubin to Postfix", BODY)
    qid = submit(srv, user, pw, [rcpt], msg)

    fin = wait_final(srv, qid, rcpt, TIMEOUT)
    assert fin["result"] == "sent", fin["_line"]
    (att,) = attempt_lines(srv, qid, rcpt)
    assert (att["mx"].rstrip(".").lower(), att["ip"], att["port"]) == (PF_HOST, PF_IP, str(pf.port)), \
        att["_line"]
    # Postfix offers CHUNKING: its reply to BDAT counts the bytes it took
    assert re.match(r"250 2\.0\.0 Ok: \d+ bytes queued as \w+", att["reply"]), att["_line"]
    if tls:
        assert att.get("tls", "").startswith("TLSv1"), att["_line"]
        assert att.get("verified") == "yes", att["_line"]
    else:
        assert not att.get("tls", "").startswith("TLS"), att["_line"]

    (data,) = pf.wait_mail("bob")
    fields = header_fields(data, to_lf(msg))
    assert [n for n, _ in fields] == ["Return-Path", "X-Original-To", "Delivered-To",
                                      "Received", "Received"], fields
    assert fields[0][1] == f"<{user}>" and fields[2][1] == rcpt, fields
    pf_rcvd, our_rcvd = fields[3][1], fields[4][1]
    pf_qid = att["reply"].rsplit(" ", 1)[1]
    assert pf_rcvd.startswith(f"from {HOSTNAME} (unknown [127.0.0.1])"), pf_rcvd
    assert f"by {PF_HOST} (Postfix) with {'ESMTPS' if tls else 'ESMTP'} id {pf_qid} " in pf_rcvd, pf_rcvd
    assert ("(using TLSv1." in pf_rcvd) == tls, pf_rcvd
    assert f"by {HOSTNAME} (yubin) with ESMTPSA id {qid} for <{rcpt}>;" in our_rcvd, our_rcvd
    pf.wait_log(rf"{pf_qid}: to=<{rcpt}>, relay=virtual, .*status=sent")


# ---------------------------------------------------------------- Postfix -> yubin

def test_postfix_relays_to_yubin(make_server, postfix):
    srv = make_server()
    local, _ = srv.add_user()
    pf = postfix(relay_port=srv.smtp)
    sender = f"sender@{PF_DOMAIN}"
    msg = make_message(sender, local, "Postfix to yubin", BODY)
    pf.sendmail(sender, [local], msg)

    (data,) = srv.wait_mail(local, 1, TIMEOUT)
    m = pf.wait_log(rf"(\w+): to=<{re.escape(local)}>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{srv.smtp}, "
                    r".*status=sent \(250 2\.0\.0 Ok: queued as (\w+)\)")
    pf_qid, qid = m.group(1), m.group(2)
    assert re.search(rf"Untrusted TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:"
                     rf"{srv.smtp}: TLSv1\.", pf.log()), "Postfix did not use yubin's STARTTLS"
    fields = header_fields(data, to_lf(msg))
    assert [n for n, _ in fields] == ["Return-Path", "Delivered-To", "Received", "Received"], fields
    assert fields[0][1] == f"<{sender}>" and fields[1][1] in (local, f"<{local}>"), fields
    our_rcvd, pf_rcvd = fields[2][1], fields[3][1]
    assert our_rcvd.startswith(f"from {PF_HOST} ([{PF_IP}]) (using TLSv1."), our_rcvd
    assert f"by {HOSTNAME} (yubin) with ESMTPS id {qid} for <{local}>;" in our_rcvd, our_rcvd
    assert pf_rcvd.startswith(f"by {PF_HOST} (Postfix, from userid 0) id {pf_qid};"), pf_rcvd
    wait_until(pf.queue_empty, TIMEOUT, what="Postfix's queue to empty")


def test_postfix_bounces_unknown_yubin_user(make_server, postfix):
    srv = make_server()
    pf = postfix(relay_port=srv.smtp)
    sender, rcpt = f"sender@{PF_DOMAIN}", f"nosuchuser@{DOMAIN}"
    subject = "to nobody at yubin"
    pf.sendmail(sender, [rcpt], make_message(sender, rcpt, subject, ["nobody reads this"]))

    said = r"550 5\.1\.1 No such user here \(in reply to RCPT TO command\)"
    pf.wait_log(rf"to=<{re.escape(rcpt)}>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{srv.smtp}, "
                rf".*dsn=5\.1\.1, status=bounced \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: {said}")
    refused = [d for d in map(parse_logfmt, srv.log_text().splitlines())
               if d.get("event") == "rcpt" and d.get("to") == rcpt]
    assert [d.get("result") for d in refused] == ["550"], srv.log_text()[-2000:]
    (data,) = pf.wait_mail("sender")
    assert data.startswith(b"Return-Path: <>\n"), data[:200]     # the null sender
    dsn = parse_dsn(data)
    b = dsn_recipient(dsn, rcpt)
    assert b["Action"].strip() == "failed" and b["Status"].strip() == "5.1.1", b.items()
    assert re.fullmatch(r"smtp; 550 5\.1\.1 No such user here", " ".join(b["Diagnostic-Code"].split())), \
        b["Diagnostic-Code"]
    assert f"Subject: {subject}" in dsn["headers"], dsn["headers"]
    wait_until(pf.queue_empty, TIMEOUT, what="Postfix's queue to empty")
    assert list(srv.data_dir.glob("mail/*/*/new/*")) == [], "yubin delivered mail for an unknown user"
