"""Sending through the HTTPS API (issue 12): `yubin apikey add|list|revoke`,
POST /v1/messages with JSON (curl and python's http.client over TLS) and
with a raw RFC 5322 message, GET /v1/messages/{id}, GET /v1/openapi.json.

A message goes through the same submission path as SMTP: it arrives in a
local Maildir and at a remote aiosmtpd receiver (test DNS for the MX),
DKIM-signed (dkimpy verifies), with correct MIME (python's email package
reads the alternatives, the attachments' bytes, the non-ASCII subject and
file names back).  Then the bad paths: malformed JSON, missing fields,
no / wrong / revoked key (401, throttled), an oversized body (413), a
sender outside the key's domains (403), the rate limit and the daily quota
(429), a policy refusal carrying the SMTP text, the Idempotency-Key
(replayed, never sent twice, 422 for another body, still replayed after a
restart)."""

import base64
import email
import email.policy
import json
import re
import shutil
import subprocess
import time

import dkim
import pytest

from conftest import DOMAIN, HOSTNAME, outbound_config, uniq, wait_until
from test_dkim import parse_record
from test_milter import FakeMilter, Raw, entry, milter_conf, packet

REMOTE = "remote.test"
MX1 = "mx1.remote.test"
IP1 = "127.0.0.2"
OTHER = "other.test"          # a domain no key may send from


