"""A small authoritative DNS server for the outbound-delivery tests.

Serves a dict of records that a test can change while it runs, over UDP and
TCP on 127.0.0.1:<port>, from threads inside the pytest process (dnslib's
DNSServer).  Every answer carries AA and RA (yubin's libunbound forwards to
it with RD set, as to a recursive resolver) and TTL 0 by default, so that a
change made by the test is seen by the next look-up.

    dns = TestDNS().start()
    dns.set("remote.test", "MX", [(10, "mx1.remote.test")])
    dns.set("mx1.remote.test", "A", ["127.0.0.2"])
    dns.set("nullmx.test", "MX", [(0, ".")])          # RFC 7505 null MX
    dns.set("txt.test", "TXT", ["v=spf1 -all"])
    dns.servfail("broken.test")                       # SERVFAIL for every type
    dns.clear("broken.test")                          # unknown again: NXDOMAIN
    dns.set("4.3.2.1.in-addr.arpa", "PTR", ["host.test"])
    dns.set("alias.test", "CNAME", ["txt.test"])      # followed in the answer
    dns.set("old.test", "SPF", ["v=spf1 -all"])       # type 99 (RFC 4408)
    dns.set("_imaps._tcp.x.test", "SRV", [(0, 1, 993, "mx.x.test")])  # RFC 2782
    dns.timeout("slow.test")                          # no answer for types it lacks
    dns.reset()                                       # forget every record
    dns.stop()

Names not known at all get NXDOMAIN; a known name without records of the
asked type gets NOERROR with no answer (NODATA), unless it was marked with
timeout(): then the question is dropped, as by a server that never answers.
A CNAME is answered with the chain it starts (at most 8 links) and the
records of the asked type at its end.  TXT and SPF values may be bytes.  Both negative answers carry
a SOA in the authority section with minimum 0 (no negative caching).
"""

import socket
import time
import threading

from dnslib import AAAA, A, CNAME, MX, PTR, QTYPE, RCODE, RR, SOA, SRV, TLSA, TXT, DNSError, DNSLabel, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer

SUPPORTED = ("MX", "A", "AAAA", "TXT", "TLSA", "PTR", "CNAME", "SPF", "SRV")
MAX_CNAME_CHAIN = 8


def _norm(name):
    if isinstance(name, DNSLabel):      # from the wire: labels may hold spaces
        name = b".".join(name.label).decode("latin-1")
    name = str(name).strip().lower()
    return name.rstrip(".") if name != "." else "."


def _free_udp_tcp_port():
    """A port free on 127.0.0.1 for both UDP and TCP."""
    for _ in range(100):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free UDP+TCP port")


class _Resolver(BaseResolver):
    def __init__(self, owner):
        self.owner = owner

    def resolve(self, request, handler):
        """The reply, or None to send nothing (a timed-out name)."""
        reply = request.reply()
        reply.header.aa = 1
        reply.header.ra = 1
        q = request.q
        name = _norm(q.qname)
        qtype = QTYPE.get(q.qtype)
        o = self.owner
        with o.lock:
            o.queries.append((name, qtype, handler.protocol, time.monotonic()))
            if name in o.servfails:
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            recs = o.records.get(name)
            ttl = o.ttl
            if name in o.timeouts and not (recs or {}).get(qtype):
                return None
            if recs is None or not any(recs.values()):
                reply.header.rcode = RCODE.NXDOMAIN
                reply.add_auth(o.soa_rr())
                return reply
            owner, values = q.qname, list(recs.get(qtype, ()))
            if not values and qtype != "CNAME":
                owner, values = self._follow_cname(reply, q.qname, name, qtype)
        if not values:
            reply.add_auth(o.soa_rr())        # NODATA
            return reply
        for v in values:
            reply.add_answer(RR(owner, q.qtype, ttl=ttl, rdata=_rdata(qtype, v)))
        return reply

    def _follow_cname(self, reply, qname, name, qtype):
        """Add the CNAME chain from name to reply; the owner and the
        records of qtype at its end (none after a loop or a long chain)."""
        o = self.owner
        owner = qname
        for _ in range(MAX_CNAME_CHAIN):
            target = (o.records.get(name) or {}).get("CNAME")
            if not target:
                break
            reply.add_answer(RR(owner, QTYPE.CNAME, ttl=o.ttl, rdata=_rdata("CNAME", target[0])))
            owner = DNSLabel(target[0] if target[0].endswith(".") else target[0] + ".")
            name = _norm(target[0])
            values = list((o.records.get(name) or {}).get(qtype, ()))
            if values:
                return owner, values
        return owner, []


