#!/usr/bin/python3
"""Delivery-throughput benchmark (run through bench/delivery.sh).

For each destination count D (default 10 and 100) and each MTA (yubin and a
private Postfix instance), on a freshly started server:
  1. fill its queue with MESSAGES messages of SIZE bytes, spread evenly over
     the domains d1.bench .. dD.bench, while delivery cannot happen (Postfix:
     defer_transports = smtp; yubin: the destinations' servers are not
     listening yet, so every first attempt is deferred);
  2. start one Postfix smtp-sink per destination, each on its own loopback
     address 127.0.1.k (all on one port);
  3. release the queue (Postfix: defer_transports emptied, reload,
     postqueue -f; yubin: `yubin queue flush`) and time until the queue is
     empty, sampling the MTA's memory and CPU from /proc meanwhile.
yubin finds the destinations through tests/e2e/dnsserver.py (MX dK.bench ->
mx.dK.bench, A -> 127.0.1.k); Postfix through transport_maps (no DNS).

Process helpers (start/stop by PID, /proc sampling, machine facts) come from
smtp_accept.py.  See bench/delivery.sh for the environment overrides.
"""

import atexit
import os
import pwd
import re
import shutil
import signal
import smtplib
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from dnslib import QTYPE, RR, SOA

import smtp_accept as sa

sys.path.insert(0, os.path.join(sa.REPO, "tests", "e2e"))
from dnsserver import TestDNS  # noqa: E402

MESSAGES = int(os.environ.get("MESSAGES", "10000"))
DESTINATIONS = [int(d) for d in os.environ.get("DESTINATIONS", "10 100").split()]
SIZE = int(os.environ.get("SIZE", "4096"))
SERVERS = os.environ.get("SERVERS", "postfix yubin").split()
FILL_SESSIONS = int(os.environ.get("FILL_SESSIONS", "10"))
FILL_TIMEOUT = float(os.environ.get("FILL_TIMEOUT", "150"))
DRAIN_TIMEOUT = float(os.environ.get("DRAIN_TIMEOUT", "180"))
STALL_TIMEOUT = float(os.environ.get("STALL_TIMEOUT", "30"))
WRITE_DOCS = os.environ.get("WRITE_DOCS", "0") == "1"
YUBIN_BIN = os.environ.get("YUBIN_BIN",
                           os.path.join(sa.REPO, "build-release", "yubin"))
SENDER = "sender@bench.src"
PASSWORD = "bench-password"
SECTION = "## Delivery throughput"
BEGIN, END = ("<!-- bench/delivery.sh: generated, begin -->",
              "<!-- bench/delivery.sh: generated, end -->")
sa.SAMPLE_INTERVAL = 0.25


def log(msg):
    sa.log(msg)


