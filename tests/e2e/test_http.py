"""The HTTPS listener itself (http/server.c, req.c, router.c), before any
API: TLS with the server's certificate, HTTP/1.1 keep-alive, RFC 9457
problem details for unknown paths and methods (with Allow), the body and
head limits, malformed requests, the idle timeout, the connection limits,
and a stop that closes kept-alive connections.  Driven with curl and
python's http.client / ssl."""
import json
import os
import socket
import ssl
import subprocess
import time

import pytest

from conftest import wait_until


def tls_socket(server, timeout=10):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", server.https), timeout=timeout)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def read_response(s, timeout=10):
    """Raw bytes of one response (head + Content-Length body)."""
    s.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head + b"\r\n\r\n" + rest


def test_health_with_curl(server, tls_cert):
    p = subprocess.run(["curl", "-sS", "--cacert", tls_cert["cert"], "--resolve",
                        f"localhost:{server.https}:127.0.0.1", "-i",
                        f"https://localhost:{server.https}/v1/health"],
                       capture_output=True, timeout=30)
    out = p.stdout.decode()
    assert p.returncode == 0, p.stderr
    assert out.startswith("HTTP/1.1 200"), out
    body = json.loads(out.split("\r\n\r\n", 1)[1])
    assert body == {"status": "ok", "accepting_mail": True}
    assert "content-type: application/json" in out.lower()
    assert "cache-control: no-store" in out.lower()
    assert "x-content-type-options: nosniff" in out.lower()


def test_unknown_path_is_a_problem(server):
    st, h, body = server.http("GET", "/v1/nothing-here")
    assert st == 404
    assert h["Content-Type"] == "application/problem+json"
    p = json.loads(body)
    assert p["status"] == 404 and p["type"] == "/v1/problems/not-found" and p["title"]
    assert p["request_id"].startswith("H")


def test_wrong_method_names_allowed_ones(server):
    st, h, body = server.http("POST", "/v1/health", body=b"{}")
    assert st == 405
    assert h["Allow"] == "GET"
    assert json.loads(body)["type"] == "/v1/problems/method-not-allowed"


def test_head_has_no_body(server):
    c = server.https_conn()
    c.request("HEAD", "/v1/health")
    r = c.getresponse()
    assert r.status == 200
    assert r.read() == b""
    c.close()


def test_keep_alive_many_requests_one_connection(server):
    c = server.https_conn()
    for _ in range(5):
        st, h, body = server.http("GET", "/v1/health", conn=c)
        assert st == 200 and json.loads(body)["status"] == "ok"
    # one TLS connection served all five: the server logged one client
    # connection's requests with increasing ids
    c.close()


def test_pipelined_requests_answered_in_order(server):
    s = tls_socket(server)
    s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
              b"GET /v1/nope HTTP/1.1\r\nHost: x\r\n\r\n")
    first = read_response(s)
    second = read_response(s)
    assert first.startswith(b"HTTP/1.1 200"), first
    assert second.startswith(b"HTTP/1.1 404"), second
    s.close()


def test_bad_escapes_in_path(server):
    for path in ("/v1/%zz", "/v1/a%00b"):
        st, h, body = server.http("GET", path)
        assert st == 400, (path, st, body)
        assert json.loads(body)["type"] == "/v1/problems/bad-path"


def test_body_over_the_limit_is_413(make_server):
    srv = make_server(extra="http: { max_body = 4096; };")
    st, h, body = srv.http("POST", "/v1/health", body=b"x" * 5000,
                           headers={"Content-Type": "application/octet-stream"})
    assert st == 413, (st, body)
    # the server goes on serving
    assert srv.http("GET", "/v1/health")[0] == 200


def test_chunked_body_over_the_limit_is_413(make_server):
    srv = make_server(extra="http: { max_body = 4096; };")
    s = tls_socket(srv)
    s.sendall(b"POST /v1/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    for _ in range(3):
        s.sendall(b"800\r\n" + b"y" * 0x800 + b"\r\n")
    resp = read_response(s)
    assert resp.startswith(b"HTTP/1.1 413"), resp[:200]
    s.close()


def test_huge_head_is_refused(make_server):
    srv = make_server(extra="http: { max_header = 2048; };")
    s = tls_socket(srv)
    s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 4000 + b"\r\n\r\n")
    resp = read_response(s)
    # refused with a status or with the connection closed, never served
    assert resp == b"" or resp.split(b" ")[1] in (b"400", b"413", b"431"), resp[:200]
    s.close()
    assert srv.http("GET", "/v1/health")[0] == 200


def test_garbage_request_line(server):
    s = tls_socket(server)
    s.sendall(b"\x00\x01 nonsense\r\n\r\n")
    resp = read_response(s)
    assert resp == b"" or resp.startswith(b"HTTP/1.1 400"), resp[:200]
    s.close()
    assert server.http("GET", "/v1/health")[0] == 200


def test_plain_http_on_the_tls_port_gets_nothing(server):
    s = socket.create_connection(("127.0.0.1", server.https), timeout=5)
    s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    assert b"200 OK" not in got
    s.close()


def test_idle_connection_times_out(make_server):
    srv = make_server(extra="http: { timeout = 1; };")
    s = tls_socket(srv)
    s.settimeout(10)
    t0 = time.monotonic()
    try:
        got = s.recv(100)
    except (ConnectionResetError, ssl.SSLError):
        got = b""
    assert got == b""
    assert time.monotonic() - t0 < 8
    s.close()


