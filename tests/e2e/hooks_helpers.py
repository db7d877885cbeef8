"""What test_suppress.py and test_events.py share: a server that delivers
to aiosmtpd MX receivers through the test DNS server, an API key, and
JSON requests on the https listener."""

import json
import urllib.parse

from conftest import DOMAIN, make_message, outbound_config, submit, uniq, wait_until

REMOTE = "remote.test"
MX1, IP1 = "mx1.remote.test", "127.0.0.2"
WAIT = 20.0


def start(make_server, dns, mx, extra="", **kw):
    dns.set(REMOTE, "MX", [(10, MX1)])
    dns.set(MX1, "A", [IP1])
    srv = make_server(extra=outbound_config(dns, mx.port) + "\n" + extra, **kw)
    srv.api_key = new_key(srv)
    return srv


def new_key(srv, name=None):
    p = srv.cli("apikey", "add", name or uniq("app"), "--domain", DOMAIN)
    assert p.returncode == 0, p.stdout + p.stderr
    key = [l for l in p.stdout.splitlines() if l.startswith("yk_")][-1].strip()
    srv.secrets.add(key)
    return key


def api(srv, method, path, body=None, key=None, raw=None):
    """(status, headers, parsed JSON or None)."""
    headers = {}
    if key is not False:
        headers["Authorization"] = f"Bearer {key or srv.api_key}"
    if raw is not None:
        body = raw
        headers["Content-Type"] = "application/json"
    status, h, data = srv.http(method, path, body=body, headers=headers)
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = None
    return status, h, parsed


def q(s):
    return urllib.parse.quote(s, safe="")


def send(srv, user, pw, rcpts, key=None):
    """A message from user through POST /v1/messages (the events and the
    API-registered webhooks of a key are those of the messages it sent);
    its queue id."""
    status, _, body = api(srv, "POST", "/v1/messages",
                          {"from": user, "to": rcpts, "subject": "hooks " + uniq(), "text": "hello"},
                          key=key)
    assert status == 202, body
    return body["id"]


def send_smtp(srv, user, pw, rcpts):
    """The same message through SMTP submission: no key's."""
    return submit(srv, user, pw, rcpts, make_message(user, rcpts[0], "hooks " + uniq(), ["hello"]))


def events(srv, **params):
    query = "&".join(f"{k}={q(str(v))}" for k, v in params.items())
    status, _, body = api(srv, "GET", "/v1/events" + ("?" + query if query else ""))
    assert status == 200, body
    return body


def wait_event(srv, type_, rcpt, timeout=WAIT):
    return wait_until(lambda: [e for e in events(srv, type=type_, recipient=rcpt, limit=1000)["events"]],
                      timeout, what=f"a {type_} event for {rcpt}")[0]


def wait_suppressed(srv, rcpt, timeout=WAIT):
    def look():
        status, _, body = api(srv, "GET", f"/v1/suppressions/{q(rcpt)}")
        return body if status == 200 else None
    return wait_until(look, timeout, what=f"{rcpt} on the suppression list")
