"""Address rewriting (issue 11): rewrite.canonical for the envelope sender,
the envelope recipients and the From / To / Cc / Reply-To / Sender fields,
each direction apart (inbound: port 25 mail for us; outbound: what our
users submit), exact addresses and whole domains; rewrite.masquerade
(host.example.test -> example.test) with exceptions.  Header rewriting
keeps display names, comments and the fields nobody asked to change
byte for byte, and runs before DKIM signing (dkimpy verifies the signature
over the rewritten fields); on port 25 the checks judge the fields as they
came (DMARC of the original From).  Bad configurations are refused by
`yubin config check` with file:line."""

import re

import pytest

from conftest import DOMAIN, make_message, submit
from test_msgauth import dns_config, header_block, inbound, keygen, verdicts

HOST = f"host.{DOMAIN}"

RULES = f"""
rewrite: {{
  canonical = (
    {{ match = "@legacy.test"; replace = "@{DOMAIN}";
       targets = [ "envelope_sender", "from", "reply-to", "sender" ]; direction = "outbound"; }},
    {{ match = "old-team@{DOMAIN}"; replace = "team@{DOMAIN}";
       targets = [ "envelope_recipient" ]; direction = "both"; }},
    {{ match = "@partner-old.test"; replace = "@partner.test";
       targets = [ "envelope_sender", "from", "to", "cc" ]; direction = "inbound"; }},
    {{ match = "boss@partner-old.test"; replace = "chief@partner.test";
       targets = [ "from" ]; direction = "inbound"; }}
  );
  masquerade = {{ domains = [ "{DOMAIN}" ]; except = [ "root" ]; direction = "outbound"; }};
}};
"""


def raw(headers, body=("hello",)):
    return ("\r\n".join(headers) + "\r\n\r\n" + "".join(l + "\r\n" for l in body)).encode()


def field_bytes(msg, name):
    """Every field called name, raw (folding kept, CRLF or LF as stored)."""
    head = header_block(msg) + b"\n"
    return [m.group(0) for m in re.finditer(rb"(?mi)^" + name.encode() + rb":.*\n(?:[ \t].*\n)*", head)]


def return_path(msg):
    return msg.split(b"\n", 1)[0]


@pytest.fixture
def srv(make_server):
    s = make_server(start=False, extra=RULES)
    return s


def test_outbound_sender_header_and_masquerade_then_dkim(srv):
    records = dict([keygen(srv, "rsa"), keygen(srv, "ed25519")])
    srv.start()
    alice, pw = srv.add_user()
    bob, _ = srv.add_user()
    local = alice.split("@")[0]
    for pattern in ("@legacy.test", f"@{HOST}"):
        assert srv.cli("user", "sendas", "add", alice, pattern).returncode == 0
    headers = [
        f'From: "Smith, Alice" (legacy) <{local}@legacy.test>',
        f"Sender: {local}@{HOST}",
        f"Reply-To: root@{HOST}, Ops Team <ops@{HOST}> (on call)",
        f"To: <{bob}>",
        f"Cc: friends: carol@{HOST}, \"Dave, Jr.\"\r\n\t<dave@{HOST}>;, nobody@elsewhere.test",
        "Subject: quarterly (numbers)",
        "Date: Mon, 01 Jan 2024 12:00:00 +0000",
        "Message-ID: <rw.1@client.test>",
    ]
    submit(srv, alice, pw, [bob], raw(headers), sender=f"{local}@legacy.test")
    (got,) = srv.wait_mail(bob)
    # the envelope sender: canonical map (outbound), then masquerade
    assert return_path(got) == f"Return-Path: <{local}@{DOMAIN}>".encode(), return_path(got)
    # display name with its comma, the comment, the angle brackets kept
    assert field_bytes(got, "From") == [f'From: "Smith, Alice" (legacy) <{local}@{DOMAIN}>\n'.encode()]
    assert field_bytes(got, "Sender") == [f"Sender: {local}@{DOMAIN}\n".encode()]
    # root is an exception; ops is masqueraded, its comment kept
    assert field_bytes(got, "Reply-To") == [
        f"Reply-To: root@{HOST}, Ops Team <ops@{DOMAIN}> (on call)\n".encode()]
    # the group, the quoted name with a comma and the folding kept
    assert field_bytes(got, "Cc") == [
        f"Cc: friends: carol@{DOMAIN}, \"Dave, Jr.\"\n\t<dave@{DOMAIN}>;, nobody@elsewhere.test\n".encode()]
    # untouched fields byte for byte
    assert field_bytes(got, "To") == [f"To: <{bob}>\n".encode()]
    assert field_bytes(got, "Subject") == [b"Subject: quarterly (numbers)\n"]
    # signed for the rewritten From's domain, over the rewritten fields
    assert re.search(rb"d=" + DOMAIN.encode() + rb";", header_block(got))
    assert verdicts(got, records) == [True, True], header_block(got)
    log = srv.log_text()
    assert "rewrite_header" in log and "direction=outbound fields=from,sender,reply-to,cc" in log, log
    assert f"target=envelope_sender direction=outbound old={local}@legacy.test new={local}@{DOMAIN}" in log


