"""`yubin doctor`, end to end.

A real `yubin serve` listening on 127.0.0.1 whose "public" address is 127.0.0.25
(doctor.addresses), the project's test DNS server (dnsserver.py) serving a
zone that is right in every point, and a fake "Internet" mail server on
127.0.0.9 (the MX of the probe domain) for the outbound port-25 probe.
Each test breaks one thing (or builds the config a broken set-up would
have) and checks the finding a user sees: its status, its words and the
fix; then the good zone is put back.  Also: the --json shape and the exit
status.  Nothing leaves the machine.
"""

import contextlib
import json
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

from conftest import DOMAIN, HOSTNAME, Server, free_port, make_tempdir, run_yubin
from dnsserver import TestDNS

FAKE_MX = "127.0.0.9"
PUBLIC = "127.0.0.25"       # the server's "public" address (doctor.addresses)


class FakeSMTP:
    """A tiny SMTP server on (host, port): greets with 220 and answers every
    command with 250 (so, as port 25, it is an open relay), QUIT with 221."""

    def __init__(self, host, port, greeting=b"220 fake.internet.test ESMTP\r\n",
                 ehlo=b"250-fake.internet.test\r\n250 8BITMIME\r\n"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.greeting = greeting
        self.ehlo = ehlo
        self.connections = 0
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._session, args=(c,), daemon=True).start()

    def _session(self, c):
        c.settimeout(10)
        try:
            if self.greeting == b"trickle":        # a greeting that never ends
                for _ in range(200):
                    c.sendall(b"220-still greeting\r\n")
                    time.sleep(0.5)
            c.sendall(self.greeting)
            f = c.makefile("rb")
            for line in f:
                if line.upper().startswith(b"EHLO"):
                    c.sendall(self.ehlo)
                elif line.upper().startswith(b"QUIT"):
                    c.sendall(b"221 bye\r\n")
                    break
                else:
                    c.sendall(b"250 ok\r\n")
        except OSError:
            pass
        finally:
            c.close()

    def stop(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)   # wakes the accept() so the port is free
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)


def make_cert(d, name, days, sans):
    cert, key = d / f"{name}.pem", d / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", str(days), "-subj", f"/CN={HOSTNAME}",
         "-addext", "subjectAltName=" + ",".join(sans)],
        check=True, capture_output=True, timeout=30)
    cert.chmod(0o644)
    return {"cert": str(cert), "key": str(key)}


GOOD_SANS = [f"DNS:{HOSTNAME}", f"DNS:autoconfig.{DOMAIN}", f"DNS:autodiscover.{DOMAIN}", "DNS:localhost",
             "IP:127.0.0.1"]


@pytest.fixture(scope="module")
def world():
    certdir = make_tempdir("yubin-doctor-cert-")
    good = make_cert(certdir, "good", 400, GOOD_SANS)
    dns = TestDNS().start()
    probe_port = free_port()
    internet = FakeSMTP(FAKE_MX, probe_port)
    extra = (f'dns: {{ resolver = "{dns.resolver_spec}"; timeout = 2; }};\n'
             f'delivery: {{ port = {probe_port}; }};\n'
             f'doctor: {{ addresses = [ "127.0.0.25" ]; probe_domain = "internet.test"; timeout = 3; }};\n'
             'policy: { greet_pause = 0; dnsbl = ( { name = "zen"; zone = "zen.test"; type = "ip"; '
             'codes = [ "127.0.0.2-127.0.0.11" ]; weight = 1.0; } ); };')
    srv = Server(good, extra=extra)
    try:
        srv.start()
        p = srv.cli("dkim", "keygen", DOMAIN, "--selector", "doc1", "--algorithm", "ed25519")
        assert p.returncode == 0, p.stdout + p.stderr
        w = World(srv, dns, internet, certdir, probe_port)
        w.good_zone()
        yield w
        srv.stop()
        srv.assert_clean()
    finally:
        srv.cleanup()
        dns.stop()
        internet.stop()
        shutil.rmtree(certdir, ignore_errors=True)


