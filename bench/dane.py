#!/usr/bin/python3
"""DANE delivery benchmark (run through bench/dane.sh).

Does authenticating every server by DANE (RFC 7672) cost delivery
throughput?  DESTINATIONS domains d1.dane.bench .. dN.dane.bench in one
DNSSEC-signed zone (tests/e2e/dnssec_sign.py, served from this process),
each with MX mx.dK.dane.bench -> 127.0.0.1 and a "3 1 1" TLSA record
(_25._tcp.mx.dK.dane.bench) matching the key of the one sink every MX
points at: a small TLS SMTP sink in this file (asyncio, STARTTLS, no
PIPELINING, SINK_PROCS processes sharing the port with SO_REUSEPORT).

Two modes, the same messages, the same sink, the same DNS:
  dane   dns.trust_anchor = the zone's DS record: every answer validates,
         TLSA is looked up and every connection is DANE-authenticated
         (the log says dane=dane-ee);
  tls    dns.trust_anchor = "": nothing validates, no TLSA, opportunistic
         STARTTLS with the same certificate (dane=none).
For each of ROUNDS rounds and each mode (alternating which goes first), on
a fresh yubin: fill the queue while the sink is down (every first attempt
deferred), start the sink, `yubin queue flush`, and time until the queue
is empty (bench/delivery.py's fill and drain).  The table shows each
mode's median msgs/s and every round.

See bench/dane.sh for the environment overrides.
"""

import asyncio
import hashlib
import os
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

import delivery as dl
import smtp_accept as sa

sys.path.insert(0, os.path.join(sa.REPO, "tests", "e2e"))
from dnssec_sign import SignedDNS  # noqa: E402

ROUNDS = max(1, int(os.environ.get("ROUNDS", "3")))
SINK_PROCS = max(1, int(os.environ.get("SINK_PROCS", "2")))
MODES = os.environ.get("MODES", "dane tls").split()
ZONE = "dane.bench"
SINK_IP = "127.0.0.1"
SECTION = "## DANE"
BEGIN, END = ("<!-- bench/dane.sh: generated, begin -->",
              "<!-- bench/dane.sh: generated, end -->")

# bench/delivery.py's yubin configuration, with the trust anchor of a mode
YUBIN_CONF = dl.YUBIN_CONF.replace('dns: {{ resolver = "{dns}"; }};',
                                   'dns: {{ resolver = "{dns}"; trust_anchor = "{anchor}"; }};')
assert "{anchor}" in YUBIN_CONF, "bench/delivery.py's configuration changed"


def log(msg):
    sa.log(msg)


def rcpt(i, ndest):
    return "user%d@d%d.%s" % (i, i % ndest + 1, ZONE)


# ---------------------------------------------------------------- the sink

class SinkSession(asyncio.Protocol):
    """One SMTP session: EHLO offers STARTTLS; MAIL, RCPT, DATA (to the
    lone dot, each line bounded), RSET, NOOP, QUIT.  Counts messages."""

    LINE_MAX = 1 << 16

    def __init__(self, ctx, counter):
        self.ctx, self.counter = ctx, counter
        self.buf, self.in_data, self.tls, self.upgrading = b"", False, False, False

    def connection_made(self, transport):
        self.transport = transport
        transport.write(b"220 sink.dane.bench ESMTP\r\n")

    def data_received(self, data):
        self.buf += data
        if self.upgrading:   # the TLS transport is not ours yet: answer on it later
            return
        while True:
            if self.in_data:
                end = self.buf.find(b"\r\n.\r\n")
                if end < 0:
                    if len(self.buf) > self.LINE_MAX:   # keep only a tail that may hold the end
                        self.buf = self.buf[-4:]
                    return
                self.buf, self.in_data = self.buf[end + 5:], False
                self.counter[0] += 1
                self.transport.write(b"250 2.0.0 Ok\r\n")
                continue
            nl = self.buf.find(b"\r\n")
            if nl < 0:
                if len(self.buf) > self.LINE_MAX:
                    self.transport.close()
                return
            line, self.buf = self.buf[:nl], self.buf[nl + 2:]
            if not self.command(line.split(b" ", 1)[0].upper()):
                return

    def command(self, verb):
        w = self.transport.write
        if verb in (b"EHLO", b"HELO"):
            w(b"250-sink.dane.bench\r\n" + (b"" if self.tls else b"250-STARTTLS\r\n") +
              b"250 8BITMIME\r\n")
        elif verb == b"STARTTLS" and not self.tls:
            w(b"220 2.0.0 Ready\r\n")
            asyncio.ensure_future(self.starttls())
            return False
        elif verb == b"DATA":
            self.in_data = True
            w(b"354 End with .\r\n")
        elif verb == b"QUIT":
            w(b"221 2.0.0 Bye\r\n")
            self.transport.close()
            return False
        else:   # MAIL, RCPT, RSET, NOOP and anything else
            w(b"250 2.0.0 Ok\r\n")
        return True

    async def starttls(self):
        loop = asyncio.get_running_loop()
        # the client may speak (EHLO) before start_tls returns: kept until then
        self.tls, self.buf, self.upgrading = True, b"", True
        plain = self.transport
        try:
            self.transport = await loop.start_tls(plain, self, self.ctx, server_side=True)
        except (OSError, ssl.SSLError):
            plain.close()
            return
        self.upgrading = False
        self.data_received(b"")


