#!/usr/bin/python3
"""HTTP sending API benchmark for issue 12 (run through bench/api.sh).

Messages accepted per second by one yubin, in the same run, through:
  * api        POST /v1/messages (JSON: from, to, subject, 4 KiB of text)
               with wrk (Debian), keep-alive, 50 connections, a Bearer key
               (bench/api_post.lua); only 2xx answers count
  * smtp-data  SMTP submission on port 587 with STARTTLS and AUTH PLAIN
               once per session, then message after message: MAIL, RCPT
               and DATA pipelined, the message after the 354
               (bench/smtp_submit_load.c, 50 sessions)
  * smtp-bdat  the same with MAIL, RCPT and BDAT LAST and the message in
               one write (CHUNKING, RFC 3030): one round trip per message,
               like one HTTP request
The same 4 KiB message body goes through each; every message is for one
local mailbox, so local delivery runs during every row alike.  Rows run in
turn (api, smtp-data, smtp-bdat, then backwards) for REPEAT rounds; the
table shows the median of each.  Every row gets a fresh server on a fresh
filesystem (FS=image, the default as root: a new ext4 image with its
journal, loop-mounted, as a mail server's disk would be), so that no row
inherits another's full mailbox or the deleted inodes of its spool: on a
filesystem shared by all rows the later rows ran slower whatever they were.
Each row starts with WARMUP_SECONDS of the same load, not counted, and ends
when every message it was answered for is in the mailbox.  Server CPU per message is the server
process's user + system time over the row (/proc/PID/stat) divided by the
messages accepted; machine CPU per message is the same for the busy time of
every core (/proc/stat), so it counts the client and the kernel's file
system work too.  The ratios are given both as the ratio of the medians and
round by round (each API row against the SMTP row of the same round).  The SMTP sessions log in (a password hash each) before
the clock and the CPU sample start; wrk's 50 TLS handshakes are inside its
row (they are cheap next to a password hash).  See bench/api.sh for the environment overrides.
"""

import atexit
import datetime
import json
import os
import platform
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import smtp_accept as sa
from freshfs import FS, FreshFs

REPO = sa.REPO
SECTION = "## HTTP sending API (issue 12)"
BEGIN, END = ("<!-- bench/api.sh: generated, begin -->",
              "<!-- bench/api.sh: generated, end -->")

SECONDS = float(os.environ.get("SECONDS_PER_ROW", "15"))
CONNECTIONS = int(os.environ.get("CONNECTIONS", "50"))
MAX_MESSAGES = int(os.environ.get("MAX_MESSAGES", "200000"))
SIZE = int(os.environ.get("SIZE", "4096"))
REPEAT = max(1, int(os.environ.get("REPEAT", "3")))
ROWS = os.environ.get("ROWS", "api api-noquota smtp-data smtp-bdat").split()
WARMUP_SECONDS = float(os.environ.get("WARMUP_SECONDS", "3"))
WRITE_DOCS = os.environ.get("WRITE_DOCS", "auto")
DELIVERY_TIMEOUT = float(os.environ.get("DELIVERY_TIMEOUT", "300"))
SENDER, RCPT, PASSWORD = "sender@bench.test", "sink@bench.test", "bench-password"
HERE = os.path.dirname(os.path.abspath(__file__))

# smtp_accept.py's instance, with submission (STARTTLS + AUTH) and https
# in place of its port-25 listener
SMTP_LISTENER = '  {{ role = "smtp"; address = "127.0.0.1"; port = {port}; }}'
assert SMTP_LISTENER in sa.YUBIN_CONF
CONF = sa.YUBIN_CONF.replace(SMTP_LISTENER, (
    '  {{ role = "submission"; address = "127.0.0.1"; port = {port}; }},\n'
    '  {{ role = "https"; address = "127.0.0.1"; port = {https}; }}'))
# EXTRA_CONF: settings appended to the instance's configuration (braces
# doubled), to try a setting on both paths alike
CONF += os.environ.get("EXTRA_CONF", "")


