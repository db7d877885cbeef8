"""DKIM with tools yubin did not write.

`yubin dkim keygen` makes the keys; their TXT records go into the tests'
DNS server (and into dkimpy's dnsfunc hook).  Messages signed by `yubin
dkim sign` are verified by dkimpy (Debian python3-dkim, in this process)
and by OpenDKIM's opendkim-testmsg (in a private network namespace whose
resolv.conf points at a DNS server on 127.0.0.1:53: see private_dns.py;
root only).  The other way round, messages signed by dkimpy and by
libopendkim (opendkim_sign.py; opendkim-testmsg itself only signs
rsa-sha1, which `yubin dkim verify` must refuse) are checked by `yubin dkim
verify`, and every kind of tampering is rejected with its reason."""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dkim
import pytest

from conftest import IS_ROOT, YUBIN_BIN, outbound_config

HERE = Path(__file__).resolve().parent
DOMAIN = "signer.test"

# OpenDKIM wants the fields RFC 5322 requires (From and Date)
DATE = b"Date: Tue, 2 Jan 2024 10:00:00 +0100\n"

MESSAGES = {
    "folded": (b"From: Alice Example\n <alice@signer.test>\nTo: bob@remote.test,\n\tcarol@remote.test\n"
               b"Subject: a folded\n   subject line\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n"
               b"Message-ID: <1@signer.test>\nMIME-Version: 1.0\n"
               b"Content-Type: text/plain; charset=utf-8\n\nHello  there \n"),
    "8bit": ("From: alice@signer.test\nTo: bob@remote.test\nSubject: 8-bit body\n" + DATE.decode() +
             "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
             "Gr\u00fc\u00dfe, \u20ac 5\n\u65e5\u672c\n").encode(),
    "empty": b"From: alice@signer.test\nTo: bob@remote.test\nSubject: empty body\n" + DATE + b"\n",
    "trailing": b"From: alice@signer.test\nTo: bob@remote.test\nSubject: blank lines\n" + DATE + b"\nbody\n\n\n\n",
    "long": (b"From: alice@signer.test\nTo: bob@remote.test\nSubject: long lines\n" + DATE + b"\n" + b"x" * 990 + b"\n"
             + b"y " * 400 + b"\n"),
    "crlf": b"From: alice@signer.test\r\nTo: bob@remote.test\r\nSubject: crlf\r\n" + DATE.replace(b"\n", b"\r\n") + b"\r\nline\r\n\r\n",
}


class Dkim:
    """A yubin configuration (server not started) with a DNS server, keys
    of both algorithms for DOMAIN, and their records published."""

    def __init__(self, srv, dns):
        self.srv = srv
        self.dns = dns
        self.records = {}      # name -> TXT value (for dkimpy and OpenDKIM)
        self.keys = {}         # alg -> (selector, path)
        for alg in ("rsa", "ed25519"):
            p = srv.cli("dkim", "keygen", DOMAIN, "--algorithm", alg)
            assert p.returncode == 0, p.stderr
            path = re.search(r"^wrote (\S+)", p.stdout, re.M).group(1)
            name, value = parse_record(p.stdout)
            self.publish(name, value)
            self.keys[alg] = (name.split(".")[0], path)

    def publish(self, name, value):
        self.records[name] = value
        self.dns.set(name, "TXT", [[value[i:i + 255] for i in range(0, len(value), 255)]])

    def run(self, *args, input=b""):
        return subprocess.run([YUBIN_BIN, "--config", str(self.srv.config_path), "dkim", *args],
                              input=input, capture_output=True, timeout=60)

    def sign(self, msg, *args):
        p = self.run("sign", "--domain", DOMAIN, *args, input=msg)
        assert p.returncode == 0, p.stderr
        return p.stdout

    def verify(self, msg):
        p = self.run("verify", input=msg)
        return p.returncode, p.stdout.decode().splitlines()

    def dnsfunc(self, name, timeout=5):
        return self.records.get(name.decode().rstrip("."), "").encode() or None

    def dkimpy(self, msg):
        """dkimpy's verdict for each signature, top down."""
        d = dkim.DKIM(msg)
        n = len(re.findall(rb"(?mi)^DKIM-Signature:", msg.split(b"\n\n")[0]))
        return [self._dkimpy_one(d, i) for i in range(n)]

    def _dkimpy_one(self, d, i):
        try:
            return d.verify(idx=i, dnsfunc=self.dnsfunc)
        except dkim.ValidationError:     # dkimpy raises for some failures
            return False

    def opendkim(self, msg):
        """opendkim-testmsg's exit status and messages (0: verified)."""
        p = subprocess.run(["unshare", "--net", "--mount", sys.executable, str(HERE / "private_dns.py"),
                            json.dumps(self.records)], input=msg, capture_output=True, timeout=60)
        return p.returncode, p.stderr.decode()

    def private_key(self, alg):
        """The key in the form dkimpy and libopendkim take."""
        data = Path(self.keys[alg][1]).read_bytes()
        if alg == "rsa":
            return data
        der = subprocess.run(["openssl", "pkey", "-outform", "DER"], input=data, capture_output=True,
                             check=True).stdout
        return base64.b64encode(der[-32:])