def test_outbound_recipient_map_and_inbound_untouched_by_outbound_rules(srv):
    srv.start()
    alice, pw = srv.add_user()
    team, _ = srv.add_user(f"team@{DOMAIN}")
    # envelope_recipient, direction both: a submitted message to old-team
    submit(srv, alice, pw, [f"old-team@{DOMAIN}"], make_message(alice, f"old-team@{DOMAIN}", "to old", ["x"]))
    (got,) = srv.wait_mail(team)
    # the header To is not an envelope_recipient target: it stays
    assert field_bytes(got, "To") == [f"To: <old-team@{DOMAIN}>\n".encode()]
    # port 25: the same recipient map, and the outbound masquerade does not apply
    msg = raw([f"From: Ann <ann@{HOST}>", f"To: old-team@{DOMAIN}", "Subject: in"])
    final = inbound(srv, f"old-team@{DOMAIN}", msg, f"ann@{HOST}")
    assert final.code == 250, final
    got = srv.wait_mail(team, 2)[-1]
    assert return_path(got) == f"Return-Path: <ann@{HOST}>".encode()
    assert field_bytes(got, "From") == [f"From: Ann <ann@{HOST}>\n".encode()]


def test_inbound_sender_and_headers(srv):
    srv.start()
    bob, _ = srv.add_user()
    headers = [
        # a forged field above the rewritten ones: its removal is an edit
        # before theirs in the message, made after them (the spool sorts)
        "Authentication-Results: mx.test.example; spf=pass smtp.mailfrom=partner-old.test",
        "From: =?utf-8?q?J=C3=B6rg?= (Partner) <joerg@partner-old.test>",
        f"To: Bob <{bob}>, \"x,y\"@partner-old.test",
        "Cc: undisclosed-recipients:;",
        "Subject: hi",
    ]
    final = inbound(srv, bob, raw(headers), "joerg@partner-old.test")
    assert final.code == 250, final
    (got,) = srv.wait_mail(bob)
    assert return_path(got) == b"Return-Path: <joerg@partner.test>"
    # the encoded-word and the comment stay as they came
    assert field_bytes(got, "From") == [b"From: =?utf-8?q?J=C3=B6rg?= (Partner) <joerg@partner.test>\n"]
    # a quoted local part with a comma is one address
    assert field_bytes(got, "To") == [f"To: Bob <{bob}>, \"x,y\"@partner.test\n".encode()]
    assert field_bytes(got, "Cc") == [b"Cc: undisclosed-recipients:;\n"]
    assert field_bytes(got, "Authentication-Results") == [], header_block(got)
    assert field_bytes(got, "Subject") == [b"Subject: hi\n"]
    # an exact entry wins over the domain entry
    final = inbound(srv, bob, raw(["From: The Boss <boss@partner-old.test>", "Subject: boss"]),
                    "boss@partner-old.test")
    assert final.code == 250, final
    got = srv.wait_mail(bob, 2)
    boss = [m for m in got if b"Subject: boss" in m][0]
    assert field_bytes(boss, "From") == [b"From: The Boss <chief@partner.test>\n"]
    assert return_path(boss) == b"Return-Path: <boss@partner.test>"   # envelope: domain entry only
    assert "direction=inbound fields=from,to" in srv.log_text()


