#!/usr/bin/python3
"""A tiny authoritative DNS server for bench/policy.sh: one DNS blocklist
zone (RFC 5782) and fast NXDOMAIN for every other name.

It runs as its own process (so its CPU time is measured apart from the
servers under test and from the benchmark's sampling thread) and answers
from one thread, without a thread per query as tests/e2e/dnsserver.py does,
so that a thousand look-ups a second cost little on a two-core machine.

    dnsbl_server.py --address 127.0.53.53 --port 53 --zone bl.bench.test \
                    --listed 127.0.0.2 [--neg-ttl 0]

  <reversed IPv4>.<zone>   A 127.0.0.2 and TXT "listed" for a --listed
                           address; NXDOMAIN otherwise (the load's address)
  <zone>                   SOA and NS
  _stats.bench-ctl         TXT "dnsbl=N other=M": queries answered so far,
                           under the zone and elsewhere (the benchmark
                           reads it before and after each run)
  anything else            NXDOMAIN (rspamd's look-ups when it is in the
                           path: answered at once, as by a resolver that
                           knows nothing, since there is no Internet here)

Negative answers carry a SOA whose minimum is --neg-ttl seconds (default 0:
no negative caching beyond the second, so the look-ups keep reaching this
server, as look-ups for many different clients would).  UDP and TCP, both on the same
address and port.  Stops on SIGTERM.
"""

import argparse
import selectors
import signal
import socket
import struct
import sys

from dnslib import A, NS, QTYPE, RCODE, RR, SOA, TXT, DNSRecord

STATS_NAME = "_stats.bench-ctl"


def norm(label):
    return str(label).rstrip(".").lower()


class Server:
    def __init__(self, zone, listed, neg_ttl):
        self.zone = zone.rstrip(".").lower()
        self.listed = {".".join(reversed(ip.split("."))) for ip in listed}
        self.neg_ttl = neg_ttl
        self.n_zone = 0
        self.n_other = 0

    def soa(self, owner):
        return RR(owner + ".", QTYPE.SOA, ttl=self.neg_ttl,
                  rdata=SOA("ns." + self.zone + ".",
                            "hostmaster." + self.zone + ".",
                            (1, 3600, 600, 86400, self.neg_ttl)))

    def answer(self, data):
        try:
            req = DNSRecord.parse(data)
        except Exception:           # not DNS: no answer, as a server would
            return None
        reply = req.reply()
        reply.header.aa = 1
        reply.header.ra = 1
        if not req.questions:
            reply.header.rcode = RCODE.FORMERR
            return reply.pack()
        q = req.q
        name, qtype = norm(q.qname), QTYPE.get(q.qtype)
        if name == STATS_NAME:
            reply.add_answer(RR(q.qname, QTYPE.TXT, ttl=0, rdata=TXT(
                "dnsbl=%d other=%d" % (self.n_zone, self.n_other))))
            return reply.pack()
        if name == self.zone or name.endswith("." + self.zone):
            self.n_zone += 1
            host = name[:-len(self.zone)].rstrip(".")
            if name == self.zone:
                if qtype == "SOA":
                    reply.add_answer(self.soa(self.zone))
                elif qtype == "NS":
                    reply.add_answer(RR(q.qname, QTYPE.NS, ttl=3600,
                                        rdata=NS("ns." + self.zone + ".")))
                else:
                    reply.add_auth(self.soa(self.zone))
            elif host in self.listed:
                if qtype == "A":
                    reply.add_answer(RR(q.qname, QTYPE.A, ttl=300,
                                        rdata=A("127.0.0.2")))
                elif qtype == "TXT":
                    reply.add_answer(RR(q.qname, QTYPE.TXT, ttl=300,
                                        rdata=TXT("listed by the benchmark")))
                else:
                    reply.add_auth(self.soa(self.zone))
            else:
                reply.header.rcode = RCODE.NXDOMAIN
                reply.add_auth(self.soa(self.zone))
            return reply.pack()
        self.n_other += 1
        reply.header.rcode = RCODE.NXDOMAIN
        return reply.pack()


def serve(address, port, srv):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    udp.bind((address, port))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((address, port))
    tcp.listen(64)
    udp.setblocking(False)
    tcp.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(udp, selectors.EVENT_READ, "udp")
    sel.register(tcp, selectors.EVENT_READ, "listen")
    bufs = {}
    print("ready %s:%d" % (address, port), flush=True)
    while True:
        for key, _ in sel.select():
            if key.data == "udp":
                for _ in range(64):             # drain a burst per wake-up
                    try:
                        data, peer = udp.recvfrom(4096)
                    except BlockingIOError:
                        break
                    out = srv.answer(data)
                    if out is not None:
                        if len(out) > 512:      # no EDNS here: truncate
                            r = DNSRecord.parse(out)
                            r.rr, r.auth, r.ar = [], [], []
                            r.header.tc = 1
                            out = r.pack()
                        try:
                            udp.sendto(out, peer)
                        except OSError:
                            pass
            elif key.data == "listen":
                try:
                    c, _ = tcp.accept()
                except OSError:
                    continue
                c.setblocking(False)
                bufs[c] = b""
                sel.register(c, selectors.EVENT_READ, "tcp")
            else:
                c = key.fileobj
                try:
                    chunk = c.recv(65536)
                except OSError:
                    chunk = b""
                buf = bufs.get(c, b"") + chunk
                done = not chunk or len(buf) > 65537
                while not done and len(buf) >= 2:
                    n = struct.unpack("!H", buf[:2])[0]
                    if len(buf) < 2 + n:
                        break
                    out = srv.answer(buf[2:2 + n])
                    buf = buf[2 + n:]
                    if out is None:
                        continue
                    try:
                        c.setblocking(True)
                        c.settimeout(2)
                        c.sendall(struct.pack("!H", len(out)) + out)
                        c.setblocking(False)
                    except OSError:
                        done = True
                if done:
                    sel.unregister(c)
                    bufs.pop(c, None)
                    c.close()
                else:
                    bufs[c] = buf


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--address", default="127.0.53.53")
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--zone", default="bl.bench.test")
    ap.add_argument("--listed", action="append", default=[])
    ap.add_argument("--neg-ttl", type=int, default=0)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        serve(a.address, a.port, Server(a.zone, a.listed or ["127.0.0.2"],
                                        a.neg_ttl))
    except OSError as e:
        sys.exit("dnsbl_server: cannot listen on %s:%d: %s"
                 % (a.address, a.port, e))


if __name__ == "__main__":
    main()