class Api:
    """A started server with an outbound MX, a DKIM key for DOMAIN, and
    helpers for API keys and requests."""

    def __init__(self, make_server, dns, mx, extra="", **server_kw):
        dns.set(REMOTE, "MX", [(10, MX1)])
        dns.set(MX1, "A", [IP1])
        self.rx = mx.add(IP1, hostname=MX1)
        self.dns = dns
        self.records = {}
        self.srv = make_server(start=False, extra=outbound_config(dns, mx.port) + "\n" + extra,
                               **server_kw)
        p = self.srv.cli("dkim", "keygen", DOMAIN, "--algorithm", "rsa")
        assert p.returncode == 0, p.stderr
        name, value = parse_record(p.stdout)
        self.records[name] = value
        dns.set(name, "TXT", [[value[i:i + 255] for i in range(0, len(value), 255)]])
        self.srv.start()

    def add_key(self, name=None, domains=(DOMAIN,), rate=None, daily=None):
        name = name or uniq("app")
        args = ["apikey", "add", name]
        for d in domains:
            args += ["--domain", d]
        if rate:
            args += ["--rate", f"{rate}/min"]
        if daily:
            args += ["--daily", str(daily)]
        p = self.srv.cli(*args)
        assert p.returncode == 0, p.stderr
        key = p.stdout.strip().splitlines()[-1]
        assert re.fullmatch(r"yk_[A-Za-z0-9_-]{43}", key), p.stdout
        self.srv.secrets.add(key)
        return name, key

    def post(self, key, body, headers=None, conn=None, ctype="application/json", path="/v1/messages"):
        h = {"Content-Type": ctype} if ctype else {}
        if key is not None:
            h["Authorization"] = f"Bearer {key}"
        h.update(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        st, hd, data = self.srv.http("POST", path, body=body, headers=h, conn=conn)
        return st, hd, data

    def dnsfunc(self, name, timeout=5):
        return self.records.get(name.decode().rstrip("."), "").encode() or None


@pytest.fixture
def api(make_server, dns, mx):
    return Api(make_server, dns, mx)


def jbody(data):
    return json.loads(data.decode())


def lf(b):
    return b.replace(b"\r\n", b"\n")


def msg_of(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


# ------------------------------------------------------------- the good path

def test_json_message_arrives_local_and_remote_signed(api):
    user, _ = api.srv.add_user()
    name, key = api.add_key()
    remote = f"{uniq('bob')}@{REMOTE}"
    att = bytes(range(256)) * 40
    body = {
        "from": {"name": "Zoë Sender", "email": f"app@{DOMAIN}"},
        "to": [user, f"Bob Remote <{remote}>"],
        "subject": "Grüße — ünïcödé subject that is long enough to need folding into several words",
        "text": "Hello,\nthis is the text part with a long line " + "x" * 120 + "\n",
        "html": "<p>Hello <b>world</b></p>",
        "attachments": [{"filename": "données été.bin", "content_type": "application/octet-stream",
                         "content": base64.b64encode(att).decode()}],
        "headers": {"X-Campaign": "spring"},
        "tags": ["welcome"],
        "metadata": {"order": "42"},
    }
    st, hd, data = api.post(key, body)
    assert st == 202, data
    j = jbody(data)
    assert re.fullmatch(r"[A-Za-z0-9]+", j["id"]), j
    assert j["message_id"].endswith(f"@{HOSTNAME}>"), j
    assert sorted(r["email"] for r in j["recipients"]) == sorted([user, remote])
    assert all(r["status"] == "accepted" for r in j["recipients"])

    (local,) = api.srv.wait_mail(user)
    (m,) = api.rx.wait_messages(1)
    for raw in (lf(local), lf(m["content"])):
        assert dkim.verify(raw, dnsfunc=api.dnsfunc), raw[:2000]
        msg = msg_of(raw)
        assert msg["Subject"] == body["subject"]
        assert msg["From"].addresses[0].display_name == "Zoë Sender"
        assert msg["Message-ID"] == j["message_id"]
        assert msg["X-Campaign"] == "spring"
        assert msg["X-Yubin-Tags"] == "welcome"
        assert msg["X-Yubin-Meta-order"] == "42"
        assert "Bcc" not in msg
        assert msg.get_content_type() == "multipart/mixed"
        alt, attachment = msg.iter_parts()
        assert alt.get_content_type() == "multipart/alternative"
        text, html = alt.iter_parts()
        assert text.get_content() == body["text"]
        assert html.get_content().strip() == body["html"]
        assert attachment.get_filename() == "données été.bin"
        assert attachment.get_content() == att
        for line in raw.split(b"\n"):
            assert len(line) <= 78 or line.startswith(b"DKIM-Signature") or line.startswith(b"\t"), line
    assert m["mail_from"] == f"app@{DOMAIN}"
    # the key was used: listed with its last use
    p = api.srv.cli("apikey", "list")
    line = next(l for l in p.stdout.splitlines() if l.startswith(f"name={name} "))
    assert "last_used=never" not in line and "revoked=no" in line, line
    assert key[:11] in line and key not in p.stdout
    api.srv.assert_no_secrets()


def test_curl_html_only_gets_a_text_alternative(api):
    user, _ = api.srv.add_user()
    _, key = api.add_key()
    curl = shutil.which("curl")
    if curl is None:
        pytest.fail("curl is needed for this test: apt-get install curl")
    body = json.dumps({"from": f"news@{DOMAIN}", "to": [user], "subject": "html only",
                       "html": "<h1>Title</h1><p>Caf&eacute; &amp; cr&egrave;me: 5 &lt; 6</p><p>Second</p>"})
    p = subprocess.run([curl, "-sS", "-k", "-w", "\n%{http_code}", "-X", "POST",
                        f"https://127.0.0.1:{api.srv.https}/v1/messages",
                        "-H", f"Authorization: Bearer {key}", "-H", "Content-Type: application/json",
                        "--data-binary", body], capture_output=True, timeout=30)
    out, code = p.stdout.decode().rsplit("\n", 1)
    assert code == "202", (code, out, p.stderr)
    qid = json.loads(out)["id"]
    (raw,) = api.srv.wait_mail(user)
    msg = msg_of(lf(raw))
    assert msg.get_content_type() == "multipart/alternative"
    text, html = msg.iter_parts()
    assert text.get_content_type() == "text/plain"
    # entities this simple converter does not know stay as they are written
    assert text.get_content() == "Title\nCaf&eacute; & cr&egrave;me: 5 < 6\nSecond\n"
    assert "<h1>Title</h1>" in html.get_content()
    assert qid in raw.decode(errors="replace")  # our Received: names the queue id


def test_keep_alive_two_messages_on_one_connection(api):
    user, _ = api.srv.add_user()
    _, key = api.add_key()
    c = api.srv.https_conn()
    try:
        ids = []
        for i in range(2):
            st, hd, data = api.post(key, {"from": f"app@{DOMAIN}", "to": [user], "subject": f"ka {i}",
                                          "text": f"message {i}"}, conn=c)
            assert st == 202, data
            ids.append(jbody(data)["id"])
            if i == 0:
                sock = c.sock
        assert c.sock is sock, "the second request did not reuse the connection"
    finally:
        c.close()
    assert ids[0] != ids[1]
    mails = api.srv.wait_mail(user, 2)
    assert sorted(msg_of(lf(m))["Subject"] for m in mails) == ["ka 0", "ka 1"]


def test_raw_message_with_to_parameter_and_with_its_own_fields(api):
    user, _ = api.srv.add_user()
    hidden, _ = api.srv.add_user()
    _, key = api.add_key()
    raw = (f"From: App <app@{DOMAIN}>\r\nTo: someone@{OTHER}\r\nSubject: raw one\r\n"
           f"Message-ID: <raw1@{DOMAIN}>\r\n\r\nraw body\r\n").encode()
    st, hd, data = api.post(key, raw, ctype="message/rfc822", path=f"/v1/messages?to={user}")
    assert st == 202, data
    assert jbody(data)["message_id"] == f"<raw1@{DOMAIN}>"
    (got,) = api.srv.wait_mail(user)
    m = msg_of(lf(got))
    assert m["Subject"] == "raw one" and m.get_content() == "raw body\n"
    assert dkim.verify(lf(got), dnsfunc=api.dnsfunc)
    # no ?to=: To, Cc and Bcc; the Bcc field is taken out (submission hygiene)
    raw = (f"From: app@{DOMAIN}\nTo: {user}\nBcc: {hidden}\nSubject: raw two\n\nsecond\n").encode()
    st, hd, data = api.post(key, raw, ctype="message/rfc822")
    assert st == 202, data
    assert sorted(r["email"] for r in jbody(data)["recipients"]) == sorted([user, hidden])
    (got,) = api.srv.wait_mail(hidden)
    m = msg_of(lf(got))
    assert m["Subject"] == "raw two" and m["Bcc"] is None and m["Date"] and m["Message-ID"]
    # a raw message without From, without recipients, from another domain
    st, _, data = api.post(key, b"To: x@example.test\n\nno from\n", ctype="message/rfc822")
    assert st == 422 and jbody(data)["field"] == "From", data
    st, _, data = api.post(key, f"From: app@{DOMAIN}\n\nnobody\n".encode(), ctype="message/rfc822")
    assert st == 422 and jbody(data)["field"] == "to", data
    st, _, data = api.post(key, f"From: x@{OTHER}\nTo: {user}\n\nx\n".encode(), ctype="message/rfc822")
    assert st == 403 and jbody(data)["field"] == "From", data


def test_get_message_state_and_timeline(api):
    user, _ = api.srv.add_user()
    name, key = api.add_key()
    _, other = api.add_key()        # the same domain, another key
    st, _, data = api.post(key, {"from": f"app@{DOMAIN}", "to": [user], "subject": "state", "text": "x"})
    assert st == 202, data
    qid = jbody(data)["id"]
    api.srv.wait_mail(user)

    def delivered():
        st, _, d = api.srv.http("GET", f"/v1/messages/{qid}", headers={"Authorization": f"Bearer {key}"})
        assert st == 200, d
        j = jbody(d)
        return j if j["recipients"][0]["state"] == "delivered" else None
    j = wait_until(delivered, 10, what="the recipient delivered in the trail")
    assert j["id"] == qid and j["from"] == f"app@{DOMAIN}"
    assert j["recipients"][0]["rcpt"].lower() == user.lower()
    kinds = [e["kind"] for e in j["timeline"]]
    assert kinds[0] == "received" and "delivered" in kinds, kinds
    rec = j["timeline"][0]["data"]
    assert rec["listener"] == "https" and rec["apikey"] == name, rec
    # another key, an unknown id, a malformed id, no key
    st, _, d = api.srv.http("GET", f"/v1/messages/{qid}", headers={"Authorization": f"Bearer {other}"})
    assert st == 404, d
    st, _, d = api.srv.http("GET", "/v1/messages/AAAAAAAAAAAA", headers={"Authorization": f"Bearer {key}"})
    assert st == 404 and jbody(d)["type"] == "/v1/problems/not-found", d
    st, _, d = api.srv.http("GET", "/v1/messages/..%2f..", headers={"Authorization": f"Bearer {key}"})
    assert st in (400, 404), d
    st, hd, d = api.srv.http("GET", f"/v1/messages/{qid}")
    assert st == 401 and hd["WWW-Authenticate"].startswith("Bearer"), d


def test_openapi_document_describes_every_route(api):
    st, hd, data = api.srv.http("GET", "/v1/openapi.json")
    assert st == 200 and hd["Content-Type"].startswith("application/json")
    doc = json.loads(data)
    assert doc["openapi"].startswith("3.1."), doc["openapi"]
    repo_doc = json.loads((__import__("conftest").REPO / "docs" / "openapi.json").read_text())
    assert doc == repo_doc, "the served document is not docs/openapi.json"
    routes = (__import__("conftest").REPO / "src" / "http" / "routes.c").read_text()
    found = re.findall(r'\{\s*"([A-Z]+)",\s*"(/v1/[^"]*)"', routes)
    assert ("POST", "/v1/messages") in found, found
    for method, path in found:
        assert path in doc["paths"], f"{method} {path} of routes.c is not in docs/openapi.json"
        assert method.lower() in doc["paths"][path], f"{method} {path} is not described"


# ------------------------------------------------------------ idempotency

def test_idempotency_key_never_sends_twice_even_after_restart(api):
    user, _ = api.srv.add_user()
    _, key = api.add_key()
    body = {"from": f"app@{DOMAIN}", "to": [user], "subject": "once", "text": "only once"}
    h = {"Idempotency-Key": "order-1234"}
    st, hd, first = api.post(key, body, headers=h)
    assert st == 202 and hd.get("Idempotency-Replayed") is None, first
    st, hd, again = api.post(key, body, headers=h)
    assert st == 202 and hd["Idempotency-Replayed"] == "true"
    assert jbody(again) == jbody(first)
    # the same key with another body
    st, _, d = api.post(key, {**body, "text": "changed"}, headers=h)
    assert st == 422 and jbody(d)["field"] == "Idempotency-Key", d
    # a malformed key
    st, _, d = api.post(key, body, headers={"Idempotency-Key": "bad key with spaces"})
    assert st == 400 and jbody(d)["field"] == "Idempotency-Key", d
    api.srv.restart()
    st, hd, after = api.post(key, body, headers=h)
    assert st == 202 and hd["Idempotency-Replayed"] == "true" and jbody(after) == jbody(first)
    # another API key may use the same Idempotency-Key for its own message
    _, key2 = api.add_key()
    st, hd, d = api.post(key2, body, headers=h)
    assert st == 202 and hd.get("Idempotency-Replayed") is None
    mails = api.srv.wait_mail(user, 2)
    time.sleep(1.0)
    assert len(api.srv.mails(user)) == 2, "a replayed request was sent again"


def test_milter_of_submission_sees_it_and_idempotency_in_flight_is_409(make_server, dns, mx):
    """A milter configured for the submission role only sees API mail (the
    same policy as SMTP submission); it takes its time at the end of the
    message, so a retry with the same Idempotency-Key meanwhile gets 409."""
    import threading
    milter = FakeMilter(script={b"E": [("sleep", 1.5), packet(b"c")]})
    try:
        api = Api(make_server, dns, mx,
                  extra=milter_conf(entry("slow", milter.port, roles=Raw('["submission"]'))))
        user, _ = api.srv.add_user()
        _, key = api.add_key()
        body = {"from": f"app@{DOMAIN}", "to": [user], "subject": "slow", "text": "x"}
        h = {"Idempotency-Key": "slow-1"}
        first = {}
        t = threading.Thread(target=lambda: first.update(r=api.post(key, body, headers=h)))
        t.start()
        wait_until(lambda: any(cmd == b"M" for cmd, _ in milter.got), 5, what="the milter sees MAIL")
        st, hd, d = api.post(key, body, headers=h)
        assert st == 409 and jbody(d)["field"] == "Idempotency-Key" and hd["Retry-After"], d
        t.join(15)
        st, _, d1 = first["r"]
        assert st == 202, d1
        st, hd, d2 = api.post(key, body, headers=h)
        assert st == 202 and hd["Idempotency-Replayed"] == "true" and jbody(d2) == jbody(d1)
        assert any(data.startswith(b"<app@") for cmd, data in milter.got if cmd == b"M"), milter.got
        assert len(api.srv.wait_mail(user)) == 1
        time.sleep(0.5)
        assert len(api.srv.mails(user)) == 1
    finally:
        milter.stop()


# ------------------------------------------------------------ bad paths

def test_bad_requests_name_the_field(api):
    user, _ = api.srv.add_user()
    _, key = api.add_key()
    good = {"from": f"app@{DOMAIN}", "to": [user], "text": "x"}
    cases = [
        (b'{"from": "app@example.test", "to": [', 400, None, "line 1"),
        ({"to": [user], "text": "x"}, 422, "/from", "required"),
        ({"from": f"app@{DOMAIN}", "text": "x"}, 422, "/to", "recipient"),
        ({**good, "to": [user, "not-an-address"]}, 422, "/to/1", "not-an-address"),
        ({**good, "cc": [{"name": "x"}]}, 422, "/cc/0/email", "email"),
        ({**good, "attachments": [{"filename": "a", "content": "!!!"}]}, 422, "/attachments/0/content", "base64"),
        ({**good, "headers": {"Subject": "x"}}, 422, "/headers/Subject", "written by yubin"),
        ({**good, "bbc": [user]}, 422, "/bbc", "unknown member"),
        ({"from": f"app@{DOMAIN}", "to": [user]}, 422, "/text", "text or html"),
        ({**good, "from": f"app@{OTHER}"}, 403, "/from", OTHER),
    ]
    for body, status, field, detail in cases:
        st, hd, d = api.post(key, body)
        j = jbody(d)
        assert st == status and j["status"] == status, (body, st, d)
        assert hd["Content-Type"].startswith("application/problem+json")
        assert j.get("field") == field and detail in j["detail"], (body, j)
        assert j["request_id"]
    st, _, d = api.post(key, b"from=x", ctype="application/x-www-form-urlencoded")
    assert st == 415, d
    st, _, d = api.post(key, json.dumps(good).encode(), ctype=None)
    assert st == 415, d
    api.srv.assert_no_mail(user)


def test_json_that_rfc_8259_refuses_is_400_and_sends_nothing(api):
    """The body parser is strict where JSON is: every one of these is
    refused as malformed, with its line and column, and nothing is sent."""
    user, _ = api.srv.add_user()
    _, key = api.add_key()
    head = '{"from": "app@%s", "to": ["%s"], ' % (DOMAIN, user)
    cases = [
        (rb'"text": "a\u0000b"}', r"\u0000"),              # a NUL would cut the text short
        (rb'"text": "a\u12g4"}', "hexadecimal"),           # a bad escape
        (rb'"text": "a\qb"}', "not an escape"),
        (rb'"text": "a\ud800"}', "line 1"),                # a lone surrogate
        (b'"text": "raw\ttab"}', "control character"),     # unescaped in a string
        (b'"text": "x"}\x0b', "control character"),        # cJSON alone would take it as blank
        (b'"text": "x"} trailing', "after the value"),
        (b'"text": "x", "subject": 01}', "malformed number"),
        (b'"text": "x", "text": "y"}', "duplicate member"),
    ]
    for tail, detail in cases:
        body = head.encode() + tail
        st, hd, d = api.post(key, body)
        j = jbody(d)
        assert st == 400 and j["type"] == "/v1/problems/malformed-json", (body, st, d)
        assert detail in j["detail"], (body, j)
    # a byte order mark before the value
    st, _, d = api.post(key, b"\xef\xbb\xbf" + head.encode() + b'"text": "x"}')
    assert st == 400 and "line 1, column 1" in jbody(d)["detail"], d
    # bytes that are not UTF-8, inside a string
    st, _, d = api.post(key, (head + '"text": "caf').encode() + b"\xe9" + b'"}')
    assert st == 400 and "not UTF-8" in jbody(d)["detail"], d
    api.srv.assert_no_mail(user)


def test_bodies_either_side_of_the_inline_size_arrive_whole(make_server, dns, mx):
    """A JSON body of up to 64 KiB is read on the loop, a larger one on a
    worker: both arrive byte for byte."""
    api = Api(make_server, dns, mx, extra="http: { max_body = 4000000; };")
    user, _ = api.srv.add_user()
    _, key = api.add_key()
    sizes = (60 * 1024, 300 * 1024)
    for n in sizes:
        line = "%06d " % n + "y" * 60 + "\n"
        text = line * (n // len(line))
        att = bytes(range(256)) * (n // 256)
        body = {"from": f"app@{DOMAIN}", "to": [user], "subject": f"size {n}", "text": text,
                "attachments": [{"filename": "blob.bin", "content": base64.b64encode(att).decode()}]}
        st, _, d = api.post(key, body)
        assert st == 202, (n, d)
    mails = api.srv.wait_mail(user, count=len(sizes))
    got = {}
    for raw in mails:
        msg = msg_of(lf(raw))
        text, blob = msg.iter_parts()
        got[msg["Subject"]] = (text.get_content(), blob.get_content())
    for n in sizes:
        line = "%06d " % n + "y" * 60 + "\n"
        assert got[f"size {n}"] == (line * (n // len(line)), bytes(range(256)) * (n // 256)), n


def test_no_wrong_or_revoked_key(api):
    user, _ = api.srv.add_user()
    name, key = api.add_key()
    good = {"from": f"app@{DOMAIN}", "to": [user], "text": "x"}
    st, hd, d = api.post(None, good)
    assert st == 401 and hd["WWW-Authenticate"].startswith("Bearer"), d
    assert jbody(d)["field"] == "Authorization"
    wrong = "yk_" + "A" * 43
    st, hd, d = api.post(wrong, good)
    assert st == 401 and 'error="invalid_token"' in hd["WWW-Authenticate"], d
    st, _, d = api.post(key, good)
    assert st == 202, d
    p = api.srv.cli("apikey", "revoke", name)
    assert p.returncode == 0, p.stderr
    st, hd, d = api.post(key, good)
    assert st == 401, d
    p = api.srv.cli("apikey", "list")
    assert f"name={name} " in p.stdout and "revoked=no" not in p.stdout.split(f"name={name} ")[1].split("\n")[0]
    assert api.srv.cli("apikey", "revoke", "nosuchkey").returncode == 1
    assert "keep the key" in api.srv.cli("apikey", "add", uniq("k"), "--domain", DOMAIN).stderr
    assert api.srv.cli("apikey", "add", name, "--domain", DOMAIN).returncode == 1      # name taken
    assert api.srv.cli("apikey", "add", uniq("k")).returncode == 2                     # no domain
    assert api.srv.cli("apikey", "add", uniq("k"), "--domain", "bad_domain").returncode == 2
    assert api.srv.cli("apikey", "add", uniq("k"), "--domain", DOMAIN, "--rate", "0").returncode == 2
    assert len(api.srv.wait_mail(user)) == 1
    log = api.srv.log_text()
    assert "api_auth" in log and wrong not in log and key not in log


def test_wrong_keys_are_throttled_like_logins(make_server, dns, mx):
    api = Api(make_server, dns, mx, auth={"fail_delay_ms": 300, "fail_delay_max_ms": 300,
                                          "lockout_failures": 3, "lockout_seconds": 60})
    _, key = api.add_key()
    good = {"from": f"app@{DOMAIN}", "to": [f"x@{DOMAIN}"], "text": "x"}
    t0 = time.monotonic()
    st, _, _ = api.post("yk_" + "B" * 43, good)
    assert st == 401 and time.monotonic() - t0 >= 0.25, "no delay after a wrong key"
    for _ in range(2):
        assert api.post("yk_" + "B" * 43, good)[0] == 401
    st, hd, d = api.post(key, good)          # locked out: even a good key, from this address
    assert st == 429 and int(hd["Retry-After"]) > 0, d
    assert jbody(d)["type"] == "/v1/problems/too-many-failures"


def test_oversized_body_and_message(make_server, dns, mx):
    api = Api(make_server, dns, mx, extra="http: { max_body = 20000; };", limits={"message_size": 8000})
    user, _ = api.srv.add_user()
    _, key = api.add_key()
    # far over the limit: the 413 leaves while the client still sends, and
    # reaches it all the same (the lingering close, RFC 9112 section 9.6)
    big = {"from": f"app@{DOMAIN}", "to": [user], "text": "x" * 300000}
    for _ in range(3):
        st, _, d = api.post(key, big)
        assert st == 413, d
    att = base64.b64encode(b"\0" * 9000).decode()     # 12 kB of base64, 9 kB decoded: over message_size
    st, _, d = api.post(key, {"from": f"app@{DOMAIN}", "to": [user], "text": "x",
                              "attachments": [{"filename": "z", "content": att}]})
    assert st == 413 and jbody(d)["type"] == "/v1/problems/too-large", d
    api.srv.assert_no_mail(user)


def test_rate_limit_and_daily_quota(api):
    user, _ = api.srv.add_user()
    _, fast = api.add_key(rate=2)
    good = {"from": f"app@{DOMAIN}", "to": [user], "text": "x"}
    assert api.post(fast, good)[0] == 202
    assert api.post(fast, good)[0] == 202
    st, hd, d = api.post(fast, good)
    assert st == 429 and int(hd["Retry-After"]) >= 1, d
    j = jbody(d)
    assert j["limit"] == "rate" and "2 messages a minute" in j["detail"], j
    # a refused request does not use the rate: still 429, not sent
    _, daily = api.add_key(daily=2)
    assert api.post(daily, good)[0] == 202
    assert api.post(daily, {**good, "from": f"app@{OTHER}"})[0] == 403   # not counted
    assert api.post(daily, good)[0] == 202
    st, hd, d = api.post(daily, good)
    assert st == 429 and jbody(d)["limit"] == "daily", d
    assert 0 < int(hd["Retry-After"]) <= 86400
    # refused for the quota with an Idempotency-Key: the key is not held (no 409 later)
    for _ in range(2):
        st, _, d = api.post(daily, good, headers={"Idempotency-Key": "quota-1"})
        assert st == 429 and jbody(d)["limit"] == "daily", d
    api.srv.restart()                   # the count is durable
    st, _, d = api.post(daily, good)
    assert st == 429 and jbody(d)["limit"] == "daily", d
    assert len(api.srv.wait_mail(user, 4)) == 4
    time.sleep(0.5)
    assert len(api.srv.mails(user)) == 4


def test_daily_count_is_saved_within_a_second_and_a_refusal_gives_it_back(api):
    """The running server counts a key's day in memory and saves the count
    every second: killed (SIGKILL, no orderly stop) a second and a half
    after two sends, it still knows them.  A send refused after the count
    was taken (the SMTP side refuses the Sender field) gives it back."""
    user, _ = api.srv.add_user()
    _, daily = api.add_key(daily=3)
    good = {"from": f"app@{DOMAIN}", "to": [user], "text": "x"}
    assert api.post(daily, good)[0] == 202
    assert api.post(daily, good)[0] == 202
    time.sleep(1.6)
    api.srv.kill9()
    api.srv.start()
    # refused by SMTP submission's hygiene (a Sender field not the key's):
    # the count taken for it is given back
    raw = f"From: app@{DOMAIN}\nSender: x@{OTHER}\nTo: {user}\nSubject: s\n\nbody\n".encode()
    st, _, d = api.post(daily, raw, ctype="message/rfc822")
    assert st == 403 and "5.7" in d.decode(), d
    assert api.post(daily, good)[0] == 202     # the third of three
    st, _, d = api.post(daily, good)
    assert st == 429 and jbody(d)["limit"] == "daily", d
    assert len(api.srv.wait_mail(user, 3)) == 3


def test_policy_refusal_carries_the_smtp_text(make_server, dns, mx):
    api = Api(make_server, dns, mx, extra="""policy: { rules = (
      { name = "no-blocked"; rcpt = "blocked@example.test"; action = "reject"; text = "This recipient takes no mail from applications"; },
      { name = "later"; rcpt = "later@example.test"; action = "tempfail"; text = "Not now"; }
    ); };""")
    user, _ = api.srv.add_user()
    api.srv.add_user(f"blocked@{DOMAIN}")
    api.srv.add_user(f"later@{DOMAIN}")
    _, key = api.add_key()
    st, _, d = api.post(key, {"from": f"app@{DOMAIN}", "to": [f"blocked@{DOMAIN}"], "text": "x"})
    j = jbody(d)
    assert st == 403 and j["type"] == "/v1/problems/refused-by-policy", d
    assert "This recipient takes no mail from applications" in j["detail"] and j["smtp_reply"].startswith("550 5.7.1")
    assert j["recipients"] == [{"email": f"blocked@{DOMAIN}", "status": "refused", "reply": j["smtp_reply"]}]
    st, hd, d = api.post(key, {"from": f"app@{DOMAIN}", "to": [f"later@{DOMAIN}"], "text": "x"})
    assert st == 503 and "Not now" in jbody(d)["detail"] and int(hd["Retry-After"]) > 0, d
    # one refused among others: accepted, with the refusal reported
    st, _, d = api.post(key, {"from": f"app@{DOMAIN}", "to": [user, f"blocked@{DOMAIN}"], "text": "x"})
    assert st == 202, d
    res = {r["email"]: r for r in jbody(d)["recipients"]}
    assert res[user]["status"] == "accepted" and res[f"blocked@{DOMAIN}"]["status"] == "refused"
    assert len(api.srv.wait_mail(user)) == 1