def body_text():
    """SIZE bytes of printable text in lines of 72 (+ LF)."""
    line = "The quick brown fox jumps over the lazy dog; 0123456789 abcdefghijklmn\n"
    text = (line * (SIZE // len(line) + 1))[:SIZE - 1] + "\n"
    return text


def message_file(tmp, text):
    hdr = ("From: <%s>\nTo: <%s>\nSubject: bench message\n"
           "Date: Sun, 06 Dec 2026 10:00:00 +0000\nMessage-ID: <bench@client.test>\n"
           "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n" % (SENDER, RCPT))
    p = os.path.join(tmp, "message.txt")
    with open(p, "w") as f:
        f.write(hdr + text)
    return p


def json_file(tmp, text):
    p = os.path.join(tmp, "message.json")
    with open(p, "w") as f:
        json.dump({"from": SENDER, "to": [RCPT], "subject": "bench message", "text": text}, f)
    return p


def cpu_seconds(pid, tid=None):
    """User + system seconds of the process (or of its thread tid)."""
    path = "/proc/%d/stat" % pid if tid is None else "/proc/%d/task/%d/stat" % (pid, tid)
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


def count_mail(maildir):
    n = 0
    for sub in ("new", "cur"):
        try:
            n += len(os.listdir(os.path.join(maildir, sub)))
        except FileNotFoundError:
            pass
    return n


class Server(sa.Yubin):
    """smtp_accept.py's yubin (start, stop, log) with a submission and an
    https listener, two accounts and an API key."""

    def __init__(self, tmp, binary):
        super().__init__(tmp, binary)
        self.keys = {}

    def cli(self, *args, input=None):
        r = sa.run([self.bin, "--config", self.conf] + list(args), input=input, timeout=60)
        if r.returncode != 0:
            raise sa.BenchError("yubin %s failed (rc %d):\n%s%s"
                                % (" ".join(args[:2]), r.returncode, r.stdout, r.stderr))
        return r.stdout

    def setup(self):
        cert, key = sa.make_cert(self.base)
        self.port, self.https = sa.free_port(), sa.free_port()  # port: submission
        user_line = 'user = "nobody";' if os.geteuid() == 0 else ""
        with open(self.conf, "w") as f:
            f.write(CONF.format(data=self.data, user_line=user_line, cert=cert, key=key,
                                port=self.port, https=self.https))
        self.cli("config", "check")
        for addr in (SENDER, RCPT):
            self.cli("user", "add", addr, "--password-stdin", input=PASSWORD + "\n")
        # api: a key with a daily quota (counted durably for each message);
        # api-noquota: one without
        for row, extra in (("api", ["--daily", "1000000000"]), ("api-noquota", [])):
            if row not in ROWS:
                continue
            out = self.cli("apikey", "add", row, "--domain", "bench.test", "--rate", "1000000", *extra)
            keys = [l.strip() for l in out.splitlines() if l.strip() and " " not in l.strip()]
            if not keys:
                raise sa.BenchError("no key in the output of yubin apikey add: %r" % out)
            self.keys[row] = keys[-1]


def run_smtp(srv, loader, msgfile, mode, seconds, limit, on_ready):
    """The loader logs every session in, says "ready", and starts on our
    line: on_ready() runs in between (the CPU sample)."""
    cmd = [loader, "127.0.0.1", str(srv.port), SENDER, PASSWORD, SENDER, RCPT,
           str(CONNECTIONS), str(limit), str(seconds), msgfile, mode]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    sa.started_pids.append(p.pid)
    try:
        ready, _, _ = select.select([p.stdout], [], [], 120)
        line = p.stdout.readline() if ready else ""
        if line.strip() != "ready":
            p.kill()
            raise sa.BenchError("smtp_submit_load did not get ready: %r %s" % (line, p.stderr.read()[-2000:]))
        on_ready()
        out, err = p.communicate("go\n", timeout=seconds + 120)
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        sa.started_pids.remove(p.pid)
    m = re.search(r"accepted=(\d+) failed=(\d+) seconds=([\d.]+)", out)
    if m is None:
        raise sa.BenchError("smtp_submit_load said nothing useful (rc %d): %s%s"
                            % (p.returncode, out, err[-2000:]))
    return {"accepted": int(m.group(1)), "failed": int(m.group(2)), "seconds": float(m.group(3)),
            "problem": (err.strip().splitlines() or [None])[0] if p.returncode else None}


def run_api(srv, jsonfile, seconds, key):
    env = dict(os.environ, API_BODY=jsonfile, API_KEY=key)
    cmd = ["wrk", "-t2", "-c%d" % CONNECTIONS, "-d%ds" % max(1, int(seconds)), "--timeout", "10s",
           "-s", os.path.join(HERE, "api_post.lua"), "https://127.0.0.1:%d/v1/messages" % srv.https]
    r = sa.run(cmd, timeout=seconds + 120, env=env)
    answers = re.search(r"^answers (\d+)$", r.stdout, re.M)
    refused = re.search(r"^status_errors (\d+)$", r.stdout, re.M)
    dur = re.search(r"^duration_us (\d+)$", r.stdout, re.M)
    if r.returncode != 0 or dur is None or answers is None or refused is None:
        raise sa.BenchError("wrk failed (rc %d): %s%s" % (r.returncode, r.stdout, r.stderr))
    ok = int(answers.group(1)) - int(refused.group(1))
    bad = {"4xx/5xx": int(refused.group(1))} if int(refused.group(1)) else {}
    errors = re.search(r"Socket errors: (.*)", r.stdout)
    p50 = re.search(r"^latency_p50_us (\d+)$", r.stdout, re.M)
    p99 = re.search(r"^latency_p99_us (\d+)$", r.stdout, re.M)
    return {"accepted": ok, "failed": sum(bad.values()), "seconds": int(dur.group(1)) / 1e6,
            "problem": ("answers %s" % bad if bad else None) or (errors.group(1) if errors else None),
            "p50_ms": int(p50.group(1)) / 1000 if p50 else None,
            "p99_ms": int(p99.group(1)) / 1000 if p99 else None}


def measure(srv, row, loader, msgfile, jsonfile, seconds=SECONDS):
    pid = srv.proc.pid
    def sample():   # the server, its event loop (main thread), the machine
        return [cpu_seconds(pid), cpu_seconds(pid, pid), sa.machine_busy_seconds()]
    cpu0 = sample()
    if row.startswith("api"):
        r = run_api(srv, jsonfile, seconds, srv.keys[row])
    else:
        def ready():
            cpu0[:] = sample()
        r = run_smtp(srv, loader, msgfile, row.split("-")[1], seconds, MAX_MESSAGES, ready)
    cpu1 = sample()
    cpu, loop, busy = (b - a for a, b in zip(cpu0, cpu1))
    r["machine_us"] = busy * 1e6 / r["accepted"] if r["accepted"] else None
    r["loop_us"] = loop * 1e6 / r["accepted"] if r["accepted"] else None
    r["loop_share"] = loop / r["seconds"] if r["seconds"] > 0 else 0
    r["row"] = row
    r["rate"] = r["accepted"] / r["seconds"] if r["seconds"] > 0 else 0
    r["cpu_us"] = cpu * 1e6 / r["accepted"] if r["accepted"] else None
    sa.log("%-9s accepted %6d in %6.2f s = %7.1f msg/s, %s us CPU/msg (loop %s, busy %.0f%%; machine %s)%s"
           % (row, r["accepted"], r["seconds"], r["rate"],
              "%.0f" % r["cpu_us"] if r["cpu_us"] else "-",
              "%.0f" % r["loop_us"] if r["loop_us"] else "-", 100 * r["loop_share"],
              "%.0f" % r["machine_us"] if r["machine_us"] else "-",
              ", problem: %s" % r["problem"] if r["problem"] else ""))
    return r


def build_loader(tmp):
    out = os.path.join(tmp, "smtp_submit_load")
    r = sa.run(["cc", "-O2", "-Wall", "-Wextra", "-o", out, os.path.join(HERE, "smtp_submit_load.c"),
                "-lssl", "-lcrypto", "-lpthread"], timeout=120)
    if r.returncode != 0:
        raise sa.BenchError("cannot build bench/smtp_submit_load.c: %s" % r.stderr)
    return out


def table(results, info):
    rows = {}
    for r in results:
        rows.setdefault(r["row"], []).append(r)
    med = {k: statistics.median(x["rate"] for x in v) for k, v in rows.items()}
    label = {
        "api": "HTTPS API, POST /v1/messages (wrk, keep-alive), key with a daily quota",
        "api-noquota": "HTTPS API, POST /v1/messages (wrk, keep-alive), key without a daily quota",
        "smtp-data": "SMTP submission, STARTTLS + AUTH once, pipelined MAIL/RCPT/DATA",
        "smtp-bdat": "SMTP submission, STARTTLS + AUTH once, pipelined MAIL/RCPT/BDAT LAST",
    }
    out = [BEGIN, "",
           "Run %s on %s (%s cores), %s, commit %s. %d connections or sessions, "
           "%d-byte message text, %.0f s per row after %.0f s of warm-up, %d rounds (rows in turn), "
           "each row on a fresh server and %s; median of the rounds, every round in the last column."
           % (info["date"], info["cpu"], info["cores"], info["kernel"], info["commit"],
              CONNECTIONS, SIZE, SECONDS, WARMUP_SECONDS, REPEAT,
              "a fresh ext4 image (journal, loop-mounted)" if FS == "image" else "a fresh directory in /tmp"), "",
           "| path | accepted msg/s (median) | server CPU µs/msg (median) | of which the event loop | loop busy "
           "| machine CPU µs/msg (median) | every round (msg/s) |",
           "|---|---:|---:|---:|---:|---:|---|"]
    for k in ROWS:
        if k not in rows:
            continue
        cpus = [x["cpu_us"] for x in rows[k] if x["cpu_us"]]
        loops = [x["loop_us"] for x in rows[k] if x["loop_us"]]
        busy = [x["machine_us"] for x in rows[k] if x["machine_us"]]
        out.append("| %s | %.0f | %s | %s | %.0f %% | %s | %s |" % (
            label[k], med[k], "%.0f" % statistics.median(cpus) if cpus else "-",
            "%.0f" % statistics.median(loops) if loops else "-",
            100 * statistics.median(x["loop_share"] for x in rows[k]),
            "%.0f" % statistics.median(busy) if busy else "-",
            ", ".join("%.0f" % x["rate"] for x in rows[k])))
    out.append("")
    for a in ("api", "api-noquota"):
        if a not in med:
            continue
        for k in ("smtp-data", "smtp-bdat"):
            if k in med and med[k] > 0:
                # also row against row within each round: neighbours in time
                # share the machine's slow and fast spells
                pairs = sorted(x["rate"] / y["rate"] for x, y in zip(rows[a], rows[k]) if y["rate"] > 0)
                out.append("- %s / %s: **%.2f** (target: at least 1); round by round: median %.2f, %s"
                           % (a, k, med[a] / med[k], statistics.median(pairs),
                              ", ".join("%.2f" % q for q in pairs)))
        lat = [x for x in rows[a] if x.get("p50_ms")]
        if lat:
            out.append("- %s latency per request (wrk, median round): p50 %.1f ms, p99 %.1f ms"
                       % (a, statistics.median(x["p50_ms"] for x in lat),
                          statistics.median(x["p99_ms"] for x in lat)))
    problems = [("%s: %s" % (r["row"], r["problem"])) for r in results if r["problem"]]
    if problems:
        out.append("- problems: " + "; ".join(problems))
    out.append("- delivered: %s" % info["delivered"])
    out += ["", END]
    return "\n".join(out)


def machine():
    cpu = sa.cpu_model()
    c = sa.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "commit": c.stdout.strip() if c.returncode == 0 else "?",
            "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")}