class World:
    def __init__(self, srv, dns, internet, certdir, probe_port):
        self.srv, self.dns, self.internet = srv, dns, internet
        self.certdir, self.probe_port = certdir, probe_port
        self.dkim_name, self.dkim_value = self._dkim_record()

    def _dkim_record(self):
        p = self.srv.cli("dns", "records", DOMAIN)
        assert p.returncode == 0, p.stdout + p.stderr
        for line in p.stdout.splitlines():
            if "._domainkey." in line and not line.startswith(";"):
                name = line.split()[0].rstrip(".")
                value = "".join(re.findall(r'"([^"]*)"', line))
                return name, value
        raise AssertionError("no DKIM record in `yubin dns records`:\n" + p.stdout)

    def good_zone(self):
        d = self.dns
        d.reset()
        d.set(DOMAIN, "MX", [(10, HOSTNAME)])
        d.set(DOMAIN, "TXT", ["v=spf1 mx -all", "google-site-verification=abc"])
        d.set(HOSTNAME, "A", [PUBLIC])
        d.set("25.0.0.127.in-addr.arpa", "PTR", [HOSTNAME])
        d.set(self.dkim_name, "TXT", [self.dkim_value])
        d.set(f"_dmarc.{DOMAIN}", "TXT", [f"v=DMARC1; p=reject; rua=mailto:postmaster@{DOMAIN}"])
        d.set(f"autoconfig.{DOMAIN}", "CNAME", [HOSTNAME])
        d.set(f"autodiscover.{DOMAIN}", "CNAME", [HOSTNAME])
        ports = self.srv.ports
        d.set(f"_submissions._tcp.{DOMAIN}", "SRV", [(0, 1, ports["submissions"], HOSTNAME)])
        d.set(f"_submission._tcp.{DOMAIN}", "SRV", [(10, 1, ports["submission"], HOSTNAME)])
        d.set(f"_imaps._tcp.{DOMAIN}", "SRV", [(0, 1, ports["imaps"], HOSTNAME)])
        d.set(f"_imap._tcp.{DOMAIN}", "SRV", [(10, 1, ports["imap"], HOSTNAME)])
        d.set(f"_pop3s._tcp.{DOMAIN}", "SRV", [(0, 1, ports["pop3s"], HOSTNAME)])
        d.set(f"_pop3._tcp.{DOMAIN}", "SRV", [(10, 1, ports["pop3"], HOSTNAME)])
        d.set("internet.test", "MX", [(10, "mx.internet.test")])
        d.set("mx.internet.test", "A", [FAKE_MX])
        d.set("2.0.0.127.zen.test", "A", ["127.0.0.2"])      # RFC 5782 5 test entry

    def run(self, *args, config=None):
        cfg = config or str(self.srv.config_path)
        return run_yubin(["--config", cfg, "doctor", *args], timeout=120)

    def report(self, config=None):
        p = self.run("--json", config=config)
        assert p.returncode in (0, 1) and p.stdout.startswith("{"), (p.returncode, p.stdout, p.stderr)
        return p, json.loads(p.stdout)

    def alt_config(self, name, replace):
        """A copy of the server's config with text replaced (the server
        keeps running with the real one)."""
        text = self.srv.config_path.read_text()
        for old, new in replace:
            assert old in text, old
            text = text.replace(old, new)
        path = self.srv.base / f"{name}.conf"
        path.write_text(text)
        path.chmod(0o644)
        return str(path)


def find(report, check, subject=None):
    """The results of check (whose subject contains subject)."""
    out = [r for r in report["results"] if r["check"] == check and (subject is None or subject in r["subject"])]
    assert out, f"no {check} {subject} result in {json.dumps(report, indent=1)}"
    return out


def one(report, check, subject=None):
    rs = find(report, check, subject)
    assert len(rs) == 1, rs
    return rs[0]


@pytest.fixture
def w(world):
    world.good_zone()
    yield world
    world.good_zone()


# ---- the whole report

def test_good_zone_all_ok_exit_0(w):
    p, rep = w.report()
    bad = [r for r in rep["results"] if r["status"] in ("fail", "warn")]
    # the self-signed certificate is the one thing a loopback test cannot fix
    assert [r["check"] for r in bad] == ["cert-chain"], json.dumps(bad, indent=1)
    assert p.returncode == 0
    assert rep["healthy"] is True
    assert rep["hostname"] == HOSTNAME and rep["domains"] == [DOMAIN] and rep["addresses"] == [PUBLIC]
    assert rep["summary"]["fail"] == 0 and rep["summary"]["ok"] >= 25
    checks = {r["check"] for r in rep["results"]}
    assert checks >= {"mx", "spf", "dkim", "dmarc", "autoconfig", "srv", "hostname", "ptr", "cert", "cert-expiry",
                      "cert-key", "cert-chain", "listener", "relay", "outbound", "dnsbl"}
    for r in rep["results"]:
        assert set(r) <= {"check", "subject", "status", "detail", "fix"}
        assert r["status"] in ("ok", "warn", "fail", "skip")
        assert isinstance(r["detail"], str) and r["detail"]
        assert (r["status"] in ("ok", "skip")) == ("fix" not in r), r


def test_text_report_and_exit_1_on_failure(w):
    w.dns.set(DOMAIN, "MX", [(0, ".")])
    p = w.run()
    assert p.returncode == 1, p.stdout + p.stderr
    assert f"[FAIL] mx {DOMAIN}: null MX" in p.stdout
    assert f'       fix: publish "{DOMAIN}. IN MX 10 {HOSTNAME}."' in p.stdout
    assert re.search(r"^\d+ ok, \d+ warnings, [1-9]\d* failed, \d+ skipped$", p.stdout, re.M), p.stdout
    assert "[ OK ] listener smtp 127.0.0.1:" in p.stdout


def test_usage_and_unknown_domain(w):
    p = w.run("--bogus")
    assert p.returncode == 2 and "usage: yubin doctor" in p.stderr
    p = w.run("--domain", "not-ours.test")
    assert p.returncode == 1 and "not a local domain" in p.stderr


# ---- MX

def test_mx_ok(w):
    _, rep = w.report()
    r = one(rep, "mx", DOMAIN)
    assert r["status"] == "ok" and r["detail"] == f"MX 10 {HOSTNAME} points at this server"


