"""The policy rules (issue 11): every kind of condition and action at the
stage it belongs to, the built-in port-25 defaults, and the refusal of bad
rules by `yubin config check`.  Clients connect from chosen addresses in
127.0.0.0/8; what is asserted is what a sender or a recipient sees: reply
codes and texts, the files in the Maildir, the log line of each verdict."""

import re
import socket
import time

import pytest

from conftest import (DOMAIN, Conn, make_message, qid_from, run_yubin, wait_until)

RULES = r'''
policy: {
  greet_pause = 0;
  rules = (
    { name = "partners"; client = [ "127.0.0.77", "127.0.1.0/24" ]; action = "accept"; },
    { name = "no-conn-from-66"; client = "127.0.0.66"; action = "reject"; text = "Go away, 66"; },
    { name = "helo-spammer"; helo = "/^spam[0-9]+\\.example$/"; action = "reject"; code = 550; status = "5.7.1";
      text = "Your HELO name is on our list"; },
    { name = "block-spam-example"; sender_domain = [ "spam.example", "*.spam.example" ]; action = "reject";
      text = "We do not take mail from spam.example"; },
    { name = "slow-down"; rcpt = "busy@example.test"; action = "tempfail"; text = "Busy, try later"; },
    { name = "reject-exe"; header = "Content-Type: /name=\"?[^\"]*\\.exe\"?/i"; action = "reject"; code = 554;
      status = "5.7.0"; text = "Executables are refused"; },
    { name = "viagra"; body = "/v[i1]agra/i"; action = "junk"; add_header = "X-Policy: junk (viagra)"; },
    { name = "archive-legal"; rcpt = "legal@example.test"; bcc = "archive@example.test";
      add_header = [ "X-Archived: yes" ]; remove_header = "X-Internal"; },
    { name = "to-quarantine"; sender = "redirect-me@remote.example"; redirect = "quarantine@example.test"; },
    { name = "drop-silently"; sender = "blackhole@remote.example"; action = "discard"; },
    { name = "hold-review"; header = "Subject: [review]"; action = "hold"; },
    { name = "not-from-partner-big"; not_client = "127.0.0.77"; size_over = 20000; action = "reject";
      text = "Too big from you"; },
    { name = "partner-would-be-refused"; sender = "p@partner.example"; action = "reject"; }
  );
};
'''


@pytest.fixture(scope="module")
def srv(tls_cert):
    from conftest import Server
    s = Server(tls_cert, extra=RULES)
    try:
        s.start()
        for u in ("bob", "legal", "archive", "quarantine", "busy"):
            s.add_user(f"{u}@{DOMAIN}")
        yield s
        s.stop()
        s.assert_clean()
    finally:
        s.cleanup()


def send(srv, sender, rcpts, msg, source="127.0.0.2", helo="client.test"):
    with Conn(srv.ports["smtp"], source=source) as c:
        c.ehlo(helo)
        return c.mail_transaction(sender, rcpts, msg)


def log_lines(srv, rule):
    return [l for l in srv.log_text().splitlines() if "event=policy" in l and rule in l]


def junk_files(srv, address):
    d = srv.maildir(address) / ".Junk" / "new"
    return sorted(d.iterdir()) if d.is_dir() else []


def test_connect_reject_is_the_greeting(srv):
    c = Conn(srv.ports["smtp"], source="127.0.0.66", read_greeting=False)
    r = c.reply()
    assert r.code == 554 and r.enhanced() == "5.7.1" and "Go away, 66" in r.text, r
    assert c.closed()
    wait_until(lambda: log_lines(srv, "no-conn-from-66"), 5, what="the verdict's log line")
    line = log_lines(srv, "no-conn-from-66")[0]
    assert "stage=connect" in line and "decision=reject" in line and 'by="rule no-conn-from-66"' in line


def test_helo_rule_with_regex(srv):
    with Conn(srv.ports["smtp"], source="127.0.0.2") as c:
        r = c.cmd("EHLO spam42.example")
        assert r.code == 550 and r.enhanced() == "5.7.1" and "HELO name is on our list" in r.text, r
        # refused HELO counts as none: MAIL needs a new one
        assert c.cmd("MAIL FROM:<a@remote.example>").code == 503
        assert c.cmd("EHLO spam.example.org").code == 250
        assert c.cmd("MAIL FROM:<a@remote.example>").code == 250


