"""Run a DKIM verifier that asks the system's resolver (OpenDKIM's
opendkim-testmsg, dkimpy's dkimverify) against the tests' own DNS.

They ask the resolver named in /etc/resolv.conf on port 53, with no way to
point them elsewhere, so this script runs inside a new network and mount
namespace (`unshare --net --mount`, root only): it brings up loopback,
bind-mounts a resolv.conf naming 127.0.0.1 over /etc/resolv.conf, serves the
TXT records given as JSON in argv[1] ({name: value}) with the tests' DNS
server on 127.0.0.1:53, and runs the command in argv[2:] (default
opendkim-testmsg) on stdin.  Its exit status and output are passed through.

    unshare --net --mount /usr/bin/python3 private_dns.py '{"s._domainkey.d": "v=DKIM1; ..."}' [cmd ...] < msg
"""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dnsserver import TestDNS  # noqa: E402


def main():
    records = json.loads(sys.argv[1])
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write("nameserver 127.0.0.1\noptions attempts:1 timeout:2\n")
    subprocess.run(["mount", "--bind", f.name, "/etc/resolv.conf"], check=True)
    dns = TestDNS(port=53).start()
    for name, value in records.items():
        dns.set(name, "TXT", [[value[i:i + 255] for i in range(0, len(value), 255)]])
    try:
        cmd = sys.argv[2:] or ["opendkim-testmsg"]
        p = subprocess.run(cmd, stdin=sys.stdin, capture_output=True, timeout=30)
    finally:
        dns.stop()
        os.unlink(f.name)
    sys.stdout.buffer.write(p.stdout)
    sys.stderr.buffer.write(p.stderr)
    sys.exit(p.returncode)


if __name__ == "__main__":
    main()