def test_mx_elsewhere_fails(w):
    w.dns.set(DOMAIN, "MX", [(10, "mx.other.test")])
    w.dns.set("mx.other.test", "A", ["192.0.2.7"])
    p, rep = w.report()
    r = one(rep, "mx", DOMAIN)
    assert r["status"] == "fail" and "none of the 1 MX hosts (first: mx.other.test)" in r["detail"]
    assert r["fix"].startswith(f'publish "{DOMAIN}. IN MX 10 {HOSTNAME}."')
    assert p.returncode == 1 and rep["healthy"] is False


def test_mx_hosts_followed_are_bounded(w):
    """Each MX host costs two look-ups: only the first 10 are followed."""
    hosts = [(10 + i, f"mx{i}.other.test") for i in range(11)]
    w.dns.set(DOMAIN, "MX", hosts[:10] + [(99, HOSTNAME)])
    r = one(w.report()[1], "mx", DOMAIN)
    assert r["status"] == "fail" and r["detail"].endswith("; only the 10 most preferred were looked up")
    assert "none of the 11 MX hosts (first: mx0.other.test)" in r["detail"]
    w.dns.set(DOMAIN, "MX", hosts[:9] + [(99, HOSTNAME)])
    r = one(w.report()[1], "mx", DOMAIN)
    assert r["status"] == "warn" and "backup MX" in r["detail"]


def test_mx_backup_only_warns(w):
    w.dns.set(DOMAIN, "MX", [(5, "mx.other.test"), (20, HOSTNAME)])
    w.dns.set("mx.other.test", "A", ["192.0.2.7"])
    r = one(w.report()[1], "mx", DOMAIN)
    assert r["status"] == "warn" and "backup MX" in r["detail"]


def test_mx_missing_and_null(w):
    w.dns.set(DOMAIN, "MX", [])
    r = one(w.report()[1], "mx", DOMAIN)
    assert r["status"] == "fail" and r["detail"].startswith("no MX record")
    w.dns.set(DOMAIN, "MX", [(0, ".")])
    r = one(w.report()[1], "mx", DOMAIN)
    assert r["status"] == "fail" and "null MX" in r["detail"]


# ---- host name, PTR

def test_hostname_and_ptr_ok(w):
    _, rep = w.report()
    assert one(rep, "hostname", PUBLIC)["status"] == "ok"
    r = one(rep, "ptr", PUBLIC)
    assert r["status"] == "ok" and r["detail"] == f"PTR {HOSTNAME}, which resolves back to {PUBLIC}"


def test_hostname_without_address_fails(w):
    w.dns.set(HOSTNAME, "A", ["192.0.2.9"])
    r = one(w.report()[1], "hostname", PUBLIC)
    assert r["status"] == "fail" and r["fix"] == f'publish "{HOSTNAME}. IN A {PUBLIC}"'


def test_ptr_missing_fails(w):
    w.dns.clear("25.0.0.127.in-addr.arpa")
    r = one(w.report()[1], "ptr", PUBLIC)
    assert r["status"] == "fail" and r["detail"].startswith("no PTR record at 25.0.0.127.in-addr.arpa")
    assert "set its reverse DNS (PTR) to " + HOSTNAME in r["fix"]


def test_ptr_not_forward_confirmed_fails(w):
    w.dns.set("25.0.0.127.in-addr.arpa", "PTR", ["liar.test"])
    w.dns.set("liar.test", "A", ["192.0.2.1"])
    r = one(w.report()[1], "ptr", PUBLIC)
    assert r["status"] == "fail" and f"PTR liar.test does not resolve back to {PUBLIC}" in r["detail"]


def test_ptr_other_name_warns(w):
    w.dns.set("25.0.0.127.in-addr.arpa", "PTR", ["host-1.provider.test"])
    w.dns.set("host-1.provider.test", "A", [PUBLIC])
    r = one(w.report()[1], "ptr", PUBLIC)
    assert r["status"] == "warn" and "is not the host name" in r["detail"]


def test_ipv6_address_checked_with_nibble_ptr(w):
    cfg = w.alt_config("v6", [('addresses = [ "127.0.0.25" ]', 'addresses = [ "127.0.0.25", "2001:db8::25" ]')])
    w.dns.set(HOSTNAME, "AAAA", ["2001:db8::25"])
    rev = "5.2.0.0." + "0." * 20 + "8.b.d.0.1.0.0.2.ip6.arpa"
    w.dns.set(rev, "PTR", [HOSTNAME])
    _, rep = w.report(config=cfg)
    assert one(rep, "hostname", "2001:db8::25")["status"] == "ok"
    assert one(rep, "ptr", "2001:db8::25")["status"] == "ok"
    # the SPF "mx" covers the MX host's AAAA too
    assert one(rep, "spf", "2001:db8::25")["status"] == "ok"
    w.dns.clear(rev)
    _, rep = w.report(config=cfg)
    assert one(rep, "ptr", "2001:db8::25")["status"] == "fail"


# ---- SPF

def test_spf_ok(w):
    r = one(w.report()[1], "spf", PUBLIC)
    assert r["status"] == "ok" and r["detail"] == 'pass (matched "mx")'


