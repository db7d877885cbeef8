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

REMOTE = "remote.test"
MX1 = "mx1.remote.test"
IP1 = "127.0.0.2"
OTHER = "other.test"          # a domain no key may send from


class Api:
    """A started server with an outbound MX, a DKIM key for DOMAIN, and
    helpers for API keys and requests."""

    def __init__(self, make_server, dns, mx, extra=""):
        dns.set(REMOTE, "MX", [(10, MX1)])
        dns.set(MX1, "A", [IP1])
        self.rx = mx.add(IP1, hostname=MX1)
        self.dns = dns
        self.records = {}
        self.srv = make_server(start=False, extra=outbound_config(dns, mx.port) + "\n" + extra)
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
        h = {"Content-Type": ctype}
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