def parse_record(out):
    """(name, value) of the zone-file line keygen prints."""
    line = next(l for l in out.splitlines() if " IN TXT " in l)
    name, rest = line.split(" IN TXT ", 1)
    parts = re.findall(r'"([^"]*)"', rest)
    assert all(len(s) <= 255 for s in parts), parts
    return name.rstrip("."), "".join(parts)


@pytest.fixture
def dk(make_server, dns):
    srv = make_server(start=False, extra=outbound_config(dns, 25, dns_timeout=3))
    return Dkim(srv, dns)


def needs_netns():
    if not IS_ROOT or shutil.which("unshare") is None or shutil.which("opendkim-testmsg") is None:
        pytest.fail("opendkim-testmsg needs root (for its private DNS namespace), unshare and "
                    "opendkim-tools: run the suite as root after scripts/install-deps")


# ---------------------------------------------------------------- keys

def test_keygen_files_and_records(dk):
    for alg, (selector, path) in dk.keys.items():
        st = os.stat(path)
        assert st.st_mode & 0o777 == 0o600, oct(st.st_mode)
        assert os.stat(os.path.dirname(path)).st_mode & 0o777 == 0o700
        assert path.endswith(f"/dkim/{DOMAIN}/{selector}.{alg}.key")
        assert re.fullmatch(r"yb\d{6}-" + alg, selector), selector
        value = dk.records[f"{selector}._domainkey.{DOMAIN}"]
        assert value.startswith(f"v=DKIM1; k={alg}; p=")
    # the RSA record is longer than one TXT string, and split into 255s
    assert len(dk.records[f"{dk.keys['rsa'][0]}._domainkey.{DOMAIN}"]) > 255
    # never overwritten, whatever the algorithm
    p = dk.srv.cli("dkim", "keygen", DOMAIN, "--algorithm", "ed25519", "--selector", dk.keys["rsa"][0])
    assert p.returncode == 1 and "already exists" in p.stderr, p.stderr
    p = dk.srv.cli("dkim", "keygen", "bad/domain")
    assert p.returncode == 2
    p = dk.srv.cli("dkim", "keygen", DOMAIN, "--algorithm", "dsa")
    assert p.returncode == 2 and "usage" in p.stderr
    p = dk.srv.cli("dkim", "list")
    assert p.returncode == 0, p.stderr
    rows = sorted(l.split() for l in p.stdout.splitlines())
    assert rows == sorted([
        [DOMAIN, dk.keys["rsa"][0], "rsa-sha256", "2048", f"{dk.keys['rsa'][0]}._domainkey.{DOMAIN}"],
        [DOMAIN, dk.keys["ed25519"][0], "ed25519-sha256", "256", f"{dk.keys['ed25519'][0]}._domainkey.{DOMAIN}"],
    ]), rows