def test_spf_not_covering_fails_with_record(w):
    w.dns.set(DOMAIN, "TXT", ["v=spf1 ip4:192.0.2.0/24 ~all"])
    r = one(w.report()[1], "spf", PUBLIC)
    assert r["status"] == "fail"
    assert r["detail"].startswith(f'softfail: {PUBLIC} is not covered by "v=spf1 ip4:192.0.2.0/24 ~all"')
    assert r["fix"] == f'publish "{DOMAIN}. IN TXT \\"v=spf1 ip4:192.0.2.0/24 ip4:{PUBLIC} ~all\\""'


def test_spf_include_and_redirect_evaluated(w):
    w.dns.set(DOMAIN, "TXT", ["v=spf1 include:spf.other.test -all"])
    w.dns.set("spf.other.test", "TXT", ["v=spf1 redirect=_spf.third.test"])
    w.dns.set("_spf.third.test", "TXT", ["v=spf1 ip4:127.0.0.0/24 -all"])
    r = one(w.report()[1], "spf", PUBLIC)
    assert r["status"] == "ok" and "include:spf.other.test" in r["detail"]


def test_spf_missing_and_duplicate(w):
    w.dns.set(DOMAIN, "TXT", ["google-site-verification=abc"])
    r = one(w.report()[1], "spf", DOMAIN)
    assert r["status"] == "fail" and r["detail"].startswith("no SPF record")
    assert r["fix"] == f'publish "{DOMAIN}. IN TXT \\"v=spf1 mx ip4:{PUBLIC} -all\\""'
    w.dns.set(DOMAIN, "TXT", ["v=spf1 mx -all", "v=spf1 a -all"])
    r = one(w.report()[1], "spf", DOMAIN)
    assert r["status"] == "fail" and "2 SPF records" in r["detail"]


def test_spf_ten_lookup_limit(w):
    w.dns.set(DOMAIN, "TXT", ["v=spf1 " + " ".join(f"a:h{i}.test" for i in range(11)) + " mx -all"])
    for i in range(11):
        w.dns.set(f"h{i}.test", "A", ["192.0.2.1"])
    r = one(w.report()[1], "spf", PUBLIC)
    assert r["status"] == "fail" and r["detail"] == "permerror: more than 10 DNS-querying terms"
    assert "at most 10" in r["fix"]


def test_spf_void_lookup_limit(w):
    w.dns.set(DOMAIN, "TXT", ["v=spf1 a:void1.test a:void2.test a:void3.test mx -all"])
    r = one(w.report()[1], "spf", PUBLIC)
    assert r["status"] == "fail" and r["detail"] == "permerror: more than 2 void look-ups"


def test_spf_macros_warn(w):
    w.dns.set(DOMAIN, "TXT", ["v=spf1 exists:%{i}.allow.test -all"])
    r = one(w.report()[1], "spf", PUBLIC)
    assert r["status"] == "warn" and "macros" in r["detail"]


# ---- DKIM

def test_dkim_ok(w):
    r = one(w.report()[1], "dkim", w.dkim_name)
    assert r["status"] == "ok" and r["detail"] == "published and matches the private key (ed25519-sha256, 256 bits)"


def test_dkim_missing_fails_with_record(w):
    w.dns.clear(w.dkim_name)
    r = one(w.report()[1], "dkim", w.dkim_name)
    assert r["status"] == "fail" and "is not published" in r["detail"]
    assert r["fix"].startswith(f"publish {w.dkim_name}. IN TXT ")
    assert w.dkim_value.split("p=")[1][:20] in r["fix"]


def test_dkim_other_key_fails(w):
    other = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
    w.dns.set(w.dkim_name, "TXT", [other])
    r = one(w.report()[1], "dkim", w.dkim_name)
    assert r["status"] == "fail" and r["detail"] == "p= is another key than the private key this server signs with"


def test_dkim_revoked_and_testing(w):
    w.dns.set(w.dkim_name, "TXT", ["v=DKIM1; k=ed25519; p="])
    r = one(w.report()[1], "dkim", w.dkim_name)
    assert r["status"] == "fail" and "revoked" in r["detail"]
    w.dns.set(w.dkim_name, "TXT", [w.dkim_value + "; t=y"])
    r = one(w.report()[1], "dkim", w.dkim_name)
    assert r["status"] == "warn" and "t=y" in r["detail"] and r["fix"] == "remove t=y from the record"


# ---- DMARC

def test_dmarc_ok(w):
    r = one(w.report()[1], "dmarc", DOMAIN)
    assert r["status"] == "ok" and r["detail"] == f"_dmarc.{DOMAIN}: p=reject, reports to mailto:postmaster@{DOMAIN}"


def test_dmarc_missing_fails(w):
    w.dns.clear(f"_dmarc.{DOMAIN}")
    r = one(w.report()[1], "dmarc", DOMAIN)
    assert r["status"] == "fail" and r["detail"].startswith(f"no DMARC record at _dmarc.{DOMAIN}")
    assert r["fix"].startswith(f'publish "_dmarc.{DOMAIN}. IN TXT "v=DMARC1;') or \
        r["fix"].startswith(f'publish "_dmarc.{DOMAIN}. IN TXT')


def test_dmarc_invalid_and_none(w):
    w.dns.set(f"_dmarc.{DOMAIN}", "TXT", ["v=DMARC1; p=bogus"])
    r = one(w.report()[1], "dmarc", DOMAIN)
    assert r["status"] == "fail" and "cannot be used" in r["detail"]
    w.dns.set(f"_dmarc.{DOMAIN}", "TXT", ["v=DMARC1; p=none"])
    r = one(w.report()[1], "dmarc", DOMAIN)
    assert r["status"] == "warn" and "p=none" in r["detail"] and "raise the policy" in r["fix"]


