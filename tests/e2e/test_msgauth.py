"""Message authentication in the SMTP server (issue 5): mail your users
submit is DKIM-signed for its sender's domain before it is queued, with every
key `yubin dkim keygen` made for that domain (RSA and Ed25519 both), and
the signatures are checked by dkimpy, which this project did not write;
without a key the message goes unsigned; msgauth.sign = 0 turns it off."""

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dkim
import pytest

from conftest import DOMAIN, IS_ROOT, deliver_local, make_message, submit
from test_dkim import parse_record


HERE = Path(__file__).resolve().parent


def keygen(srv, alg, domain=DOMAIN):
    p = srv.cli("dkim", "keygen", domain, "--algorithm", alg)
    assert p.returncode == 0, p.stderr
    return parse_record(p.stdout)


def wait_file(srv, user, n=1):
    srv.wait_mail(user, n)
    return srv.mails(user)[-1]


def verdicts(msg, records):
    d = dkim.DKIM(msg)
    n = len(re.findall(rb"(?mi)^DKIM-Signature:", msg.split(b"\n\n")[0]))

    def dnsfunc(name, timeout=5):
        return records.get(name.decode().rstrip("."), "").encode() or None

    out = []
    for i in range(n):
        try:
            out.append(d.verify(idx=i, dnsfunc=dnsfunc))
        except dkim.ValidationError:
            out.append(False)
    return out


@pytest.fixture
def signer(make_server):
    srv = make_server()
    records = dict(keygen(srv, alg) for alg in ("rsa", "ed25519"))
    return srv, records


def test_submitted_mail_is_signed_with_both_keys(signer):
    srv, records = signer
    alice, pw = srv.add_user()
    bob, _ = srv.add_user()
    msg = make_message(alice, bob, "signed on submission", ["Hello,", "", "a signed body."])
    submit(srv, alice, pw, [bob], msg)
    got = wait_file(srv, bob)
    head = got.split(b"\n\n")[0]
    sigs = re.findall(rb"(?mi)^DKIM-Signature:.*(?:\n[ \t].*)*", head)
    assert len(sigs) == 2, head
    assert b"a=rsa-sha256" in sigs[0] and b"a=ed25519-sha256" in sigs[1], sigs
    assert all(b"d=" + DOMAIN.encode() in s for s in sigs), sigs
    assert all(b"c=relaxed/relaxed" in s and b" l=" not in s for s in sigs), sigs
    assert verdicts(got, records) == [True, True]
    # the body and the other fields are what was submitted, below the signatures
    assert got.endswith(msg.split(b"\r\n\r\n", 1)[1].replace(b"\r\n", b"\n")), got
    # tampering after signing is caught by the same verifier
    assert verdicts(got.replace(b"a signed body", b"a changed body"), records) == [False, False]


def private_dns_run(records, msg, *cmd):
    """A command that asks the system resolver, run against records (root:
    a private network namespace, see private_dns.py)."""
    if not IS_ROOT or shutil.which("unshare") is None:
        pytest.fail("needs root and unshare (run the suite as root after scripts/install-deps)")
    return subprocess.run(["unshare", "--net", "--mount", sys.executable, str(HERE / "private_dns.py"),
                           json.dumps(records), *cmd], input=msg, capture_output=True, timeout=60)


def test_server_signatures_pass_dkimverify_and_opendkim(make_server):
    """The signatures the server puts on submitted mail, checked by the
    command-line verifiers of dkimpy (dkimverify) and OpenDKIM
    (opendkim-testmsg), each asking DNS as it would in the wild."""
    for alg in ("rsa", "ed25519"):
        srv = make_server()
        records = dict([keygen(srv, alg)])
        alice, pw = srv.add_user()
        bob, _ = srv.add_user()
        msg = make_message(alice, bob, f"checked by others ({alg})", ["Grüße", "", "end"])
        submit(srv, alice, pw, [bob], msg)
        got = wait_file(srv, bob)
        # what the recipient's server would see: without the local delivery lines
        wire = got.split(b"\n", 2)[2] if got.startswith(b"Return-Path:") else got
        p = private_dns_run(records, wire, "dkimverify")
        assert p.returncode == 0 and b"signature ok" in p.stdout, (alg, p.stdout, p.stderr)
        p = private_dns_run(records, wire.replace(b"\n", b"\r\n"))     # opendkim-testmsg
        assert p.returncode == 0 and p.stderr == b"", (alg, p.returncode, p.stderr)
        p = private_dns_run(records, wire.replace(b"end", b"END"), "dkimverify")
        assert p.returncode != 0, (alg, p.stdout)


def test_without_a_key_the_message_goes_unsigned(server):
    bob, _ = server.add_user()
    # From a domain with no key, and an envelope sender whose domain has none either
    assert server.cli("domain", "add", "unsigned.test").returncode == 0
    carol, cpw = server.add_user(address=f"carol{len(server.secrets)}@unsigned.test")
    msg = make_message(carol, bob, "no key here", ["x"])
    submit(server, carol, cpw, [bob], msg)
    got = wait_file(server, bob)
    assert b"DKIM-Signature" not in got.split(b"\n\n")[0], got
    assert b"no key here" in got


