"""An MTA-STS policy server for the e2e tests (RFC 8461 3.3): HTTPS on
127.0.0.1 with a certificate for mta-sts.<domain> signed by the test CA
(conftest's test_ca), answering GET /.well-known/mta-sts.txt by the Host
field.  A test sets per domain the policy text, or a status to answer
instead (404, 500, a 302 redirect), and may stop the server to make
fetches fail.  yubin reaches it through mtasts.test_https_port (a setting
for tests only: the RFC fixes port 443)."""

import http.server
import os
import ssl
import subprocess
import threading

from conftest import free_port


def make_cert(test_ca, names):
    """A key and certificate for names, signed by the test CA; paths."""
    d = test_ca["dir"]
    tag = names[0].replace("*", "star")
    key, csr, cert, ext = (d / f"{tag}.key", d / f"{tag}.csr", d / f"{tag}.pem", d / f"{tag}.cnf")
    run = lambda *a: subprocess.run(list(a), check=True, capture_output=True, timeout=60)
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={names[0]}")
    ext.write_text("subjectAltName=" + ",".join(f"DNS:{n}" for n in names) +
                   "\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    run("openssl", "x509", "-req", "-in", str(csr), "-CA", test_ca["ca"], "-CAkey",
        str(d / "ca.key"), "-CAcreateserial", "-out", str(cert), "-days", "400", "-extfile", str(ext))
    os.chmod(key, 0o644)
    return str(cert), str(key)


class PolicyServer:
    def __init__(self, cert, key):
        self.cert, self.key = cert, key
        self.port = free_port()
        self.policies = {}      # domain -> policy text (bytes or str)
        self.status = {}        # domain -> (status, extra headers) instead of the policy
        self.ctype = {}         # domain -> Content-Type instead of text/plain
        self.requests = []      # (host, path) of every request
        self.httpd = None

    def start(self):
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                host = (self.headers.get("Host") or "").split(":")[0].lower()
                owner.requests.append((host, self.path))
                domain = host[len("mta-sts."):] if host.startswith("mta-sts.") else None
                if self.path != "/.well-known/mta-sts.txt" or domain is None:
                    self.send_error(404)
                    return
                if domain in owner.status:
                    code, headers = owner.status[domain]
                    self.send_response(code)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = owner.policies.get(domain)
                if body is None:
                    self.send_error(404)
                    return
                body = body.encode() if isinstance(body, str) else body
                self.send_response(200)
                self.send_header("Content-Type", owner.ctype.get(domain, "text/plain"))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def fetches(self, domain):
        return [r for r in self.requests if r == (f"mta-sts.{domain}", "/.well-known/mta-sts.txt")]