# ---- autoconfig and SRV

def test_autoconfig_ok_and_missing(w):
    rep = w.report()[1]
    assert one(rep, "autoconfig", f"autoconfig.{DOMAIN}")["status"] == "ok"
    assert one(rep, "autoconfig", f"autodiscover.{DOMAIN}")["status"] == "ok"
    w.dns.clear(f"autoconfig.{DOMAIN}")
    r = one(w.report()[1], "autoconfig", f"autoconfig.{DOMAIN}")
    assert r["status"] == "warn" and r["fix"].startswith(f'publish "autoconfig.{DOMAIN}. IN CNAME {HOSTNAME}."')
    w.dns.set(f"autodiscover.{DOMAIN}", "A", ["192.0.2.44"])
    w.dns.set(f"autodiscover.{DOMAIN}", "CNAME", [])
    r = one(w.report()[1], "autoconfig", f"autodiscover.{DOMAIN}")
    assert r["status"] == "fail" and "192.0.2.44" in r["detail"]


def test_srv_ok(w):
    rep = w.report()[1]
    for svc in ("_submissions", "_submission", "_imaps", "_imap", "_pop3s", "_pop3"):
        r = one(rep, "srv", f"{svc}._tcp.{DOMAIN}")
        assert r["status"] == "ok", r


def test_srv_missing_wrong_port_and_dot(w):
    ports = w.srv.ports
    w.dns.clear(f"_imaps._tcp.{DOMAIN}")
    w.dns.set(f"_submission._tcp.{DOMAIN}", "SRV", [(10, 1, 1, HOSTNAME)])
    w.dns.set(f"_pop3._tcp.{DOMAIN}", "SRV", [(0, 0, 0, ".")])
    rep = w.report()[1]
    r = one(rep, "srv", f"_imaps._tcp.{DOMAIN}")
    assert r["status"] == "warn" and r["fix"] == f'publish "_imaps._tcp.{DOMAIN}. IN SRV 0 1 {ports["imaps"]} {HOSTNAME}."'
    r = one(rep, "srv", f"_submission._tcp.{DOMAIN}")
    assert r["status"] == "fail" and f'"10 1 1 {HOSTNAME}" does not lead' in r["detail"]
    r = one(rep, "srv", f"_pop3._tcp.{DOMAIN}")
    assert r["status"] == "fail" and "not offered" in r["detail"]


def test_srv_for_a_service_not_run(w):
    """Without pop3 listeners, a record sending clients here fails; "." is fine."""
    text = w.srv.config_path.read_text()
    lines = [l for l in text.splitlines() if 'role = "pop3' not in l]
    cfg = w.alt_config("nopop", [(text, "\n".join(lines) + "\n")])
    r = one(w.report(config=cfg)[1], "srv", f"_pop3._tcp.{DOMAIN}")
    assert r["status"] == "fail" and "does not offer" in r["detail"] and "SRV 0 0 0 ." in r["fix"]
    w.dns.set(f"_pop3._tcp.{DOMAIN}", "SRV", [(0, 0, 0, ".")])
    w.dns.set(f"_pop3s._tcp.{DOMAIN}", "SRV", [(0, 0, 0, ".")])
    rep = w.report(config=cfg)[1]
    assert one(rep, "srv", f"_pop3._tcp.{DOMAIN}")["status"] == "skip"
    assert one(rep, "srv", f"_pop3s._tcp.{DOMAIN}")["status"] == "skip"


def test_srv_managesieve(w):
    """RFC 5804 1.8: ManageSieve is found by _sieve._tcp, checked like the
    mail services when a managesieve listener is configured: missing (a
    warning with the record to publish), present, and at a wrong port."""
    port = free_port()
    cfg = w.alt_config("sieve", [("listeners = (", f'listeners = (\n  {{ role = "managesieve"; '
                                                    f'address = "127.0.0.1"; port = {port}; }},')])
    name = f"_sieve._tcp.{DOMAIN}"
    r = one(w.report(config=cfg)[1], "srv", name)
    assert r["status"] == "warn" and r["fix"] == f'publish "{name}. IN SRV 0 1 {port} {HOSTNAME}."', r
    assert "ManageSieve" in r["detail"] and "RFC 5804" in r["detail"], r
    w.dns.set(name, "SRV", [(0, 1, port, HOSTNAME)])
    r = one(w.report(config=cfg)[1], "srv", name)
    assert r["status"] == "ok" and r["detail"] == f"points at this server, port {port}", r
    w.dns.set(name, "SRV", [(0, 1, 4190, HOSTNAME)])
    r = one(w.report(config=cfg)[1], "srv", name)
    assert r["status"] == "fail" and f'"0 1 4190 {HOSTNAME}" does not lead' in r["detail"], r
    assert r["fix"] == f'publish "{name}. IN SRV 0 1 {port} {HOSTNAME}."', r
    # without the listener: a record sending clients here is wrong, none is fine
    r = one(w.report()[1], "srv", name)
    assert r["status"] == "fail" and "for ManageSieve, which this server does not offer" in r["detail"], r
    assert "add a managesieve listener" in r["fix"], r
    w.dns.clear(name)
    assert one(w.report()[1], "srv", name)["status"] == "skip"


