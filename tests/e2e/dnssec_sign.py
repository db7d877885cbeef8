"""A DNSSEC-signing TestDNS for the DANE tests (issue 14).

SignedDNS is the tests' DNS server (dnsserver.TestDNS: records set while a
test runs) with zones signed on the fly by dnspython when the question
asks for DNSSEC records (the DO bit): one ECDSA P-256 key per zone (flags
257, signing everything), its DNSKEY answered at the apex, an RRSIG after
every RRset of an answer, and negative answers as "black lies" (NOERROR,
the zone's SOA and an NSEC at the name that lists only the types it has),
which a validator accepts as an authenticated denial.  Names outside every
signed zone are answered as before: insecure for a validator that holds
only the signed zones' anchors.

    dns = SignedDNS().start()
    anchor = dns.sign_zone("dane.test")    # the zone's DS record, as text
    path.write_text(anchor + "\\n")         # -> yubin's dns.trust_anchor
    dns.bogus("_25._tcp.mx.dane.test")     # its signatures no longer verify
    dns.delegate_unsigned("u.dane.test")   # an unsigned child zone (insecure)

A negative answer for a name of a signed zone is NODATA, never NXDOMAIN
(black lies), so "domain does not exist" tests belong in an unsigned zone.
"""

import time

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
from cryptography.hazmat.primitives.asymmetric import ec

import dnsserver


class _Zone:
    def __init__(self, name):
        self.name = dns.name.from_text(name)
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.dnskey = dns.dnssec.make_dnskey(self.key.public_key(),
                                             dns.dnssec.Algorithm.ECDSAP256SHA256, flags=257)

    def ds_text(self):
        ds = dns.dnssec.make_ds(self.name, self.dnskey, "SHA256")
        return f"{self.name.to_text()} IN DS {ds.to_text()}"

    def sig(self, rrset, bogus):
        now = int(time.time())
        s = dns.dnssec.sign(rrset, self.key, self.name, self.dnskey,
                            inception=now - 3600, expiration=now + 86400)
        if rrset.name in bogus:
            b = bytearray(s.signature)
            b[5] ^= 0xFF
            s = s.replace(signature=bytes(b))
        return dns.rrset.from_rdata(rrset.name, rrset.ttl, s)


class _SigningHandler(dnsserver._Handler):
    def get_reply(self, data):
        owner = self.server.resolver.owner
        q = dns.message.from_wire(bytes(data))
        qn, qt = q.question[0].name, q.question[0].rdtype
        zone = owner.zone_of(qn, qt)
        if zone is None or not (q.ednsflags & dns.flags.DO):
            return super().get_reply(data)
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA | dns.flags.RA
        if qt == dns.rdatatype.DNSKEY and qn == zone.name:
            rs = dns.rrset.from_rdata(zone.name, 0, zone.dnskey)
            r.answer += [rs, zone.sig(rs, owner.bogus_names)]
            return r.to_wire()
        raw = self.server.resolver.resolve(dnsserver.DNSRecord.parse(data), self)
        if raw is None:
            raise dnsserver.DNSError("dropped: the name times out")
        m = dns.message.from_wire(bytes(raw.pack()))
        if m.rcode() == dns.rcode.SERVFAIL:
            r.set_rcode(dns.rcode.SERVFAIL)
            return r.to_wire()
        # each RRset signed by the zone it is in (a CNAME chain may leave
        # the signed zone: the rest goes unsigned, insecure)
        end = qn
        for rs in m.answer:
            z = owner.zone_of(rs.name, rs.rdtype)
            r.answer += [rs, z.sig(rs, owner.bogus_names)] if z else [rs]
            if rs.rdtype == dns.rdatatype.CNAME and qt != dns.rdatatype.CNAME:
                end = rs[0].target
        last = owner.zone_of(end, qt)
        if last is not None and not any(rs.name == end and rs.rdtype == qt for rs in m.answer):
            # NODATA or NXDOMAIN, at the name or at the end of its CNAME
            # chain: a black lie there
            neg = owner.neg_ttl
            soa = dns.rrset.from_text(last.name, neg, "IN", "SOA",
                                      f"ns.{last.name} hostmaster.{last.name} 1 3600 600 86400 {neg}")
            types = " ".join(sorted(owner.types_at(end)) + ["RRSIG", "NSEC"])
            nxt = dns.name.Name((b"\x00",) + end.labels).to_text()
            nsec = dns.rrset.from_text(end, neg, "IN", "NSEC", f"{nxt} {types}")
            r.authority += [soa, last.sig(soa, owner.bogus_names), nsec, last.sig(nsec, owner.bogus_names)]
        wire = r.to_wire()
        if self.protocol == "udp" and len(wire) > 1232:
            r.answer, r.authority = [], []
            r.flags |= dns.flags.TC
            wire = r.to_wire()
        return wire


class SignedDNS(dnsserver.TestDNS):
    handler_class = _SigningHandler
    neg_ttl = 0     # TTL of a denial (SOA, NSEC): uncached for the tests; a benchmark raises it

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.zones = []
        self.bogus_names = set()
        self.unsigned_cuts = set()

    def sign_zone(self, zone):
        """Sign zone from now on; its DS record as text (a trust anchor)."""
        z = _Zone(zone)
        with self.lock:
            self.zones.append(z)
        return z.ds_text()

    def bogus(self, name):
        """Answers about name get signatures that do not verify."""
        with self.lock:
            self.bogus_names.add(dns.name.from_text(name))
        return self

    def delegate_unsigned(self, name):
        """name becomes an unsigned child zone of the signed zone above it:
        the parent proves that it has no DS record (an NSEC at the cut with
        NS and without DS), and everything at and below the cut is answered
        unsigned, so a validator finds it insecure."""
        with self.lock:
            self.unsigned_cuts.add(dns.name.from_text(name))
        return self

    def zone_of(self, qname, qtype=None):
        """The signed zone qname is in, or None (the DS question at an
        unsigned cut is the parent's)."""
        with self.lock:
            if any(qname.is_subdomain(c) and not (qname == c and qtype == dns.rdatatype.DS)
                   for c in self.unsigned_cuts):
                return None
            found = [z for z in self.zones if qname.is_subdomain(z.name)]
        return max(found, key=lambda z: len(z.name), default=None)

    def types_at(self, qname):
        with self.lock:
            recs = self.records.get(dnsserver._norm(qname.to_text())) or {}
            cut = ["NS"] if qname in self.unsigned_cuts else []
            return [t for t, v in recs.items() if v and t != "SPF"] + cut
