"""Submission hygiene (RFC 6409, issue 10): the From (and Sender) of what a
user submits must be the user's to send as -- the own address (any case,
+tag), an alias that reaches the user, or an address on the user's send-as
list (`yubin user sendas`) -- else 550 5.7.1 at the end of DATA / BDAT LAST
and nothing is queued; Date, Message-ID and From are added when missing;
Bcc is removed before signing and queueing while its recipients still get
the message; Authentication-Results fields claiming our name are removed
from submitted mail and from port-25 mail also with msgauth.verify = 0.
And DMARC temperror (RFC 7489 6.6.2): a DNS timeout never becomes a 550."""

import email.utils
import re
import shutil
import subprocess

import dkim
import pytest

from conftest import DOMAIN, HOSTNAME, make_message, queue_text, submit
from test_dkim import parse_record
from test_msgauth import (SENDER_DOMAIN, authres, dns_config, header_block, inbound, rsa_key,  # noqa: F401
                          signed_by_dkimpy, verdicts)

SWAKS = shutil.which("swaks")


def raw_message(headers, body=("hello",)):
    return ("\r\n".join(headers) + "\r\n\r\n" + "".join(l + "\r\n" for l in body)).encode()


def send(srv, user, pw, rcpts, msg, sender=None):
    """Submit on 587; (RCPT replies, final reply)."""
    with srv.submit_conn(user, pw) as c:
        rr, final = c.mail_transaction(sender or user, rcpts, msg)
        c.quit()
    return rr, final


def refused(srv, user, pw, rcpt, msg, sender=None):
    """The message is refused with 550 5.7.1 and reaches nobody."""
    _, final = send(srv, user, pw, [rcpt], msg, sender)
    assert final.code == 550 and final.enhanced() == "5.7.1", final
    return final


def fields(msg, name):
    """The unfolded values of every field called name in msg's header."""
    head = header_block(msg).decode("utf-8", "replace")
    return [re.sub(r"\r?\n[ \t]", " ", m.group(1)).strip()
            for m in re.finditer(rf"(?mi)^{name}:(.*(?:\n[ \t].*)*)", head)]


@pytest.fixture
def signed(make_server):
    srv = make_server()
    p = srv.cli("dkim", "keygen", DOMAIN, "--algorithm", "ed25519")
    assert p.returncode == 0, p.stderr
    return srv, dict([parse_record(p.stdout)])


# ---------------------------------------------------------------- From

def test_own_from_is_accepted_and_signed(signed):
    srv, records = signed
    alice, pw = srv.add_user()
    bob, _ = srv.add_user()
    local, dom = alice.split("@")
    # the own address as the user types it: other case, +tag, display name, folded
    msg = raw_message([f"From: \"Alice, the sender\"\r\n\t<{local.upper()}+news@{dom.upper()}>",
                       f"To: <{bob}>", "Subject: mine", "Date: Mon, 01 Jan 2024 12:00:00 +0000",
                       "Message-ID: <own.1@client.test>"])
    submit(srv, alice, pw, [bob], msg)
    (got,) = srv.wait_mail(bob)
    assert verdicts(got, records) == [True], header_block(got)
    assert b"d=" + DOMAIN.encode() in header_block(got)
    # nothing added when the client gave them
    assert fields(got, "Date") == ["Mon, 01 Jan 2024 12:00:00 +0000"]
    assert fields(got, "Message-ID") == ["<own.1@client.test>"]
    assert len(fields(got, "From")) == 1


def test_alias_and_send_as_are_accepted(make_server):
    srv = make_server()
    alice, pw = srv.add_user()
    bob, _ = srv.add_user()
    srv.add_alias(f"sales@{DOMAIN}", alice)
    submit(srv, alice, pw, [bob], make_message(f"Sales@{DOMAIN}", bob, "alias", ["x"]))
    # not yet on the list: refused, nothing queued
    refused(srv, alice, pw, bob, make_message("shared@partner.test", bob, "send-as", ["x"]))
    p = srv.cli("user", "sendas", "add", alice, "Shared@Partner.test")
    assert p.returncode == 0, p.stderr
    p = srv.cli("user", "sendas", "add", alice, "@brand.test")
    assert p.returncode == 0, p.stderr
    assert srv.cli("user", "sendas", "list", alice).stdout == "@brand.test\nshared@partner.test\n"
    submit(srv, alice, pw, [bob], make_message("shared@partner.test", bob, "send-as", ["x"]))
    submit(srv, alice, pw, [bob], make_message("news@brand.test", bob, "send-as domain", ["x"]))
    got = srv.wait_mail(bob, 3)
    assert sorted(fields(m, "Subject")[0] for m in got) == ["alias", "send-as", "send-as domain"]
    # another user may not use alice's list
    carol, cpw = srv.add_user()
    refused(srv, carol, cpw, bob, make_message("shared@partner.test", bob, "not carol's", ["x"]))
    # removed again: refused again
    assert srv.cli("user", "sendas", "del", alice, "shared@partner.test").returncode == 0
    refused(srv, alice, pw, bob, make_message("shared@partner.test", bob, "removed", ["x"]))
    assert len(srv.mail_files(bob)) == 3


