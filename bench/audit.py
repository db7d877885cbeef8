#!/usr/bin/python3
"""Audit-trail benchmark for issue 12 (run through bench/audit.sh).

The cost of the audit trail on SMTP acceptance: yubin from
smtp_accept.py (same configuration, same smtp-source load, same
measurement) with `audit: { enabled = true; }` against `enabled = false`.
Each row is measured REPEAT times, the two settings interleaved (on, off,
on, off, ...) so that drift of the machine hits both alike, and the
median accepted rate of each is compared.  With the trail on, every
message makes RECEIVED and DELIVERED records (chained by SHA-256, written
in batches by one thread); the run checks that audit.db holds them and
that `yubin audit verify` passes afterwards.
"""

import atexit
import os
import signal
import sqlite3
import statistics
import subprocess
import tempfile

import smtp_accept as sa

N = int(os.environ.get("N", "3000"))
SESSIONS = [int(s) for s in os.environ.get("SESSIONS", "10 50").split()]
MODES = os.environ.get("MODES", "reconnect persistent").split()
REPEAT = max(1, int(os.environ.get("REPEAT", "3")))
WRITE_DOCS = os.environ.get("WRITE_DOCS", "auto")
YUBIN_BIN = os.environ.get("YUBIN_BIN", os.path.join(sa.REPO, "build-release", "yubin"))
SECTION = "## Audit trail (issue 12)"
BEGIN, END = ("<!-- bench/audit.sh: generated, begin -->",
              "<!-- bench/audit.sh: generated, end -->")
TARGET_PCT = 10.0


BenchError = sa.BenchError


class Yubin(sa.Yubin):
    """smtp_accept.py's yubin with the audit trail on or off."""

    def __init__(self, root, binary, audit):
        super().__init__(os.path.join(root, "audit-" + ("on" if audit else "off")), binary)
        self.audit = audit
        self.name = "yubin"

    def setup(self):
        super().setup()
        with open(self.conf, "a") as f:
            f.write("# ---- bench/audit.py\naudit: { enabled = %s; };\n"
                    % ("true" if self.audit else "false"))
        r = sa.run([self.bin, "--config", self.conf, "config", "check"], timeout=30)
        if r.returncode != 0:
            raise BenchError("yubin config check failed:\n%s%s" % (r.stdout, r.stderr))

    def trail_counts(self):
        """(records, messages) in audit.db, or None without one."""
        path = os.path.join(self.data, "audit.db")
        if not os.path.exists(path):
            return None
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        try:
            return (db.execute("SELECT count(*) FROM records").fetchone()[0],
                    db.execute("SELECT count(*) FROM messages").fetchone()[0])
        finally:
            db.close()

    def verify(self):
        r = sa.run([self.bin, "--config", self.conf, "audit", "verify"], timeout=600)
        return r.returncode == 0, (r.stdout + r.stderr).strip()


def pct(on, off):
    return 100.0 * (off - on) / off if on and off else None