def test_per_address_connection_limit(make_server):
    srv = make_server(limits={"connections_per_ip": 2})
    conns = [srv.https_conn() for _ in range(2)]
    for c in conns:
        assert srv.http("GET", "/v1/health", conn=c)[0] == 200
    st, h, body = srv.http("GET", "/v1/health")
    assert st == 503
    assert h["Connection"] == "close" and h["Retry-After"]
    for c in conns:
        c.close()
    # closed connections give their slots back
    wait_until(lambda: srv.http("GET", "/v1/health")[0] == 200, 5, what="a slot after close")


def test_stop_closes_kept_alive_connections(make_server):
    srv = make_server()
    c = srv.https_conn()
    assert srv.http("GET", "/v1/health", conn=c)[0] == 200
    t0 = time.monotonic()
    assert srv.stop() == 0
    assert time.monotonic() - t0 < 4, "an idle kept-alive connection held the stop"
    assert "event=http" in srv.log_text()
    c.close()


# ---- the lingering close (RFC 9112 section 9.6): an answer given while
# the client still sends reaches it, then a FIN, not a reset

def send_big_head(s, length):
    s.sendall(b"POST /v1/health HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
              b"Content-Length: " + str(length).encode() + b"\r\n\r\n")


def server_socket_of(srv, s):
    """The inode of the server's end of client socket s (/proc/net/tcp*)."""
    port = s.getsockname()[1]
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                col = line.split()
                if (int(col[1].rsplit(":", 1)[1], 16) == srv.https
                        and int(col[2].rsplit(":", 1)[1], 16) == port):
                    return col[9]
    raise AssertionError("no server end for the client socket")


def server_holds(srv, inode):
    d = f"/proc/{srv.proc.pid}/fd"
    links = []
    for f in os.listdir(d):
        try:
            links.append(os.readlink(f"{d}/{f}"))
        except FileNotFoundError:
            pass
    return f"socket:[{inode}]" in links


def test_too_large_body_sent_slowly_gets_413_then_a_clean_end(make_server):
    srv = make_server(extra="http: { max_body = 4096; };")
    s = tls_socket(srv)
    inode = server_socket_of(srv, s)
    assert server_holds(srv, inode)
    send_big_head(s, 20 * 4096)
    # the 413 leaves after the second piece; the client, like most, sends
    # on before it reads: every piece must go through, none reset
    for _ in range(20):
        s.sendall(b"z" * 4096)
        time.sleep(0.03)
    resp = read_response(s)
    assert resp.startswith(b"HTTP/1.1 413"), resp[:200]
    assert b"connection: close" in resp.lower(), resp[:300]
    assert s.recv(100) == b"", "no clean end after the 413"   # a reset raises
    s.close()
    assert srv.http("GET", "/v1/health")[0] == 200
    wait_until(lambda: not server_holds(srv, inode), 5, what="the lingering socket closed")


def send_until_cut_off(s, piece, pause):
    """Send forever (15 s at most); (seconds until the send failed or None,
    bytes sent)."""
    t0 = time.monotonic()
    sent = 0
    try:
        while time.monotonic() - t0 < 15:
            s.sendall(piece)
            sent += len(piece)
            time.sleep(pause)
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
        return time.monotonic() - t0, sent
    return None, sent


def test_lingering_ends_at_its_time_bound(make_server):
    srv = make_server(extra="http: { max_body = 4096; };")
    s = tls_socket(srv)
    inode = server_socket_of(srv, s)
    send_big_head(s, 10 ** 9)
    ended, _ = send_until_cut_off(s, b"z" * 1024, 0.02)
    assert ended is not None, "a client sending forever was never cut off"
    # read and thrown away for a while (the 2 s bound), then closed
    assert 1.0 < ended < 8, ended
    s.close()
    wait_until(lambda: not server_holds(srv, inode), 5, what="the lingering socket closed")


def test_lingering_ends_at_its_byte_bound(make_server):
    srv = make_server(extra="http: { max_body = 4096; };")
    s = tls_socket(srv)
    inode = server_socket_of(srv, s)
    send_big_head(s, 10 ** 9)
    s.sendall(b"z" * (1 << 19))
    time.sleep(0.2)
    assert server_holds(srv, inode), "half a MiB: not lingering"
    ended, sent = send_until_cut_off(s, b"z" * 65536, 0)
    # 1 MiB read in all, then closed: long before the time bound
    assert ended is not None and ended < 1.8 and sent >= 1 << 19, (ended, sent)
    s.close()


def test_stop_with_a_connection_lingering(make_server):
    srv = make_server(extra="http: { max_body = 4096; };")
    s = tls_socket(srv)
    inode = server_socket_of(srv, s)
    send_big_head(s, 10 ** 6)
    s.sendall(b"z" * 8192)
    assert read_response(s).startswith(b"HTTP/1.1 413")
    s.sendall(b"z" * 1024)          # still read: the connection lingers
    time.sleep(0.2)
    assert server_holds(srv, inode), "not lingering"
    t0 = time.monotonic()
    assert srv.stop() == 0
    assert time.monotonic() - t0 < 1.8, "the stop waited for a lingering connection"
    s.settimeout(5)
    try:
        assert s.recv(100) == b""
    except (ConnectionResetError, ssl.SSLError):
        pass                         # closed with our bytes unread: a reset
    s.close()
