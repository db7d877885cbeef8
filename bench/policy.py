#!/usr/bin/python3
"""Policy-layer benchmark for issue 11 (run through bench/policy.sh).

What the policy layer costs per message, for yubin and for a private
Postfix 3.7 doing the same checks its own way, in one run on one machine,
driven by Postfix's smtp-source exactly as in the SMTP acceptance section
(the server set-up, the load, the CPU / PSS measurement and the docs writer
come from smtp_accept.py).  Three configurations of each server:

  plain   no policy at all: the SMTP acceptance set-up
  rules   20 rules of every kind (client networks, HELO, sender and
          recipient domains with wildcards, one regular expression, a list
          file, size, header and body matches), one DNS blocklist and rate
          limits high enough never to trigger.  Postfix: the same checks as
          smtpd_{client,helo,sender,recipient}_restrictions with access maps,
          header_checks / body_checks, anvil rate limits, and postscreen with
          the same DNSBL.
  rspamd  the plain set-up with one private rspamd (milter mode proxy
          worker, offline) in the path: yubin's policy.milters, Postfix's
          smtpd_milters, both to the same rspamd.

The DNS blocklist is served by bench/dnsbl_server.py on 127.0.53.53:53 (a
port-53 address because Postfix asks the resolvers of /etc/resolv.conf: its
instance runs in a private mount namespace, `unshare -m`, where a resolv.conf
naming that server is bind-mounted over /etc/resolv.conf; the machine's own
file is untouched).  The load's client address 127.0.0.1 is not listed
(NXDOMAIN, negative TTL 0), 127.0.0.2 is.  See bench/policy.sh for the
environment overrides.
"""

import atexit
import os
import pwd
import select
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time

from dnslib import DNSRecord

import smtp_accept as sa

N = int(os.environ.get("N", os.environ.get("MESSAGES", "10000")))
RSPAMD_N = int(os.environ.get("RSPAMD_N", str(N)))
SESSIONS = [int(s) for s in os.environ.get("SESSIONS", "10 50").split()]
MODES = os.environ.get("MODES", "reconnect persistent").split()
CONFIGS = os.environ.get("CONFIGS", "plain rules rspamd").split()
SERVERS = os.environ.get("SERVERS", "yubin postfix").split()
SIZE = int(os.environ.get("SIZE", "4096"))
WARMUP = int(os.environ.get("WARMUP", "200"))
REPEAT = max(1, int(os.environ.get("REPEAT", "1")))
DNS_ADDR = os.environ.get("DNS_ADDR", "127.0.53.53")
DNS_NEG_TTL = int(os.environ.get("DNS_NEG_TTL", "0"))
RSPAMD_WORKERS = int(os.environ.get("RSPAMD_WORKERS", "1"))
# How both servers reach rspamd: "unix" (a Unix socket) or "inet" (TCP).
# Postfix's milter client writes the milter commands rspamd asked not to
# answer (connect, HELO, ...) as separate small writes on a socket without
# TCP_NODELAY, so over TCP the next one waits for the peer's delayed ACK
# (about 40 ms a message: 21 msgs/s in one session; yubin sets the option);
# a Unix socket has no such wait, so it is Postfix's best case and the
# default.
MILTER = os.environ.get("MILTER", "unix")
# Parts of yubin's rule set to leave out ("dnsbl", "ratelimits", "lists":
# the blocked senders inline instead of in a list file): only for trying
# the script on a build that lacks one; the report names what was left
# out, and such a run does not update docs/BENCHMARKS.md by itself.
YUBIN_WITHOUT = os.environ.get("YUBIN_WITHOUT", "").split()
WRITE_DOCS = os.environ.get("WRITE_DOCS", "auto")
KEEP_TMP = os.environ.get("KEEP_TMP", "") not in ("", "0")
YUBIN_BIN = os.environ.get("YUBIN_BIN",
                           os.path.join(sa.REPO, "build-release", "yubin"))
ZONE = "bl.bench.test"
LISTED = "127.0.0.2"
SECTION = "## Policy layer (issue 11)"
BEGIN, END = ("<!-- bench/policy.sh: generated, begin -->",
              "<!-- bench/policy.sh: generated, end -->")
HERE = os.path.dirname(os.path.abspath(__file__))

# smtp_accept.py's measurement reads these module settings.
sa.SIZE = SIZE
sa.WARMUP = WARMUP
sa.KEEP_TMP = KEEP_TMP
sa.RUN_TIMEOUT = float(os.environ.get("RUN_TIMEOUT", max(300, N / 20)))
sa.DELIVERY_TIMEOUT = float(os.environ.get("DELIVERY_TIMEOUT",
                                           max(120, N / 50)))


def log(msg):
    sa.log(msg)


BenchError = sa.BenchError


def need(tool, package):
    if not shutil.which(tool):
        raise BenchError("%s is not installed: apt-get install %s"
                         % (tool, package))


# ---------------------------------------------------------------- DNS

class DnsServer:
    """bench/dnsbl_server.py in its own process."""

    def __init__(self, root):
        self.log = os.path.join(root, "dns.log")
        self.proc = None

    def start(self):
        try:
            self.stats()
            raise BenchError("something already answers DNS on %s:53; set "
                             "DNS_ADDR to a free loopback address" % DNS_ADDR)
        except OSError:
            pass
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(HERE, "dnsbl_server.py"),
             "--address", DNS_ADDR, "--port", "53", "--zone", ZONE,
             "--listed", LISTED, "--neg-ttl", str(DNS_NEG_TTL)],
            stdout=subprocess.PIPE, stderr=open(self.log, "wb"),
            start_new_session=True)
        sa.started_pids.append(self.proc.pid)
        ready, _, _ = select.select([self.proc.stdout], [], [], 15)
        line = self.proc.stdout.readline() if ready else b""
        if not line.startswith(b"ready"):
            raise BenchError("the DNS server did not start: %s"
                             % sa.tail(self.log, 5))
        self.check()
        log("DNS server on %s:53 (pid %d): %s listed, 127.0.0.1 not"
            % (DNS_ADDR, self.proc.pid, LISTED))

    def query(self, name, qtype):
        q = DNSRecord.question(name, qtype)
        return DNSRecord.parse(q.send(DNS_ADDR, 53, timeout=2))

    def check(self):
        """The zone answers as the benchmark needs it to."""
        listed = self.query(".".join(reversed(LISTED.split("."))) + "." +
                            ZONE, "A")
        clean = self.query("1.0.0.127." + ZONE, "A")
        if [str(r.rdata) for r in listed.rr] != ["127.0.0.2"] or \
                clean.header.rcode != 3:
            raise BenchError("the DNS server answers wrongly: %s / %s"
                             % (listed, clean))

    def stats(self):
        """(queries under the DNSBL zone, other queries) answered so far."""
        r = self.query("_stats.bench-ctl", "TXT")
        if not r.rr:
            raise OSError("no stats answer")
        kv = dict(x.split("=") for x in
                  b"".join(r.rr[0].rdata.data).decode().split())
        return int(kv["dnsbl"]), int(kv["other"])

    def stop(self):
        if self.proc:
            sa.stop_pid(self.proc.pid)
            if self.proc.pid in sa.started_pids:
                sa.started_pids.remove(self.proc.pid)