def test_signing_can_be_turned_off(make_server):
    srv = make_server(extra="msgauth: { sign = 0; };")
    keygen(srv, "ed25519")
    alice, pw = srv.add_user()
    bob, _ = srv.add_user()
    submit(srv, alice, pw, [bob], make_message(alice, bob, "off", ["x"]))
    got = wait_file(srv, bob)
    assert b"DKIM-Signature" not in got, got


def test_a_from_field_of_another_domain_is_not_vouched_for(signer):
    """The user owns the envelope sender; a From field naming someone else
    is refused before anything is signed or queued (submit.c); once the
    address is on the user's send-as list, the signature is for the From
    domain (the one DMARC aligns with)."""
    srv, records = signer
    assert srv.cli("domain", "add", "victim.test").returncode == 0
    victim = dict([keygen(srv, "ed25519", "victim.test")])
    alice, pw = srv.add_user()
    bob, _ = srv.add_user()
    msg = make_message("ceo@victim.test", bob, "spoof", ["x"])
    with srv.submit_conn(alice, pw) as c:
        _, final = c.mail_transaction(alice, [bob], msg)
        c.quit()
    assert final.code == 550 and final.enhanced() == "5.7.1", final
    srv.assert_no_mail(bob)
    assert srv.cli("user", "sendas", "add", alice, "ceo@victim.test").returncode == 0
    submit(srv, alice, pw, [bob], msg, sender=alice)
    got = wait_file(srv, bob)
    head = header_block(got)
    assert head.count(b"d=victim.test") == 1 and b"d=" + DOMAIN.encode() not in head, head
    assert verdicts(got, victim) == [True]


def test_port_25_mail_is_not_signed(signer):
    srv, _ = signer
    bob, _ = srv.add_user()
    deliver_local(srv, bob, "from outside")
    got = wait_file(srv, bob)
    assert b"DKIM-Signature" not in got.split(b"\n\n")[0], got


# ---------------------------------------------------------------- port 25

SENDER_DOMAIN = "sender.test"


def dns_config(dns, msgauth=""):
    """Checks on, with the test's DNS server."""
    return (f'dns: {{ resolver = "{dns.resolver_spec}"; timeout = 2; }};\n'
            f"msgauth: {{ verify = 1; {msgauth} }};")


def signed_by_dkimpy(msg, key_pem, selector=b"s1", domain=SENDER_DOMAIN.encode()):
    sig = dkim.sign(msg, selector, domain, key_pem, include_headers=[b"from", b"to", b"subject"])
    return sig + msg


@pytest.fixture
def rsa_key():
    import subprocess
    pem = subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
                         capture_output=True, check=True).stdout
    pub = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"], input=pem,
                         capture_output=True, check=True).stdout
    import base64
    return pem, "v=DKIM1; k=rsa; p=" + base64.b64encode(pub).decode()


def inbound(srv, rcpt, msg, sender):
    """Send msg on port 25; the final reply."""
    with srv.conn("smtp") as c:
        c.ehlo("mx.sender.test")
        _, final = c.mail_transaction(sender, [rcpt], msg)
        c.quit()
    return final


def header_block(msg):
    return msg.split(b"\n\n")[0]


def authres(msg):
    """Our Authentication-Results field, unfolded."""
    m = re.search(rb"(?mi)^Authentication-Results: mx\.test\.example;(.*(?:\n[ \t].*)*)", header_block(msg))
    assert m, header_block(msg)
    return re.sub(rb"\s+", b" ", m.group(1)).decode()


def test_aligned_pass_is_delivered_with_authentication_results(make_server, dns, rsa_key):
    pem, record = rsa_key
    dns.set(SENDER_DOMAIN, "TXT", ["v=spf1 ip4:127.0.0.1 -all"])
    dns.set("s1._domainkey." + SENDER_DOMAIN, "TXT", [[record[i:i + 255] for i in range(0, len(record), 255)]])
    dns.set("_dmarc." + SENDER_DOMAIN, "TXT", ["v=DMARC1; p=reject"])
    srv = make_server(extra=dns_config(dns))
    bob, _ = srv.add_user()
    msg = make_message(f"alice@{SENDER_DOMAIN}", bob, "aligned", ["all good"])
    final = inbound(srv, bob, signed_by_dkimpy(msg, pem), f"alice@{SENDER_DOMAIN}")
    assert final.code == 250, final
    got = wait_file(srv, bob)
    ar = authres(got)
    assert "spf=pass smtp.mailfrom=sender.test" in ar, ar
    assert "spf=none smtp.helo=mx.sender.test" in ar, ar      # the HELO identity, apart
    assert "dkim=pass" in ar and "header.d=sender.test" in ar and "header.s=s1" in ar, ar
    assert "dmarc=pass" in ar and "header.from=sender.test" in ar, ar
    # at the top, above our Received
    assert header_block(got).split(b"\n")[2].startswith(b"Authentication-Results:"), got