def test_sender_domain_exact_and_wildcard(srv):
    for sender in ("x@spam.example", "y@mail.spam.example", "Z@SPAM.EXAMPLE"):
        with Conn(srv.ports["smtp"], source="127.0.0.2") as c:
            c.ehlo()
            r = c.cmd(f"MAIL FROM:<{sender}>")
            assert r.code == 550 and "We do not take mail from spam.example" in r.text, (sender, r)
            # the transaction did not start
            assert c.cmd(f"RCPT TO:<bob@{DOMAIN}>").code == 503
    with Conn(srv.ports["smtp"], source="127.0.0.2") as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<x@notspam.example>").code == 250


def test_rcpt_tempfail_only_that_recipient(srv):
    msg = make_message("a@remote.example", f"bob@{DOMAIN}", "rcpt rule", ["hello"])
    rr, final = send(srv, "a@remote.example", [f"busy@{DOMAIN}", f"bob@{DOMAIN}"], msg)
    assert rr[0].code == 451 and rr[0].enhanced() == "4.7.1" and "Busy, try later" in rr[0].text
    assert rr[1].code == 250 and final.code == 250
    data = srv.wait_mail(f"bob@{DOMAIN}")
    assert any(b"Subject: rcpt rule" in d for d in data)
    srv.assert_no_mail(f"busy@{DOMAIN}", wait=0.5)


def test_header_rule_refuses_at_end_of_data(srv):
    msg = (b"From: a@remote.example\r\nTo: bob@example.test\r\nSubject: invoice\r\n"
           b"Content-Type: application/octet-stream; name=\"invoice.EXE\"\r\n\r\nMZ....\r\n")
    _, final = send(srv, "a@remote.example", [f"bob@{DOMAIN}"], msg)
    assert final.code == 554 and final.enhanced() == "5.7.0" and "Executables are refused" in final.text
    lines = log_lines(srv, "reject-exe")
    assert lines and re.search(r"qid=[0-9A-Za-z]+ stage=data", lines[-1]), lines


def test_body_rule_junk_with_header_and_encoded_body(srv):
    import base64
    body = base64.b64encode("Cheap V1AGRA today, très bon marché".encode()).decode()
    msg = (f"From: a@remote.example\r\nTo: bob@{DOMAIN}\r\nSubject: offer\r\nMIME-Version: 1.0\r\n"
           f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}\r\n").encode()
    before = len(junk_files(srv, f"bob@{DOMAIN}"))
    _, final = send(srv, "a@remote.example", [f"bob@{DOMAIN}"], msg)
    assert final.code == 250, final
    wait_until(lambda: len(junk_files(srv, f"bob@{DOMAIN}")) > before, 10, what="the message in Junk")
    data = junk_files(srv, f"bob@{DOMAIN}")[-1].read_bytes()
    assert b"X-Policy: junk (viagra)\n" in data
    # below our Received field, above the client's header
    head = data.split(b"\n\n", 1)[0]
    assert head.index(b"Received: ") < head.index(b"X-Policy:") < head.index(b"From: a@remote.example")


def test_bcc_copy_add_and_remove_headers(srv):
    msg = (f"From: a@remote.example\r\nTo: legal@{DOMAIN}\r\nSubject: contract\r\nX-Internal: secret\r\n"
           f"X-Keep: yes\r\n\r\nsee attached\r\n").encode()
    _, final = send(srv, "a@remote.example", [f"legal@{DOMAIN}"], msg)
    assert final.code == 250, final
    for who in ("legal", "archive"):
        data = srv.wait_mail(f"{who}@{DOMAIN}")[-1]
        assert b"X-Archived: yes\n" in data and b"X-Internal" not in data and b"X-Keep: yes\n" in data, who
        assert b"Subject: contract" in data
    # the copy asks for no report: the sender never learns of it (the
    # message's own queue file, which names archive@, goes just after the
    # deliveries)
    def queued_for_archive():
        out = []
        for f in (srv.data_dir / "queue" / "active").glob("*"):
            try:
                if b"archive@" in f.read_bytes():
                    out.append(f.name)
            except FileNotFoundError:
                pass
        return out
    wait_until(lambda: not queued_for_archive(), 10, what="no queue file naming archive@")


