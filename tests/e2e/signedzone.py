"""A DNSSEC-signed test zone made by Debian's DNS tools and served by NSD.

dnssec_sign.py signs answers on the fly inside our own test DNS server; this
module is the independent path, with nothing of ours between the zone file
and the validator: the zone file is written out, ldns-keygen makes an
ECDSAP256SHA256 key-signing key and zone-signing key, ldns-signzone signs
the zone with NSEC3 (so that a name or type that does not exist is proven
absent), and NSD (authoritative only, no chroot, no user switch, its
pidfile, zone list and log in the zone's directory) serves it on a free
loopback port, stopped by its PID.  The KSK's DS record from ldns-key2ds is
the trust anchor file for yubin's dns.trust_anchor.

    z = SignedZone(directory, "dnssec.test", ["mx IN A 127.0.0.2", ...],
                   children={"plain.dnssec.test": [...]},     # unsigned, no DS
                   bogus=[("_25._tcp.mx", "TLSA")]).start()
    outbound_config(z, port, trust_anchor=z.anchor)          # z.resolver_spec
    z.chase("mx.dnssec.test", "A")   # drill's verdict: an independent validator
    z.stop()

Records are zone-file lines relative to their zone's origin.  A child zone
is delegated from the signed zone by an NS record (with glue) and no DS, so
the parent's NSEC3 proves it unsigned: an insecure delegation, as a signed
registry with an unsigned customer.  A bogus (owner, type) has its data
changed in the signed file after signing (its last hex digit), so its
signature no longer verifies, as an attacker's forged answer would not.
Signatures are valid from 2020 to 2037, so that clock skew does not matter.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from conftest import free_port, wait_until

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
TOOL_TIMEOUT = 30
INCEPTION, EXPIRATION = "20200101000000", "20370101000000"
TOOLS = ("ldns-keygen", "ldns-signzone", "ldns-key2ds", "drill", "nsd", "nsd-checkconf")


def _tool(name):
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if path is None:
        raise RuntimeError(f"{name} is missing: scripts/install-deps installs Debian's ldnsutils and nsd")
    return path


def _run(*args, cwd):
    p = subprocess.run([_tool(args[0])] + list(args[1:]), cwd=cwd, capture_output=True, text=True,
                       timeout=TOOL_TIMEOUT)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")
    return p.stdout


def _free_udp_tcp_port():
    """A port of this test process's block (conftest.free_port) that UDP
    can bind on 127.0.0.1 as well."""
    for _ in range(50):
        port = free_port()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
    raise RuntimeError("no port free for both UDP and TCP")


def _zone_text(origin, records):
    soa = f"@ IN SOA ns.{origin}. hostmaster.{origin}. 1 3600 600 86400 60"
    return "\n".join([f"$ORIGIN {origin}.", "$TTL 60", soa, f"@ IN NS ns.{origin}.",
                      "ns IN A 127.0.0.1"] + list(records)) + "\n"


def _break(signed_text, origin, owner, rtype):
    """signed_text with the data of owner's rtype record changed (its last
    hex digit), leaving its RRSIG as it was; exactly one record."""
    fqdn = re.escape(f"{owner}.{origin}." if owner != "@" else f"{origin}.")
    rx = re.compile(rf"^({fqdn}\s+\d+\s+IN\s+{rtype}\s+.*)([0-9a-fA-F])\s*$", re.M)
    found = rx.findall(signed_text)
    assert len(found) == 1, f"{owner} {rtype}: {len(found)} records in the signed zone"
    return rx.sub(lambda m: m.group(1) + ("1" if m.group(2) == "0" else "0"), signed_text)


class SignedZone:
    __test__ = False

    def __init__(self, directory, origin, records, children=None, bogus=()):
        self.dir = str(directory)
        self.origin = origin.rstrip(".")
        self.records = list(records)
        self.children = dict(children or {})
        self.bogus = list(bogus)
        self.port = None
        self.anchor = os.path.join(self.dir, "ta.ds")   # for dns.trust_anchor
        self.ksk_file = None                            # the KSK's DNSKEY, for drill -k
        self.proc = None

    @property
    def resolver_spec(self):
        """The value for yubin's dns.resolver."""
        return f"127.0.0.1@{self.port}"

    def path(self, name):
        return os.path.join(self.dir, name)

    # ---- making the zones
    def _sign(self):
        origin = self.origin
        parent = list(self.records)
        for child in self.children:
            label = child.rstrip(".")[:-len(origin) - 1]
            assert child.rstrip(".").endswith("." + origin), child
            parent += [f"{label} IN NS ns.{label}", f"ns.{label} IN A 127.0.0.1"]   # no DS
        with open(self.path(f"{origin}.zone"), "w") as f:
            f.write(_zone_text(origin, parent))
        ksk = _run("ldns-keygen", "-a", "ECDSAP256SHA256", "-k", origin, cwd=self.dir).strip()
        zsk = _run("ldns-keygen", "-a", "ECDSAP256SHA256", origin, cwd=self.dir).strip()
        # NSEC3 without extra iterations or salt (RFC 9276)
        _run("ldns-signzone", "-n", "-t", "0", "-i", INCEPTION, "-e", EXPIRATION,
             "-f", f"{origin}.zone.signed", f"{origin}.zone", zsk, ksk, cwd=self.dir)
        signed = self.path(f"{origin}.zone.signed")
        text = open(signed).read()
        for owner, rtype in self.bogus:
            text = _break(text, origin, owner, rtype)
        with open(signed, "w") as f:
            f.write(text)
        ds = _run("ldns-key2ds", "-n", "-2", f"{ksk}.key", cwd=self.dir)
        assert " DS " in ds.replace("\t", " "), ds
        with open(self.anchor, "w") as f:
            f.write(ds)
        os.chmod(self.anchor, 0o644)    # yubin reads it after dropping privileges
        self.ksk_file = self.path(f"{ksk}.key")
        for child, records in self.children.items():
            with open(self.path(f"{child}.zone"), "w") as f:
                f.write(_zone_text(child.rstrip("."), records))

    def _nsd_conf(self):
        zones = [(self.origin, f"{self.origin}.zone.signed")]
        zones += [(c.rstrip("."), f"{c.rstrip('.')}.zone") for c in self.children]
        conf = ["server:", f"  ip-address: 127.0.0.1@{self.port}", f"  port: {self.port}",
                '  username: ""', '  chroot: ""', '  database: ""', f'  zonesdir: "{self.dir}"',
                f'  pidfile: "{self.path("nsd.pid")}"', f'  xfrdfile: "{self.path("xfrd.state")}"',
                f'  zonelistfile: "{self.path("zone.list")}"', f'  logfile: "{self.path("nsd.log")}"',
                "  server-count: 1", "  verbosity: 1", "remote-control:", "  control-enable: no"]
        for name, file in zones:
            conf += ["zone:", f"  name: {name}", f"  zonefile: {file}"]
        path = self.path("nsd.conf")
        with open(path, "w") as f:
            f.write("\n".join(conf) + "\n")
        _run("nsd-checkconf", path, cwd=self.dir)
        return path

    # ---- the server
    def _answers(self):
        q = dns.message.make_query(self.origin + ".", "SOA")
        try:
            r = dns.query.udp(q, "127.0.0.1", port=self.port, timeout=0.5)
        except Exception:
            return False
        return r.rcode() == dns.rcode.NOERROR and bool(r.answer)

    def start(self):
        self._sign()
        self.port = _free_udp_tcp_port()
        conf = self._nsd_conf()
        log = open(self.path("nsd.out"), "w")
        self.proc = subprocess.Popen([_tool("nsd"), "-d", "-c", conf], stdout=log, stderr=subprocess.STDOUT,
                                     cwd=self.dir)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nsd did not serve {self.origin} on port {self.port}: "
                                   f"{self.log_text()}")
            time.sleep(0.05)
        wait_until(lambda: os.path.exists(self.path("nsd.pid")), START_TIMEOUT, what="nsd's pidfile")
        pid = int(open(self.path("nsd.pid")).read().split()[0])
        assert pid == self.proc.pid, (pid, self.proc.pid)
        return self

    def stop(self):
        """SIGTERM to nsd by its PID (its server and xfrd processes leave
        with it), SIGKILL if it has not gone in time."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(STOP_TIMEOUT)
        self.proc = None

    def log_text(self):
        out = []
        for name in ("nsd.out", "nsd.log"):
            try:
                out.append(open(self.path(name)).read())
            except OSError:
                pass
        return "\n".join(out)

    # ---- an independent validator
    def drill(self, name, rtype, chase=True):
        """drill's output for name/rtype from this NSD: with chase, the
        signatures followed to the KSK (-S -k); without, the answer as
        served with the DO bit (-D)."""
        args = ["drill", "-S", "-k", self.ksk_file] if chase else ["drill", "-D"]
        p = subprocess.run([_tool(args[0])] + args[1:] + ["-p", str(self.port), "@127.0.0.1", name, rtype],
                           capture_output=True, text=True, timeout=TOOL_TIMEOUT)
        return p.returncode, p.stdout + p.stderr

    def chase(self, name, rtype):
        """drill's verdict: "secure" (the data chains to the KSK), "denied"
        (an authenticated denial: NSEC3 proves no such data), "bogus" (a
        signature does not verify) or "failed" (no chain: unsigned)."""
        rc, out = self.drill(name, rtype)
        if "Bogus DNSSEC signature" in out:
            assert rc != 0 and "Chase failed" in out, out
            return "bogus"
        if rc == 0 and ";; Chase successful" in out:
            return "denied" if "Existence is denied by" in out else "secure"
        return "failed"

    def signed_answer(self, name, rtype):
        """Whether NSD's answer (DO set) carries signatures."""
        q = dns.message.make_query(name, rtype, want_dnssec=True)
        r = dns.query.udp(q, "127.0.0.1", port=self.port, timeout=2)
        assert r.flags & dns.flags.AA, r
        return any(rs.rdtype == dns.rdatatype.RRSIG for rs in r.answer + r.authority)