class DnsProbe:
    """DNS queries answered during a run, per kind."""

    def __init__(self, dns):
        self.dns = dns

    def start(self):
        self.s0 = self.dns.stats()

    def stop(self):
        s1 = self.dns.stats()      # (the stats queries count as neither)
        return {"dnsbl_q": s1[0] - self.s0[0],
                "other_q": s1[1] - self.s0[1]}


class CpuProbe:
    """CPU seconds of another process tree (the DNS server, rspamd)."""

    def __init__(self, key, pid):
        self.key, self.pid = key, pid

    def start(self):
        self.c0 = sum(sa.tree_cpu_seconds(self.pid))

    def stop(self):
        return {self.key: sum(sa.tree_cpu_seconds(self.pid)) - self.c0}


# ---------------------------------------------------------------- rspamd

RSPAMD_PROXY = """\
# bench/policy.py: the milter proxy scans by itself (no normal worker).
bind_socket = "127.0.0.1:{port}";
bind_socket = "{socket} mode=0666";
milter = yes;
timeout = 120s;
upstream "local" {{
  default = yes;
  self_scan = yes;
}}
count = {count};
"""

RSPAMD_OPTIONS = """\
# bench/policy.py: every look-up goes to the benchmark's DNS server, which
# answers NXDOMAIN at once for anything outside its zone (no Internet).
dns {{
  nameserver = ["{dns}:53"];
  timeout = 1s;
  retransmits = 1;
}}
"""


class Rspamd:
    """A private rspamd from Debian's configuration, with its own state,
    run, log and local configuration directories and free ports."""

    def __init__(self, root):
        self.base = os.path.join(root, "rspamd")
        self.local = os.path.join(self.base, "etc")
        self.socket = os.path.join(self.base, "run", "milter.sock")
        self.port = None
        self.proc = None

    def setup(self):
        need("rspamd", "rspamd")
        user = pwd.getpwnam("_rspamd")
        for d in ("db", "run", "log", "etc/local.d", "etc/override.d"):
            p = os.path.join(self.base, d)
            os.makedirs(p, exist_ok=True)
            os.chown(p, user.pw_uid, user.pw_gid)
        os.chmod(self.base, 0o755)
        self.port = sa.free_port()
        over = os.path.join(self.local, "override.d")
        with open(os.path.join(over, "worker-proxy.inc"), "w") as f:
            f.write(RSPAMD_PROXY.format(port=self.port, socket=self.socket,
                                        count=RSPAMD_WORKERS))
        for w in ("worker-normal.inc", "worker-controller.inc"):
            with open(os.path.join(over, w), "w") as f:
                f.write("bind_socket = \"127.0.0.1:%d\";\nenabled = false;\n"
                        % sa.free_port())
        with open(os.path.join(self.local, "local.d", "options.inc"),
                  "w") as f:
            f.write(RSPAMD_OPTIONS.format(dns=DNS_ADDR))

    def start(self):
        logf = open(os.path.join(self.base, "stderr.log"), "ab")
        cmd = ["rspamd", "--no-fork", "-u", "_rspamd", "-g", "_rspamd",
               "-c", "/etc/rspamd/rspamd.conf"]
        for k, v in (("LOCAL_CONFDIR", self.local),
                     ("DBDIR", os.path.join(self.base, "db")),
                     ("RUNDIR", os.path.join(self.base, "run")),
                     ("LOGDIR", os.path.join(self.base, "log"))):
            cmd.append("--var=%s=%s" % (k, v))
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=logf, stderr=logf,
                                     start_new_session=True)
        logf.close()
        sa.started_pids.append(self.proc.pid)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError("rspamd exited (rc %s) while starting:\n%s"
                                 % (self.proc.returncode, self.log_tail()))
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                self.wait_hyperscan(deadline)
                log("rspamd %s milter proxy on 127.0.0.1:%d (pid %d, %d "
                    "worker%s)" % (self.version(), self.port, self.proc.pid,
                                   RSPAMD_WORKERS,
                                   "s" if RSPAMD_WORKERS > 1 else ""))
                return
            except OSError:
                time.sleep(0.3)
        raise BenchError("rspamd's milter port %d did not open in 180 s:\n%s"
                         % (self.port, self.log_tail()))

    def address(self, postfix=False):
        """The milter address the servers use, in Postfix's syntax or
        yubin's (the same for a Unix socket)."""
        if MILTER == "unix":
            return "unix:" + self.socket
        return ("inet:127.0.0.1:%d" if postfix else "127.0.0.1:%d") \
            % self.port

    def wait_hyperscan(self, deadline):
        """rspamd compiles its regular expressions into a hyperscan
        database after start-up (hs_helper) and scans without it until the
        worker loads it: wait for that, so that no row measures the slow
        start."""
        path = os.path.join(self.base, "log", "rspamd.log")
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError("rspamd exited while compiling:\n%s"
                                 % self.log_tail())
            try:
                with open(path, errors="replace") as f:
                    text = f.read()
            except OSError:
                text = ""
            if "hyperscan database of" in text:
                return
            if text and "loaded hyperscan engine" not in text:
                return            # a build or CPU without hyperscan
            time.sleep(0.5)
        raise BenchError("rspamd did not load its hyperscan database in "
                         "time:\n%s" % self.log_tail())

    @staticmethod
    def version():
        r = sa.run(["rspamd", "--version"], timeout=20)
        return r.stdout.strip().split()[-1] if r.stdout.strip() else "?"

    def log_tail(self):
        return "%s\n%s" % (
            sa.tail(os.path.join(self.base, "stderr.log"), 10),
            sa.tail(os.path.join(self.base, "log", "rspamd.log"), 10))

    def stop(self):
        if self.proc:
            sa.stop_pid(self.proc.pid)
            if self.proc.pid in sa.started_pids:
                sa.started_pids.remove(self.proc.pid)