# ---- certificate

def test_cert_ok(w):
    rep = w.report()[1]
    assert one(rep, "cert", HOSTNAME)["status"] == "ok"
    assert one(rep, "cert", f"autoconfig.{DOMAIN}")["status"] == "ok"
    r = one(rep, "cert-expiry", HOSTNAME)
    assert r["status"] == "ok" and re.fullmatch(r"valid for 39\d more days", r["detail"])
    assert one(rep, "cert-key", HOSTNAME)["status"] == "ok"
    r = one(rep, "cert-chain", HOSTNAME)
    assert r["status"] == "warn" and "self-signed" in r["detail"]


def test_cert_wrong_name_and_expiring(w):
    bad = make_cert(w.certdir, "soon", 5, ["DNS:localhost"])
    cfg = w.alt_config("cert", [(w.srv.cert["cert"], bad["cert"]), (w.srv.cert["key"], bad["key"])])
    rep = w.report(config=cfg)[1]
    r = one(rep, "cert", HOSTNAME)
    assert r["status"] == "fail" and f"is not valid for {HOSTNAME}" in r["detail"]
    assert f"subjectAltName lists {HOSTNAME}" in r["fix"]
    assert one(rep, "cert", f"autodiscover.{DOMAIN}")["status"] == "warn"
    r = one(rep, "cert-expiry", HOSTNAME)
    assert r["status"] == "fail" and re.fullmatch(r"the certificate expires in [45] days \(under 14\)", r["detail"])


def test_cert_key_mismatch(w):
    other = make_cert(w.certdir, "other", 400, GOOD_SANS)
    cfg = w.alt_config("key", [(w.srv.cert["key"], other["key"])])
    r = one(w.report(config=cfg)[1], "cert-key", HOSTNAME)
    assert r["status"] == "fail" and "is not the certificate's key" in r["detail"]


# ---- listeners and the open-relay self-test

def test_listeners_all_speak_their_protocol(w):
    rep = w.report()[1]
    ls = find(rep, "listener")
    assert len(ls) == 9 and all(r["status"] == "ok" for r in ls), ls
    roles = sorted(r["subject"].split()[0] for r in ls)
    assert roles == ["https", "imap", "imaps", "pop3", "pop3s", "smtp", "submission", "submission", "submissions"]
    r = one(rep, "relay")
    assert r["status"] == "ok" and r["detail"].startswith("not an open relay: RCPT to an outside domain")
    assert " 5" in r["detail"]


def test_listener_not_listening_fails(w):
    dead = free_port()
    cfg = w.alt_config("dead", [(f'port = {w.srv.ports["imaps"]};', f"port = {dead};")])
    r = one(w.report(config=cfg)[1], "listener", f"imaps 127.0.0.1:{dead}")
    assert r["status"] == "fail" and "cannot connect" in r["detail"]


@contextlib.contextmanager
def fake_listener(w, role, **kw):
    """A FakeSMTP on a new port, and a config whose first `role` listener
    is moved there: (port, config path)."""
    port = free_port()
    fake = FakeSMTP("127.0.0.1", port, **kw)
    try:
        yield port, w.alt_config(f"fake-{role}-{port}", [(f'port = {w.srv.ports[role]};', f"port = {port};")])
    finally:
        fake.stop()


def listener_result(w, role, **kw):
    """The report run with a fake server in place of one listener, and that
    listener's result."""
    with fake_listener(w, role, **kw) as (port, cfg):
        p, rep = w.report(config=cfg)
    return p, rep, one(rep, "listener", f"{role} 127.0.0.1:{port}")


def test_listener_wrong_protocol_fails(w):
    """An imaps port where no TLS is spoken, a pop3 port where SMTP is."""
    r = listener_result(w, "imaps")[2]
    assert r["status"] == "fail" and "TLS handshake failed" in r["detail"]
    r = listener_result(w, "pop3")[2]
    assert r["status"] == "fail"
    assert r["detail"] == 'the greeting: expected "+OK", got "220 fake.internet.test ESMTP"'


def test_submission_without_starttls_fails(w):
    r = listener_result(w, "submission")[2]
    assert r["status"] == "fail" and r["detail"] == "STARTTLS is not offered on a submission port"
    r = listener_result(w, "submission", ehlo=b"250-fake\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n")[2]
    assert r["status"] == "fail"
    assert r["detail"] == "AUTH is offered before STARTTLS: passwords could cross the network in clear"


def test_open_relay_detected(w):
    p, rep, r = listener_result(w, "smtp", greeting=b"220 open.relay.test ESMTP\r\n")
    assert r["status"] == "warn" and "STARTTLS is not offered" in r["detail"]
    r = one(rep, "relay")
    assert r["status"] == "fail" and r["detail"].startswith("OPEN RELAY: RCPT TO:<relay-test@example.invalid>")
    assert "policy.rules" in r["fix"]
    assert p.returncode == 1


# ---- outbound port 25