def test_sign_needs_a_key(dk):
    p = dk.run("sign", "--domain", "nokeys.test", input=MESSAGES["empty"])
    assert p.returncode == 1 and b"dkim keygen nokeys.test" in p.stderr, p.stderr
    p = dk.run("sign", "--domain", DOMAIN, input=b"Subject: no from\n\nx\n")
    assert p.returncode == 1 and b"no From" in p.stderr, p.stderr


# ------------------------------------------------- yubin signs, others verify

@pytest.mark.parametrize("kind", sorted(MESSAGES))
def test_yubin_signed_verified_by_dkimpy(dk, kind):
    signed = dk.sign(MESSAGES[kind])
    assert signed.endswith(MESSAGES[kind])
    head = signed[:len(signed) - len(MESSAGES[kind])]
    assert head.count(b"DKIM-Signature:") == 2 and b"a=rsa-sha256" in head and b"a=ed25519-sha256" in head
    assert b" l=" not in head and b" t=" in head
    assert max(len(l) for l in head.splitlines()) <= 80
    assert dk.dkimpy(signed) == [True, True]
    rc, lines = dk.verify(signed)
    assert rc == 0 and len(lines) == 2 and all(l.startswith("dkim=pass ") for l in lines), lines


@pytest.mark.parametrize("alg", ["rsa", "ed25519"])
@pytest.mark.parametrize("kind", sorted(MESSAGES))
def test_yubin_signed_verified_by_opendkim(dk, alg, kind):
    needs_netns()
    signed = dk.sign(MESSAGES[kind], "--selector", dk.keys[alg][0])
    assert signed.count(b"DKIM-Signature:") == 1
    assert dk.opendkim(signed) == (0, "")
    # and OpenDKIM does notice a change
    rc, err = dk.opendkim(signed.replace(b"Subject:", b"Subject: X"))
    assert rc != 0 and "signature" in err.lower(), err


# ------------------------------------------------- others sign, yubin verifies

@pytest.mark.parametrize("alg", ["rsa", "ed25519"])
@pytest.mark.parametrize("canon", [b"relaxed", b"simple"])
def test_dkimpy_signed_accepted(dk, alg, canon):
    for kind, msg in MESSAGES.items():
        sig = dkim.sign(msg.replace(b"\r\n", b"\n"), dk.keys[alg][0].encode(), DOMAIN.encode(),
                        dk.private_key(alg), canonicalize=(canon, canon), linesep=b"\n",
                        signature_algorithm=b"rsa-sha256" if alg == "rsa" else b"ed25519-sha256")
        rc, lines = dk.verify(sig + msg)
        assert rc == 0 and lines[0].startswith("dkim=pass header.d=signer.test"), (kind, lines)


@pytest.mark.parametrize("alg", ["rsa", "ed25519"])
def test_opendkim_signed_accepted(dk, alg):
    for kind, msg in MESSAGES.items():
        p = subprocess.run([sys.executable, str(HERE / "opendkim_sign.py"), dk.keys[alg][0], DOMAIN,
                            dk.keys[alg][1], f"{alg}-sha256"], input=msg, capture_output=True, timeout=30)
        assert p.returncode == 0, p.stderr
        assert p.stdout.startswith(b"DKIM-Signature: v=1; a=" + f"{alg}-sha256".encode())
        rc, lines = dk.verify(p.stdout)
        assert rc == 0 and lines[0].startswith("dkim=pass "), (kind, lines)