# ---------------------------------------------------------------- the rules
#
# One rule set, written twice: for yubin (policy.rules, docs/POLICY.md) and
# for Postfix (access maps, header/body checks).  None of the rules matches
# the benchmark's messages (smtp-source: HELO client.test, MAIL FROM
# bench@client.test, RCPT TO sink@bench.test, From/To/Date/Message-Id and
# lines of X), so every rule is evaluated for every message and the
# messages are delivered as in the plain runs.

# 100 blocked senders, the list file of one rule.
BLOCKED_SENDERS = ["spammer%03d@bulk%02d.example" % (i, i % 17)
                   for i in range(100)]

YUBIN_RULES = """\
policy: {{
  # 127.0.0.1 is not trusted here, so the port-25 defaults (greeting
  # pause, HELO check, own-domain senders) apply to the load, as Postfix's
  # postscreen and restrictions do with 127.0.0.1 outside mynetworks.
  trusted_networks = [ "192.0.2.250" ];
{lists}  rules = (
    {{ name = "partners"; client = [ "198.51.100.0/24", "2001:db8:1::/48" ]; action = "accept"; }},
    {{ name = "bad-nets"; client = [ "192.0.2.0/24", "203.0.113.0/24", "127.0.0.64/26", "2001:db8:dead::/48" ];
       action = "reject"; text = "your network is blocked"; }},
    {{ name = "internal-tag"; client = [ "10.0.0.0/8" ]; add_header = [ "X-Internal: yes" ]; }},
    {{ name = "helo-localhost"; helo = [ "localhost", "localhost.localdomain" ];
       action = "reject"; text = "HELO localhost from outside"; }},
    {{ name = "helo-ours"; helo = [ "bench.test", "*.bench.test" ]; action = "reject"; text = "that is our name"; }},
    {{ name = "helo-dynamic"; helo = [ "*.dynamic.example", "*.dsl.example" ]; action = "tempfail";
       text = "dynamic address"; }},
{dnsbl_rule}    {{ name = "sender-spam"; sender_domain = [ "spam.example", "*.spam.example" ];
       action = "reject"; text = "sender domain blocked"; }},
    {{ name = "sender-digits"; sender = "/^[0-9]{{8,}}@/"; action = "reject"; text = "sender looks generated"; }},
    {{ name = "sender-list"; sender = {sender_list}; action = "reject"; text = "sender blocked"; }},
    {{ name = "fake-bounce"; sender = [ "mailer-daemon@*.invalid" ]; action = "reject"; }},
    {{ name = "rcpt-closed"; rcpt_domain = [ "closed.bench.test" ]; action = "reject";
       text = "this domain takes no mail"; }},
    {{ name = "rcpt-old"; rcpt_domain = [ "old.example", "*.old.example" ]; action = "reject"; text = "gone"; }},
    {{ name = "rcpt-noreply"; rcpt = [ "noreply@bench.test", "no-reply@bench.test" ]; action = "reject";
       text = "no replies here"; }},
    {{ name = "size-cap"; size_over = 20000000; action = "reject"; code = 552; status = "5.3.4";
       text = "too big for us"; }},
    {{ name = "subject-spam"; header = "Subject: /\\\\b(viagra|casino|lottery)\\\\b/i"; action = "reject";
       text = "spam subject"; }},
    {{ name = "bad-mailer"; header = "X-Mailer: /^(MassMailer|BulkSender)/i"; action = "reject"; }},
    {{ name = "no-exe"; header = "Content-Type: /name=\\"?[^\\"]*\\\\.(exe|scr|pif)\\"?/i"; action = "reject";
       text = "executables not accepted"; }},
    {{ name = "body-lottery"; body = "you have won the lottery"; action = "reject"; text = "no thanks"; }},
    {{ name = "body-shortener"; body = "/https?:\\\\/\\\\/(bit\\\\.ly|tinyurl\\\\.com)\\\\//"; action = "hold"; }}
  );
{parts}}};
"""

YUBIN_DNSBL_RULE = """\
    {{ name = "dnsbl"; dnsbl = [ "bench-bl" ]; action = "reject"; text = "listed at bench-bl"; }},
"""

YUBIN_LISTS = """\
  lists = {{
    blocked = {{ type = "file"; path = "{blocked}"; }};
  }};
"""

YUBIN_PARTS = {
    "dnsbl": """\
  dnsbl = (
    { name = "bench-bl"; zone = "{zone}"; type = "ip"; }
  );
""",
    "ratelimits": """\
  ratelimits = (
    { name = "client-msgs"; key = "client"; count = "messages"; limit = 100000000; window = 3600; },
    { name = "sender-domain-rcpts"; key = "sender_domain"; count = "recipients"; limit = 100000000;
       window = 3600; }
  );
""",
}

POSTFIX_RULES_MAIN = """
# ---- bench/policy.py: the rule set as Postfix restrictions
# 127.0.0.1 is not in mynetworks, so every restriction and rate limit
# applies to the load (like yubin's port-25 listener).
mynetworks = 192.0.2.250/32
smtpd_client_event_limit_exceptions =
smtpd_helo_required = yes
smtpd_client_restrictions =
    check_client_access cidr:{etc}/client.cidr
# yubin's port-25 defaults apply to the load too: a HELO syntax check
# and no mail from our own domain without a login (postscreen's pregreet
# test, below, matches yubin's greeting pause).
smtpd_helo_restrictions =
    reject_invalid_helo_hostname
    check_helo_access texthash:{etc}/helo
    check_helo_access pcre:{etc}/helo.pcre
smtpd_sender_restrictions =
    check_sender_access texthash:{etc}/own
    check_sender_access texthash:{etc}/sender
    check_sender_access pcre:{etc}/sender.pcre
    check_sender_access texthash:{etc}/blocked_senders
smtpd_recipient_restrictions =
    check_recipient_access texthash:{etc}/rcpt
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
message_size_limit = 20000000
header_checks = pcre:{etc}/header_checks
body_checks = pcre:{etc}/body_checks
# rate limits (anvil), high enough never to trigger
anvil_rate_time_unit = 60s
smtpd_client_connection_rate_limit = 1000000
smtpd_client_message_rate_limit = 1000000
smtpd_client_recipient_rate_limit = 1000000
# postscreen with the DNS blocklist (and its pregreet test, as
# POSTSCREEN_README recommends)
postscreen_dnsbl_sites = {zone}
postscreen_dnsbl_threshold = 1
postscreen_dnsbl_action = enforce
postscreen_greet_action = enforce
postscreen_access_list = permit_mynetworks
"""