def test_redirect_replaces_every_recipient(srv):
    msg = make_message("redirect-me@remote.example", f"bob@{DOMAIN}", "redirected", ["to quarantine"])
    n_bob = len(srv.mail_files(f"bob@{DOMAIN}"))
    _, final = send(srv, "redirect-me@remote.example", [f"bob@{DOMAIN}"], msg)
    assert final.code == 250
    data = srv.wait_mail(f"quarantine@{DOMAIN}")
    assert any(b"Subject: redirected" in d for d in data)
    time.sleep(0.5)
    assert len(srv.mail_files(f"bob@{DOMAIN}")) == n_bob


def test_discard_says_250_and_delivers_nothing(srv):
    msg = make_message("blackhole@remote.example", f"quarantine@{DOMAIN}", "discard me", ["gone"])
    _, final = send(srv, "blackhole@remote.example", [f"quarantine@{DOMAIN}"], msg)
    assert final.code == 250 and final.enhanced() == "2.0.0", final
    qid = qid_from(final.text)
    time.sleep(0.7)
    assert not any(b"discard me" in d for d in srv.mails(f"quarantine@{DOMAIN}"))
    assert f"event=queue_discard sid=" in srv.log_text() and f"qid={qid}" in srv.log_text()


def test_hold_until_release(srv):
    msg = make_message("a@remote.example", f"bob@{DOMAIN}", "[review] new vendor", ["please check"])
    _, final = send(srv, "a@remote.example", [f"bob@{DOMAIN}"], msg)
    assert final.code == 250
    qid = qid_from(final.text)
    time.sleep(1.0)
    assert not any(b"new vendor" in d for d in srv.mails(f"bob@{DOMAIN}"))
    p = srv.cli("queue", "list")
    assert qid in p.stdout and "HELD" in p.stdout.upper(), p.stdout
    p = srv.cli("queue", "release", qid)
    assert p.returncode == 0, p.stdout + p.stderr
    wait_until(lambda: any(b"new vendor" in d for d in srv.mails(f"bob@{DOMAIN}")), 10,
               what="the held message after release")


