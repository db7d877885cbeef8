"""Message authentication in the SMTP server (issue 5): mail your users
submit is DKIM-signed for its From domain before it is queued, with every
key `yubin dkim keygen` made for that domain (RSA and Ed25519 both), and
the signatures are checked by dkimpy, which this project did not write;
without a key the message goes unsigned; msgauth.sign = 0 turns it off."""

import re

import dkim
import pytest

from conftest import DOMAIN, deliver_local, make_message, submit
from test_dkim import parse_record


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


def test_port_25_mail_is_not_signed(signer):
    srv, _ = signer
    bob, _ = srv.add_user()
    deliver_local(srv, bob, "from outside")
    got = wait_file(srv, bob)
    assert b"DKIM-Signature" not in got.split(b"\n\n")[0], got