POSTFIX_MAPS = {
    "client.cidr": """\
198.51.100.0/24 OK
2001:db8:1::/48 OK
192.0.2.0/24 REJECT your network is blocked
203.0.113.0/24 REJECT your network is blocked
127.0.0.64/26 REJECT your network is blocked
2001:db8:dead::/48 REJECT your network is blocked
10.0.0.0/8 PREPEND X-Internal: yes
""",
    "helo": """\
localhost REJECT HELO localhost from outside
localhost.localdomain REJECT HELO localhost from outside
bench.test REJECT that is our name
""",
    "helo.pcre": """\
/\\.bench\\.test$/ REJECT that is our name
/\\.(dynamic|dsl)\\.example$/ DEFER_IF_PERMIT dynamic address
""",
    "own": """\
bench.test REJECT our users send on the submission port
""",
    "sender": """\
spam.example REJECT sender domain blocked
.spam.example REJECT sender domain blocked
""",
    "sender.pcre": """\
/^[0-9]{8,}@/ REJECT sender looks generated
/^mailer-daemon@.*\\.invalid$/ REJECT
""",
    "blocked_senders": "".join("%s REJECT sender blocked\n" % s
                               for s in BLOCKED_SENDERS),
    "rcpt": """\
closed.bench.test REJECT this domain takes no mail
old.example REJECT gone
.old.example REJECT gone
noreply@bench.test REJECT no replies here
no-reply@bench.test REJECT no replies here
""",
    "header_checks": """\
/^Subject:.*\\b(viagra|casino|lottery)\\b/i REJECT spam subject
/^X-Mailer:\\s*(MassMailer|BulkSender)/i REJECT
/^Content-Type:.*name="?[^"]*\\.(exe|scr|pif)"?/i REJECT executables not accepted
""",
    "body_checks": """\
/you have won the lottery/i REJECT no thanks
/https?:\\/\\/(bit\\.ly|tinyurl\\.com)\\// HOLD
""",
}

POSTSCREEN_MASTER = """\
# bench/policy.py: postscreen in front of smtpd
127.0.0.1:{port} inet n -       n       -       1       postscreen
smtpd     pass  -       -       n       -       -       smtpd
dnsblog   unix  -       -       n       -       0       dnsblog
tlsproxy  unix  -       -       n       -       0       tlsproxy
"""

POSTFIX_MILTER_MAIN = """
# ---- bench/policy.py: rspamd in the path (rspamd's documented settings)
smtpd_milters = {address}
milter_protocol = 6
milter_default_action = accept
milter_mail_macros = i {{mail_addr}} {{client_addr}} {{client_name}} {{auth_authen}}
"""

YUBIN_MILTER = """\
policy: {{
  milters = (
    {{ name = "rspamd"; address = "{address}"; }}
  );
}};
"""


# ---------------------------------------------------------------- servers

# The launcher puts Postfix's master, and so every process it starts, in a
# private mount namespace where /etc/resolv.conf is the benchmark's.
NAMESPACE_SH = 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"'


def postconf_edit(etc, text):
    """Set the parameters of a main.cf fragment (continuation lines
    allowed) with postconf -e, so that they replace earlier settings."""
    params = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0].isspace() and params:
            params[-1] += " " + line.strip()
        else:
            params.append(line.strip())
    r = sa.run(["postconf", "-c", etc, "-e"] + params, timeout=60)
    if r.returncode != 0 or r.stderr.strip():
        raise BenchError("postconf -e failed:\n%s%s" % (r.stdout, r.stderr))


class Postfix(sa.Postfix):
    """smtp_accept.py's private Postfix in one configuration (plain, rules,
    rspamd), started in a mount namespace with the benchmark's resolver."""

    def __init__(self, root, config, rspamd=None):
        super().__init__(os.path.join(root, config))
        self.config, self.rspamd = config, rspamd
        self.resolv = os.path.join(self.base, "resolv.conf")
        self.launcher = ["unshare", "--mount", "--propagation", "private",
                         "/bin/sh", "-c", NAMESPACE_SH, "sh", self.resolv]

    def setup(self):
        super().setup()
        with open(self.resolv, "w") as f:
            f.write("nameserver %s\noptions timeout:2 attempts:2\n"
                    % DNS_ADDR)
        if self.config == "rules":
            postconf_edit(self.etc, POSTFIX_RULES_MAIN.format(etc=self.etc,
                                                              zone=ZONE))
            for name, text in POSTFIX_MAPS.items():
                with open(os.path.join(self.etc, name), "w") as f:
                    f.write(text)
            master = os.path.join(self.etc, "master.cf")
            with open(master) as f:
                lines = f.read().splitlines(True)
            with open(master, "w") as f:
                f.write(POSTSCREEN_MASTER.format(port=self.port))
                f.writelines(l for l in lines
                             if not l.startswith("127.0.0.1:"))
        elif self.config == "rspamd":
            postconf_edit(self.etc, POSTFIX_MILTER_MAIN.format(
                address=self.rspamd.address(postfix=True)))
        r = sa.run(["postfix", "-c", self.etc, "check"], timeout=60)
        if r.returncode != 0 or r.stderr.strip():
            raise BenchError("postfix check (%s) failed:\n%s%s"
                             % (self.config, r.stdout, r.stderr))

    def start(self):
        super().start()
        # The master must see the benchmark's resolver, the machine not.
        try:
            with open("/proc/%d/root/etc/resolv.conf" % self.master) as f:
                seen = f.read()
        except OSError as e:
            raise BenchError("cannot read Postfix's resolv.conf: %s" % e)
        with open("/etc/resolv.conf") as f:
            host = f.read()
        if DNS_ADDR not in seen or DNS_ADDR in host:
            raise BenchError("the private mount namespace did not work: "
                             "Postfix sees %r, the machine %r" % (seen, host))