def test_dmarc_reject_refuses_at_end_of_data(make_server, dns):
    dns.set(SENDER_DOMAIN, "TXT", ["v=spf1 ip4:192.0.2.1 -all"])
    dns.set("_dmarc." + SENDER_DOMAIN, "TXT", ["v=DMARC1; p=reject"])
    srv = make_server(extra=dns_config(dns))
    bob, _ = srv.add_user()
    msg = make_message(f"ceo@{SENDER_DOMAIN}", bob, "wire money", ["now"])
    final = inbound(srv, bob, msg, f"ceo@{SENDER_DOMAIN}")
    assert final.code == 550 and final.text.startswith("5.7.1"), final
    assert srv.mail_files(bob) == []
    assert "action=reject" in srv.log_text()


def test_dmarc_quarantine_goes_to_junk_and_report_only(make_server, dns):
    dns.set(SENDER_DOMAIN, "TXT", ["v=spf1 -all"])
    dns.set("_dmarc." + SENDER_DOMAIN, "TXT", ["v=DMARC1; p=quarantine"])
    srv = make_server(extra=dns_config(dns))
    bob, _ = srv.add_user()
    msg = make_message(f"x@{SENDER_DOMAIN}", bob, "quarantined", ["hmm"])
    assert inbound(srv, bob, msg, f"x@{SENDER_DOMAIN}").code == 250
    junk = srv.maildir(bob) / ".Junk" / "new"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(junk.iterdir()):
        time.sleep(0.05)
    files = list(junk.iterdir())
    assert len(files) == 1, files
    assert "dmarc=fail" in authres(files[0].read_bytes())
    assert not list((srv.maildir(bob) / "new").iterdir())
    # the local policy "report": the same message lands in INBOX, marked only
    srv2 = make_server(extra=dns_config(dns, 'dmarc_action = "report";'))
    carol, _ = srv2.add_user()
    dns.set("_dmarc." + SENDER_DOMAIN, "TXT", ["v=DMARC1; p=reject"])
    assert inbound(srv2, carol, make_message(f"x@{SENDER_DOMAIN}", carol, "r", ["r"]), f"x@{SENDER_DOMAIN}").code == 250
    ar = authres(wait_file(srv2, carol))
    assert "spf=fail" in ar and "dmarc=fail" in ar and "p=reject" in ar, ar


def test_forged_authentication_results_removed_others_kept(make_server, dns):
    dns.set(SENDER_DOMAIN, "TXT", ["v=spf1 ip4:127.0.0.1 -all"])
    srv = make_server(extra=dns_config(dns))
    bob, _ = srv.add_user()
    forged = [b"Authentication-Results: mx.test.example; dkim=pass header.d=bank.example",
              b"Authentication-Results: other.example; spf=pass smtp.mailfrom=x.example"]
    msg = make_message(f"a@{SENDER_DOMAIN}", bob, "forged", ["x"],
                       extra_headers=[f.decode() for f in forged])
    assert inbound(srv, bob, msg, f"a@{SENDER_DOMAIN}").code == 250
    got = wait_file(srv, bob)
    head = header_block(got)
    assert b"bank.example" not in head, head                       # ours, forged: gone
    assert forged[1] in head, head                                 # another server's: kept
    assert len(re.findall(rb"(?mi)^Authentication-Results: mx\.test\.example", head)) == 1
    assert "spf=pass" in authres(got) and "dmarc=none" in authres(got)


def test_dns_failure_is_temperror_not_a_hang(make_server, dns):
    dns.timeout(SENDER_DOMAIN)
    dns.timeout("_dmarc." + SENDER_DOMAIN)
    srv = make_server(extra=dns_config(dns, "timeout = 3;"))
    bob, _ = srv.add_user()
    t0 = time.monotonic()
    final = inbound(srv, bob, make_message(f"a@{SENDER_DOMAIN}", bob, "slow dns", ["x"]), f"a@{SENDER_DOMAIN}")
    assert final.code == 250, final
    assert time.monotonic() - t0 < 15
    ar = authres(wait_file(srv, bob))
    assert "spf=temperror" in ar and "dmarc=temperror" in ar, ar


def test_null_sender_checks_the_helo_identity(make_server, dns):
    dns.set("mx.sender.test", "TXT", ["v=spf1 ip4:127.0.0.1 -all"])
    srv = make_server(extra=dns_config(dns))
    bob, _ = srv.add_user()
    bounce = make_message("MAILER-DAEMON@mx.sender.test", bob, "bounce", ["x"])
    assert inbound(srv, bob, bounce, "").code == 250
    ar = authres(wait_file(srv, bob))
    assert "spf=pass smtp.helo=mx.sender.test" in ar, ar
    # a From field without an address cannot be judged: refused (RFC 7489 6.6.1)
    final = inbound(srv, bob, make_message("", bob, "no from address", ["x"]), "")
    assert final.code == 550 and final.text.startswith("5.7.1"), final