def row_server(tmp, n, binary):
    fs = FreshFs(tmp, n)
    srv = Server(fs.point, binary)
    try:
        os.chmod(fs.point, 0o755)
        srv.setup()
        srv.start()
    except BaseException:
        srv.stop()
        fs.close()
        raise
    return srv, fs


def wait_delivered(srv, accepted):
    """Wait until the mailbox holds every message answered for (or no
    progress for 30 s, or DELIVERY_TIMEOUT); the count in the mailbox."""
    t0, last, last_t = time.monotonic(), -1, time.monotonic()
    while True:
        n = count_mail(srv.maildir)
        if n >= accepted:
            return n
        if n != last:
            last, last_t = n, time.monotonic()
        if time.monotonic() - last_t > 30 or time.monotonic() - t0 > DELIVERY_TIMEOUT:
            return n
        time.sleep(0.5)


def run_row(tmp, n, binary, row, loader, msgfile, jsonfile):
    """One measured row on its own server and filesystem."""
    srv, fs = row_server(tmp, n, binary)
    try:
        if row.startswith("api"):
            sa.log("https on port %d" % srv.https)
        warm = measure(srv, row, loader, msgfile, jsonfile, seconds=WARMUP_SECONDS)
        r = measure(srv, row, loader, msgfile, jsonfile)
        # wrk stops counting at its deadline: requests in flight then are
        # taken by the server but not counted, so the mailbox may hold a few more
        r["expected"] = warm["accepted"] + r["accepted"]
        r["delivered"] = wait_delivered(srv, r["expected"])
        if r["delivered"] < r["expected"] and not r["problem"]:
            r["problem"] = "%d of %d messages reached the mailbox" % (r["delivered"], r["expected"])
    finally:
        srv.stop()
        if sa.KEEP_TMP and os.path.exists(srv.logfile):
            shutil.copy(srv.logfile, os.path.join(tmp, "yubin-row%d.log" % n))
        fs.close()
    return r