class Yubin(sa.Yubin):
    """smtp_accept.py's yubin in one configuration (plain, rules, rspamd),
    asking the benchmark's DNS server."""

    def __init__(self, root, binary, config, rspamd=None):
        super().__init__(os.path.join(root, config), binary)
        self.config, self.rspamd = config, rspamd

    def setup(self):
        super().setup()
        extra = 'dns: { resolver = "%s@53"; };\n' % DNS_ADDR
        if self.config == "rules":
            blocked = os.path.join(self.base, "blocked-senders.txt")
            with open(blocked, "w") as f:
                f.write("# bench/policy.py: one address per line\n")
                f.write("".join(s + "\n" for s in BLOCKED_SENDERS))
            # yubin refuses an unknown recipient before the rules see it:
            # the rcpt-noreply rule's address must exist to be tried.
            r = sa.run([self.bin, "--config", self.conf, "user", "add",
                        "noreply@bench.test", "--password-stdin"],
                       input="bench-password\n", timeout=60)
            if r.returncode != 0:
                raise BenchError("yubin user add noreply@bench.test: %s%s"
                                 % (r.stdout, r.stderr))
            lists = "lists" not in YUBIN_WITHOUT
            extra += YUBIN_RULES.format(
                lists=YUBIN_LISTS.format(blocked=blocked) if lists else "",
                sender_list='"list:blocked"' if lists else
                "[ %s ]" % ", ".join('"%s"' % a for a in BLOCKED_SENDERS),
                dnsbl_rule="" if "dnsbl" in YUBIN_WITHOUT else
                YUBIN_DNSBL_RULE.format(),
                parts="".join(YUBIN_PARTS[p].replace("{zone}", ZONE)
                              for p in YUBIN_PARTS if p not in YUBIN_WITHOUT))
        elif self.config == "rspamd":
            extra += YUBIN_MILTER.format(address=self.rspamd.address())
        with open(self.conf, "a") as f:
            f.write("# ---- bench/policy.py: %s\n%s" % (self.config, extra))
        r = sa.run([self.bin, "--config", self.conf, "config", "check"],
                   timeout=30)
        if r.returncode != 0:
            raise BenchError("yubin config check (%s) failed (rc %d):\n%s%s"
                             % (self.config, r.returncode, r.stdout,
                                r.stderr))


# ---------------------------------------------------------------- checks

# Messages that some rule must refuse, on both servers: (what, client
# address, sender, recipient, extra header lines, body, text the refusal
# must contain or None).  They prove that the rule set measured is live,
# not silently ignored.
BITES = [
    ("the DNSBL (client %s listed)" % LISTED, LISTED, "ok@client.test",
     sa.RCPT, "", "hello\r\n", None),
    ("the client network", "127.0.0.66", "ok@client.test", sa.RCPT, "",
     "hello\r\n", "your network is blocked"),
    ("the list file", "127.0.0.1", BLOCKED_SENDERS[5], sa.RCPT, "",
     "hello\r\n", "sender blocked"),
    ("the sender regular expression", "127.0.0.1", "12345678@client.test",
     sa.RCPT, "", "hello\r\n", "sender looks generated"),
    ("the own-domain check", "127.0.0.1", "someone@bench.test", sa.RCPT,
     "", "hello\r\n", None),
    ("the recipient rule", "127.0.0.1", "ok@client.test",
     "noreply@bench.test", "", "hello\r\n", "no replies here"),
    ("the Subject match", "127.0.0.1", "ok@client.test", sa.RCPT,
     "Subject: cheap casino chips\r\n", "hello\r\n", "spam subject"),
    ("the body match", "127.0.0.1", "ok@client.test", sa.RCPT, "",
     "Dear friend, you have won the lottery!\r\n", "no thanks"),
]


def smtp_refused(port, source, sender, rcpt, headers, body):
    """Send one message from source; the first 4xx/5xx reply, or None if
    the message was accepted."""
    msg = ("From: <%s>\r\nTo: <%s>\r\n%s\r\n%s"
           % (sender, rcpt, headers, body))
    try:
        with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test",
                          source_address=(source, 0), timeout=60) as c:
            c.sendmail(sender, [rcpt], msg)
    except smtplib.SMTPRecipientsRefused as e:
        code, text = list(e.recipients.values())[0]
        return "%d %s" % (code, text.decode(errors="replace"))
    except smtplib.SMTPResponseException as e:
        return "%d %s" % (e.smtp_code, e.smtp_error.decode(errors="replace"))
    except (smtplib.SMTPServerDisconnected, ConnectionError) as e:
        return "disconnected (%s)" % e
    return None


def check_rules(srv):
    """Each rule in BITES refuses its message on srv (started here and
    stopped again); a rule set that does not bite is an error."""
    srv.start()
    try:
        for bite in BITES:
            what, text = bite[0], bite[-1]
            if srv.name == "yubin" and "DNSBL" in what and \
                    "dnsbl" in YUBIN_WITHOUT:
                continue
            got = smtp_refused(srv.port, *bite[1:-1])
            if got is None:
                raise BenchError("%s with rules accepted a message that %s "
                                 "must refuse" % (srv.name, what))
            if text and text not in got:
                raise BenchError("%s with rules refused the message for %s "
                                 "for another reason: %s"
                                 % (srv.name, what, got))
            log("  %s refuses a message by %s: %s"
                % (srv.name, what, got.splitlines()[0][:100]))
    finally:
        srv.stop()
    sa.clear_maildir(srv.maildir)


# ---------------------------------------------------------------- report

LABEL = {"reconnect": "1 msg/connection", "persistent": "persistent (-d)"}
NAMES = {"yubin": "yubin", "postfix": "Postfix"}


def per_msg_ms(r, key):
    """CPU ms per message of a run: key "cpu_s" (user + system), "user_s"
    (user only), "rspamd_cpu_s", ...; None without the run."""
    if not r:
        return None
    v = r["cpu_s"] - r["cpu_sys_s"] if key == "user_s" else r.get(key)
    return None if v is None else 1000.0 * v / r["count"]


def nz(fmt, x):
    """fmt % x without a minus sign on a value that rounds to zero."""
    return fmt % 0.0 if fmt % abs(x) == fmt % 0.0 else fmt % x


def f1(x, fmt="%.2f"):
    return "—" if x is None else nz(fmt, x)


def pct_drop(base, new):
    """How much lower new is than base, in % of base."""
    if not base or not new:
        return None
    return 100.0 * (base - new) / base