def test_outbound_ok(w):
    before = w.internet.connections
    r = one(w.report()[1], "outbound")
    assert r["status"] == "ok" and "an MX host of internet.test greeted" in r["detail"]
    assert w.internet.connections > before


def test_outbound_blocked_says_op25b(w):
    w.dns.set("mx.internet.test", "A", ["127.0.0.10"])   # nothing listens there
    r = one(w.report()[1], "outbound")
    assert r["status"] == "fail" and "OP25B" in r["detail"]
    assert "relay.host" in r["fix"] and "no relay is configured" in r["fix"]


def test_outbound_through_relay(w):
    cfg = w.alt_config("viarelay", [("delivery: {", f'relay: {{ host = "mx.internet.test"; ports = [ {w.probe_port} ]; }};\ndelivery: {{')])
    rep = w.report(config=cfg)[1]
    r = one(rep, "outbound")
    assert r["status"] == "ok" and r["subject"] == f"relay mx.internet.test:{w.probe_port}"
    # mail leaves from the relay: SPF must cover its address, not ours
    r = one(rep, "spf", FAKE_MX)
    assert r["status"] == "fail" and f"ip4:{FAKE_MX} -all" in r["fix"]
    assert not [x for x in rep["results"] if x["check"] == "spf" and PUBLIC in x["subject"]]
    w.dns.set("mx.internet.test", "A", ["127.0.0.10"])
    r = one(w.report(config=cfg)[1], "outbound")
    assert r["status"] == "fail" and "the relay does not answer" in r["detail"]


def test_outbound_relay_only_when_blocked_checks_both(w):
    """relay.when = "blocked": the relay is the fall-back of a blocked port
    25, so port 25 is probed as well and both are reported."""
    cfg = w.alt_config("fallback", [("delivery: {", f'relay: {{ host = "relay.internet.test"; when = "blocked"; '
                                                   f'ports = [ {w.probe_port} ]; }};\ndelivery: {{')])
    w.dns.set("relay.internet.test", "A", [FAKE_MX])
    rep = w.report(config=cfg)[1]
    relay = one(rep, "outbound", "relay relay.internet.test")
    assert relay["status"] == "ok" and 'relay.when = "blocked"' in relay["detail"], relay
    direct = one(rep, "outbound", "via internet.test")
    assert direct["status"] == "ok" and "an MX host of internet.test greeted" in direct["detail"], direct
    # mail leaves from here, and from the relay while port 25 is blocked: SPF must cover both
    assert one(rep, "spf", PUBLIC)["status"] == "ok"
    r = one(rep, "spf", FAKE_MX)
    assert r["status"] == "fail" and f"ip4:{FAKE_MX}" in r["fix"], r
    # port 25 blocked, the relay answering: a warning that names the relay
    w.dns.set("mx.internet.test", "A", ["127.0.0.10"])   # nothing listens there
    rep = w.report(config=cfg)[1]
    assert one(rep, "outbound", "relay relay.internet.test")["status"] == "ok"
    direct = one(rep, "outbound", "via internet.test")
    assert direct["status"] == "warn" and "OP25B" in direct["detail"], direct
    assert "mail goes through the relay relay.internet.test" in direct["detail"], direct
    # and neither: both fail
    w.dns.set("relay.internet.test", "A", ["127.0.0.10"])
    rep = w.report(config=cfg)[1]
    assert one(rep, "outbound", "relay relay.internet.test")["status"] == "fail"
    direct = one(rep, "outbound", "via internet.test")
    assert direct["status"] == "fail" and "which does not answer either" in direct["detail"], direct


# ---- blocklists

def test_dnsbl_not_listed_and_listed(w):
    r = one(w.report()[1], "dnsbl")
    assert r["status"] == "ok" and r["subject"] == f"{PUBLIC} zen.test" and r["detail"] == "not listed on zen"
    w.dns.set("25.0.0.127.zen.test", "A", ["127.0.0.2"])
    w.dns.set("25.0.0.127.zen.test", "TXT", ["listed for spam, see https://zen.test/lookup"])
    r = one(w.report()[1], "dnsbl")
    assert r["status"] == "fail"
    assert r["detail"] == f"{PUBLIC} is listed on zen (127.0.0.2): listed for spam, see https://zen.test/lookup"
    assert "delisting" in r["fix"]


def test_dnsbl_list_test_entries(w):
    r = one(w.report()[1], "dnsbl-list", "zen.test")
    assert r["status"] == "ok"
    w.dns.clear("2.0.0.127.zen.test")
    rep = w.report()[1]
    r = one(rep, "dnsbl-list", "zen.test")
    assert r["status"] == "warn" and "does not list its test entry 127.0.0.2" in r["detail"]
    assert one(rep, "dnsbl")["detail"] == "no working IP blocklist in policy.dnsbl to ask"
    w.dns.set("2.0.0.127.zen.test", "A", ["127.0.0.2"])
    w.dns.set("1.0.0.127.zen.test", "A", ["127.0.0.2"])
    r = one(w.report()[1], "dnsbl-list", "zen.test")
    assert r["status"] == "fail" and "lists 127.0.0.1" in r["detail"]


def test_dnsbl_refusal_is_not_a_listing(w):
    w.dns.set("25.0.0.127.zen.test", "A", ["127.255.255.254"])
    r = one(w.report()[1], "dnsbl")
    assert r["status"] == "warn" and "refused the question" in r["detail"]