def main():
    for tool in ("wrk", "openssl", "cc"):
        if tool == "wrk" and not any(r.startswith("api") for r in ROWS):
            continue
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            raise sa.BenchError("%s is not installed (scripts/install-deps)" % tool)
    binary = os.environ.get("YUBIN_BIN") or os.path.join(REPO, "build-release", "yubin")
    tmp = tempfile.mkdtemp(prefix="yubin-bench-api-", dir="/tmp")
    os.chmod(tmp, 0o755)  # the service user reaches its data_dir through it
    sa.tmp_root = tmp
    atexit.register(FreshFs.close_all)  # runs after sa.cleanup has stopped the servers
    atexit.register(sa.cleanup)
    signal.signal(signal.SIGTERM, sa.on_signal)
    signal.signal(signal.SIGINT, sa.on_signal)
    loader = build_loader(tmp)
    text = body_text()
    msgfile, jsonfile = message_file(tmp, text), json_file(tmp, text)
    results = []
    for rnd in range(REPEAT):
        order = ROWS if rnd % 2 == 0 else list(reversed(ROWS))
        for row in order:
            results.append(run_row(tmp, len(results), binary, row, loader, msgfile, jsonfile))
    info = machine()
    info["delivered"] = ("%d messages in the mailboxes at the end of the rows, for %d answered "
                         "(warm-up included; wrk does not count the requests in flight when it stops)"
                         % (sum(r["delivered"] for r in results), sum(r["expected"] for r in results)))
    text_out = table(results, info)
    print(text_out)
    clean = not any(r["problem"] for r in results)
    if WRITE_DOCS == "1" or (WRITE_DOCS == "auto" and clean):
        sa.write_generated(SECTION, BEGIN, END, text_out)
    return 0 if clean else 1


if __name__ == "__main__":
    sa.run_main(main)