def build_tables(by):
    def get(server, cfg, mode, s):
        return by.get((server, cfg, mode, s))

    rows = [(m, s) for m in MODES for s in SESSIONS]
    out = []
    # 1. Throughput of each configuration.
    out.append("| connections | sessions | configuration | yubin msgs/s | "
               "Postfix msgs/s | ratio yubin/Postfix | yubin CPU ms/msg | "
               "Postfix CPU ms/msg | yubin peak PSS MiB | Postfix peak PSS "
               "MiB | DNSBL look-ups/msg (yubin / Postfix) |")
    out.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for m, s in rows:
        for cfg in CONFIGS:
            y, p = get("yubin", cfg, m, s), get("Postfix", cfg, m, s)
            out.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | "
                       "%s / %s |" % (
                           LABEL.get(m, m), s, cfg,
                           sa.fmt_rate(y and y["accept_rate"]),
                           sa.fmt_rate(p and p["accept_rate"]),
                           sa.fmt_ratio(y and y["accept_rate"],
                                        p and p["accept_rate"]),
                           f1(per_msg_ms(y, "cpu_s")),
                           f1(per_msg_ms(p, "cpu_s")),
                           sa.fmt_mib(y and y["pss_kib"]),
                           sa.fmt_mib(p and p["pss_kib"]),
                           f1(y and y.get("dnsbl_q") / y["count"]),
                           f1(p and p.get("dnsbl_q") / p["count"])))
    tput = "\n".join(out)
    # 2. What the rules cost: rules against plain, per server.
    cost = []
    if "rules" in CONFIGS and "plain" in CONFIGS:
        cost.append("| connections | sessions | yubin throughput lost | "
                    "yubin CPU µs/msg added | yubin user CPU µs/msg added | "
                    "Postfix throughput lost | Postfix CPU µs/msg added | "
                    "Postfix user CPU µs/msg added |")
        cost.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for m, s in rows:
            cells = []
            for srv in ("yubin", "Postfix"):
                a, b = get(srv, "plain", m, s), get(srv, "rules", m, s)
                drop = pct_drop(a and a["accept_rate"],
                                b and b["accept_rate"])
                cells.append(f1(drop, "%.1f %%"))
                for key in ("cpu_s", "user_s"):
                    ca, cb = per_msg_ms(a, key), per_msg_ms(b, key)
                    cells.append(
                        "—" if not ca or cb is None else
                        "%s (%s %%)" % (nz("%.0f", 1000 * (cb - ca)),
                                        nz("%+.0f", 100 * (cb - ca) / ca)))
            cost.append("| %s | %d | %s |" % (LABEL.get(m, m), s,
                                              " | ".join(cells)))
    # 3. rspamd in the path.
    rsp = []
    if "rspamd" in CONFIGS:
        rsp.append("| connections | sessions | yubin+rspamd msgs/s | "
                   "Postfix+rspamd msgs/s | ratio yubin/Postfix | rspamd CPU "
                   "ms/msg (yubin run / Postfix run) | rspamd DNS look-ups"
                   "/msg (yubin run / Postfix run) | server CPU ms/msg "
                   "(yubin / Postfix) |")
        rsp.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for m, s in rows:
            y, p = get("yubin", "rspamd", m, s), get("Postfix", "rspamd", m, s)
            rsp.append("| %s | %d | %s | %s | %s | %s / %s | %s / %s | "
                       "%s / %s |" % (
                           LABEL.get(m, m), s,
                           sa.fmt_rate(y and y["accept_rate"]),
                           sa.fmt_rate(p and p["accept_rate"]),
                           sa.fmt_ratio(y and y["accept_rate"],
                                        p and p["accept_rate"]),
                           f1(per_msg_ms(y, "rspamd_cpu_s")),
                           f1(per_msg_ms(p, "rspamd_cpu_s")),
                           f1(y and y["other_q"] / y["count"], "%.1f"),
                           f1(p and p["other_q"] / p["count"], "%.1f"),
                           f1(per_msg_ms(y, "cpu_s")),
                           f1(per_msg_ms(p, "cpu_s"))))
    return tput, "\n".join(cost), "\n".join(rsp)


def span(values, fmt):
    """"a" or "a to b" for the smallest and largest of values."""
    lo, hi = nz(fmt, min(values)), nz(fmt, max(values))
    return lo if lo == hi else "%s to %s" % (lo, hi)