# ---- configuration

def test_config_addresses_must_be_addresses(w):
    cfg = w.alt_config("badaddr", [('addresses = [ "127.0.0.25" ]', 'addresses = [ "192.0.2.0/24" ]')])
    p = run_yubin(["--config", cfg, "config", "check"])
    assert p.returncode == 1
    assert re.search(r"badaddr\.conf:\d+: doctor\.addresses entry 1 is a network; name single addresses", p.stderr + p.stdout)
    cfg = w.alt_config("badaddr2", [('addresses = [ "127.0.0.25" ]', 'addresses = [ "mx.test.example" ]')])
    p = run_yubin(["--config", cfg, "config", "check"])
    assert p.returncode == 1 and "doctor.addresses entry 1 is not a network" in p.stderr + p.stdout


# ---- bounds and fallbacks

def test_silent_listener_times_out(w):
    """A port that accepts and never greets is a failure after doctor.timeout
    (3 s here), not a hang."""
    t0 = time.monotonic()
    r = listener_result(w, "smtp", greeting=b"")[2]
    assert time.monotonic() - t0 < 30
    assert r["status"] == "fail" and r["detail"] == "no reply within 3 seconds"


def test_trickling_listener_bounded(w):
    """Bytes trickling in faster than doctor.timeout still end at the
    session's bound (4 x 3 s), not after every line a reply may have."""
    t0 = time.monotonic()
    r = listener_result(w, "smtp", greeting=b"trickle")[2]
    assert time.monotonic() - t0 < 25
    assert r["status"] == "fail" and r["detail"] == "no complete exchange within 12 seconds"


def test_dns_not_answering(w):
    w.dns.servfail(DOMAIN)
    rep = w.report()[1]
    r = one(rep, "mx", DOMAIN)
    assert r["status"] == "fail" and r["detail"].startswith("the MX look-up failed: no answer from DNS")
    r = one(rep, "spf", DOMAIN)
    assert r["status"] == "fail" and r["detail"] == f"no answer from DNS for the TXT records of {DOMAIN}"


def test_addresses_default_to_the_host_names(w):
    """Listeners on loopback only and no doctor.addresses: the host name's
    A records are assumed (a warning); with none, a failure."""
    cfg = w.alt_config("noaddr", [('addresses = [ "127.0.0.25" ]; ', "")])
    p, rep = w.report(config=cfg)
    assert rep["addresses"] == [PUBLIC]
    r = one(rep, "addresses")
    assert r["status"] == "warn" and "assuming the addresses of " + HOSTNAME in r["detail"]
    assert one(rep, "spf", PUBLIC)["status"] == "ok"
    w.dns.clear(HOSTNAME)
    p, rep = w.report(config=cfg)
    r = one(rep, "addresses")
    assert r["status"] == "fail" and rep["addresses"] == [] and p.returncode == 1


def dated_cert(d, name, not_before, not_after):
    """A self-signed certificate for the host name valid between two
    datetimes (openssl req cannot make one in the past)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOSTNAME)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOSTNAME)]), critical=False)
            .sign(key, hashes.SHA256()))
    cp, kp = d / f"{name}.pem", d / f"{name}.key"
    cp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kp.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    cp.chmod(0o644)
    kp.chmod(0o600)
    return {"cert": str(cp), "key": str(kp)}


def test_cert_expired_and_not_yet_valid(w):
    import datetime
    now = datetime.datetime.now(datetime.timezone.utc)
    day = datetime.timedelta(days=1)
    for name, nb, na, want in (("expired", now - 30 * day, now - day, "the certificate has expired"),
                               ("future", now + day, now + 300 * day, "the certificate is not valid yet")):
        c = dated_cert(w.certdir, name, nb, na)
        cfg = w.alt_config(name, [(w.srv.cert["cert"], c["cert"]), (w.srv.cert["key"], c["key"])])
        p, rep = w.report(config=cfg)
        r = one(rep, "cert-expiry", HOSTNAME)
        assert r["status"] == "fail" and r["detail"] == want, r
        assert one(rep, "cert", HOSTNAME)["status"] == "ok"
        assert one(rep, "cert-key", HOSTNAME)["status"] == "ok"
        assert p.returncode == 1


def test_dmarc_falls_back_to_the_organizational_domain(w):
    """RFC 7489 6.6.3: no record at the domain itself, the organizational
    domain's applies."""
    sub = f"sub.{DOMAIN}"
    cfg = w.alt_config("subdomain", [(f'domains = [ "{DOMAIN}" ];', f'domains = [ "{DOMAIN}", "{sub}" ];')])
    p = w.run("--json", "--domain", sub, config=cfg)
    rep = json.loads(p.stdout)
    assert rep["domains"] == [sub]
    r = one(rep, "dmarc", sub)
    assert r["status"] == "ok" and r["detail"].startswith(f"_dmarc.{DOMAIN}: p=reject")
    w.dns.clear(f"_dmarc.{DOMAIN}")
    rep = json.loads(w.run("--json", "--domain", sub, config=cfg).stdout)
    r = one(rep, "dmarc", sub)
    assert r["status"] == "fail" and r["detail"].startswith(f"no DMARC record at _dmarc.{sub}")
