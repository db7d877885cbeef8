#!/usr/bin/python3
"""Audit-trail benchmark for issue 12 (run through bench/audit.sh).

The cost of the audit trail on SMTP acceptance: yubin from
smtp_accept.py (same configuration, same smtp-source load, same
measurement) with `audit: { enabled = true; }` against `enabled = false`.
Each row is measured REPEAT times, the two settings interleaved (on, off,
then off, on, ...) so that drift of the machine hits both alike.  Every
run has a fresh server on a fresh file system (freshfs.py: an ext4 image
as root), so no run inherits another's mailbox, queue or audit.db.  The
cost is given as the ratio of the median accepted rates and round by
round (each "on" run against the "off" run next to it in time), with
server and machine CPU per message.  With the trail on, every message
makes RECEIVED and DELIVERED records (chained by SHA-256, written in
batches by one thread); each such run checks that audit.db holds them and
that `yubin audit verify` passes.
"""

import atexit
import os
import signal
import sqlite3
import statistics
import subprocess
import tempfile

import smtp_accept as sa
from freshfs import FS, FreshFs

N = int(os.environ.get("N", "3000"))
SESSIONS = [int(s) for s in os.environ.get("SESSIONS", "10 50").split()]
MODES = os.environ.get("MODES", "reconnect persistent").split()
REPEAT = max(1, int(os.environ.get("REPEAT", "5")))
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


def one_run(root, n, audit, sessions, mode):
    """One measured run on a fresh server and file system; with the trail
    on, also its (records, messages) and `yubin audit verify`'s word."""
    fs = FreshFs(root, n)
    try:
        os.chmod(fs.point, 0o755)  # the service user reaches its data_dir through it
        srv = Yubin(fs.point, YUBIN_BIN, audit)
        srv.setup()
        r = sa.bench_row(srv, sessions, mode, count=N)
        r["trail"] = srv.trail_counts()
        r["verify"] = srv.verify() if audit else None
        return r
    finally:
        fs.close()


def main():
    atexit.register(FreshFs.close_all)  # runs after sa.cleanup has stopped the servers
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
    rows, problems, n = [], [], 0
    counts, verdicts = [0, 0], []
    for sessions in SESSIONS:
        for mode in MODES:
            runs = {True: [], False: []}
            for i in range(REPEAT):
                for audit in ((True, False) if i % 2 == 0 else (False, True)):
                    r = one_run(root, n, audit, sessions, mode)
                    n += 1
                    what = "audit %s, %d sessions, %s, run %d" % ("on" if audit else "off", sessions, mode, i + 1)
                    p = sa.row_problem(r, what)
                    if p:
                        problems.append(p)
                    if audit:
                        ok, verdict = r["verify"]
                        if not ok or r["trail"] is None:
                            problems.append("%s: yubin audit verify failed: %s" % (what, verdict))
                        else:
                            counts = [counts[0] + r["trail"][0], counts[1] + r["trail"][1]]
                            verdicts.append(verdict)
                    elif r["trail"] is not None:
                        problems.append("%s: audit.enabled = false still wrote audit.db" % what)
                    runs[audit].append(r)
            on = sa.median_run(runs[True])
            off = sa.median_run(runs[False])

            def per_msg(key, audit):
                return statistics.median(r[key] for r in runs[audit]) / N * 1e6
            paired = sorted(pct(a["accept_rate"], b["accept_rate"]) for a, b in zip(runs[True], runs[False])
                            if a["accept_rate"] and b["accept_rate"])
            rows.append({"sessions": sessions, "mode": mode, "on": on["accept_rate"],
                         "off": off["accept_rate"], "all_on": [r["accept_rate"] for r in runs[True]],
                         "all_off": [r["accept_rate"] for r in runs[False]], "paired": paired,
                         "cpu_on": per_msg("cpu_s", True), "cpu_off": per_msg("cpu_s", False),
                         "mach_on": per_msg("machine_busy_s", True), "mach_off": per_msg("machine_busy_s", False)})
            sa.log("s=%d %s: audit on %s msgs/s, off %s msgs/s, cost %s %%, round by round %s"
                   % (sessions, mode, sa.fmt_rate(on["accept_rate"]), sa.fmt_rate(off["accept_rate"]),
                      "%.1f" % pct(on["accept_rate"], off["accept_rate"])
                      if pct(on["accept_rate"], off["accept_rate"]) is not None else "?",
                      ", ".join("%.1f" % c for c in paired)))
    verdict = "%d runs with the trail on, every one intact (%s)" % (len(verdicts), verdicts[-1]) \
        if verdicts else "no run to verify"
    text = section_text(rows, info, counts, verdict, problems)
    sa.publish(text, WRITE_DOCS, not problems,
               lambda t: sa.write_generated(SECTION, BEGIN, END, t))
    return 1 if problems else 0


def section_text(rows, info, counts, verdict, problems):
    out = [BEGIN, ""]
    out.append("Measured %s on %s (%d cores), %s, commit %s; every run on a fresh server and %s. "
               "smtp-source, %d messages of %d bytes a run, one recipient (a local Maildir); "
               "each row %d runs per setting, interleaved, the median shown; the cost round by round "
               "compares each run with the trail on with the run without it next to it in time."
               % (info["date"], info["cpu"], info["cores"], info["os"], info["commit"],
                  "a fresh ext4 image (journal, loop-mounted)" if FS == "image" else "a fresh directory",
                  N, sa.SIZE, REPEAT))
    out.append("")
    out.append("| sessions | mode | audit off msgs/s | audit on msgs/s | cost (medians) | cost round by round "
               "(median; each) | server CPU µs/msg off → on | machine CPU µs/msg off → on | runs off / on |")
    out.append("|---:|---|---:|---:|---:|---|---|---|---|")
    for r in rows:
        c = pct(r["on"], r["off"])
        out.append("| %d | %s | %s | %s | %s | %s | %.0f → %.0f | %.0f → %.0f | %s / %s |" % (
            r["sessions"], r["mode"], sa.fmt_rate(r["off"]), sa.fmt_rate(r["on"]),
            ("%.1f %%" % c) if c is not None else "—",
            ("%.1f %% (%s)" % (statistics.median(r["paired"]), ", ".join("%.1f" % x for x in r["paired"])))
            if r["paired"] else "—",
            r["cpu_off"], r["cpu_on"], r["mach_off"], r["mach_on"],
            ", ".join(sa.fmt_rate(x) for x in r["all_off"]),
            ", ".join(sa.fmt_rate(x) for x in r["all_on"])))
    out.append("")
    costs = [statistics.median(r["paired"]) for r in rows if r["paired"]]
    if costs:
        worst = max(costs)
        out.append("Target: under %.0f %% fewer messages accepted per second with the trail on; "
                   "the worst row costs %.1f %% round by round (%s)."
                   % (TARGET_PCT, worst, "met" if worst < TARGET_PCT else "NOT met"))
    if counts[0]:
        out.append("The runs with the trail on wrote %d records about %d messages; `yubin audit verify`: %s."
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