def verdicts(by):
    """The issue's two targets, from the measured rows."""
    lines = []
    drops, cpu_us, cpu_pct, user_us = [], [], [], []
    for m in MODES:
        for s in SESSIONS:
            a, b = by.get(("yubin", "plain", m, s)), \
                by.get(("yubin", "rules", m, s))
            d = pct_drop(a and a["accept_rate"], b and b["accept_rate"])
            if d is not None:
                drops.append(d)
            ca, cb = per_msg_ms(a, "cpu_s"), per_msg_ms(b, "cpu_s")
            if ca and cb is not None:
                cpu_us.append(1000 * (cb - ca))
                cpu_pct.append(100 * (cb - ca) / ca)
                user_us.append(1000 * (per_msg_ms(b, "user_s") -
                                       per_msg_ms(a, "user_s")))
    if drops:
        lines.append("- Throughput yubin loses to the rules, the DNSBL and "
                     "the rate limits, by row: %s %% (target: under 10 %%; "
                     "a negative figure is a row where the rules run was "
                     "the faster one, i.e. noise): %s."
                     % (span(drops, "%.1f"),
                        "met" if max(drops) < 10 else "not met"))
    if cpu_us:
        cpu_us.sort()
        lines.append("- CPU time the rules add to each yubin message, by "
                     "row: %s µs (%s %% of the plain row's; median %s µs), "
                     "of which user space: %s µs."
                     % (span(cpu_us, "%.0f"), span(cpu_pct, "%+.0f"),
                        nz("%.0f", cpu_us[len(cpu_us) // 2]),
                        span(user_us, "%.0f")))
    ratios = []
    for m in MODES:
        for s in SESSIONS:
            y, p = by.get(("yubin", "rspamd", m, s)), \
                by.get(("Postfix", "rspamd", m, s))
            if y and p and y["accept_rate"] and p["accept_rate"]:
                ratios.append(y["accept_rate"] / p["accept_rate"])
    if ratios:
        lines.append("- With rspamd in the path, yubin's throughput over "
                     "Postfix+rspamd's, by row: %s (target: at least 1): %s."
                     % (span(ratios, "%.2f"),
                        "met" if min(ratios) >= 1 else "not met"))
    return lines


def section_text(results, info, problems, rspamd_version):
    groups = {}
    for r in results:
        groups.setdefault((r["server"], r["config"], r["mode"],
                           r["sessions"]), []).append(r)
    by = {k: sa.median_run(v) for k, v in groups.items()}
    tput, cost, rsp = build_tables(by)
    dns_cpu = [1000.0 * r["dns_cpu_s"] / r["count"] for r in results
               if r.get("dns_cpu_s") is not None]
    lines = [
        BEGIN,
        "Run %s with `N=%d bench/policy.sh`: %d messages per row (%d with "
        "rspamd), %d-byte payload, one recipient, sessions %s, each row on a "
        "freshly started server after a %d-message warm-up; within each "
        "row of the tables the runs go yubin plain, yubin rules, Postfix "
        "rules, Postfix plain, yubin rspamd, Postfix rspamd, and the other "
        "way round on the next row, so that each comparison is between "
        "neighbouring runs. %s"
        % (info["date"], N, N, RSPAMD_N, SIZE,
           "/".join(str(s) for s in SESSIONS), WARMUP,
           ("Every row was measured %d times; the tables show the run with "
            "the median rate." % REPEAT) if REPEAT > 1
           else "Each row was measured once."),
        "",
        "- Machine: %s, %s cores, %s, kernel %s; disk %s (fsync rate %s "
        "per second before the run, %s after)"
        % (info["cpu"], info["cores"], info["os"], info["kernel"], info["fs"],
           info["fsync_rate"], info["fsync_rate_end"] or "?"),
        "- Postfix %s (Debian package), rspamd %s (Debian package), yubin "
        "commit %s (release build)"
        % (info["postfix"], rspamd_version, info["commit"]),
        "",
        "Accepted messages per second (messages / wall time of smtp-source), "
        "the server's CPU time per message (user + system of all its "
        "processes, from the start of the run to the last delivery), its "
        "peak PSS, and the DNS blocklist look-ups that reached the DNS "
        "server per message.",
        "",
        tput, "",
    ]
    if cost:
        lines += ["What the rule set costs each server: the rules row "
                  "against the plain row of the same server (throughput "
                  "lost, and CPU time added per message, in µs and in % of "
                  "the plain row's: all of it, and the user-space part "
                  "alone, where rule matching runs; most of a server's "
                  "time here is the kernel's, TCP and fsync, which a "
                  "shared disk makes vary from run to run).", "", cost, ""]
    if rsp:
        lines += ["rspamd in the path (one private rspamd, shared by both "
                  "servers; its CPU time counted apart).", "", rsp, ""]
    lines += verdicts(by)
    lines += [
        "",
        "Set-up. Both servers as in the SMTP acceptance section (Postfix: a "
        "private instance delivering to a Maildir with virtual(8); yubin: "
        "the `smtp` role with `msgauth.verify = 0`), and in every "
        "configuration both ask bench/dnsbl_server.py on %s:53 for DNS "
        "(Postfix through a resolv.conf bind-mounted over /etc/resolv.conf "
        "in a private mount namespace; yubin through `dns.resolver`). The "
        "load's address 127.0.0.1 is not listed (NXDOMAIN with a negative "
        "TTL of %d s, so that it is asked again and again, as for many "
        "different clients; a resolver may still reuse an answer within "
        "its second), %s is. The DNS "
        "server's own CPU time, not counted above, was %s ms per message."
        % (DNS_ADDR, DNS_NEG_TTL, LISTED,
           span(dns_cpu, "%.2f") if dns_cpu else "—"),
        "",
        "*rules*: yubin's `policy.rules` has 20 rules (client networks, HELO "
        "names, sender and recipient addresses and domains with wildcards, "
        "a regular expression on the sender, a list file of 100 senders "
        "(`policy.lists`), size, header and body matches, and a rule "
        "refusing clients on the DNS list); none matches the load, so "
        "every one is tried on every message. Plus `policy.dnsbl` with the "
        "one list, `policy.ratelimits` per client (messages) and per sender "
        "domain (recipients), and `policy.trusted_networks` without "
        "127.0.0.1, so the port-25 defaults (greeting pause, HELO check) "
        "apply to the load. Postfix does the same with "
        "`check_client_access` (cidr), `check_helo_access` / "
        "`check_sender_access` / `check_recipient_access` (texthash and "
        "pcre), `header_checks` / `body_checks` (pcre), anvil's client "
        "connection, message and recipient rate limits, and postscreen "
        "with `postscreen_dnsbl_sites` and its pregreet test (`enforce`), "
        "with 127.0.0.1 outside `mynetworks`; yubin's defaults are "
        "matched by the pregreet test, `reject_invalid_helo_hostname` and "
        "a sender map refusing our own domain. Both sides refuse a set of "
        "probe messages (a listed client, a blocked network, the list "
        "file, the regular expression, a recipient, a Subject, a body) "
        "before the measured rows, so neither rule set is silently idle. "
        "postscreen remembers a client that passed (the DNSBL result for "
        "at least `postscreen_dnsbl_min_ttl`, 60 s), so Postfix asks the "
        "DNS about once a minute where yubin asks once per connection: "
        "the look-ups column shows it. Both rule sets are in "
        "bench/policy.py.",
        "",
        "*rspamd*: rspamd from Debian's configuration with private state, "
        "run and log directories, its milter proxy worker scanning by "
        "itself (`self_scan`, %d worker%s), every DNS look-up sent to the "
        "benchmark's DNS server (NXDOMAIN outside the blocklist zone: no "
        "Internet here), no Redis (so no Bayes, fuzzy or rspamd rate "
        "limits); the rows start after rspamd has loaded its compiled "
        "(hyperscan) expressions. yubin: `policy.milters` with that one "
        "milter; Postfix: `smtpd_milters` with rspamd's recommended "
        "milter settings; both over %s. (Postfix over TCP writes the "
        "milter commands rspamd does not answer as separate small writes "
        "without `TCP_NODELAY`, and waits for the delayed ACK, about 40 ms "
        "a message; `MILTER=inet` measures that.)"
        % (RSPAMD_WORKERS, "s" if RSPAMD_WORKERS > 1 else "",
           "a Unix socket" if MILTER == "unix" else "TCP on 127.0.0.1"),
    ]
    if problems:
        lines += ["", "Problems seen in this run:", ""]
        lines += ["- %s" % p for p in problems]
    lines.append(END)
    return "\n".join(lines)


# ---------------------------------------------------------------- main

def row_order(servers, turn):
    """The order in which one row (sessions, mode) is measured on every
    server: yubin plain, yubin rules, Postfix rules, Postfix plain, then
    the rspamd pair, reversed every other row.  Each server's plain and
    rules runs stand next to each other, and so do the two servers' runs
    of one configuration, so that the machine's drift (the disk and the
    CPU are shared) hits both sides of each comparison alike."""
    rank = {("yubin", "plain"): 0, ("yubin", "rules"): 1,
            ("Postfix", "rules"): 2, ("Postfix", "plain"): 3,
            ("yubin", "rspamd"): 4, ("Postfix", "rspamd"): 5}
    order = sorted(servers, key=lambda s: rank[(s.name, s.config)])
    return order[::-1] if turn % 2 else order


def measure_row(srv, sess, mode, dns, rspamd, problems):
    """One measured row on srv, with the DNS and rspamd probes; None (and
    a sentence in problems) when the server failed."""
    probes = [DnsProbe(dns), CpuProbe("dns_cpu_s", dns.proc.pid)]
    if srv.config == "rspamd":
        probes.append(CpuProbe("rspamd_cpu_s", rspamd.proc.pid))
    try:
        res = sa.bench_row(srv, sess, mode,
                           count=RSPAMD_N if srv.config == "rspamd" else N,
                           probes=probes)
    except BenchError as e:
        log("%s %s: %s" % (srv.name, srv.config, e))
        problems.append("%s (%s), %d sessions, %s: %s" % (
            srv.name, srv.config, sess, mode, str(e).splitlines()[0]))
        return None
    res["config"] = srv.config
    log("  %s %s: DNSBL look-ups %d, other DNS %d, DNS server CPU %.2f s%s"
        % (srv.name, srv.config, res["dnsbl_q"], res["other_q"],
           res["dns_cpu_s"], (", rspamd CPU %.1f s" % res["rspamd_cpu_s"])
           if "rspamd_cpu_s" in res else ""))
    return res


def main():
    atexit.register(sa.cleanup)
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, sa.on_signal)
    if os.geteuid() != 0:
        raise BenchError("run as root (Postfix's master, port 53, the mount "
                         "namespace, yubin's privilege drop)")
    for tool, pkg in (("postfix", "postfix"), ("postconf", "postfix"),
                      ("smtp-source", "postfix"), ("openssl", "openssl"),
                      ("unshare", "util-linux"), ("mount", "mount")):
        need(tool, pkg)
    if "postfix" in SERVERS and sa.run(
            ["unshare", "--mount", "--propagation", "private", "true"],
            timeout=20).returncode != 0:
        raise BenchError("cannot make a private mount namespace (unshare "
                         "--mount): Postfix's DNS look-ups cannot be sent to "
                         "the benchmark's DNS server without changing the "
                         "machine's /etc/resolv.conf; run as root where "
                         "unshare is allowed, or with SERVERS=yubin")
    try:
        with open("/etc/postfix/dynamicmaps.cf") as f:
            has_pcre = any(l.split()[:1] == ["pcre"] for l in f)
    except OSError:
        has_pcre = False
    if not has_pcre and "rules" in CONFIGS and "postfix" in SERVERS:
        raise BenchError("Postfix has no pcre tables: apt-get install "
                         "postfix-pcre")
    if "rspamd" in CONFIGS:
        need("rspamd", "rspamd")
    if "yubin" in SERVERS and not os.access(YUBIN_BIN, os.X_OK):
        raise BenchError("no yubin binary at %s (bench/policy.sh builds it; "
                         "or set YUBIN_BIN)" % YUBIN_BIN)
    sa.tmp_root = tempfile.mkdtemp(prefix="yubin-bench-policy-")
    os.chmod(sa.tmp_root, 0o755)
    root = sa.tmp_root
    log("temporary directory %s; %d messages (%d with rspamd), sessions %s, "
        "modes %s, configurations %s" % (root, N, RSPAMD_N, SESSIONS, MODES,
                                         CONFIGS))
    info = sa.machine_info(root)
    dns = DnsServer(root)
    dns.start()
    rspamd = None
    if "rspamd" in CONFIGS:
        rspamd = Rspamd(root)
        rspamd.setup()
        rspamd.start()
    servers = []
    results, problems, failed = [], [], set()
    for cfg in CONFIGS:
        for name in SERVERS:
            srv = Postfix(root, cfg, rspamd) if name == "postfix" else \
                Yubin(root, YUBIN_BIN, cfg, rspamd)
            # A server that cannot be set up (a yubin without a part of the
            # policy layer yet) is reported; the others are measured.
            try:
                srv.setup()
                if cfg == "rules":
                    check_rules(srv)
            except BenchError as e:
                log("%s (%s) not measured: %s" % (srv.name, cfg, e))
                problems.append("%s (%s) not measured: %s" % (
                    srv.name, cfg, " ".join(str(e).split())[:300]))
                continue
            servers.append(srv)
    if YUBIN_WITHOUT and "yubin" in SERVERS and "rules" in CONFIGS:
        problems.append("yubin's rule set was measured without %s "
                        "(YUBIN_WITHOUT)" % ", ".join(YUBIN_WITHOUT))
    turn = 0
    for rep in range(REPEAT):
        for mode in MODES:
            for sess in SESSIONS:
                for srv in row_order(servers, turn):
                    if (srv.name, srv.config) in failed:
                        continue
                    res = measure_row(srv, sess, mode, dns, rspamd, problems)
                    if res is None:
                        failed.add((srv.name, srv.config))
                        continue
                    res["rep"] = rep
                    results.append(res)
                turn += 1
    problems += [p for p in (sa.row_problem(r, "%s (%s), %d sessions, %s" % (
        r["server"], r["config"], r["sessions"], r["mode"])) for r in results)
        if p]
    info["fsync_rate_end"] = sa.fsync_rate(root)
    text = section_text(results, info, problems,
                        Rspamd.version() if rspamd else "—")
    clean = not failed and not problems
    sa.publish(text, WRITE_DOCS, clean,
               lambda t: sa.write_generated(SECTION, BEGIN, END, t))
    return 0 if clean else 1


if __name__ == "__main__":
    sa.run_main(main)