def test_sendas_cli_bad_paths(make_server):
    srv = make_server(start=False)
    alice, _ = srv.add_user()
    p = srv.cli("user", "sendas", "add", f"ghost@{DOMAIN}", "x@partner.test")
    assert p.returncode == 1 and "no user" in p.stderr, p.stderr
    p = srv.cli("user", "sendas", "add", alice, "not-an-address")
    assert p.returncode == 1 and "not a valid address" in p.stderr, p.stderr
    assert srv.cli("user", "sendas", "add", alice, "x@partner.test").returncode == 0
    p = srv.cli("user", "sendas", "add", alice, "X@partner.test")
    assert p.returncode == 1 and "already" in p.stderr, p.stderr
    p = srv.cli("user", "sendas", "del", alice, "y@partner.test")
    assert p.returncode == 1 and "not on its send-as list" in p.stderr, p.stderr
    p = srv.cli("user", "sendas", "add", alice)
    assert p.returncode == 2 and "usage" in p.stderr, p.stderr
    p = srv.cli("user", "sendas", "frob", alice, "x@partner.test")
    assert p.returncode == 2 and "usage" in p.stderr, p.stderr
    # deleting the user deletes its list
    assert srv.cli("user", "del", alice).returncode == 0
    p = srv.cli("user", "sendas", "list", alice)
    assert p.returncode == 0 and p.stdout == "", p.stdout


def test_foreign_from_is_refused_and_nothing_is_queued(signed):
    srv, _ = signed
    alice, pw = srv.add_user()
    bob, _ = srv.add_user()
    cases = {
        "another user": make_message(bob, bob, "as bob", ["x"]),
        "another domain": make_message("ceo@victim.test", bob, "spoof", ["x"]),
        "display name spoof": raw_message([f"From: \"{alice}\" <ceo@victim.test>", f"To: <{bob}>"]),
        "encoded display name": raw_message([f"From: =?UTF-8?Q?{alice.replace('@', '=40')}?= <ceo@victim.test>"]),
        "second author": raw_message([f"From: {alice}, ceo@victim.test", f"Sender: {alice}"]),
        "foreign Sender": raw_message([f"From: {alice}", "Sender: ceo@victim.test"]),
        "two From fields": raw_message([f"From: {alice}", "From: ceo@victim.test"]),
        "several authors, no Sender": raw_message([f"From: {alice}, {alice}"]),
        "empty group": raw_message(["From: undisclosed-recipients:;"]),
        "no domain": raw_message(["From: alice"]),
    }
    words = {"another user": "From address", "foreign Sender": "Sender address",
             "two From fields": "more than one", "several authors, no Sender": "Sender field",
             "empty group": "no usable mailbox", "no domain": "no usable mailbox"}
    for what, msg in cases.items():
        final = refused(srv, alice, pw, bob, msg)
        assert words.get(what, "From address") in final.text, (what, final)
    srv.assert_no_mail(bob)
    assert "0 messages in the queue" in queue_text(srv), queue_text(srv)
    assert not list((srv.data_dir / "queue" / "staging").iterdir())
    log = srv.log_text()
    assert "event=submit_refused" in log or "submit_refused" in log
    assert "address=ceo@victim.test" in log, log[-2000:]
    # the session goes on: the next, proper message is accepted
    submit(srv, alice, pw, [bob], make_message(alice, bob, "after", ["x"]))
    assert len(srv.wait_mail(bob)) == 1


def test_bdat_last_is_refused_the_same_way(make_server):
    srv = make_server()
    alice, pw = srv.add_user()
    bob, _ = srv.add_user()
    msg = make_message("ceo@victim.test", bob, "chunked spoof", ["x"])
    with srv.submit_conn(alice, pw) as c:
        assert c.cmd(f"MAIL FROM:<{alice}>").code == 250
        assert c.cmd(f"RCPT TO:<{bob}>").code == 250
        c.send(b"BDAT %d\r\n" % 20 + msg[:20])
        r = c.reply()
        assert r.code == 250, r
        c.send(b"BDAT %d LAST\r\n" % (len(msg) - 20) + msg[20:])
        r = c.reply()
        assert r.code == 550 and r.enhanced() == "5.7.1", r
        c.quit()
    srv.assert_no_mail(bob)