def test_opendkim_testmsg_rsa_sha1_refused(dk):
    """opendkim-testmsg signs with rsa-sha1, which RFC 8301 retired."""
    p = subprocess.run(["opendkim-testmsg", "-d", DOMAIN, "-s", dk.keys["rsa"][0], "-k", dk.keys["rsa"][1]],
                       input=MESSAGES["folded"], capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert b"a=rsa-sha1" in p.stdout
    rc, lines = dk.verify(p.stdout)
    assert rc == 1 and lines[0].startswith("dkim=fail ") and "rsa-sha1" in lines[0], lines


# ------------------------------------------------------------- tampering

def tampered(msg):
    """Each kind of change, as (name, message, reason yubin must give)."""
    return [
        ("body changed", msg.replace(b"Hello", b"Hallo"), "body hash mismatch"),
        ("signed header changed", msg.replace(b"folded\n", b"folder\n"), "signature mismatch"),
        ("From added above", b"From: mallory@evil.test\n" + msg, "more than one From field"),
    ]


@pytest.mark.parametrize("signer", ["yubin", "dkimpy"])
def test_tampering_rejected(dk, signer):
    msg = MESSAGES["folded"]
    if signer == "yubin":
        signed = dk.sign(msg)
    else:
        signed = dkim.sign(msg, dk.keys["rsa"][0].encode(), DOMAIN.encode(), dk.private_key("rsa"),
                           linesep=b"\n", include_headers=[b"from", b"to", b"subject", b"date"]) + msg
    rc, lines = dk.verify(signed)
    assert rc == 0, lines
    for name, bad, reason in tampered(signed):
        rc, lines = dk.verify(bad)
        assert rc == 1 and lines and all(l.startswith("dkim=fail") and f'reason="{reason}"' in l
                                         for l in lines), (name, lines)
        if signer == "yubin" or name != "From added above":
            # dkimpy agrees (a From above one not over-signed passes there)
            assert not any(dk.dkimpy(bad)), name


def test_expired_and_future(dk):
    msg = MESSAGES["folded"]
    now = int(time.time())
    # two days old (dkimpy allows ten hours of clock skew past x=)
    old = dk.sign(msg, "--time", str(now - 172800), "--expire", "3600")
    assert re.search(rb"x=%d;" % (now - 172800 + 3600), old)
    rc, lines = dk.verify(old)
    assert rc == 1 and all('reason="signature expired"' in l for l in lines), lines
    assert dk.dkimpy(old) == [False, False]
    fresh = dk.sign(msg, "--expire", "3600")
    assert dk.verify(fresh)[0] == 0 and dk.dkimpy(fresh) == [True, True]
    future = dk.sign(msg, "--time", str(now + 7200))
    rc, lines = dk.verify(future)
    assert rc == 1 and all('reason="signature timestamp in the future"' in l for l in lines), lines


def test_wrong_revoked_and_missing_keys(dk):
    signed = dk.sign(MESSAGES["folded"])
    rsa_name = f"{dk.keys['rsa'][0]}._domainkey.{DOMAIN}"
    ed_name = f"{dk.keys['ed25519'][0]}._domainkey.{DOMAIN}"
    # wrong key: the record of another key pair
    p = dk.srv.cli("dkim", "keygen", "other.test")
    dk.publish(rsa_name, parse_record(p.stdout)[1])
    rc, lines = dk.verify(signed)
    assert rc == 0, lines                      # the ed25519 signature still passes
    assert 'dkim=fail header.d=signer.test' in lines[0] and 'reason="signature mismatch"' in lines[0], lines
    # revoked: empty p=
    dk.publish(rsa_name, "v=DKIM1; k=rsa; p=")
    dk.publish(ed_name, "v=DKIM1; k=ed25519; p=")
    rc, lines = dk.verify(signed)
    assert rc == 1 and all('reason="key revoked"' in l for l in lines), lines
    # no record at all, then a DNS failure
    dk.dns.clear(rsa_name)
    dk.dns.servfail(ed_name)
    rc, lines = dk.verify(signed)
    assert rc == 1 and lines[0].startswith("dkim=permerror") and lines[1].startswith("dkim=temperror"), lines


def test_verify_output(dk):
    rc, lines = dk.verify(MESSAGES["empty"])
    assert rc == 1 and lines == ["dkim=none (no signatures)"]
    signed = dk.sign(MESSAGES["empty"], "--selector", dk.keys["ed25519"][0])
    rc, lines = dk.verify(signed)
    b = re.search(rb"b=\s*([A-Za-z0-9+/]{8})", signed.split(b"bh=")[1]).group(1).decode()
    assert rc == 0 and lines == [f"dkim=pass header.d={DOMAIN} header.s={dk.keys['ed25519'][0]} "
                                 f"header.a=ed25519-sha256 header.b={b}"], lines