def test_accept_skips_later_rules_and_negation(srv):
    big = make_message("p@partner.example", f"bob@{DOMAIN}", "partner big", ["x" * 100] * 300)
    # from the partner: accepted at connect, so neither the size rule nor
    # the sender rule applies
    _, final = send(srv, "p@partner.example", [f"bob@{DOMAIN}"], big, source="127.0.0.77")
    assert final.code == 250, final
    _, final = send(srv, "p@partner.example", [f"bob@{DOMAIN}"], big, source="127.0.1.9")
    assert final.code == 250, final
    # from anyone else: refused (not_client + size_over)
    with Conn(srv.ports["smtp"], source="127.0.0.2") as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<q@remote.example>").code == 250
        assert c.cmd(f"RCPT TO:<bob@{DOMAIN}>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(big.replace(b"\r\n.", b"\r\n..") + b".\r\n")
        r = c.reply()
        assert r.code == 550 and "Too big from you" in r.text, r
        # and the sender rule refuses p@partner.example when it is not from the partner
        assert c.cmd("MAIL FROM:<p@partner.example>").code == 550


# ---- the defaults of port 25 ----

DEFAULTS = ""   # nothing: the defaults as shipped


def test_defaults_early_talker_refused(make_server):
    s = make_server(extra='policy: { greet_pause = 700; };')
    c = Conn(s.ports["smtp"], source="127.0.0.3", read_greeting=False)
    c.send(b"EHLO early.example\r\n")
    r = c.reply(timeout=5)
    assert r.code == 554 and r.enhanced() == "5.5.1", r
    assert c.closed()
    # a patient client waits once, then is greeted at once
    t0 = time.monotonic()
    c = Conn(s.ports["smtp"], source="127.0.0.4")
    assert c.greeting.code == 220 and time.monotonic() - t0 >= 0.6
    c.close()
    c = Conn(s.ports["smtp"], source="127.0.0.4", read_greeting=False)
    r = c.reply(timeout=0.5)
    assert r.code == 220
    c.close()
    # trusted (127.0.0.1 by default) is never paused
    c = Conn(s.ports["smtp"], read_greeting=False)
    assert c.reply(timeout=0.5).code == 220
    c.close()


def test_defaults_invalid_helo_and_own_domain(make_server):
    s = make_server(extra='policy: { greet_pause = 0; };')
    user, pw = s.add_user()
    with Conn(s.ports["smtp"], source="127.0.0.5") as c:
        for bad in ("bad_host!", "-lead.example", "a..b", "[300.1.1.1]", "[IPv6:127.0.0.1]"):
            r = c.cmd(f"EHLO {bad}")
            assert r.code == 501 and r.enhanced() == "5.5.2", (bad, r)
        for good in ("mx.example.net", "[127.0.0.5]", "[IPv6:::1]", "localhost", "host_1.example."):
            assert c.cmd(f"EHLO {good}").code == 250, good
        r = c.cmd(f"MAIL FROM:<{user}>")
        assert r.code == 550 and r.enhanced() == "5.7.1" and "submission" in r.text, r
        assert c.cmd("MAIL FROM:<someone@remote.example>").code == 250
    # the machine's own programs (127.0.0.1) may
    with Conn(s.ports["smtp"]) as c:
        c.ehlo("bad_host!")  # exempt
        assert c.cmd(f"MAIL FROM:<{user}>").code == 250
    # a logged-in user on submission is not concerned
    c = s.submit_conn(user, pw)
    assert c.cmd(f"MAIL FROM:<{user}>").code == 250
    c.close()


def test_defaults_can_be_turned_off(make_server):
    s = make_server(extra='policy: { greet_pause = 0; reject_invalid_helo = 0; reject_unauth_own = 0; };')
    user, _ = s.add_user()
    with Conn(s.ports["smtp"], source="127.0.0.6") as c:
        assert c.cmd("EHLO bad_host!").code == 250
        assert c.cmd(f"MAIL FROM:<{user}>").code == 250


# ---- bad rules are refused before the server starts ----

BAD = [
    ('{ name = "x"; sender = "/a(b/"; action = "reject"; }', r'rule x: the regular expression /a\(b/ does not compile: .* \(at character 4\)'),
    ('{ name = "x"; sendr = "a@b"; action = "reject"; }', r'rule x: unknown setting "sendr"'),
    ('{ name = "x"; sender = "a@b"; action = "tempfail"; code = 550; }', r'rule x: code 550 does not fit action "tempfail"'),
    ('{ name = "x"; sender = "a@b"; action = "bounce"; }', r'rule x: action must be'),
    ('{ name = "x"; header = "Subject: x"; stage = "rcpt"; action = "reject"; }', r'rule x: stage "rcpt" is too early'),
    ('{ name = "x"; client = "192.0.2.0/33"; action = "reject"; }', r'rule x: "192.0.2.0/33" is not an address or a network'),
    ('{ name = "x"; sender = "list:nosuch"; action = "reject"; }', r'rule x: there is no list "nosuch"'),
    ('{ sender = "a@b"; action = "reject"; }', r'rule #1: needs a name'),
    ('{ name = "x"; time = "25:00-26:00"; action = "reject"; }', r'rule x: time must be a span'),
    ('{ name = "x"; spf = "maybe"; action = "reject"; }', r'rule x: spf: "maybe" is not a result'),
    ('{ name = "x"; add_header = "Bad Name: v"; }', r'rule x: add_header: "Bad Name: v" is not a header field'),
    ('{ name = "x"; sender = "/a/q"; action = "reject"; }', r"rule x: unknown regular expression flag 'q'"),
]


@pytest.mark.parametrize("rule,expect", BAD)
def test_config_check_refuses_bad_rules(make_server, rule, expect):
    s = make_server(start=False, extra=f'policy: {{ rules = ( {rule} ); }};')
    p = s.cli("config", "check")
    assert p.returncode == 1, p.stdout + p.stderr
    line = p.stderr.strip().splitlines()[0]
    assert re.search(r"yubin\.conf:\d+: " + expect, line), line
    # and the server does not start with it
    p = s.cli("serve", timeout=10)
    assert p.returncode == 1 and re.search(expect, p.stderr), p.stderr


# ---- yubin policy test ----

def test_policy_test_cli_refusal(srv):
    p = srv.cli("policy", "test", "--client", "127.0.0.2", "--helo", "mx.remote.example",
                "--from", "x@mail.spam.example", "--to", f"bob@{DOMAIN}")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert re.search(r"stage connect\n  rule partners +-\n  rule no-conn-from-66 +-\n", out), out
    assert re.search(r"rule block-spam-example +matched", out), out
    assert "verdict: reject by rule block-spam-example: 550 5.7.1 We do not take mail from spam.example" in out
    assert out.rstrip().endswith("result: refused")
    assert "stage rcpt" not in out  # refused at mail: nothing after


def test_policy_test_cli_message_actions(srv, tmp_path):
    m = tmp_path / "m.eml"
    m.write_bytes(f"From: a@remote.example\r\nTo: legal@{DOMAIN}\r\nSubject: hi\r\n\r\nbuy viagra\r\n".encode())
    p = srv.cli("policy", "test", "--client", "127.0.0.2", "--from", "a@remote.example",
                "--to", f"legal@{DOMAIN}", str(m))
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert re.search(r"stage rcpt to=legal@example.test\n(.*\n)*?  rule archive-legal +matched\n(.*\n)*?  bcc: archive@example.test\n", out), out
    assert re.search(r"stage data\n(.*\n)*  rule viagra +matched", out), out
    assert "  add header: X-Policy: junk (viagra)\n" in out and "  junk\n" in out
    assert out.rstrip().endswith("result: accepted")
    # the partner is accepted at connect: later stages say so
    p = srv.cli("policy", "test", "--client", "127.0.1.5", "--from", "p@partner.example", "--to", f"bob@{DOMAIN}")
    assert "(accepted: later rules stand aside)" in p.stdout and p.stdout.rstrip().endswith("result: accepted")


def test_policy_test_cli_usage(srv):
    p = srv.cli("policy", "test", "--from", "a@b")
    assert p.returncode == 2 and "usage: yubin policy test" in p.stderr


# ---- the client's verified name, and a DNS failure that must not bounce ----

def test_client_name_rules(make_server):
    from dnsserver import TestDNS
    dns = TestDNS().start()
    try:
        dns.set("8.0.0.127.in-addr.arpa", "PTR", ["mx.good.example"])
        dns.set("mx.good.example", "A", ["127.0.0.8"])
        dns.set("9.0.0.127.in-addr.arpa", "PTR", ["liar.example"])     # forward does not confirm
        dns.set("liar.example", "A", ["10.9.9.9"])
        dns.servfail("10.0.0.127.in-addr.arpa")                         # DNS fails for now
        rules = '''policy: { greet_pause = 0; rules = (
          { name = "good"; client_name = "*.good.example"; action = "accept"; add_header = "X-Good: yes"; },
          { name = "no-name"; client_name = "unknown"; action = "reject"; text = "No verified host name" }
        ); };'''
        s = make_server(extra=f'dns: {{ resolver = "{dns.resolver_spec}"; timeout = 2; }};\n' + rules)
        user, _ = s.add_user()
        msg = make_message("a@remote.example", user, "named", ["hi"])
        _, final = send(s, "a@remote.example", [user], msg, source="127.0.0.8")
        assert final.code == 250, final
        assert b"X-Good: yes\n" in s.wait_mail(user)[-1]
        c = Conn(s.ports["smtp"], source="127.0.0.9", read_greeting=False)
        r = c.reply()
        assert r.code == 554 and "No verified host name" in r.text, r
        c.close()
        # SERVFAIL: the refusal becomes a deferral (never a bounce)
        c = Conn(s.ports["smtp"], source="127.0.0.10", read_greeting=False)
        r = c.reply()
        assert r.code == 421 and r.enhanced() == "4.7.25" and "try again later" in r.text, r
        c.close()
        assert "client_name=unknown reason=\"DNS failed for now\"" in s.log_text()
    finally:
        dns.stop()


# ---- the other conditions, and the submission path ----

def test_submission_role_user_and_time_rules(make_server):
    rules = '''policy: { rules = (
      { name = "sub-confidential"; role = [ "submission", "submissions" ]; authenticated = true;
        header = "Subject: /confidential/i"; action = "reject"; text = "Confidential mail stays inside" },
      { name = "user-tag"; user = "/^tagme/"; time = "00:00-24:00";
        weekday = [ "sun", "mon", "tue", "wed", "thu", "fri", "sat" ]; add_header = "X-Tagged: by rule" },
      { name = "mail-accept"; sender = "vip@remote.example"; action = "accept" },
      { name = "rcpt-discard"; rcpt = "void@example.test"; action = "discard" },
      { name = "after-accept"; sender = "vip@remote.example"; stage = "rcpt"; action = "reject" }
    ); };'''
    s = make_server(extra=rules)
    tagme, pw = s.add_user(f"tagme@{DOMAIN}")
    other, opw = s.add_user()
    s.add_user(f"void@{DOMAIN}")
    # a rule on the submission role and the authenticated user
    c = s.submit_conn(other, opw)
    rr, final = c.mail_transaction(other, [tagme], make_message(other, tagme, "Confidential plans", ["x"]))
    assert final.code == 550 and "Confidential mail stays inside" in final.text, final
    rr, final = c.mail_transaction(other, [tagme], make_message(other, tagme, "lunch", ["x"]))
    assert final.code == 250
    c.close()
    c = s.submit_conn(tagme, pw)
    _, final = c.mail_transaction(tagme, [other], make_message(tagme, other, "from tagme", ["x"]))
    assert final.code == 250
    c.close()
    got = s.wait_mail(other)
    assert any(b"Subject: from tagme" in d and b"X-Tagged: by rule\n" in d for d in got), got
    assert not any(b"Subject: lunch" in d and b"X-Tagged" in d for d in s.wait_mail(tagme))
    # port 25: accept at MAIL makes the later RCPT rule stand aside
    _, final = send(s, "vip@remote.example", [tagme], make_message("vip@remote.example", tagme, "vip", ["x"]),
                    source="127.0.0.1")
    assert final.code == 250
    # discard decided at RCPT: the client sees 250 for all, nothing arrives
    _, final = send(s, "x@remote.example", [f"void@{DOMAIN}"],
                    make_message("x@remote.example", f"void@{DOMAIN}", "void", ["x"]), source="127.0.0.1")
    assert final.code == 250
    s.assert_no_mail(f"void@{DOMAIN}", wait=0.7)


def test_spf_dmarc_result_rules(make_server):
    from dnsserver import TestDNS
    dns = TestDNS().start()
    try:
        dns.set("softfail.example", "TXT", ["v=spf1 ~all"])
        dns.set("pass.example", "TXT", ["v=spf1 ip4:127.0.0.0/8 -all"])
        rules = '''policy: { rules = (
          { name = "softfail-junk"; spf = "softfail"; dmarc = "none"; action = "junk"; add_header = "X-SPF-Rule: soft" }
        ); };'''
        s = make_server(extra=f'dns: {{ resolver = "{dns.resolver_spec}"; timeout = 2; }};\n'
                              f'msgauth: {{ verify = 1; timeout = 5; }};\n' + rules)
        user, _ = s.add_user()
        _, final = send(s, "a@softfail.example", [user], make_message("a@softfail.example", user, "soft", ["x"]),
                        source="127.0.0.1")
        assert final.code == 250
        wait_until(lambda: junk_files(s, user), 10, what="the softfail message in Junk")
        data = junk_files(s, user)[0].read_bytes()
        assert b"X-SPF-Rule: soft\n" in data and b"spf=softfail" in data
        _, final = send(s, "a@pass.example", [user], make_message("a@pass.example", user, "pass", ["x"]),
                        source="127.0.0.1")
        assert final.code == 250
        got = s.wait_mail(user)
        assert any(b"Subject: pass" in d and b"X-SPF-Rule" not in d for d in got)
    finally:
        dns.stop()