def _rdata(qtype, v):
    if qtype == "MX":
        pref, host = v
        return MX(DNSLabel(host if host.endswith(".") else host + "."), int(pref))
    if qtype == "A":
        return A(v)
    if qtype == "AAAA":
        return AAAA(v)
    if qtype in ("TXT", "SPF"):
        if isinstance(v, (list, tuple)):
            return TXT([s.encode() if isinstance(s, str) else s for s in v])
        return TXT(v.encode() if isinstance(v, str) else v)
    if qtype == "PTR":
        return PTR(DNSLabel(v if v.endswith(".") else v + "."))
    if qtype == "CNAME":
        return CNAME(DNSLabel(v if v.endswith(".") else v + "."))
    if qtype == "SRV":
        prio, weight, port, target = v
        return SRV(int(prio), int(weight), int(port), DNSLabel(target if target.endswith(".") else target + "."))
    if qtype == "TLSA":
        usage, selector, mtype, data = v
        return TLSA(usage, selector, mtype, bytes.fromhex(data))
    raise ValueError(f"unsupported type {qtype}")


class _Handler(DNSHandler):
    """Answers over UDP that do not fit 512 bytes go out truncated (TC set,
    the question kept, no records), as from a server without EDNS, so the
    client asks again over TCP."""

    def get_reply(self, data):
        request = DNSRecord.parse(data)
        reply = self.server.resolver.resolve(request, self)
        if reply is None:
            raise DNSError("dropped: the name times out")
        rdata = reply.pack()
        if self.protocol == "udp" and len(rdata) > 512:
            short = request.reply()
            short.header.aa = 1
            short.header.ra = 1
            short.header.tc = 1
            rdata = short.pack()
        return rdata


class TestDNS:
    __test__ = False            # not a pytest test class
    handler_class = _Handler    # dnssec_sign.SignedDNS answers with its own

    def __init__(self, address="127.0.0.1", port=None, ttl=0):
        self.address = address
        self.port = port or _free_udp_tcp_port()
        self.ttl = ttl
        self.lock = threading.Lock()
        self.records = {}       # name -> {rtype: [values]}
        self.servfails = set()
        self.timeouts = set()
        self.queries = []       # (name, rtype, "udp"/"tcp", monotonic time) in arrival order
        self._servers = []

    # ---- records
    def set(self, name, rtype, values):
        """Replace all records of one type at name.  MX values are
        (preference, host) pairs; A/AAAA are address strings; TXT strings
        (or lists of strings for several character-strings in one record);
        TLSA (usage, selector, matching type, hex data); SRV (priority,
        weight, port, target); PTR and CNAME host
        names; SPF (type 99) as TXT.
        An empty list removes that type.  Also ends a servfail on name."""
        rtype = rtype.upper()
        assert rtype in SUPPORTED, rtype
        if rtype == "MX":
            values = [(int(p), str(h)) for p, h in values]
        name = _norm(name)
        with self.lock:
            self.servfails.discard(name)
            self.records.setdefault(name, {})[rtype] = list(values)
        return self

    def servfail(self, name):
        """Every query for name is answered SERVFAIL."""
        with self.lock:
            self.servfails.add(_norm(name))
        return self

    def timeout(self, name):
        """Questions for name about types it has no records of get no
        answer at all (the client's look-up times out)."""
        with self.lock:
            self.timeouts.add(_norm(name))
        return self

    def reset(self):
        """Forget every record, SERVFAIL and timeout (a new zone)."""
        with self.lock:
            self.records.clear()
            self.servfails.clear()
            self.timeouts.clear()
        return self

    def clear(self, name):
        """Forget name entirely (NXDOMAIN from now on)."""
        name = _norm(name)
        with self.lock:
            self.servfails.discard(name)
            self.records.pop(name, None)
        return self

    def mx(self, domain, *pairs):
        return self.set(domain, "MX", pairs)

    def a(self, name, *addrs):
        return self.set(name, "A", addrs)

    def queried(self, name, rtype=None):
        name = _norm(name)
        with self.lock:
            return [q for q in self.queries if q[0] == name and (rtype is None or q[1] == rtype)]

    def soa_rr(self):
        return RR("test.", QTYPE.SOA, ttl=0,
                  rdata=SOA("ns.test.", "hostmaster.test.", (1, 60, 60, 600, 0)))

    # ---- server control
    @property
    def resolver_spec(self):
        """The value for yubin's dns.resolver."""
        return f"{self.address}@{self.port}"

    def start(self):
        logger = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False,
                           logf=lambda *a: None)
        resolver = _Resolver(self)
        for tcp in (False, True):
            s = DNSServer(resolver, address=self.address, port=self.port, tcp=tcp, logger=logger,
                          handler=self.handler_class)
            s.thread = threading.Thread(target=s.server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
            s.thread.start()
            self._servers.append(s)
        return self

    def stop(self):
        for s in self._servers:
            try:
                s.server.shutdown()
                s.server.server_close()
            except Exception:
                pass
        for s in self._servers:
            if s.thread is not None:
                s.thread.join(5)
        self._servers = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *a):
        self.stop()


if __name__ == "__main__":          # manual check: python3 dnsserver.py, then dig
    import time
    d = TestDNS(port=5353).start()
    d.set("remote.test", "MX", [(10, "mx1.remote.test")]).set("mx1.remote.test", "A", ["127.0.0.2"])
    d.set("nullmx.test", "MX", [(0, ".")]).servfail("broken.test")
    print("listening on", d.resolver_spec)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        d.stop()
