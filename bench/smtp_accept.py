#!/usr/bin/python3
"""SMTP acceptance benchmark for issue 2 (run through bench/smtp-accept.sh).

Measures, with Postfix's load generator smtp-source, for yubin and for a
private stock Postfix instance that delivers to Maildir:
  * accepted msgs/s   = messages / wall time of the smtp-source run
                        (smtp-source finishes when the last 250 to DATA
                        arrives, and neither server answers 250 before fsync)
  * delivered msgs/s  = messages / (start of smtp-source -> the moment all
                        messages are files in the Maildir's new/)
  * peak memory       = see MEMORY_METHOD below
at 1, 10 and 50 concurrent sessions, one message per connection and
persistent sessions, and writes a markdown table into docs/BENCHMARKS.md.
See the header of bench/smtp-accept.sh for the environment overrides.
"""

import atexit
import datetime
import os
import platform
import pwd
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(REPO, "docs", "BENCHMARKS.md")
SECTION = "## SMTP acceptance (issue 2)"
BEGIN, END = ("<!-- bench/smtp-accept.sh: generated, begin -->",
              "<!-- bench/smtp-accept.sh: generated, end -->")

MESSAGES = int(os.environ.get("MESSAGES", "20000"))
SESSIONS = [int(s) for s in os.environ.get("SESSIONS", "1 10 50").split()]
MODES = os.environ.get("MODES", "reconnect persistent").split()
SIZE = int(os.environ.get("SIZE", "4096"))
SERVERS = os.environ.get("SERVERS", "postfix yubin").split()
WARMUP = int(os.environ.get("WARMUP", "200"))
REPEAT = max(1, int(os.environ.get("REPEAT", "1")))
RUN_TIMEOUT = float(os.environ.get("RUN_TIMEOUT", max(300, MESSAGES / 20)))
DELIVERY_TIMEOUT = float(os.environ.get("DELIVERY_TIMEOUT",
                                        max(120, MESSAGES / 50)))
STALL_TIMEOUT = 60.0
WRITE_DOCS = os.environ.get("WRITE_DOCS", "auto")
KEEP_TMP = os.environ.get("KEEP_TMP", "") not in ("", "0")
RCPT = "sink@bench.test"
SENDER = "bench@client.test"
SAMPLE_INTERVAL = 0.5

MEMORY_METHOD = (
    "Each row runs on a freshly started server, after a warm-up with the "
    "same sessions and mode, so rows do not inherit each other's processes "
    "or peaks. "
    "Memory is sampled every %.2f s during each run (accept and delivery) "
    "from /proc: at each sample the PSS (/proc/PID/smaps_rollup, shared "
    "pages divided among the processes that map them) of every process of "
    "the server is summed; the table shows the largest sum. For Postfix "
    "that is every descendant of its master process (master, smtpd, "
    "cleanup, qmgr, trivial-rewrite, virtual, anvil, postlogd, ...), which "
    "come and go, so summing per-process peaks (VmHWM) would overstate it. "
    "For yubin the kernel's own peak RSS (VmHWM from /proc/PID/status, "
    "of the process; reset before the measured run by writing 5 to "
    "/proc/PID/clear_refs) is shown "
    "too; it counts shared library pages in full, which PSS divides." %
    SAMPLE_INTERVAL)

BUILD_NOTES = []           # anything odd about the yubin build
started_pids = []          # processes we started ourselves (by PID)
postfix_dirs = []          # config dirs of Postfix instances we started
tmp_root = None


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


class BenchError(Exception):
    pass


# ---------------------------------------------------------------- cleanup

def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as gone.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stop_pid(pid, grace=10.0):
    if not pid_alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.1)
    if pid_alive(pid):
        log("pid %d ignored SIGTERM, sending SIGKILL" % pid)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def postfix_master_pid(confdir):
    try:
        out = subprocess.run(["postconf", "-c", confdir, "-h",
                              "queue_directory"], capture_output=True,
                             text=True, timeout=20).stdout.strip()
        with open(os.path.join(out, "pid", "master.pid")) as f:
            return int(f.read().strip())
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def stop_postfix(confdir):
    master = postfix_master_pid(confdir)
    try:
        subprocess.run(["postfix", "-c", confdir, "stop"],
                       capture_output=True, timeout=30)
    except subprocess.SubprocessError as e:
        log("postfix stop: %s" % e)
    if master:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and pid_alive(master):
            time.sleep(0.1)
        if pid_alive(master):
            log("Postfix master %d still running, killing it" % master)
            stop_pid(master, grace=5)
    if confdir in postfix_dirs:
        postfix_dirs.remove(confdir)


def cleanup():
    for confdir in list(postfix_dirs):
        stop_postfix(confdir)
    for pid in list(started_pids):
        stop_pid(pid)
        started_pids.remove(pid)
    if tmp_root and os.path.isdir(tmp_root):
        if KEEP_TMP:
            log("kept %s" % tmp_root)
        else:
            shutil.rmtree(tmp_root, ignore_errors=True)


def on_signal(signum, frame):
    raise SystemExit("interrupted by signal %d" % signum)


def stop_all_on_exit():
    """cleanup() at exit, and SIGTERM, SIGHUP, ^C turned into an exit."""
    atexit.register(cleanup)
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, on_signal)


# ---------------------------------------------------------------- helpers

