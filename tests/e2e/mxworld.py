"""A small Internet on loopback for outbound tests: an authoritative DNS
server (python3-dnslib) whose records a test can change while it runs, and
receiving SMTP servers (python3-aiosmtpd) on 127.0.0.x that record what they
get and answer what the test tells them to."""

import asyncio
import socket
import threading

from aiosmtpd.controller import Controller
from dnslib import AAAA, MX, QTYPE, RCODE, RR, A
from dnslib.server import BaseResolver, DNSServer


class Zone(BaseResolver):
    """Records by (name, type); unknown names answer NXDOMAIN, names marked
    servfail answer SERVFAIL."""

    def __init__(self):
        self.records = {}
        self.servfail = set()
        self.lock = threading.Lock()
        self.queries = []

    def set(self, name, rtype, values):
        name = name.lower().rstrip(".") + "."
        with self.lock:
            self.records[(name, rtype)] = list(values)
            self.servfail.discard(name)

    def fail(self, name):
        with self.lock:
            self.servfail.add(name.lower().rstrip(".") + ".")

    def resolve(self, request, handler):
        reply = request.reply()
        q = request.q
        name = str(q.qname).lower()
        rtype = QTYPE[q.qtype]
        with self.lock:
            self.queries.append((name, rtype))
            if name in self.servfail:
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            values = self.records.get((name, rtype))
            exists = any(k[0] == name for k in self.records)
        if values is None and not exists:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for v in values or []:
            if rtype == "MX":
                rdata = MX(v[1] if v[1] != "." else ".", v[0])
            elif rtype == "A":
                rdata = A(v)
            elif rtype == "AAAA":
                rdata = AAAA(v)
            else:
                continue
            reply.add_answer(RR(q.qname, q.qtype, rdata=rdata, ttl=5))
        return reply


class Receiver:
    """An aiosmtpd server on (ip, port).  Set .rcpt_reply / .data_reply
    (callables or strings) to choose its answers."""

    def __init__(self, ip, port, tls_context=None, size_limit=None):
        self.ip = ip
        self.port = port
        self.got = []            # (mail_from, rcpt_tos, content, tls)
        self.rcpt_reply = {}     # address -> reply string (e.g. "550 5.1.1 nope")
        self.data_replies = []   # replies for the next DATAs, in order; then 250
        self.data_count = 0
        handler = self
        kw = {}
        if tls_context is not None:
            kw["tls_context"] = tls_context
        if size_limit is not None:
            kw["data_size_limit"] = size_limit
        self.controller = Controller(handler, hostname=ip, port=port, **kw)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        r = self.rcpt_reply.get(address)
        if r:
            return r
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_count += 1
        if self.data_replies:
            return self.data_replies.pop(0)
        self.got.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content,
                         session.ssl is not None))
        return "250 2.0.0 stored"

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()


def free_port_on(ips):
    """A port free on every one of the given loopback addresses."""
    for _ in range(100):
        s = socket.socket()
        s.bind((ips[0], 0))
        port = s.getsockname()[1]
        s.close()
        ok = True
        for ip in ips[1:]:
            t = socket.socket()
            try:
                t.bind((ip, port))
            except OSError:
                ok = False
            finally:
                t.close()
        if ok:
            return port
    raise RuntimeError("no common free port")


class World:
    def __init__(self):
        self.zone = Zone()
        self.dns = DNSServer(self.zone, port=0, address="127.0.0.1")
        self.dns.start_thread()
        tcp_zone = self.zone
        self.dns_tcp = DNSServer(tcp_zone, port=self.dns_port, address="127.0.0.1", tcp=True)
        self.dns_tcp.start_thread()
        self.smtp_port = free_port_on(["127.0.0.2", "127.0.0.3", "127.0.0.4"])
        self.receivers = []

    @property
    def dns_port(self):
        return self.dns.server.server_address[1]

    def receiver(self, ip, **kw):
        r = Receiver(ip, self.smtp_port, **kw).start()
        self.receivers.append(r)
        return r

    def config(self, retry="[ 1, 2 ]", lifetime=30, delay_warning=600, extra=""):
        return (f'dns: {{ resolver = "127.0.0.1@{self.dns_port}"; timeout = 3; }};\n'
                f'delivery: {{ port = {self.smtp_port}; retry = {retry}; lifetime = {lifetime}; '
                f'delay_warning = {delay_warning}; connect_timeout = 3; command_timeout = 10; '
                f'data_timeout = 20; {extra} }};\n')

    def stop(self):
        for r in self.receivers:
            try:
                r.stop()
            except Exception:
                pass
        self.dns.stop()
        self.dns_tcp.stop()