def dest_ip(k):
    """Loopback address of destination k (1-based): 127.0.1.1 ... ."""
    return "127.0.%d.%d" % (1 + (k - 1) // 254, 1 + (k - 1) % 254)


def rcpt(i, ndest):
    return "user%d@d%d.bench" % (i, i % ndest + 1)


def message(i, to):
    head = ("From: <%s>\r\nTo: <%s>\r\nSubject: delivery bench %d\r\n"
            "Message-ID: <bench%d@bench.src>\r\n"
            "Date: Mon, 01 Jan 2024 12:00:00 +0000\r\n\r\n" % (SENDER, to, i, i))
    body, line = [], "x" * 76 + "\r\n"
    left = SIZE - len(head)
    while left > len(line):
        body.append(line)
        left -= len(line)
    body.append("y" * max(0, left - 2) + "\r\n")
    return (head + "".join(body)).encode()


def count_files(top):
    n = 0
    for _, _, files in os.walk(top):
        n += len(files)
    return n


def tcp_sockets():
    """(local ip, local port, remote port, state) of every IPv4 TCP socket."""
    out = []
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            hexip, hexport = fields[1].split(":")
            ip = ".".join(str(int(hexip[i:i + 2], 16)) for i in (6, 4, 2, 0))
            out.append((ip, int(hexport, 16), int(fields[2].split(":")[1], 16),
                        fields[3]))
    return out


def listening(addrs_ports):
    """Which of the (ip, port) pairs are in LISTEN state."""
    return set(addrs_ports) & {(ip, port) for ip, port, _, st in tcp_sockets()
                               if st == "0A"}


def connections_to(port):
    """Client sockets connected or connecting to port (ESTABLISHED, SYN_SENT)."""
    return sum(1 for _, _, rport, st in tcp_sockets()
               if rport == port and st in ("01", "02"))


class Sampler(sa.MemSampler):
    """Peak summed PSS / RSS of the MTA's processes, and peak connections
    open to the sinks."""

    def __init__(self, root_pid, sink_port):
        super().__init__(root_pid)
        self.sink_port, self.peak_conns = sink_port, 0

    def sample(self):
        super().sample()
        self.peak_conns = max(self.peak_conns, connections_to(self.sink_port))


class BenchDNS(TestDNS):
    """The e2e DNS server with cacheable negative answers (the AAAA look-ups
    of every MX host would otherwise reach this Python server each time)."""

    def soa_rr(self):
        return RR("bench.", QTYPE.SOA, ttl=3600,
                  rdata=SOA("ns.bench.", "hostmaster.bench.",
                            (1, 60, 60, 600, 3600)))


class Sinks:
    """One smtp-sink per destination, all on one port."""

    def __init__(self, root, ndest, port):
        self.dir = os.path.join(root, "sinks-%d" % ndest)
        os.makedirs(self.dir, exist_ok=True)
        self.ndest, self.port, self.procs = ndest, port, []

    def start(self):
        for k in range(1, self.ndest + 1):
            out = open(os.path.join(self.dir, "%d.out" % k), "wb")
            p = subprocess.Popen(
                ["smtp-sink", "-c", "-u", "nobody", "-m", "1000",
                 "%s:%d" % (dest_ip(k), self.port), "4096"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                start_new_session=True)
            out.close()
            sa.started_pids.append(p.pid)
            self.procs.append(p)
        want = {(dest_ip(k), self.port) for k in range(1, self.ndest + 1)}
        deadline = time.monotonic() + 20
        while listening(want) != want:
            if time.monotonic() > deadline or any(p.poll() is not None
                                                  for p in self.procs):
                raise sa.BenchError("smtp-sink did not start on all of %d "
                                    "addresses (port %d)" % (self.ndest, self.port))
            time.sleep(0.05)

    def stop(self):
        """Stop them once the MTA has closed its connections (a sink counts
        a session when it ends); returns (sessions, messages) summed over
        the sinks."""
        deadline = time.monotonic() + 15
        while connections_to(self.port) and time.monotonic() < deadline:
            time.sleep(0.2)
        if connections_to(self.port):
            log("%d connections to the sinks still open after 15 s"
                % connections_to(self.port))
        for p in self.procs:
            sa.stop_pid(p.pid, grace=5)
            sa.started_pids.remove(p.pid)
        sess = mesg = 0
        for k in range(1, self.ndest + 1):
            with open(os.path.join(self.dir, "%d.out" % k), "rb") as f:
                last = re.findall(rb"sess=(\d+) quit=\d+ mesg=(\d+)", f.read())
            if last:
                sess += int(last[-1][0])
                mesg += int(last[-1][1])
        self.procs = []
        return sess, mesg


def fill(port, ndest, login):
    """Send MESSAGES messages over FILL_SESSIONS connections; returns the
    number the server accepted."""
    ok = [0] * FILL_SESSIONS
    errors = []

    def session(s):
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as c:
                c.ehlo("fill.bench.src")
                if login:
                    ctx = ssl.create_default_context()
                    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
                    c.starttls(context=ctx)
                    c.ehlo("fill.bench.src")
                    c.login(SENDER, PASSWORD)
                for i in range(s, MESSAGES, FILL_SESSIONS):
                    to = rcpt(i, ndest)
                    c.sendmail(SENDER, [to], message(i, to))
                    ok[s] += 1
        except (OSError, smtplib.SMTPException) as e:
            errors.append("session %d: %r" % (s, e))

    threads = [threading.Thread(target=session, args=(s,), daemon=True)
               for s in range(FILL_SESSIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(FILL_TIMEOUT)
    if errors:
        log("fill errors: %s" % "; ".join(errors[:5]))
    return sum(ok)


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise sa.BenchError("timed out after %.0f s waiting for %s"
                                % (timeout, what))
        time.sleep(0.1)


# ---------------------------------------------------------------- Postfix

POSTFIX_MAIN_CF = """\
# Private benchmark instance: relays dK.bench to smtp:[127.0.1.k]:port
# (transport_maps, no DNS).  Everything not set here is Postfix's default,
# among them default_destination_concurrency_limit = 20,
# default_process_limit = 100 and smtp_connection_cache_on_demand = yes.
compatibility_level = 3.6
queue_directory = {spool}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.bench.invalid
smtpd_banner = $myhostname ESMTP
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
transport_maps = texthash:{etc}/transport
defer_transports = smtp
maillog_file = {base}/maillog
maillog_file_prefixes = {base}
"""


class Postfix:
    name = "Postfix"

    def __init__(self, root, ndest, sink_port):
        self.base = os.path.join(root, "postfix-%d" % ndest)
        self.etc = os.path.join(self.base, "etc")
        self.spool = os.path.join(self.base, "spool")
        self.data = os.path.join(self.base, "data")
        self.ndest, self.sink_port = ndest, sink_port
        self.port, self.master = sa.free_port(), None

    def start(self):
        for d in (self.base, self.etc, self.spool):
            os.makedirs(d, mode=0o755, exist_ok=True)
        os.makedirs(self.data, mode=0o700, exist_ok=True)
        pf = pwd.getpwnam("postfix")
        os.chown(self.data, pf.pw_uid, pf.pw_gid)
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(POSTFIX_MAIN_CF.format(spool=self.spool, data=self.data,
                                           etc=self.etc, base=self.base))
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(sa.POSTFIX_MASTER_CF.format(port=self.port))
        with open(os.path.join(self.etc, "transport"), "w") as f:
            for k in range(1, self.ndest + 1):
                f.write("d%d.bench smtp:[%s]:%d\n"
                        % (k, dest_ip(k), self.sink_port))
        for cmd in (["check"], ["start"]):
            r = sa.run(["postfix", "-c", self.etc] + cmd, timeout=60)
            if r.returncode != 0:
                raise sa.BenchError("postfix %s: %s%s"
                                    % (cmd[0], r.stdout, r.stderr))
        sa.postfix_dirs.append(self.etc)
        wait_for(lambda: sa.postfix_master_pid(self.etc), 20, "master.pid")
        self.master = sa.postfix_master_pid(self.etc)
        sa.wait_banner(self.port, 30)

    def fill(self):
        return fill(self.port, self.ndest, login=False)

    def queued(self):
        return sum(count_files(os.path.join(self.spool, q)) for q in
                   ("maildrop", "incoming", "active", "deferred", "hold"))

    def wait_ready(self, n):
        """Every accepted message is in deferred/ (deferred transport)."""
        wait_for(lambda: count_files(os.path.join(self.spool, "deferred")) >= n,
                 60, "%d messages in Postfix's deferred queue" % n)

    def release(self):
        for cmd in (["postconf", "-c", self.etc, "-e", "defer_transports ="],
                    ["postfix", "-c", self.etc, "reload"],
                    ["postqueue", "-c", self.etc, "-f"]):
            r = sa.run(cmd, timeout=60)
            if r.returncode != 0:
                raise sa.BenchError("%s: %s" % (" ".join(cmd), r.stderr))

    def sent(self):
        with open(os.path.join(self.base, "maillog"), errors="replace") as f:
            return sum(1 for line in f if " status=sent " in line)

    def stop(self):
        sa.stop_postfix(self.etc)


# ---------------------------------------------------------------- yubin

YUBIN_CONF = """\
# yubin delivery benchmark instance (bench/delivery.py); delivery settings
# other than the port are yubin's defaults.
hostname = "yubin.bench.invalid";
data_dir = "{data}";
user = "nobody";
log = "stderr";
domains = [ "bench.src" ];
tls: {{ cert = "{base}/cert.pem"; key = "{base}/key.pem"; }};
listeners = ( {{ role = "submission"; address = "127.0.0.1"; port = {port}; }} );
dns: {{ resolver = "{dns}"; }};
delivery: {{ port = {sink_port}; }};
"""


class Yubin:
    name = "yubin"

    def __init__(self, root, ndest, sink_port, dns, name=None, conf=YUBIN_CONF, **more):
        """name: of its directory (default the destination count); conf,
        more: another configuration and its further fields (bench/dane.py)."""
        self.base = os.path.join(root, "yubin-%s" % (name or ndest))
        self.conf = os.path.join(self.base, "yubin.conf")
        self.logfile = os.path.join(self.base, "yubin.log")
        self.active = os.path.join(self.base, "data", "queue", "active")
        self.ndest, self.port = ndest, sa.free_port()
        self.proc = self.master = None
        os.makedirs(self.base, mode=0o755)
        with open(self.conf, "w") as f:
            f.write(conf.format(data=os.path.join(self.base, "data"),
                                base=self.base, port=self.port,
                                dns=dns.resolver_spec,
                                sink_port=sink_port, **more))

    def cli(self, *args, **kw):
        r = sa.run([YUBIN_BIN, "--config", self.conf] + list(args), **kw)
        if r.returncode != 0:
            raise sa.BenchError("yubin %s: %s%s" % (" ".join(args), r.stdout,
                                                   r.stderr))
        return r

    def start(self):
        r = sa.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
                    "-keyout", os.path.join(self.base, "key.pem"),
                    "-out", os.path.join(self.base, "cert.pem"),
                    "-subj", "/CN=yubin.bench.invalid"], timeout=60)
        if r.returncode != 0:
            raise sa.BenchError("openssl: %s" % r.stderr)
        self.cli("user", "add", SENDER, "--password-stdin",
                 input=PASSWORD + "\n", timeout=60)
        with open(self.logfile, "ab") as logf:
            self.proc = subprocess.Popen(
                [YUBIN_BIN, "--config", self.conf, "serve"],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                start_new_session=True)
        sa.started_pids.append(self.proc.pid)
        self.master = self.proc.pid
        sa.wait_banner(self.port, 30, alive=lambda: self.proc.poll() is None)

    def fill(self):
        return fill(self.port, self.ndest, login=True)

    def log_count(self, pattern):
        with open(self.logfile, errors="replace") as f:
            return sum(1 for line in f if pattern in line)

    def queued(self):
        return sa.count_dir(self.active)

    def wait_ready(self, n):
        """Every accepted message has had its first (failed) attempt, and
        nothing is in flight: the log has been quiet for a second."""
        wait_for(lambda: self.log_count(" result=deferred ") >= n, 60,
                 "%d first attempts to be deferred" % n)
        size = -1
        while size != os.path.getsize(self.logfile):
            size = os.path.getsize(self.logfile)
            time.sleep(1)
        extra = self.log_count(" result=deferred ") - n
        if extra:
            log("yubin: %d messages were retried during the fill (it took "
                "longer than delivery.retry's first 60 s)" % extra)

    def release(self):
        self.cli("queue", "flush", timeout=60)

    def sent(self):
        return self.log_count(" result=sent ")

    def stop(self):
        if self.proc is not None:
            sa.stop_pid(self.proc.pid)
            sa.started_pids.remove(self.proc.pid)


# ---------------------------------------------------------------- a row

def drain(mta, queued):
    """Release the queue and wait until it is empty (or stuck).  Returns
    (seconds, messages left, seconds until the first message was gone)."""
    t0 = time.monotonic()
    mta.release()
    last_n, last_change, first = None, t0, None
    while True:
        n, now = mta.queued(), time.monotonic()
        if first is None and n < queued:
            first = now - t0
        if n == 0:
            return now - t0, 0, first
        if n != last_n:
            last_n, last_change = n, now
        if now - t0 > DRAIN_TIMEOUT or now - last_change > STALL_TIMEOUT:
            log("%s: %d messages still queued after %.0f s (no progress for "
                "%.0f s)" % (mta.name, n, now - t0, now - last_change))
            return last_change - t0, n, first
        time.sleep(0.05)


def run_row(kind, ndest, root, dns):
    sink_port = sa.free_port()
    mta = (Postfix(root, ndest, sink_port) if kind == "postfix"
           else Yubin(root, ndest, sink_port, dns))
    sinks = Sinks(root, ndest, sink_port)
    mta.start()
    try:
        t = time.monotonic()
        accepted = mta.fill()
        fill_s = time.monotonic() - t
        mta.wait_ready(accepted)
        log("%s, %d destinations: %d/%d messages queued in %.1f s (%.0f/s)"
            % (mta.name, ndest, accepted, MESSAGES, fill_s, accepted / fill_s))
        sinks.start()
        sampler = Sampler(mta.master, sink_port)
        sampler.start()
        cpu0, mach0 = sa.tree_cpu_seconds(mta.master), sa.machine_cpu()
        secs, left, first = drain(mta, mta.queued())
        cpu1, mach1 = sa.tree_cpu_seconds(mta.master), sa.machine_cpu()
        sampler.stop()
        sessions, received = sinks.stop()
        r = {"server": mta.name, "dest": ndest, "accepted": accepted,
             "secs": secs, "left": left, "first": first or 0, "sent": mta.sent(),
             "received": received, "sessions": sessions,
             "rate": (accepted - left) / secs if secs > 0 else None,
             "pss": sampler.peak_pss, "rss": sampler.peak_rss,
             "procs": sampler.peak_procs, "conns": sampler.peak_conns,
             "cpu": sum(cpu1) - sum(cpu0),
             "busy": 100.0 * (mach1[0] - mach0[0]) / max(1, mach1[1] - mach0[1])}
        log("%(server)s, %(dest)d destinations: %(rate).0f msgs/s, drained in "
            "%(secs).1f s (first message gone after %(first).2f s), %(left)d left, %(sent)d sent per log, sinks got "
            "%(received)d messages in %(sessions)d sessions, at most %(conns)d connections open, peak PSS "
            "%(pss)d KiB (RSS %(rss)d KiB, %(procs)d processes), CPU "
            "%(cpu).1f s, machine %(busy).0f%% busy" % r)
        return r
    finally:
        for p in list(sinks.procs):
            sa.stop_pid(p.pid, grace=5)
        mta.stop()


# ---------------------------------------------------------------- report

def table(results):
    by = {(r["server"], r["dest"]): r for r in results}
    out = ["| destinations | yubin msgs/s | Postfix msgs/s | ratio yubin/Postfix "
           "| yubin peak PSS MiB | Postfix peak PSS MiB (sum, max processes) "
           "| ratio yubin/Postfix (PSS) | yubin / Postfix CPU ms/msg "
           "| connections in all (yubin / Postfix) "
           "| connections open at most (yubin / Postfix) "
           "| first message gone after s (yubin / Postfix) |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for d in DESTINATIONS:
        y, p = by.get(("yubin", d), {}), by.get(("Postfix", d), {})

        def rate(r):
            if not r:
                return "—"
            s = "%.0f" % r["rate"]
            if r["left"]:
                s += " (%d of %d left after %.0f s)" % (r["left"], r["accepted"],
                                                        r["secs"])
            return s

        def first(r):
            return "%.2f" % r["first"] if r else "—"

        def ms(r):
            return "%.2f" % (1000 * r["cpu"] / r["accepted"]) if r else "—"

        out.append("| %d | %s | %s | %s | %s | %s | %s | %s / %s | %s / %s "
                   "| %s / %s | %s / %s |" % (
            d, rate(y), rate(p),
            sa.fmt_ratio(y.get("rate"), p.get("rate")),
            sa.fmt_mib(y.get("pss")),
            "%s (%s)" % (sa.fmt_mib(p.get("pss")), p.get("procs", "—")),
            sa.fmt_ratio(y.get("pss"), p.get("pss")), ms(y), ms(p),
            y.get("sessions", "—"), p.get("sessions", "—"),
            y.get("conns", "—"), p.get("conns", "—"), first(y), first(p)))
    return "\n".join(out)


def section(results, info, problems):
    lines = [
        BEGIN,
        "Run %s with `bench/delivery.sh`: %d messages of %d bytes each (headers "
        "included), one recipient each, spread evenly over the domains d1.bench "
        "… dN.bench; each domain is its own destination, a Postfix `smtp-sink` "
        "on its own loopback address 127.0.1.k (one sink per address, all on one "
        "port, `-m 1000` connections, backlog 4096). For each MTA and "
        "destination count, on a fresh instance: the queue is filled over %d "
        "SMTP sessions while delivery cannot happen, then released, and the "
        "time until the queue is empty is measured. msgs/s = messages / (release "
        "→ queue directory empty)."
        % (info["date"], MESSAGES, SIZE, FILL_SESSIONS),
        "",
        "- Machine: %s, %s cores, %s, kernel %s" % (
            info["cpu"], info["cores"], info["os"], info["kernel"]),
        "- Disk (queues): %s; one thread writing 4 KiB files with fsync + "
        "rename + directory fsync: %s per second before the run"
        % (info["fs"], info["fsync_rate"]),
        "- Postfix %s (Debian package), yubin commit %s (release build)"
        % (info["postfix"], info["commit"]),
        "",
        table(results),
        "",
        "Memory: sampled every %.2f s between release and empty queue; at each "
        "sample the PSS (`/proc/PID/smaps_rollup`) of every process of the MTA "
        "is summed (for Postfix every descendant of its master: qmgr, the smtp "
        "clients, trivial-rewrite, scache, ...), and the table shows the largest "
        "sum. CPU: user + system time of the MTA's processes (including reaped "
        "children) over the same interval, per message. Connections in all: SMTP "
        "sessions the sinks counted (smtp-sink `-c`, read after the MTA closed "
        "its cached connections), so messages per connection = messages / "
        "connections. Connections open at most: the largest number of sockets "
        "connected or connecting to the sinks' port (ESTABLISHED or SYN_SENT in "
        "`/proc/net/tcp`) at any sample. First message gone: release → the first queue file "
        "removed (for Postfix this includes its `postfix reload`)." % sa.SAMPLE_INTERVAL,
        "",
        "yubin: `yubin serve` with a `submission` listener (the queue is filled "
        "over STARTTLS + AUTH as sender@bench.src), `dns.resolver` = "
        "tests/e2e/dnsserver.py in the benchmark process (MX dK.bench → "
        "mx.dK.bench, A 127.0.1.k, TTL 1 h, so the resolver's cache answers "
        "after the fill), `delivery.port` = the sinks' port, every other "
        "delivery setting at its default. Filled while the sinks were not yet "
        "listening, so each message's first attempt was deferred (connection "
        "refused); released with `yubin queue flush`; the queue is empty when "
        "`data_dir/queue/active/` is.",
        "",
        "Postfix: a private instance (`postfix -c DIR start`, own queue, chroot "
        "off, smtpd on 127.0.0.1), `transport_maps` sending dK.bench to "
        "`smtp:[127.0.1.k]:PORT` (no DNS), filled with `defer_transports = smtp`, "
        "released with `postconf -e defer_transports=`, `postfix reload` and "
        "`postqueue -f`; the queue is empty when no file is left in maildrop, "
        "incoming, active, deferred and hold. Every other parameter is Postfix's "
        "default: `default_destination_concurrency_limit = 20` (starting at "
        "`initial_destination_concurrency = 5`), `default_process_limit = 100` "
        "smtp clients in all, connection reuse on demand "
        "(`smtp_connection_cache_on_demand = yes`).",
    ]
    if problems:
        lines += ["", "Problems seen in this run:", ""] + ["- " + p for p in problems]
    lines.append(END)
    return "\n".join(lines)


def write_docs(text):
    sa.write_generated(SECTION, BEGIN, END, text)


def main():
    atexit.register(sa.cleanup)
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, sa.on_signal)
    if os.geteuid() != 0:
        raise sa.BenchError("run as root (Postfix, smtp-sink, yubin's user)")
    for tool in ("postfix", "postconf", "postqueue", "smtp-sink", "openssl"):
        if not shutil.which(tool):
            raise sa.BenchError("%s not found" % tool)
    if "yubin" in SERVERS and not os.access(YUBIN_BIN, os.X_OK):
        raise sa.BenchError("%s is not built" % YUBIN_BIN)
    if max(DESTINATIONS) > 254 * 254:
        raise sa.BenchError("at most %d destinations" % (254 * 254))
    sa.tmp_root = root = tempfile.mkdtemp(prefix="yubin-delivery-")
    os.chmod(root, 0o755)
    dns = BenchDNS(ttl=3600).start()
    for k in range(1, max(DESTINATIONS) + 1):
        dns.mx("d%d.bench" % k, (10, "mx.d%d.bench" % k))
        dns.a("mx.d%d.bench" % k, dest_ip(k))
    log("%d messages of %d bytes, destinations %s, servers %s, in %s"
        % (MESSAGES, SIZE, DESTINATIONS, SERVERS, root))
    info = sa.machine_info(root)
    results, problems = [], []
    for i, ndest in enumerate(DESTINATIONS):
        order = SERVERS if i % 2 == 0 else SERVERS[::-1]
        for kind in order:
            try:
                r = run_row(kind, ndest, root, dns)
            except sa.BenchError as e:
                problems.append("%s, %d destinations: %s" % (kind, ndest, e))
                log(problems[-1])
                continue
            results.append(r)
            if r["left"] or r["sent"] != r["accepted"] or r["received"] != r["accepted"]:
                problems.append(
                    "%s, %d destinations: %d accepted, %d left in the queue, "
                    "%d logged as sent, %d received by the sinks"
                    % (r["server"], ndest, r["accepted"], r["left"], r["sent"],
                       r["received"]))
    dns.stop()
    text = section(results, info, problems)
    print("\n" + text)
    if WRITE_DOCS:
        write_docs(text)
    return 1 if problems else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except sa.BenchError as e:
        log("error: %s" % e)
        sys.exit(2)