def main():
    atexit.register(sa.cleanup)
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, sa.on_signal)
    if not os.access(YUBIN_BIN, os.X_OK):
        raise BenchError("no yubin binary at %s" % YUBIN_BIN)
    if subprocess.run(["which", "smtp-source"], capture_output=True).returncode != 0:
        raise BenchError("smtp-source is missing: apt-get install postfix")
    sa.tmp_root = tempfile.mkdtemp(prefix="yubin-bench-audit-")
    os.chmod(sa.tmp_root, 0o755)
    root = sa.tmp_root
    sa.log("temporary directory %s; %d messages a run, sessions %s, modes %s, %d runs per setting"
           % (root, N, SESSIONS, MODES, REPEAT))
    info = sa.machine_info(root)
    servers = {True: Yubin(root, YUBIN_BIN, True), False: Yubin(root, YUBIN_BIN, False)}
    for s in servers.values():
        s.setup()
    rows, problems = [], []
    for sessions in SESSIONS:
        for mode in MODES:
            runs = {True: [], False: []}
            for i in range(REPEAT):
                for audit in (True, False):
                    r = sa.bench_row(servers[audit], sessions, mode, count=N)
                    p = sa.row_problem(r, "audit %s, %d sessions, %s, run %d"
                                       % ("on" if audit else "off", sessions, mode, i + 1))
                    if p:
                        problems.append(p)
                    runs[audit].append(r)
            on = sa.median_run(runs[True])
            off = sa.median_run(runs[False])
            cpu_on = statistics.median(r["cpu_s"] for r in runs[True]) / N * 1e6
            cpu_off = statistics.median(r["cpu_s"] for r in runs[False]) / N * 1e6
            rows.append({"sessions": sessions, "mode": mode, "on": on["accept_rate"],
                         "off": off["accept_rate"], "all_on": [r["accept_rate"] for r in runs[True]],
                         "all_off": [r["accept_rate"] for r in runs[False]],
                         "cpu_on": cpu_on, "cpu_off": cpu_off})
            sa.log("s=%d %s: audit on %s msgs/s, off %s msgs/s, cost %s %%"
                   % (sessions, mode, sa.fmt_rate(on["accept_rate"]), sa.fmt_rate(off["accept_rate"]),
                      "%.1f" % pct(on["accept_rate"], off["accept_rate"])
                      if pct(on["accept_rate"], off["accept_rate"]) is not None else "?"))
    counts = servers[True].trail_counts()
    ok, verdict = servers[True].verify()
    if not ok:
        problems.append("yubin audit verify failed after the runs: %s" % verdict)
    if servers[False].trail_counts() is not None:
        problems.append("audit.enabled = false still wrote audit.db")
    text = section_text(rows, info, counts, verdict, problems)
    sa.publish(text, WRITE_DOCS, not problems,
               lambda t: sa.write_generated(SECTION, BEGIN, END, t))
    return 1 if problems else 0


def section_text(rows, info, counts, verdict, problems):
    out = [BEGIN, ""]
    out.append("Measured %s on %s (%d cores), %s, commit %s; queue and audit.db on %s. "
               "smtp-source, %d messages of %d bytes a run, one recipient (a local Maildir); "
               "each row %d runs per setting, interleaved, the median shown."
               % (info["date"], info["cpu"], info["cores"], info["os"], info["commit"], info["fs"],
                  N, sa.SIZE, REPEAT))
    out.append("")
    out.append("| sessions | mode | audit off msgs/s | audit on msgs/s | cost | CPU µs/msg off → on | runs off / on |")
    out.append("|---:|---|---:|---:|---:|---|---|")
    for r in rows:
        c = pct(r["on"], r["off"])
        out.append("| %d | %s | %s | %s | %s | %.0f → %.0f | %s / %s |" % (
            r["sessions"], r["mode"], sa.fmt_rate(r["off"]), sa.fmt_rate(r["on"]),
            ("%.1f %%" % c) if c is not None else "—", r["cpu_off"], r["cpu_on"],
            ", ".join(sa.fmt_rate(x) for x in r["all_off"]),
            ", ".join(sa.fmt_rate(x) for x in r["all_on"])))
    out.append("")
    worst = max((pct(r["on"], r["off"]) or 0) for r in rows) if rows else None
    if worst is not None:
        out.append("Target: under %.0f %% fewer messages accepted per second with the trail on; "
                   "the worst row costs %.1f %% (%s)." % (TARGET_PCT, worst,
                                                       "met" if worst < TARGET_PCT else "NOT met"))
    if counts:
        out.append("After the runs the trail held %d records about %d messages; `yubin audit verify`: %s."
                   % (counts[0], counts[1], verdict))
    for p in problems:
        out.append("- problem: %s" % p)
    out.append("")
    out.append(END)
    return "\n".join(out)


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BenchError as e:
        sa.log("bench/audit: %s" % e)
        raise SystemExit(2)