def test_missing_from_date_and_message_id_are_added(signed):
    srv, records = signed
    alice, pw = srv.add_user()
    bob, _ = srv.add_user()
    submit(srv, alice, pw, [bob], raw_message([f"To: <{bob}>", "Subject: bare"], ["bare body"]))
    (got,) = srv.wait_mail(bob)
    assert fields(got, "From") == [f"<{alice}>"], header_block(got)
    # below our Received field (trace fields stay on top), above the client's
    head = header_block(got)
    assert head.index(b"\nReceived: ") < head.index(b"\nFrom: ") < head.index(b"\nDate: ") \
        < head.index(b"\nMessage-ID: ") < head.index(b"\nTo: "), head
    (date,) = fields(got, "Date")
    assert re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
                        r" \d{4} \d\d:\d\d:\d\d \+0000", date), date
    assert email.utils.parsedate_to_datetime(date) is not None
    (mid,) = fields(got, "Message-ID")
    assert re.fullmatch(rf"<[0-9A-Za-z]+\.[0-9a-f]{{16}}@{re.escape(HOSTNAME)}>", mid), mid
    # the added fields are signed too
    assert verdicts(got, records) == [True]
    assert b"h=" in header_block(got)
    sig = re.search(rb"(?mi)^DKIM-Signature:(.*(?:\n[ \t].*)*)", header_block(got)).group(1)
    h = re.sub(rb"\s", b"", re.search(rb"h=([^;]*)", sig).group(1)).lower().split(b":")
    assert b"from" in h and b"date" in h and b"message-id" in h, h
    # a second message gets another Message-ID
    submit(srv, alice, pw, [bob], raw_message([f"From: {alice}"], ["again"]))
    got2 = srv.wait_mail(bob, 2)
    mids = {fields(m, "Message-ID")[0] for m in got2}
    assert len(mids) == 2, mids


def test_bcc_is_removed_and_its_recipients_still_get_it(signed):
    srv, records = signed
    alice, pw = srv.add_user()
    bob, _ = srv.add_user()
    carol, _ = srv.add_user()
    dave, _ = srv.add_user()
    msg = raw_message([f"From: <{alice}>", f"To: <{bob}>", f"Bcc: <{carol}>,\r\n <{dave}>",
                       "Subject: with bcc", "resent-bcc: <nobody@example.test>",
                       "Date: Mon, 01 Jan 2024 12:00:00 +0000", "Message-ID: <hidden.1@client.test>"],
                      ["Bcc: in the body stays", "x"])
    rr, final = send(srv, alice, pw, [bob, carol, dave], msg)
    assert all(r.code == 250 for r in rr) and final.code == 250, (rr, final)
    for who in (bob, carol, dave):
        (got,) = srv.wait_mail(who)
        head = header_block(got)
        assert b"\nbcc:" not in head.lower() and b"resent-bcc:" not in head.lower(), head
        rest = re.sub(rb"(?m)^Delivered-To: .*\n", b"", head)      # the delivery's own line
        assert carol.encode() not in rest and dave.encode() not in rest, head
        assert b"\nBcc: in the body stays\n" in got, got
        assert verdicts(got, records) == [True]
        assert fields(got, "Subject") == ["with bcc"]


