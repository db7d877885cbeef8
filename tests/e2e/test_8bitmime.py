"""8BITMIME on the outbound side (RFC 6152 3): a message with 8-bit bytes
goes unchanged, with BODY=8BITMIME, to a server that offers 8BITMIME; to
one that does not it goes as pure 7-bit MIME (quoted-printable or base64,
the Content-Transfer-Encoding updated), our DKIM signatures made again
over the converted bytes (checked with dkimpy, which this project did not
write), or, when it cannot be converted (8-bit bytes in a header field),
it is returned with 5.6.3.  Never raw 8-bit to a 7-bit server.

The receivers are the raw-socket ScriptedMX of test_outbound_conn, which
keeps the bytes exactly as they came off the wire.  Every wait is bounded.
"""

import email
import email.policy
import re

from conftest import make_message, parse_dsn, qid_lines, submit, uniq, wait_final, wait_queue_empty
from test_msgauth import keygen, verdicts
from test_outbound import DELIVERY_TIMEOUT, REMOTE, check_bounce, dsn_recipient, norm, start
from test_outbound_conn import scripted

BODY = ["Gr\u00fc\u00dfe aus K\u00f6ln,", "na\u00efve caf\u00e9 at the end  ",
        "=not an escape", "From the start", ".a dot line", "x" * 120 + "\u00e9", "bye"]


def signed_server(make_server, dns, mx):
    srv = start(make_server, dns, mx)
    records = dict(keygen(srv, alg) for alg in ("rsa", "ed25519"))
    return srv, records


def headers_of(raw):
    return raw.split(b"\r\n\r\n", 1)[0]


def test_without_8bitmime_the_message_goes_7bit_and_signed_again(make_server, dns, mx):
    rx = scripted(dns, mx, eightbitmime=False)
    try:
        srv, records = signed_server(make_server, dns, mx)
        user, pw = srv.add_user()
        rcpt = f"{uniq('s')}@{REMOTE}"
        msg = make_message(user, rcpt, "eight bit " + uniq(), BODY,
                           extra_headers=("MIME-Version: 1.0",
                                          "Content-Type: text/plain; charset=utf-8",
                                          "Content-Transfer-Encoding: 8bit"))
        qid = submit(srv, user, pw, [rcpt], msg)
        ((verb, raw),) = rx.wait_messages(1)
        assert all(b < 0x80 for b in raw), "8-bit bytes went to a server without 8BITMIME"
        assert all(len(l) <= 998 for l in raw.split(b"\r\n"))
        mail = next(c for c in rx.commands if c.upper().startswith("MAIL"))
        assert "BODY=" not in mail.upper(), mail
        head = headers_of(raw).decode()
        assert re.search(r"(?mi)^Content-Transfer-Encoding: quoted-printable$", head), head
        assert not re.search(r"(?mi)^Content-Transfer-Encoding: 8bit", head), head
        # the same text once decoded
        m = email.message_from_bytes(raw, policy=email.policy.default)
        got = m.get_content()
        assert got.replace("\r\n", "\n") == "\n".join(BODY) + "\n", got
        # QP lines at most 76, trailing white space encoded
        body = raw.split(b"\r\n\r\n", 1)[1]
        assert all(len(l) <= 76 for l in body.split(b"\r\n")), body
        assert b"end =20\r\n" in body or b"end=20=20\r\n" in body or b"end =20" in body, body
        # our signatures made again over what was sent: dkimpy verifies both
        assert len(re.findall(rb"(?mi)^DKIM-Signature:", headers_of(raw))) == 2, head
        assert verdicts(raw, records) == [True, True]
        fin = wait_final(srv, qid, rcpt)
        assert fin["result"] == "sent", fin["_line"]
        att = [l for l in qid_lines(srv, qid) if "body" in l and "reply" in l]
        assert att and att[-1]["body"] == "converted", att
        assert any(l.get("resigned") == "example.test" for l in qid_lines(srv, qid)), qid_lines(srv, qid)
        wait_queue_empty(srv, qid)
    finally:
        rx.stop()