def test_long_field_is_refolded_and_unreadable_left_alone(srv):
    srv.start()
    bob, _ = srv.add_user()
    many = ", ".join(f"member{i}@partner-old.test" for i in range(8))
    headers = [f"To: {many}", "Cc: \"unclosed <c@partner-old.test>", "Subject: long"]
    final = inbound(srv, bob, raw(headers), "list@partner-old.test")
    assert final.code == 250, final
    (got,) = srv.wait_mail(bob)
    (to,) = field_bytes(got, "To")
    assert all(len(l) <= 78 for l in to.split(b"\n")), to
    unfolded = re.sub(rb"\n[ \t]", b" ", to).rstrip(b"\n")
    assert unfolded == b"To: " + ", ".join(f"member{i}@partner.test" for i in range(8)).encode(), to
    assert field_bytes(got, "Cc") == [b"Cc: \"unclosed <c@partner-old.test>\n"]
    assert "skipped=cc:unreadable" in srv.log_text()


def test_dmarc_judges_the_original_from(make_server, dns):
    """The rewritten domain has no DMARC record; the original one says
    reject: the message is refused, so the check saw the original From."""
    dns.set("partner-old.test", "TXT", ["v=spf1 ip4:192.0.2.1 -all"])
    dns.set("_dmarc.partner-old.test", "TXT", ["v=DMARC1; p=reject"])
    dns.set("partner.test", "TXT", ["v=spf1 +all"])
    srv = make_server(extra=RULES + dns_config(dns))
    bob, _ = srv.add_user()
    final = inbound(srv, bob, raw(["From: ceo@partner-old.test", "Subject: pay"]), "ceo@partner-old.test")
    assert final.code == 550 and final.enhanced() == "5.7.1", final
    assert srv.mail_files(bob) == []
    log = srv.log_text()
    assert "smtp.mailfrom=partner-old.test" in log or "partner-old.test" in log


def test_config_check_reports_bad_rules(make_server):
    bad = """
rewrite: {
  canonical = (
    { match = "old.example"; replace = "@new.example"; },
    { match = "a@b.example"; replace = "@c.example"; },
    { match = "@x.example"; replace = "@y.example"; targets = [ "bcc" ]; },
    { match = "@x.example"; replace = "@y.example"; direction = "sideways"; },
    { match = "@x.example"; replace = "@y.example"; colour = "red"; }
  );
  masquerade = { except = [ "root" ]; };
};
"""
    s = make_server(start=False, extra=bad)
    p = s.cli("config", "check")
    assert p.returncode == 1, p.stdout + p.stderr
    path = str(s.config_path)
    lines = p.stderr.strip().splitlines()
    want = [
        "rewrite.canonical entry 1: match \"old.example\" is neither an address nor \"@domain\"",
        "rewrite.canonical entry 2: replace \"@c.example\" is a domain but match \"a@b.example\" is an address",
        "rewrite.canonical entry 3.targets entry 1 is not one of",
        "rewrite.canonical entry 4.direction must be \"inbound\", \"outbound\" or \"both\"",
        "rewrite.canonical entry 5 has no setting \"colour\"",
        "rewrite.masquerade needs domains",
    ]
    for w in want:
        assert any(l.startswith(path + ":") and w in l and re.match(re.escape(path) + r":\d+: ", l)
                   for l in lines), (w, lines)
    # the server refuses to start with them too
    p = s.cli("serve")
    assert p.returncode != 0 and "rewrite.masquerade needs domains" in p.stderr, p.stderr