def run(cmd, timeout=120, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(cmd, timeout=timeout, **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_banner(port, timeout, alive=None):
    """Wait until 127.0.0.1:port answers with a 220 greeting."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise BenchError("server exited while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.settimeout(5)
                data = s.recv(512)
                s.sendall(b"QUIT\r\n")
                try:
                    s.recv(512)
                except OSError:
                    pass
                if data.startswith(b"220"):
                    return data.decode("latin-1").strip()
                last = data
        except OSError as e:
            last = e
        time.sleep(0.2)
    raise BenchError("no 220 greeting on port %d within %ds (%r)"
                     % (port, timeout, last))


def count_dir(path):
    try:
        with os.scandir(path) as it:
            return sum(1 for _ in it)
    except FileNotFoundError:
        return 0


def clear_maildir(maildir):
    for sub in ("new", "cur", "tmp"):
        d = os.path.join(maildir, sub)
        try:
            with os.scandir(d) as it:
                for e in it:
                    try:
                        os.unlink(e.path)
                    except (IsADirectoryError, FileNotFoundError):
                        pass
        except FileNotFoundError:
            pass


def proc_children_map():
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(name))
    return kids


def direct_children(pid):
    """Children of pid from /proc/PID/task/*/children (None if unsupported)."""
    kids = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return []
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                kids.extend(int(x) for x in f.read().split())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            pass
    return kids


def process_tree(root):
    out, todo, kids_map = [], [root], None
    while todo:
        p = todo.pop()
        out.append(p)
        kids = direct_children(p)
        if kids is None:            # kernel without /proc/PID/.../children
            if kids_map is None:
                kids_map = proc_children_map()
            kids = kids_map.get(p, [])
        todo.extend(kids)
    return out


def read_kib(path, key):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


CLK_TCK = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root):
    """CPU time of a process tree: utime+stime of every live process plus
    cutime+cstime (children already reaped, e.g. Postfix's exited smtpd and
    cleanup processes, are folded into their parent's counters)."""
    user = system = 0
    for p in process_tree(root):
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = [int(x) for x in
                          f.read().rsplit(")", 1)[1].split()[11:15]]
            user += fields[0] + fields[2]
            system += fields[1] + fields[3]
        except (OSError, ValueError, IndexError):
            pass
    return user / CLK_TCK, system / CLK_TCK


def machine_cpu():
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    total = sum(v[:8])
    return total - idle, total


def machine_busy_seconds():
    """machine_cpu()'s busy time in seconds (all cores): the server, the
    client and the kernel's file system and disk threads."""
    return machine_cpu()[0] / os.sysconf("SC_CLK_TCK")


def client_cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class MemSampler(threading.Thread):
    """Peak of the summed PSS (and RSS) of a process tree, sampled every
    interval seconds (default SAMPLE_INTERVAL, read when it starts)."""

    def __init__(self, root_pid, interval=None):
        super().__init__(daemon=True)
        self.root = root_pid
        self.interval = interval
        self.stop_evt = threading.Event()
        self.peak_pss = 0
        self.peak_rss = 0
        self.peak_procs = 0

    def sample(self):
        pids = process_tree(self.root)
        pss = sum(read_kib("/proc/%d/smaps_rollup" % p, "Pss:") for p in pids)
        rss = sum(read_kib("/proc/%d/status" % p, "VmRSS:") for p in pids)
        self.peak_pss = max(self.peak_pss, pss)
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_procs = max(self.peak_procs, len(pids))

    def run(self):
        while not self.stop_evt.is_set():
            self.sample()
            self.stop_evt.wait(self.interval or SAMPLE_INTERVAL)

    def stop(self):
        self.stop_evt.set()
        self.join(5)
        self.sample()


# ---------------------------------------------------------------- Postfix

POSTFIX_MASTER_CF = """\
# Private benchmark instance: the Debian master.cf services, chroot off.
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:{port} inet n -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

POSTFIX_MAIN_CF = """\
# Private benchmark instance.  Everything not set here is Postfix's default
# (durability included: cleanup fsyncs the queue file before smtpd answers
# 250, virtual fsyncs the Maildir file before it renames it into new/).
compatibility_level = 3.6
queue_directory = {spool}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.bench.invalid
mydomain = bench.invalid
myorigin = $myhostname
smtpd_banner = $myhostname ESMTP
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
biff = no
append_dot_mydomain = no
readme_directory = no
# No local delivery and no local recipient checks (no system users needed).
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relayhost =
# Virtual mailbox delivery: sink@bench.test -> {mail}/bench.test/sink/ (Maildir)
virtual_mailbox_domains = bench.test
virtual_mailbox_base = {mail}
virtual_mailbox_maps = texthash:{etc}/vmailbox
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
# Log to a file through postlogd (there is no syslog daemon here; yubin logs
# to a file too).
maillog_file = {base}/maillog
maillog_file_prefixes = {base}
"""


class Postfix:
    name = "Postfix"

    def __init__(self, root):
        self.base = os.path.join(root, "postfix")
        self.etc = os.path.join(self.base, "etc")
        self.spool = os.path.join(self.base, "spool")
        self.data = os.path.join(self.base, "data")
        self.mail = os.path.join(self.base, "mail")
        self.maildir = os.path.join(self.mail, "bench.test", "sink")
        self.port = None
        self.master = None
        # Command line put in front of `postfix start` (bench/policy.py
        # starts it in a private mount namespace with its own resolv.conf).
        self.launcher = []

    def setup(self):
        nobody = pwd.getpwnam("nobody")
        for d in (self.base, self.etc, self.spool, self.mail):
            os.makedirs(d, mode=0o755, exist_ok=True)
            os.chmod(d, 0o755)
        os.makedirs(self.data, mode=0o700, exist_ok=True)
        pf = pwd.getpwnam("postfix")
        os.chown(self.data, pf.pw_uid, pf.pw_gid)
        os.chown(self.mail, nobody.pw_uid, nobody.pw_gid)
        self.port = free_port()
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(POSTFIX_MAIN_CF.format(
                spool=self.spool, data=self.data, mail=self.mail,
                etc=self.etc, base=self.base,
                uid=nobody.pw_uid, gid=nobody.pw_gid))
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(POSTFIX_MASTER_CF.format(port=self.port))
        with open(os.path.join(self.etc, "vmailbox"), "w") as f:
            f.write("%s bench.test/sink/\n" % RCPT)
        # Maps and postfix-files are looked up relative to the instance.
        for name in ("dynamicmaps.cf",):
            src = os.path.join("/etc/postfix", name)
            if os.path.exists(src):
                shutil.copy(src, os.path.join(self.etc, name))
        r = run(["postfix", "-c", self.etc, "check"], timeout=60)
        if r.returncode != 0:
            raise BenchError("postfix check failed:\n%s%s" % (r.stdout, r.stderr))

    def start(self):
        self.master = None
        r = run(self.launcher + ["postfix", "-c", self.etc, "start"],
                timeout=60)
        if r.returncode != 0:
            raise BenchError("postfix start failed:\n%s%s" % (r.stdout, r.stderr))
        postfix_dirs.append(self.etc)
        deadline = time.monotonic() + 20
        while self.master is None and time.monotonic() < deadline:
            self.master = postfix_master_pid(self.etc)
            if self.master is None:
                time.sleep(0.1)
        if self.master is None:
            raise BenchError("Postfix master.pid not found")
        banner = wait_banner(self.port, 30)
        log("Postfix %s up on 127.0.0.1:%d (master pid %d): %s"
            % (postfix_version(), self.port, self.master, banner))

    def stop(self):
        stop_postfix(self.etc)

    def mem_root(self):
        return self.master

    def reset_peak(self):
        pass

    def kernel_peak_kib(self):
        return None

    def queue_empty(self):
        # Any file left under the queue directories means work in flight.
        for q in ("incoming", "active", "deferred", "maildrop", "hold"):
            for _, _, files in os.walk(os.path.join(self.spool, q)):
                if files:
                    return False
        return True

    def log_tail(self, n=30):
        return tail(os.path.join(self.base, "maillog"), n)


# ---------------------------------------------------------------- yubin

YUBIN_CONF = """\
# yubin benchmark instance (generated by bench/smtp_accept.py)
hostname = "yubin.bench.invalid";
data_dir = "{data}";
{user_line}
log = "stderr";
domains = [ "bench.test" ];
tls: {{
  cert = "{cert}";
  key  = "{key}";
}};
listeners = (
  {{ role = "smtp"; address = "127.0.0.1"; port = {port}; }}
);
limits: {{
  connections = 4000;
  connections_per_ip = 1000;
}};
# Postfix as measured checks no SPF / DKIM / DMARC either (it needs
# policy daemons and milters for that): like for like.
msgauth: {{ verify = 0; }};
"""


def make_cert(base):
    """base (made 0755: the data dir's parent) with a self-signed P-256
    certificate for yubin.bench.invalid in it: (cert path, key path)."""
    os.makedirs(base, mode=0o755, exist_ok=True)
    os.chmod(base, 0o755)
    cert = os.path.join(base, "cert.pem")
    key = os.path.join(base, "key.pem")
    r = run(["openssl", "req", "-x509", "-newkey", "ec",
             "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", key, "-out", cert, "-days", "365",
             "-subj", "/CN=yubin.bench.invalid"], timeout=60)
    if r.returncode != 0:
        raise BenchError("openssl failed: %s" % r.stderr)
    return cert, key


class Yubin:
    name = "yubin"

    def __init__(self, root, binary):
        self.bin = binary
        self.base = os.path.join(root, "yubin")
        self.data = os.path.join(self.base, "data")
        self.conf = os.path.join(self.base, "yubin.conf")
        self.logfile = os.path.join(self.base, "yubin.log")
        self.maildir = os.path.join(self.data, "mail", "bench.test", "sink")
        self.port = None
        self.proc = None

    def setup(self):
        cert, key = make_cert(self.base)
        self.port = free_port()
        user_line = 'user = "nobody";' if os.geteuid() == 0 else ""
        with open(self.conf, "w") as f:
            f.write(YUBIN_CONF.format(data=self.data, user_line=user_line,
                                      cert=cert, key=key, port=self.port))
        r = run([self.bin, "--config", self.conf, "config", "check"],
                timeout=30)
        if r.returncode != 0:
            raise BenchError("yubin config check failed (rc %d):\n%s%s"
                             % (r.returncode, r.stdout, r.stderr))
        r = run([self.bin, "--config", self.conf, "user", "add", RCPT,
                 "--password-stdin"], input="bench-password\n", timeout=60)
        if r.returncode != 0:
            raise BenchError("yubin user add failed (rc %d):\n%s%s"
                             % (r.returncode, r.stdout, r.stderr))

    def start(self):
        logf = open(self.logfile, "ab")
        self.proc = subprocess.Popen(
            [self.bin, "--config", self.conf, "serve"],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
            start_new_session=True)
        logf.close()
        started_pids.append(self.proc.pid)
        try:
            banner = wait_banner(self.port, 30,
                                 alive=lambda: self.proc.poll() is None)
        except BenchError as e:
            raise BenchError("%s; log tail:\n%s" % (e, self.log_tail()))
        log("yubin up on 127.0.0.1:%d (pid %d): %s"
            % (self.port, self.proc.pid, banner))

    def stop(self):
        if self.proc is not None:
            stop_pid(self.proc.pid)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            if self.proc.pid in started_pids:
                started_pids.remove(self.proc.pid)

    def mem_root(self):
        return self.proc.pid

    def reset_peak(self):
        for p in process_tree(self.proc.pid):
            try:
                with open("/proc/%d/clear_refs" % p, "w") as f:
                    f.write("5")
            except OSError:
                pass

    def kernel_peak_kib(self):
        return sum(read_kib("/proc/%d/status" % p, "VmHWM:")
                   for p in process_tree(self.proc.pid))

    def queue_empty(self):
        return True

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=30):
        return tail(self.logfile, n)


def tail(path, n):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])
    except OSError:
        return "(no log)"


# ---------------------------------------------------------------- runs

def smtp_source(server, sessions, count, persistent):
    cmd = ["smtp-source", "-s", str(sessions), "-m", str(count),
           "-l", str(SIZE), "-M", "client.test", "-f", SENDER, "-t", RCPT]
    if persistent:
        cmd.append("-d")
    cmd.append("127.0.0.1:%d" % server.port)
    t0 = time.monotonic()
    try:
        r = run(cmd, timeout=RUN_TIMEOUT)
        rc, err = r.returncode, (r.stderr + r.stdout).strip()
    except subprocess.TimeoutExpired as e:
        rc = "timeout"
        err = ("smtp-source did not finish within %ds" % RUN_TIMEOUT)
        if e.stderr:
            err += "; " + (e.stderr if isinstance(e.stderr, str)
                           else e.stderr.decode("latin-1")).strip()
    return t0, time.monotonic(), rc, err, " ".join(cmd)


def wait_delivery(server, target, t0, stall=STALL_TIMEOUT):
    """Return (time of last delivery, delivered count)."""
    new = os.path.join(server.maildir, "new")
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    last_n, last_change = -1, time.monotonic()
    while True:
        n = count_dir(new)
        now = time.monotonic()
        if n != last_n:
            last_n, last_change = n, now
        if n >= target:
            return now, n
        if now > deadline or now - last_change > stall:
            return None, n
        if hasattr(server, "alive") and not server.alive():
            return None, n
        time.sleep(0.05)


def check_sample(server):
    """Read one delivered message and check it looks whole."""
    new = os.path.join(server.maildir, "new")
    try:
        name = next(iter(os.listdir(new)))
    except (StopIteration, FileNotFoundError):
        return "no message in %s" % new
    with open(os.path.join(new, name), "rb") as f:
        data = f.read()
    problems = []
    if len(data) < SIZE:
        problems.append("only %d bytes" % len(data))
    if b"\nReceived:" not in data and not data.startswith(b"Received:"):
        problems.append("no Received: header")
    if RCPT.encode() not in data:
        problems.append("recipient not in headers")
    if problems:
        return "sample %s: %s" % (name, ", ".join(problems))
    return None


def measure(server, sessions, mode, count=None, quiet=False, probes=()):
    """One smtp-source run and the wait for its delivery.  probes: objects
    with start() and stop() -> dict, started just before smtp-source and
    stopped after the last delivery; their dicts go into the result (other
    processes' CPU time, a DNS server's query count)."""
    count = MESSAGES if count is None else count
    persistent = mode == "persistent"
    clear_maildir(server.maildir)
    server.reset_peak()
    sampler = MemSampler(server.mem_root())
    sampler.start()
    cpu0, mach0, cli0 = (tree_cpu_seconds(server.mem_root()), machine_cpu(),
                         client_cpu_seconds())
    for p in probes:
        p.start()
    t0, t1, rc, err, cmd = smtp_source(server, sessions, count, persistent)
    cli1 = client_cpu_seconds()
    # After a failed smtp-source run fewer messages were accepted than sent:
    # wait only until delivery stops making progress.
    delivered_at, n = wait_delivery(server, count, t0,
                                    STALL_TIMEOUT if rc == 0 else 5.0)
    cpu1, mach1 = tree_cpu_seconds(server.mem_root()), machine_cpu()
    probed = {}
    for p in probes:
        probed.update(p.stop())
    sampler.stop()
    busy = (mach1[0] - mach0[0]) / max(1, mach1[1] - mach0[1])
    res = {
        "cpu_s": sum(cpu1) - sum(cpu0), "cpu_sys_s": cpu1[1] - cpu0[1],
        "client_cpu_s": cli1 - cli0,
        "busy_pct": 100.0 * busy,
        "machine_busy_s": (mach1[0] - mach0[0]) / os.sysconf("SC_CLK_TCK"),
        "server": server.name, "sessions": sessions, "mode": mode,
        "count": count, "cmd": cmd, "rc": rc, "stderr": err,
        "accept_s": t1 - t0,
        "accept_rate": count / (t1 - t0) if rc == 0 else None,
        "delivered": n,
        "deliver_s": (delivered_at - t0) if delivered_at else None,
        "deliver_rate": (count / (delivered_at - t0))
        if (delivered_at and rc == 0) else None,
        "pss_kib": sampler.peak_pss, "rss_kib": sampler.peak_rss,
        "procs": sampler.peak_procs,
        "hwm_kib": server.kernel_peak_kib(),
        "sample_problem": check_sample(server) if n else "nothing delivered",
    }
    res.update(probed)
    # Let Postfix's queue drain completely before the next run.
    deadline = time.monotonic() + 30
    while not server.queue_empty() and time.monotonic() < deadline:
        time.sleep(0.1)
    clear_maildir(server.maildir)
    if not quiet:
        log("%-7s s=%-3d %-10s accepted %s msgs/s (%.1f s, rc=%s), "
            "delivered %d/%d %s, peak PSS %.1f MiB%s; CPU server %.1f s, "
            "smtp-source %.1f s, machine %.0f%% busy"
            % (server.name, sessions, mode, fmt_rate(res["accept_rate"]),
               res["accept_s"], rc, n, count,
               ("%s msgs/s" % fmt_rate(res["deliver_rate"]))
               if res["deliver_rate"] else "(incomplete)",
               res["pss_kib"] / 1024,
               (", VmHWM %.1f MiB" % (res["hwm_kib"] / 1024))
               if res["hwm_kib"] else "",
               res["cpu_s"], res["client_cpu_s"], res["busy_pct"]))
        if rc != 0 or err:
            log("  smtp-source output: %s" % err[:2000])
        if res["sample_problem"]:
            log("  delivered message check: %s" % res["sample_problem"])
    return res


class ServerDied(BenchError):
    pass


def bench_row(server, sessions, mode, count=None, probes=()):
    """One row on a freshly started server, after a warm-up with the same
    sessions and mode, so that rows do not inherit each other's processes
    or memory peaks.  count and probes: as for measure()."""
    server.start()
    try:
        if WARMUP:
            w = measure(server, sessions, mode,
                        count=max(WARMUP, sessions), quiet=True)
            if w["rc"] != 0 or w["deliver_rate"] is None:
                log("warm-up against %s failed: rc=%s delivered=%d/%d: %s"
                    % (server.name, w["rc"], w["delivered"], w["count"],
                       w["stderr"][:2000]))
            elif w["sample_problem"]:
                log("warm-up against %s: %s"
                    % (server.name, w["sample_problem"]))
        res = measure(server, sessions, mode, count=count, probes=probes)
        if hasattr(server, "alive") and not server.alive():
            log("%s died; log tail:\n%s" % (server.name, server.log_tail()))
            res["sample_problem"] = ((res["sample_problem"] or "") +
                                     " server process exited").strip()
            res["rc"] = res["rc"] if res["rc"] != 0 else "server exited"
        return res
    finally:
        server.stop()


def median_run(runs):
    """The run with the median accepted rate (failed runs rank lowest)."""
    ranked = sorted(runs, key=lambda r: r["accept_rate"] or 0)
    return ranked[(len(ranked) - 1) // 2]


# ---------------------------------------------------------------- report

def fmt_rate(r):
    return "%.0f" % r if r else "—"


def fmt_ratio(a, b):
    return "%.2f" % (a / b) if a and b else "—"


def fmt_mib(kib):
    return "%.1f" % (kib / 1024) if kib else "—"


def postfix_version():
    r = run(["postconf", "-d", "-h", "mail_version"], timeout=20)
    return r.stdout.strip() or "?"


def fsync_rate(tmp, n=500):
    """Baseline of the disk: durable 4 KiB file creations per second."""
    d = tempfile.mkdtemp(prefix="fsync-", dir=tmp)
    data = b"x" * 4096
    dfd = os.open(d, os.O_RDONLY)
    try:
        t = time.monotonic()
        for i in range(n):
            p = os.path.join(d, "f%d" % i)
            fd = os.open(p + ".tmp", os.O_WRONLY | os.O_CREAT, 0o644)
            os.write(fd, data)
            os.fsync(fd)
            os.close(fd)
            os.rename(p + ".tmp", p)
            os.fsync(dfd)
        return "%.0f" % (n / (time.monotonic() - t))
    finally:
        os.close(dfd)
        shutil.rmtree(d, ignore_errors=True)


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "?"


def machine_info(tmp):
    cpu = cpu_model()
    fs = run(["df", "--output=source,fstype,target", tmp]).stdout
    fs = fs.strip().splitlines()[-1].split() if fs.strip() else ["?"] * 3
    opts = ""
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            if len(parts) > 3 and parts[1] == fs[2]:
                opts = parts[3]
    commit = run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    commit = commit.stdout.strip() if commit.returncode == 0 else \
        "none (no commit yet)"
    dirty = run(["git", "-C", REPO, "status", "--porcelain", "--", "src",
                 "meson.build"]).stdout.strip()
    if dirty:
        commit += " + uncommitted changes"
    osrel = "?"
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    osrel = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return {
        "cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
        "os": osrel, "fs": "%s (%s on %s, %s)" % (fs[1], fs[0], fs[2], opts),
        "postfix": postfix_version(), "commit": commit,
        "fsync_rate": fsync_rate(tmp),
        "fsync_rate_end": None,
        "date": datetime.datetime.now().astimezone().strftime(
            "%Y-%m-%d %H:%M %Z"),
    }


def build_tables(results, info):
    groups = {}
    for r in results:
        groups.setdefault((r["server"], r["sessions"], r["mode"]), []).append(r)
    by = {k: median_run(v) for k, v in groups.items()}

    def rate(key, field):
        """Median run's rate, with the range over repetitions if any."""
        runs = groups.get(key)
        if not runs:
            return "—"
        med = by[key].get(field)
        if len(runs) == 1 or not med:
            return fmt_rate(med)
        vals = [x[field] or 0 for x in runs]
        return "%s (%.0f–%.0f)" % (fmt_rate(med), min(vals), max(vals))
    mode_label = {"reconnect": "1 msg/connection",
                  "persistent": "persistent (-d)"}
    out = []
    out.append("| sessions | connections | yubin accepted msgs/s | "
               "Postfix accepted msgs/s | ratio yubin/Postfix | "
               "yubin delivered msgs/s | Postfix delivered msgs/s | "
               "ratio yubin/Postfix |")
    out.append("|---:|---|---:|---:|---:|---:|---:|---:|")
    for mode in MODES:
        for s in SESSIONS:
            y = by.get(("yubin", s, mode), {})
            p = by.get(("Postfix", s, mode), {})
            out.append("| %d | %s | %s | %s | %s | %s | %s | %s |" % (
                s, mode_label.get(mode, mode),
                rate(("yubin", s, mode), "accept_rate"),
                rate(("Postfix", s, mode), "accept_rate"),
                fmt_ratio(y.get("accept_rate"), p.get("accept_rate")),
                rate(("yubin", s, mode), "deliver_rate"),
                rate(("Postfix", s, mode), "deliver_rate"),
                fmt_ratio(y.get("deliver_rate"), p.get("deliver_rate"))))
    mem = []
    mem.append("| sessions | connections | yubin peak PSS MiB | "
               "yubin VmHWM MiB | Postfix peak PSS MiB (sum) | "
               "Postfix peak RSS MiB (sum) | Postfix processes (max) | "
               "ratio yubin/Postfix (PSS) |")
    mem.append("|---:|---|---:|---:|---:|---:|---:|---:|")
    for mode in MODES:
        for s in SESSIONS:
            y = by.get(("yubin", s, mode), {})
            p = by.get(("Postfix", s, mode), {})
            mem.append("| %d | %s | %s | %s | %s | %s | %s | %s |" % (
                s, mode_label.get(mode, mode),
                fmt_mib(y.get("pss_kib")), fmt_mib(y.get("hwm_kib")),
                fmt_mib(p.get("pss_kib")), fmt_mib(p.get("rss_kib")),
                p.get("procs", "—"),
                fmt_ratio(y.get("pss_kib"), p.get("pss_kib"))))
    cpu = []
    cpu.append("| sessions | connections | yubin CPU ms/msg | "
               "Postfix CPU ms/msg | ratio yubin/Postfix | "
               "smtp-source CPU ms/msg (yubin run / Postfix run) | "
               "machine busy % (yubin run / Postfix run) |")
    cpu.append("|---:|---|---:|---:|---:|---:|---:|")

    def ms(r, key):
        v = r.get(key)
        if v is None:
            return "—"
        out = "%.2f" % (1000.0 * v / r["count"])
        if key == "cpu_s":
            out += " (%.0f%% sys)" % (100.0 * r["cpu_sys_s"] / v if v else 0)
        return out

    for mode in MODES:
        for s in SESSIONS:
            y = by.get(("yubin", s, mode), {})
            p = by.get(("Postfix", s, mode), {})
            cpu.append("| %d | %s | %s | %s | %s | %s / %s | %s / %s |" % (
                s, mode_label.get(mode, mode), ms(y, "cpu_s"),
                ms(p, "cpu_s"), fmt_ratio(y.get("cpu_s"), p.get("cpu_s")),
                ms(y, "client_cpu_s"), ms(p, "client_cpu_s"),
                ("%.0f" % y["busy_pct"]) if y else "—",
                ("%.0f" % p["busy_pct"]) if p else "—"))
    return "\n".join(out), "\n".join(mem), "\n".join(cpu)


def section_text(results, info, problems):
    tput, mem, cpu = build_tables(results, info)
    lines = [
        BEGIN,
        "Run %s with `bench/smtp-accept.sh`: %d messages per row, "
        "%d-byte payload (`smtp-source -l %d`, plus smtp-source's few "
        "headers), one recipient, sessions %s, both servers on 127.0.0.1 "
        "on the same machine as the load generator, one at a time: each "
        "row is measured on Postfix and then on yubin (or the other way "
        "round), each on a freshly started server. %s"
        % (info["date"], MESSAGES, SIZE, SIZE,
           "/".join(str(s) for s in SESSIONS),
           ("Every row was measured %d times (servers in alternating "
            "order); the tables show the run with the median accepted rate, "
            "and the range over the repetitions in brackets." % REPEAT)
           if REPEAT > 1 else "Each row was measured once."),
        "",
        "- Machine: %s, %s cores, %s, kernel %s" % (
            info["cpu"], info["cores"], info["os"], info["kernel"]),
        "- Disk (queues and Maildirs): %s; one thread writing 4 KiB files "
        "with fsync + rename + directory fsync: %s per second before the "
        "run, %s after it (the disk is shared, so this drifts; rows "
        "alternate the servers so the drift hits both)"
        % (info["fs"], info["fsync_rate"], info["fsync_rate_end"] or "?"),
        "- Postfix %s (Debian package), yubin commit %s (%s)"
        % (info["postfix"], info["commit"],
           "; ".join(["release build"] + BUILD_NOTES)),
        "",
        "Throughput. *Accepted* = messages / wall time of smtp-source "
        "(ends with the last `250` to DATA; neither server answers `250` "
        "before the message is fsynced). *Delivered* = messages / time from "
        "the start of smtp-source until the last message is a file in the "
        "Maildir's `new/`.",
        "",
        tput, "",
        "Peak memory during each row.",
        "",
        mem, "",
        MEMORY_METHOD, "",
        "CPU time over the same interval (start of smtp-source until the "
        "last delivery), per message: the server's processes (user + "
        "system, including Postfix processes that exited during the run, "
        "which their master has reaped; the share spent in the kernel in "
        "brackets), smtp-source itself, and how busy "
        "the machine's %s cores were in all (from /proc/stat)."
        % info["cores"],
        "",
        cpu, "",
        "Postfix set-up: a private instance (own config, queue and data "
        "directories in a temporary directory, `postfix -c DIR start`), "
        "Debian's master.cf services with chroot off, smtpd on "
        "127.0.0.1:<free port>, `mydestination` empty, no local recipient "
        "checks, `virtual_mailbox_domains = bench.test` delivering "
        "`sink@bench.test` with `virtual(8)` to a Maildir, logging to a "
        "file through postlogd; every other parameter is Postfix's default "
        "(process limit 100, `in_flow_delay` 1 s, fsync of the queue file "
        "before `250`). No TLS on either side (smtp-source speaks none); "
        "yubin runs its `smtp` role (port-25 behaviour) with "
        "`connections_per_ip = 1000`, logging to a file.",
    ]
    if problems:
        lines += ["", "Problems seen in this run:", ""]
        lines += ["- %s" % p for p in problems]
    lines.append(END)
    return "\n".join(lines)


DOCS_INTRO = """\
# Benchmarks

Measurements of yubin against the established servers on the same machine,
with the same load generator, in one run, so that the ratios mean something
even where the absolute figures depend on the machine.  Every section says
what was measured, on what, and how to reproduce it.

Reproduce the SMTP acceptance figures (needs root and the Debian `postfix`
package; builds yubin in `build-bench/` in release mode):

    bench/smtp-accept.sh

Environment overrides: `MESSAGES` (default 20000), `SESSIONS` (default
"1 10 50"), `MODES` ("reconnect persistent"), `SIZE` (4096), `SERVERS`
("postfix yubin"), `REPEAT` (1; the machine's shared disk is noisy, so use 3
for figures worth quoting), `YUBIN_BIN`; see the header of
`bench/smtp-accept.sh`.

"""


def write_generated(section, begin, end, text):
    """Put text (a generated part, from its begin marker to its end marker)
    into docs/BENCHMARKS.md: in place of the part it replaces, so that the
    prose around it stays; or, the first time, as a new section."""
    os.makedirs(os.path.dirname(DOCS), exist_ok=True)
    old = DOCS_INTRO
    if os.path.exists(DOCS):
        with open(DOCS) as f:
            old = f.read()
    if begin in old and end in old:
        new = old[:old.index(begin)] + text + old[old.index(end) + len(end):]
    else:
        new = old.rstrip("\n") + "\n\n" + section + "\n\n" + text + "\n"
    with open(DOCS, "w") as f:
        f.write(new)
    log("wrote %s" % DOCS)


def write_docs(text):
    write_generated(SECTION, BEGIN, END, text)


def row_problem(r, label=None):
    """A sentence about a row whose smtp-source run or delivery went wrong
    (None if it went right); label names the row (default: server, sessions
    and mode)."""
    if r["rc"] == 0 and r["deliver_rate"] is not None and \
            not r["sample_problem"]:
        return None
    first = (r["stderr"].splitlines() or [""])[0] if r["stderr"] else ""
    return "%s: smtp-source rc=%s%s; delivered %d/%d%s" % (
        label or "%s, %d sessions, %s" % (r["server"], r["sessions"],
                                          r["mode"]),
        r["rc"], (", `%s`" % first) if first else "", r["delivered"],
        r["count"], ("; " + r["sample_problem"]) if r["sample_problem"]
        else "")


def publish(text, write_docs_setting, complete, writer):
    """Print the generated section and put it into docs/BENCHMARKS.md with
    writer() when WRITE_DOCS says so: "1" always, "auto" only after a
    complete run."""
    print()
    print(text)
    if write_docs_setting == "1" or (write_docs_setting == "auto" and
                                     complete):
        writer(text)
    elif write_docs_setting == "auto":
        log("not writing docs/BENCHMARKS.md (incomplete run; WRITE_DOCS=1 "
            "forces it)")


# ---------------------------------------------------------------- main

def build_yubin():
    binary = os.environ.get("YUBIN_BIN")
    if binary:
        binary = os.path.abspath(binary)
        if not os.access(binary, os.X_OK):
            raise BenchError("YUBIN_BIN=%s is not executable" % binary)
        return binary
    bdir = os.path.join(REPO, "build-bench")
    if not os.path.exists(os.path.join(bdir, "build.ninja")):
        # Never configured successfully: start from an empty directory.
        shutil.rmtree(bdir, ignore_errors=True)
        log("meson setup build-bench --buildtype=release")
        r = run(["meson", "setup", "build-bench", "--buildtype=release"],
                cwd=REPO, timeout=600)
        if r.returncode != 0:
            raise BenchError("meson setup failed:\n%s%s"
                             % (r.stdout[-3000:], r.stderr[-3000:]))
    log("ninja -C build-bench")
    r = run(["ninja", "-C", "build-bench"], cwd=REPO, timeout=1200)
    if r.returncode != 0 and "-Werror" in r.stdout:
        # A release (-O3) build can find warnings that the default build
        # does not; -Werror then stops it.  The benchmark measures speed, so
        # build anyway and say so in the report.
        errs = [l for l in r.stdout.splitlines() if "error:" in l]
        log("release build failed under -Werror:\n  %s\nretrying with "
            "-Dwerror=false" % "\n  ".join(errs[:10]))
        BUILD_NOTES.append(
            "the release build failed under `-Werror` (%s), so the "
            "benchmark binary was built with `-Dwerror=false`"
            % "; ".join("`%s`" % e.split("error:", 1)[1].strip()
                        .replace("`", "'") + " at " +
                        e.split(": error:", 1)[0].replace("../", "")
                        for e in dict.fromkeys(errs[:3])))
        r = run(["meson", "configure", "build-bench", "-Dwerror=false"],
                cwd=REPO, timeout=120)
        if r.returncode == 0:
            r = run(["ninja", "-C", "build-bench"], cwd=REPO, timeout=1200)
    elif r.returncode == 0:
        # Back to the project's default once the warnings are fixed.
        out = run(["meson", "configure", "build-bench"], cwd=REPO).stdout
        if re.search(r"^\s*werror\s+false", out, re.M):
            run(["meson", "configure", "build-bench", "-Dwerror=true"],
                cwd=REPO, timeout=120)
            r2 = run(["ninja", "-C", "build-bench"], cwd=REPO, timeout=1200)
            if r2.returncode != 0:
                log("build still fails under -Werror; using -Dwerror=false")
                run(["meson", "configure", "build-bench", "-Dwerror=false"],
                    cwd=REPO, timeout=120)
                r = run(["ninja", "-C", "build-bench"], cwd=REPO,
                        timeout=1200)
                BUILD_NOTES.append("the release build fails under "
                                   "`-Werror`; the benchmark binary was "
                                   "built with `-Dwerror=false`")
    if r.returncode != 0:
        raise BenchError("yubin build failed:\n%s%s"
                         % (r.stdout[-4000:], r.stderr[-2000:]))
    binary = os.path.join(bdir, "yubin")
    if not os.access(binary, os.X_OK):
        raise BenchError("%s not built" % binary)
    return binary


def main():
    global tmp_root
    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if os.geteuid() != 0:
        raise BenchError("run as root (Postfix master, yubin privilege drop)")
    for tool in ("postfix", "postconf", "smtp-source", "openssl"):
        if not shutil.which(tool):
            raise BenchError("%s not found (apt-get install postfix openssl)"
                             % tool)
    yubin_bin = build_yubin() if "yubin" in SERVERS else None
    tmp_root = tempfile.mkdtemp(prefix="yubin-bench-")
    os.chmod(tmp_root, 0o755)
    log("temporary directory %s; %d messages, sessions %s, modes %s"
        % (tmp_root, MESSAGES, SESSIONS, MODES))
    info = machine_info(tmp_root)
    results, problems, failed = [], [], []
    servers = []
    for name in SERVERS:
        server = Postfix(tmp_root) if name == "postfix" else \
            Yubin(tmp_root, yubin_bin)
        try:
            server.setup()
            servers.append(server)
        except BenchError as e:
            log("%s: %s" % (server.name, e))
            problems.append("%s: %s" % (server.name, str(e).splitlines()[0]))
            failed.append(server.name)
    # Rows interleave the servers (and alternate their order on each
    # repetition) so that a drift of the shared disk or CPU during the run
    # affects both sides alike.
    for rep_no in range(REPEAT):
        order = servers if rep_no % 2 == 0 else servers[::-1]
        for mode in MODES:
            for sess in SESSIONS:
                for server in order:
                    if server.name in failed:
                        continue
                    try:
                        r = bench_row(server, sess, mode)
                        r["rep"] = rep_no
                        results.append(r)
                    except BenchError as e:
                        log("%s: %s" % (server.name, e))
                        problems.append("%s, %d sessions, %s: %s" % (
                            server.name, sess, mode, str(e).splitlines()[0]))
                        failed.append(server.name)
    problems += [p for p in map(row_problem, results) if p]
    info["fsync_rate_end"] = fsync_rate(tmp_root)
    text = section_text(results, info, problems)
    clean = not failed and not any(
        r["rc"] != 0 or r["deliver_rate"] is None for r in results)
    publish(text, WRITE_DOCS, clean and set(SERVERS) >= {"postfix", "yubin"},
            write_docs)
    return 0 if clean else 1


def run_main(main_fn):
    """Exit with main_fn()'s status; a BenchError is one sentence and
    status 2 (cleanup runs from atexit either way)."""
    try:
        sys.exit(main_fn())
    except BenchError as e:
        log("error: %s" % e)
        sys.exit(2)


if __name__ == "__main__":
    run_main(main)