def test_swaks_bcc_and_own_from(make_server, tmp_path):
    """swaks, a client we did not write: it adds Date and Message-Id itself,
    which must then not be doubled; an --add-header Bcc is removed."""
    assert SWAKS is not None, "swaks is not installed (scripts/install-deps installs it)"
    srv = make_server()
    alice, pw = srv.add_user()
    bob, _ = srv.add_user()
    carol, _ = srv.add_user()
    out = subprocess.run([SWAKS, "--server", "127.0.0.1", "--port", str(srv.submission), "--tls",
                          "--auth", "PLAIN", "--auth-user", alice, "--auth-password", pw,
                          "--from", alice, "--to", f"{bob},{carol}", "--add-header", f"Bcc: {carol}",
                          "--header", f"From: {alice}"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    for who in (bob, carol):
        (got,) = srv.wait_mail(who)
        assert b"bcc:" not in header_block(got).lower(), got
        assert len(fields(got, "Date")) == 1 and len(fields(got, "Message-Id")) == 1, got
    out = subprocess.run([SWAKS, "--server", "127.0.0.1", "--port", str(srv.submission), "--tls",
                          "--auth", "PLAIN", "--auth-user", alice, "--auth-password", pw,
                          "--from", alice, "--to", bob, "--header", "From: boss@victim.test"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "550 5.7.1" in out.stdout, out.stdout
    assert len(srv.mail_files(bob)) == 1


# ---------------------------------------------------------------- forged Authentication-Results

FORGED = f"Authentication-Results: {HOSTNAME}; dkim=pass header.d=bank.example"
OTHER = "Authentication-Results: other.example; spf=pass smtp.mailfrom=x.example"


def test_forged_authentication_results_removed_from_submitted_mail(make_server):
    srv = make_server()
    alice, pw = srv.add_user()
    bob, _ = srv.add_user()
    submit(srv, alice, pw, [bob], make_message(alice, bob, "forged", ["x"], extra_headers=[FORGED, OTHER]))
    (got,) = srv.wait_mail(bob)
    head = header_block(got)
    assert b"bank.example" not in head, head
    assert OTHER.encode() in head, head


def test_forged_authentication_results_removed_with_verify_off(make_server):
    srv = make_server(extra="msgauth: { verify = 0; };")
    bob, _ = srv.add_user()
    msg = make_message("a@remote.test", bob, "forged on 25", ["x"],
                       extra_headers=[FORGED.replace(HOSTNAME, HOSTNAME.upper()), OTHER])
    with srv.conn("smtp") as c:
        c.ehlo()
        _, final = c.mail_transaction("a@remote.test", [bob], msg)
        c.quit()
    assert final.code == 250, final
    (got,) = srv.wait_mail(bob)
    head = header_block(got)
    assert b"bank.example" not in head, head
    assert OTHER.encode() in head, head
    assert b"Authentication-Results: " + HOSTNAME.encode() not in head     # no checks: none of ours


# ---------------------------------------------------------------- DMARC temperror

def temperror_dns(dns, rsa_key):
    """SPF and the DKIM key time out; the DMARC record says reject."""
    pem, _ = rsa_key
    dns.timeout(SENDER_DOMAIN)
    dns.timeout("s1._domainkey." + SENDER_DOMAIN)
    dns.set("_dmarc." + SENDER_DOMAIN, "TXT", ["v=DMARC1; p=reject"])
    return pem


def send_signed_during_outage(make_server, dns, rsa_key, settings, subject):
    """A legitimate, signed message while SPF and the DKIM key time out:
    (server, recipient, final reply)."""
    pem = temperror_dns(dns, rsa_key)
    srv = make_server(extra=dns_config(dns, settings))
    bob, _ = srv.add_user()
    msg = signed_by_dkimpy(make_message(f"ceo@{SENDER_DOMAIN}", bob, subject, ["x"]), pem)
    return srv, bob, inbound(srv, bob, msg, f"ceo@{SENDER_DOMAIN}")


def test_dns_timeout_gives_dmarc_temperror_and_delivery(make_server, dns, rsa_key):
    srv, bob, final = send_signed_during_outage(make_server, dns, rsa_key, "timeout = 6;", "legit, slow dns")
    assert final.code == 250, final
    (got,) = srv.wait_mail(bob)
    ar = authres(got)
    assert "spf=temperror" in ar and "dkim=temperror" in ar and "dmarc=temperror" in ar, ar
    assert "header.from=sender.test" in ar, ar
    assert "action=none" in srv.log_text() and "dmarc=temperror" in srv.log_text()
    # a real failure (SPF answers fail) with the same policy is still refused
    dns.set(SENDER_DOMAIN, "TXT", ["v=spf1 -all"])
    final = inbound(srv, bob, make_message(f"ceo@{SENDER_DOMAIN}", bob, "forged", ["x"]), f"ceo@{SENDER_DOMAIN}")
    assert final.code == 550 and final.enhanced() == "5.7.1", final


def test_dmarc_temperror_defer_answers_451(make_server, dns, rsa_key):
    srv, bob, final = send_signed_during_outage(make_server, dns, rsa_key,
                                                'timeout = 6; dmarc_temperror = "defer";', "deferred")
    assert final.code == 451 and final.enhanced().startswith("4.7."), final
    srv.assert_no_mail(bob)
    assert "action=defer" in srv.log_text()
    # the DMARC record look-up itself timing out defers too
    dns.reset()
    dns.set(SENDER_DOMAIN, "TXT", ["v=spf1 -all"])
    dns.timeout("_dmarc." + SENDER_DOMAIN)
    final = inbound(srv, bob, make_message(f"ceo@{SENDER_DOMAIN}", bob, "no policy yet", ["x"]), f"ceo@{SENDER_DOMAIN}")
    assert final.code == 451, final
    srv.assert_no_mail(bob)