def test_with_8bitmime_the_bytes_go_unchanged(make_server, dns, mx):
    rx = scripted(dns, mx, eightbitmime=True)
    try:
        srv, records = signed_server(make_server, dns, mx)
        user, pw = srv.add_user()
        rcpt = f"{uniq('u')}@{REMOTE}"
        msg = make_message(user, rcpt, "eight bit " + uniq(), BODY)
        qid = submit(srv, user, pw, [rcpt], msg)
        ((verb, raw),) = rx.wait_messages(1)
        assert raw.endswith(msg), raw[-500:]
        mail = next(c for c in rx.commands if c.upper().startswith("MAIL"))
        assert "BODY=8BITMIME" in mail.upper(), mail
        assert verdicts(raw, records) == [True, True]
        assert wait_final(srv, qid, rcpt)["result"] == "sent"
        att = [l for l in qid_lines(srv, qid) if "body" in l and "reply" in l]
        assert att[-1]["body"] == "8bitmime", att
    finally:
        rx.stop()


def test_multipart_with_binary_part_is_converted_part_by_part(make_server, dns, mx):
    rx = scripted(dns, mx, eightbitmime=False)
    try:
        srv = start(make_server, dns, mx)
        user, pw = srv.add_user()
        rcpt = f"{uniq('m')}@{REMOTE}"
        blob = bytes((0x80 + i * 7) % 256 or 1 for i in range(400)).replace(b"\r", b"r").replace(b"\n", b"n")
        text_part = "caf\u00e9 cr\u00e8me\r\n".encode()
        body = (b"--b1\r\nContent-Type: text/plain\r\n\r\nseven bit only\r\n"
                b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                + text_part +
                b"--b1\r\nContent-Type: application/octet-stream\r\n\r\n" + blob + b"\r\n--b1--\r\n")
        msg = make_message(user, rcpt, "parts " + uniq(), [],
                           extra_headers=("MIME-Version: 1.0",
                                          'Content-Type: multipart/mixed; boundary="b1"'))
        msg = msg[:-2] + body
        qid = submit(srv, user, pw, [rcpt], msg)
        ((verb, raw),) = rx.wait_messages(1)
        assert all(b < 0x80 for b in raw)
        assert b"--b1\r\nContent-Type: text/plain\r\n\r\nseven bit only\r\n--b1\r\n" in raw
        m = email.message_from_bytes(raw, policy=email.policy.default)
        parts = list(m.iter_parts())
        assert len(parts) == 3
        assert parts[1]["Content-Transfer-Encoding"] == "quoted-printable"
        # the CRLF before a delimiter belongs to the delimiter (RFC 2046 5.1.1)
        assert parts[1].get_payload(decode=True) == text_part[:-2]
        assert parts[2]["Content-Transfer-Encoding"] == "base64"
        assert parts[2].get_payload(decode=True) == blob
        assert wait_final(srv, qid, rcpt)["result"] == "sent"
    finally:
        rx.stop()


def test_8bit_header_to_a_7bit_server_is_returned_with_5_6_3(make_server, dns, mx):
    rx = scripted(dns, mx, eightbitmime=False)
    try:
        srv = start(make_server, dns, mx)
        user, pw = srv.add_user()
        rcpt = f"{uniq('h')}@{REMOTE}"
        subject = "caf\u00e9 " + uniq()
        qid = submit(srv, user, pw, [rcpt], make_message(user, rcpt, subject, ["body"]))
        (data,) = srv.wait_mail(user, 1, DELIVERY_TIMEOUT)
        d = check_bounce(data, user, rcpt, subject, status_re=r"5\.6\.3")
        b = dsn_recipient(d, rcpt)
        assert b.get("Diagnostic-Code") is None, b.items()   # our reason, not the server's
        assert "8-bit bytes in a header field" in norm(d["text"]), d["text"]
        assert rx.messages == [], "raw 8-bit went to a server without 8BITMIME"
        assert not any(c.upper().startswith("DATA") for c in rx.commands), rx.commands
        fin = wait_final(srv, qid, rcpt)
        assert fin["result"] == "bounced" and fin["status"] == "5.6.3", fin["_line"]
        wait_queue_empty(srv, qid)
    finally:
        rx.stop()
