"""A webhook receiver for the e2e tests: python's http.server over TLS (the
test certificate, which yubin is told to trust with webhooks.ca_file),
recording every POST (headers and the exact body bytes) and answering
with statuses a test chooses, in order.  And the signature check an
application would write (the README shows the same lines)."""

import base64
import hashlib
import hmac
import http.server
import json
import ssl
import threading
import time


def verify_webhook(secret, headers, body, tolerance=300):
    """True when a request is signed with secret (Standard Webhooks: v1,
    HMAC-SHA256 over "id.timestamp.body", base64)."""
    key = base64.b64decode(secret.removeprefix("whsec_")) if secret.startswith("whsec_") else secret.encode()
    msg_id, ts = headers["Webhook-Id"], headers["Webhook-Timestamp"]
    if abs(time.time() - int(ts)) > tolerance:
        return False
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(mac).decode()
    return any(hmac.compare_digest(expected, s) for s in headers["Webhook-Signature"].split())


class WebhookReceiver:
    """HTTPS on 127.0.0.1:port.  .requests: dicts with path, headers (a
    dict), body (bytes), json, status (what was answered).  statuses: the
    answers in order, then `then` for every later request."""

    def __init__(self, port, cert, key, statuses=(), then=200, location=None):
        self.port = port
        self.cert, self.key = cert, key
        self.statuses = list(statuses)
        self.then = then
        self.location = location
        self.requests = []
        self.lock = threading.Lock()
        self.httpd = None
        self.thread = None

    def start(self):
        rx = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with rx.lock:
                    status = rx.statuses.pop(0) if rx.statuses else rx.then
                    try:
                        parsed = json.loads(body)
                    except ValueError:
                        parsed = None
                    rx.requests.append({"path": self.path, "headers": dict(self.headers.items()),
                                        "body": body, "json": parsed, "status": status})
                self.send_response(status)
                if rx.location and 300 <= status < 400:
                    self.send_header("Location", rx.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(10)
            self.httpd = None

    def events(self):
        """The JSON bodies of the answered-2xx requests."""
        with self.lock:
            return [r["json"] for r in self.requests if 200 <= r["status"] < 300]

    def wait(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                reqs = list(self.requests)
            v = pred(reqs)
            if v:
                return v
            time.sleep(0.1)
        with self.lock:
            got = [(r["status"], r["json"]) for r in self.requests]
        raise AssertionError(f"timed out waiting for {what}; the receiver got {got}")