def sink_main(port, cert, key, count_file):
    """One sink process: serves until SIGTERM, then writes its count."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    counter = [0]
    loop = asyncio.new_event_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((SINK_IP, port))
    sock.listen(4096)
    server = loop.run_until_complete(loop.create_server(lambda: SinkSession(ctx, counter), sock=sock))
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.run_forever()
    server.close()
    with open(count_file, "w") as f:
        f.write("%d\n" % counter[0])


class TLSSinks:
    """SINK_PROCS sink processes on SINK_IP:port, one certificate."""

    def __init__(self, root, port):
        self.dir = os.path.join(root, "sink")
        os.makedirs(self.dir, exist_ok=True)
        self.port, self.procs = port, []
        self.cert, self.key = os.path.join(self.dir, "cert.pem"), os.path.join(self.dir, "key.pem")
        r = sa.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "30", "-keyout", self.key, "-out", self.cert, "-subj", "/CN=sink.dane.bench"],
                   timeout=60)
        if r.returncode != 0:
            raise sa.BenchError("openssl: %s" % r.stderr)

    def spki_sha256(self):
        pub = subprocess.run(["openssl", "x509", "-in", self.cert, "-noout", "-pubkey"],
                             check=True, capture_output=True, timeout=30).stdout
        der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                             check=True, capture_output=True, timeout=30).stdout
        return hashlib.sha256(der).hexdigest()

    def start(self):
        for k in range(SINK_PROCS):
            p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--sink", str(self.port), self.cert,
                                  self.key, os.path.join(self.dir, "count-%d" % k)],
                                 stdin=subprocess.DEVNULL, start_new_session=True)
            sa.started_pids.append(p.pid)
            self.procs.append(p)
        dl.wait_for(lambda: dl.listening({(SINK_IP, self.port)}), 20, "the sink to listen")
        time.sleep(0.3)   # every process, not only the first

    def stop(self):
        """After the MTA closed its connections; the messages received."""
        deadline = time.monotonic() + 15
        while dl.connections_to(self.port) and time.monotonic() < deadline:
            time.sleep(0.2)
        got = 0
        for k, p in enumerate(self.procs):
            sa.stop_pid(p.pid, grace=5)
            sa.started_pids.remove(p.pid)
            try:
                with open(os.path.join(self.dir, "count-%d" % k)) as f:
                    got += int(f.read())
            except (OSError, ValueError):
                pass
        self.procs = []
        return got


# ---------------------------------------------------------------- a round

def delivered_with(y, word):
    """Transactions that a 250 ended, logged with word (dane=...)."""
    with open(y.logfile, errors="replace") as f:
        return sum(1 for line in f
                   if "event=delivery_attempt " in line and " %s " % word in line and 'reply="250' in line)


def run_round(mode, rnd, root, dns, anchor, ndest):
    port = sa.free_port()
    sinks = TLSSinks(os.path.join(root, "%s-%d" % (mode, rnd)), port)
    y = dl.Yubin(root, ndest, port, dns, name="%s-%d" % (mode, rnd), conf=YUBIN_CONF,
                 anchor=anchor if mode == "dane" else "")
    for k in range(1, ndest + 1):
        dns.set("_25._tcp.mx.d%d.%s" % (k, ZONE), "TLSA", [(3, 1, 1, sinks.spki_sha256())])
    y.start()
    try:
        accepted = y.fill()
        y.wait_ready(accepted)
        sinks.start()
        cpu0 = sa.tree_cpu_seconds(y.master)
        secs, left, first = dl.drain(y, y.queued())
        cpu1 = sa.tree_cpu_seconds(y.master)
        received = sinks.stop()
        want = "dane=dane-ee" if mode == "dane" else "dane=none"
        r = {"mode": mode, "round": rnd, "accepted": accepted, "left": left, "secs": secs,
             "rate": (accepted - left) / secs if secs > 0 else 0, "sent": y.sent(), "received": received,
             "cpu": sum(cpu1) - sum(cpu0), "as_meant": delivered_with(y, want)}
        log("%(mode)s round %(round)d: %(rate).0f msgs/s, %(left)d left, %(sent)d sent, %(received)d received, "
            "%(as_meant)d attempts with the expected dane= word, CPU %(cpu).1f s" % r)
        return r
    finally:
        for p in list(sinks.procs):
            sa.stop_pid(p.pid, grace=5)
            sa.started_pids.remove(p.pid)
        y.stop()


# ---------------------------------------------------------------- report

def section(results, info, problems, ndest):
    med = {m: statistics.median(r["rate"] for r in results if r["mode"] == m)
           for m in MODES if any(r["mode"] == m for r in results)}
    cpu = {m: statistics.median(1000 * r["cpu"] / max(1, r["accepted"]) for r in results if r["mode"] == m)
           for m in med}
    rows = ["| mode | msgs/s (median) | yubin CPU ms/msg (median) | every round (msgs/s) |",
            "|---|---:|---:|---|"]
    label = {"dane": "DANE (`dns.trust_anchor` = the zone's DS)", "tls": "opportunistic TLS (`dns.trust_anchor = \"\"`)"}
    for m in med:
        rows.append("| %s | %.0f | %.2f | %s |" % (label.get(m, m), med[m], cpu[m], ", ".join(
            "%.0f" % r["rate"] for r in results if r["mode"] == m)))
    ratio = sa.fmt_ratio(med.get("dane"), med.get("tls"))
    lines = [
        BEGIN,
        "Run %s with `bench/dane.sh`: %d messages of %d bytes, one recipient each, over %d domains "
        "d1.dane.bench … dN.dane.bench of one DNSSEC-signed zone; %d rounds, each mode on a fresh yubin "
        "in each round (the order alternating). DANE / opportunistic TLS: %s (target: at least 0.90)."
        % (info["date"], dl.MESSAGES, dl.SIZE, ndest, ROUNDS, ratio),
        "",
        "- Machine: %s, %s cores, %s, kernel %s; yubin commit %s (release build)" % (
            info["cpu"], info["cores"], info["os"], info["kernel"], info["commit"]),
        "",
    ] + rows
    if problems:
        lines += ["", "Problems seen in this run:", ""] + ["- " + p for p in problems]
    lines.append(END)
    return "\n".join(lines)


def main():
    sa.stop_all_on_exit()
    if os.geteuid() != 0:
        raise sa.BenchError("run as root (yubin drops to its user)")
    if not os.access(dl.YUBIN_BIN, os.X_OK):
        raise sa.BenchError("%s is not built" % dl.YUBIN_BIN)
    ndest = max(dl.DESTINATIONS)
    sa.tmp_root = root = tempfile.mkdtemp(prefix="yubin-dane-")
    os.chmod(root, 0o755)
    dns = SignedDNS(ttl=3600)
    dns.neg_ttl = 3600   # cacheable denials (the MX hosts' AAAA), as BenchDNS has them
    dns.start()
    anchor = os.path.join(root, "ta.ds")
    with open(anchor, "w") as f:
        f.write(dns.sign_zone(ZONE) + "\n")
    os.chmod(anchor, 0o644)
    for k in range(1, ndest + 1):
        dns.mx("d%d.%s" % (k, ZONE), (10, "mx.d%d.%s" % (k, ZONE)))
        dns.a("mx.d%d.%s" % (k, ZONE), SINK_IP)
    dl.rcpt = rcpt
    log("%d messages of %d bytes to %d domains, %d rounds of %s, in %s"
        % (dl.MESSAGES, dl.SIZE, ndest, ROUNDS, MODES, root))
    info = sa.machine_info(root)
    results, problems = [], []
    for rnd in range(1, ROUNDS + 1):
        for mode in (MODES if rnd % 2 else MODES[::-1]):
            try:
                r = run_round(mode, rnd, root, dns, anchor, ndest)
            except sa.BenchError as e:
                problems.append("%s round %d: %s" % (mode, rnd, e))
                log(problems[-1])
                continue
            results.append(r)
            if r["left"] or r["sent"] != r["accepted"] or r["received"] != r["accepted"] \
                    or r["as_meant"] != r["accepted"]:
                problems.append("%s round %d: %d accepted, %d left, %d sent, %d received, %d attempts with the "
                                "expected dane= word" % (mode, rnd, r["accepted"], r["left"], r["sent"],
                                                         r["received"], r["as_meant"]))
    dns.stop()
    text = section(results, info, problems, ndest)
    print("\n" + text)
    if dl.WRITE_DOCS:
        sa.write_generated(SECTION, BEGIN, END, text)
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--sink":
        sink_main(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
        sys.exit(0)
    try:
        sys.exit(main())
    except sa.BenchError as e:
        log("error: %s" % e)
        sys.exit(2)
