#!/usr/bin/python3
"""Sieve-at-delivery benchmark for issue 13 (run through bench/sieve.sh).

Messages per second into the Maildir, four rows measured in one run on
the same machine with the same messages:
  - yubin without Sieve: the accounts have no active script;
  - yubin with Sieve: every account's active script is bench/sieve-bench.sieve
    (<maildir>/sieve/bench.sieve, named in <maildir>/sieve/.active);
  - Dovecot LDA + Pigeonhole running the same script for the same
    accounts (~/.dovecot.sieve), dovecot-lda started once per message the
    way Postfix's pipe(8) runs it, SESSIONS of them at a time;
  - Dovecot LMTP + Pigeonhole: a private Dovecot master whose lmtp service
    runs the same script, fed over SESSIONS persistent LMTP sessions.
yubin gets the messages over SMTP on loopback from SESSIONS persistent
sessions (the same Python client as Dovecot's LMTP row); its figure covers
acceptance, the durable queue and delivery, which is more work than
Dovecot does (no queue behind LMTP or the LDA).  A row's clock starts
before the first message is sent and stops when the last file is in the
Maildirs (every folder's new/ and cur/ counted).  Every row runs on a
fresh server on a fresh file system.

The corpus (MESSAGES messages over ACCOUNTS recipients, a mix of mailing
lists, notifications, spam verdicts, invoices, newsletters, big mail and
person-to-person mail) is generated once, deterministically.  Before the
timed rows the script's verdict on a sample is taken from both `yubin sieve
test` and Pigeonhole's `sieve-test` and compared; the verdict on every
message from `yubin sieve test` gives the expected Maildir contents (folder
and system flags per message), and after each row the Maildirs are
compared with it, so a row that filed mail differently is reported, not
quoted.  ROUNDS rounds, the order of the rows rotated each round; the
median of each row.  Process helpers come from smtp_accept.py.
"""

import atexit
import collections
import concurrent.futures
import grp
import os
import pwd
import random
import re
import resource
import shutil
import signal
import smtplib
import statistics
import subprocess
import tempfile
import threading
import time

import api
import smtp_accept as sa

# Each row runs on a fresh server on a fresh file system (bench/api.py's
# FreshFs: an ext4 image with its journal, loop-mounted, as root; a new
# directory otherwise): on a file system shared by the rows, each row
# inherits the files the rows before it wrote and deleted.
api.FS_IMAGE_SIZE = os.environ.get("FS_IMAGE_SIZE", "4G")

MESSAGES = int(os.environ.get("MESSAGES", "3000"))
ACCOUNTS = int(os.environ.get("ACCOUNTS", "10"))
SESSIONS = int(os.environ.get("SESSIONS", "10"))
ROUNDS = max(1, int(os.environ.get("ROUNDS", "3")))
SIZE = int(os.environ.get("SIZE", "4096"))
SAMPLE = int(os.environ.get("SAMPLE", "60"))
# at least one message per account: the first delivery makes its Maildir
WARMUP = max(ACCOUNTS, int(os.environ.get("WARMUP", "200")))
ROWS = os.environ.get("ROWS", "yubin yubin-sieve dovecot-lda dovecot-lmtp").split()
ROW_TIMEOUT = float(os.environ.get("ROW_TIMEOUT", "600"))
STALL_TIMEOUT = float(os.environ.get("STALL_TIMEOUT", "30"))
# Seconds between counts of the files in the Maildirs; a count of 3,000
# files in 160 folders takes about 4 ms of CPU, taken from the servers.
POLL = 0.1
SETTLE = 2.0            # seconds without a new file once every message is in
WRITE_DOCS = os.environ.get("WRITE_DOCS", "auto")
YUBIN_BIN = os.environ.get("YUBIN_BIN", os.path.join(sa.REPO, "build-release", "yubin"))
LDA = os.environ.get("DOVECOT_LDA", "/usr/lib/dovecot/dovecot-lda")
SIEVE_TEST = shutil.which("sieve-test") or "/usr/bin/sieve-test"
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sieve-bench.sieve")
DOMAIN = "bench.test"
SECTION = "## Sieve at delivery (issue 13)"
BEGIN, END = ("<!-- bench/sieve.sh: generated, begin -->",
              "<!-- bench/sieve.sh: generated, end -->")
ROW_LABEL = {"yubin": "yubin, no Sieve", "yubin-sieve": "yubin + Sieve",
             "dovecot-lda": "Dovecot LDA + Pigeonhole",
             "dovecot-lmtp": "Dovecot LMTP + Pigeonhole"}
DOVECOT_ROWS = ("dovecot-lda", "dovecot-lmtp")
BenchError = sa.BenchError
log = sa.log


# ---------------------------------------------------------------- corpus

WORDS = ("the meeting report draft budget review schedule release build server "
         "customer invoice plan quarter team update notes question answer issue "
         "patch change deploy test result week friday office project").split()
KINDS = [  # (weight, kind)
    (22, "colleague"), (18, "external"), (4, "spamflag"), (8, "spamscore"),
    (2, "bounce"), (8, "devlist"), (4, "announce"), (6, "git"), (4, "ticket"),
    (4, "invoice"), (3, "boss"), (2, "large"), (5, "newsletter"), (2, "bulk"),
    (2, "auto"), (3, "team"), (2, "urgent"), (1, "ooo"), (2, "calendar"),
    (2, "massmailer"), (1, "nodate"),
]


def rcpt_of(i):
    return "user%d@%s" % (i % ACCOUNTS + 1, DOMAIN)


def text(rng, nbytes):
    lines, line, n = [], [], 0
    while n < nbytes:
        w = rng.choice(WORDS)
        line.append(w)
        n += len(w) + 1
        if len(line) == 12:
            lines.append(" ".join(line))
            line = []
    lines.append(" ".join(line))
    return "\r\n".join(lines) + "\r\n"


def message(i, rng):
    """(envelope sender, recipient, message bytes) of corpus message i."""
    kind = rng.choices([k for _, k in KINDS], weights=[w for w, _ in KINDS])[0]
    to = rcpt_of(i)
    frm = "%s%d@%s" % (rng.choice(("anna", "ben", "chen", "dora")), rng.randrange(50),
                       rng.choice(("bench.test", "partner.example", "mail.example",
                                   "webmail.example", "uni.example")))
    subject = "%s %s" % (rng.choice(WORDS).capitalize(), " ".join(rng.sample(WORDS, 3)))
    head = []
    body = text(rng, max(200, SIZE - 600))
    env_from = frm
    if kind == "spamflag":
        head += [("X-Spam-Flag", "YES"), ("X-Spam-Score", "%d" % rng.randrange(8, 30))]
    elif kind == "spamscore":
        head.append(("X-Spam-Score", "%d" % rng.randrange(0, 13)))
    elif kind == "bounce":
        env_from = "%s@mx%d.example" % (rng.choice(("MAILER-DAEMON", "postmaster")), rng.randrange(9))
        frm = "Mail Delivery System <%s>" % env_from
        subject = "Undelivered Mail Returned to Sender"
    elif kind == "devlist":
        head += [("List-Id", "Developers <dev.lists.example>"),
                 ("List-Post", "<mailto:dev@lists.example>")]
        subject = "[dev] " + subject
    elif kind == "announce":
        head.append(("List-Id", "Announcements <announce.%s.example>" % rng.choice(("shop", "os"))))
    elif kind == "git":
        frm = "notifications@git.example"
        subject = "Re: [org/repo] %s (PR #%d)" % (subject, rng.randrange(1000))
    elif kind == "ticket":
        subject = "[TICKET-%d] %s" % (rng.randrange(9999), subject)
    elif kind == "invoice":
        subject = "Your %s for order %d" % (rng.choice(("invoice", "receipt")), rng.randrange(10**6))
    elif kind == "boss":
        frm = rng.choice(("boss@bench.test", "ceo@partner.example"))
    elif kind == "large":
        body = text(rng, 50 * 1024)
    elif kind == "newsletter":
        body += "To unsubscribe from this newsletter, follow the link below.\r\n"
    elif kind == "bulk":
        head.append(("Precedence", "bulk"))
    elif kind == "auto":
        head.append(("Auto-Submitted", "auto-generated"))
    elif kind == "team":
        head.append(("Cc", "The team <team@bench.test>"))
    elif kind == "urgent":
        subject = "URGENT: " + subject
    elif kind == "ooo":
        subject = "Automatic reply: " + subject
        head.append(("Auto-Submitted", "auto-replied"))
    elif kind == "calendar":
        frm = "calendar-noreply@calendar.example"
        subject = "Invitation: " + subject
    elif kind == "massmailer":
        head.append(("X-Mailer", "MassMailer 7.1"))
    head += [("From", frm), ("To", "<%s>" % to), ("Subject", subject),
             ("Message-ID", "<sieve-bench-%d@bench.src>" % i)]
    if kind != "nodate":
        head.append(("Date", "Mon, 01 Jan 2024 12:%02d:%02d +0000" % (i // 60 % 60, i % 60)))
    head.append(("MIME-Version", "1.0"))
    head.append(("Content-Type", "text/plain; charset=us-ascii"))
    data = "".join("%s: %s\r\n" % h for h in head) + "\r\n" + body
    return env_from, to, data.encode()


def make_corpus(d, n):
    """n messages as files in d: a list of (path, envelope sender, recipient)."""
    os.makedirs(d, exist_ok=True)
    rng = random.Random(13)
    out = []
    for i in range(n):
        env_from, to, data = message(i, rng)
        path = os.path.join(d, "%06d.eml" % i)
        with open(path, "wb") as f:
            f.write(data)
        out.append((path, env_from, to))
    return out


# ---------------------------------------------------------------- verdicts

def kv_pairs(line):
    out = {}
    for m in re.finditer(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', line):
        v = m.group(2)
        if v.startswith('"'):
            v = re.sub(r'\\(.)', r'\1', v[1:-1])
        out[m.group(1)] = v
    return out


def stores(folder, flags):
    """A store as compared: folder and its IMAP flags, lower-cased, sorted."""
    return (folder, tuple(sorted(f.lower() for f in flags.split())))


def yubin_verdict(binary, path, env_from, to):
    """The stores `yubin sieve test` says the script makes (sorted list)."""
    r = sa.run([binary, "sieve", "test", SCRIPT, path, "--from", env_from, "--to", to],
               timeout=60, env={**os.environ, "TZ": "UTC"})
    if r.returncode != 0:
        raise BenchError("yubin sieve test %s: rc %d: %s%s" % (path, r.returncode, r.stdout, r.stderr))
    out = []
    for line in r.stdout.splitlines():
        kv = kv_pairs(line)
        if kv.get("implicit_keep") == "yes":
            out.append(stores("INBOX", kv.get("flags", "")))
        elif kv.get("action") in ("keep", "fileinto"):
            out.append(stores(kv.get("folder", "INBOX"), kv.get("flags", "")))
        elif "action" in kv:
            out.append((kv["action"], ()))
    return sorted(out)


def pigeonhole_verdict(work, path, env_from, to, as_user):
    """The stores Pigeonhole's sieve-test says the script makes."""
    cmd = [SIEVE_TEST, "-c", os.path.join(work, "sieve-test.conf"), "-C", "-a", to, "-r", to,
           "-f", env_from, os.path.join(work, "script.sieve"), path]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                       env={"HOME": os.path.join(work, "home"), "TZ": "UTC",
                            "PATH": "/usr/bin:/bin"}, **as_user)
    if r.returncode != 0:
        raise BenchError("sieve-test %s: rc %d: %s" % (path, r.returncode, r.stderr.strip()))
    out, cur = [], None
    for line in r.stdout.splitlines():
        if line.startswith(" * store message in folder: "):
            cur = [line.split(": ", 1)[1], ""]
            out.append(cur)
        elif line.startswith("        + add IMAP flags: ") and cur is not None:
            cur[1] = line.split(": ", 1)[1]
        elif line.startswith(" * "):
            out.append([line[3:].split(":")[0].strip(), None])
            cur = None
    return sorted(stores(f, fl) if fl is not None else (f, ()) for f, fl in out)


def user_args():
    """subprocess arguments that drop root to nobody (Dovecot refuses root
    as the mail user); none when not root."""
    if os.geteuid() != 0:
        return {}
    pw = pwd.getpwnam("nobody")
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def chown_tree(top, uid, gid):
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, gid)
    os.lchown(top, uid, gid)


def cross_check(tmp, binary, corpus):
    """Compare yubin's and Pigeonhole's verdicts on SAMPLE messages spread
    over the corpus: a list of differences (empty when they agree)."""
    work = os.path.join(tmp, "crosscheck")
    os.makedirs(os.path.join(work, "home"))
    shutil.copy(SCRIPT, os.path.join(work, "script.sieve"))
    with open(os.path.join(work, "sieve-test.conf"), "w") as f:
        f.write("mail_location = maildir:%s/home/Maildir\nlog_path = /dev/stderr\n"
                "protocols =\nssl = no\nimport_environment = TZ\n" % work)
    as_user = user_args()
    if as_user:
        chown_tree(work, as_user["user"], as_user["group"])
    step = max(1, len(corpus) // max(1, SAMPLE))
    diffs = []
    for path, env_from, to in corpus[::step][:SAMPLE]:
        y = yubin_verdict(binary, path, env_from, to)
        p = pigeonhole_verdict(work, path, env_from, to, as_user)
        if y != p:
            diffs.append("%s: yubin %s, Pigeonhole %s" % (os.path.basename(path), y, p))
    return diffs


def expected_contents(binary, corpus):
    """What the script should leave in the Maildirs, from `yubin sieve
    test` (checked against Pigeonhole by cross_check): a Counter of
    (account, folder, system flags) over every message, and the number of
    files each message makes."""
    exp, per_message = collections.Counter(), []
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        verdicts = ex.map(lambda m: yubin_verdict(binary, *m), corpus)
        for (path, _, to), v in zip(corpus, verdicts):
            for folder, flags in v:
                exp[(to.split("@")[0], folder, sysflags_of(flags))] += 1
            per_message.append(len(v))
    return exp, per_message


SYSFLAG_LETTER = {"\\draft": "D", "\\flagged": "F", "\\answered": "R", "\\seen": "S",
                  "\\deleted": "T"}


def sysflags_of(flags):
    """The Maildir info letters of the system flags among flags (keywords
    are left out: each server numbers them its own way)."""
    return "".join(sorted(SYSFLAG_LETTER[f] for f in flags if f in SYSFLAG_LETTER))


# ---------------------------------------------------------------- Maildirs

def folders(maildir):
    """(folder name, path) of INBOX and every Maildir++ folder of maildir."""
    out = [("INBOX", maildir)]
    try:
        with os.scandir(maildir) as it:
            for e in it:
                if e.name.startswith(".") and e.is_dir() and e.name not in (".", ".."):
                    out.append((e.name[1:], e.path))
    except FileNotFoundError:
        pass
    return out


def count_files(maildirs):
    n = 0
    for md in maildirs.values():
        for _, path in folders(md):
            n += sa.count_dir(os.path.join(path, "new")) + sa.count_dir(os.path.join(path, "cur"))
    return n


def contents(maildirs):
    """Counter of (account, folder, system flags) of the files present."""
    c = collections.Counter()
    for acct, md in maildirs.items():
        for name, path in folders(md):
            for sub in ("new", "cur"):
                try:
                    names = os.listdir(os.path.join(path, sub))
                except FileNotFoundError:
                    continue
                for fn in names:
                    info = fn.split(":2,", 1)[1] if ":2," in fn else ""
                    c[(acct, name, "".join(sorted(ch for ch in info if ch.isupper())))] += 1
    return c


def clear(maildirs):
    """Remove every message file (folders and index files stay, as on a
    mailbox in use) so the next row starts from the same state."""
    for md in maildirs.values():
        for _, path in folders(md):
            sa.clear_maildir(path)


def describe_diff(got, exp, limit=4):
    keys = sorted(set(got) | set(exp))
    bad = [(k, got.get(k, 0), exp.get(k, 0)) for k in keys if got.get(k, 0) != exp.get(k, 0)]
    lines = ["%s/%s%s: %d files, expected %d" % (k[0], k[1], " [%s]" % k[2] if k[2] else "", g, e)
             for k, g, e in bad[:limit]]
    if len(bad) > limit:
        lines.append("%d more" % (len(bad) - limit))
    return "; ".join(lines)


# ---------------------------------------------------------------- servers

class Yubin(sa.Yubin):
    """smtp_accept.py's yubin with ACCOUNTS accounts whose active Sieve
    script can be switched on and off."""

    def __init__(self, root, binary):
        super().__init__(root, binary)
        self.maildirs = {}

    def setup(self):
        super().setup()
        for k in range(1, ACCOUNTS + 1):
            r = sa.run([self.bin, "--config", self.conf, "user", "add", "user%d@%s" % (k, DOMAIN),
                        "--password-stdin"], input="bench-password\n", timeout=60)
            if r.returncode != 0:
                raise BenchError("yubin user add failed (rc %d):\n%s%s"
                                 % (r.returncode, r.stdout, r.stderr))
            self.maildirs["user%d" % k] = os.path.join(self.data, "mail", DOMAIN, "user%d" % k)

    def install_scripts(self):
        """Put the script into every account's Sieve folder, owned as the
        Maildir is (after the first delivery made it)."""
        for md in self.maildirs.values():
            st = os.stat(md)
            d = os.path.join(md, "sieve")
            os.makedirs(d, exist_ok=True)
            shutil.copy(SCRIPT, os.path.join(d, "bench.sieve"))
            for p in (d, os.path.join(d, "bench.sieve")):
                os.chown(p, st.st_uid, st.st_gid)

    def set_sieve(self, on):
        for md in self.maildirs.values():
            active = os.path.join(md, "sieve", ".active")
            if on:
                with open(active + ".tmp", "w") as f:
                    f.write("bench.sieve")
                st = os.stat(md)
                os.chown(active + ".tmp", st.st_uid, st.st_gid)
                os.rename(active + ".tmp", active)
            else:
                try:
                    os.unlink(active)
                except FileNotFoundError:
                    pass

    def feed(self, corpus, errors):
        return feed_sessions(smtplib.SMTP, self.port, corpus, errors)

    def cpu_seconds(self):
        return sum(sa.tree_cpu_seconds(self.proc.pid))


DOVECOT_COMMON = """\
base_dir = {b}/run
state_dir = {b}/state
instance_name = {instance}
log_path = {b}/dovecot.log
info_log_path = /dev/null
ssl = no
mail_location = maildir:~/Maildir
sendmail_path = /bin/true
plugin {{
  sieve = file:~/sieve;active=~/.dovecot.sieve
}}
"""

# LMTP: a private master with the lmtp service on a loopback port, users
# from a passwd-file; everything else (process limits, mail_fsync =
# optimized) as Dovecot ships it.
DOVECOT_LMTP = """\
protocols = lmtp
listen = 127.0.0.1
{users}
passdb {{
  driver = passwd-file
  args = {b}/users
}}
userdb {{
  driver = passwd-file
  args = {b}/users
}}
protocol lmtp {{
  mail_plugins = sieve
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {port}
  }}
  unix_listener lmtp {{
    mode = 0
  }}
}}
"""


class Dovecot:
    """Dovecot + Pigeonhole for ACCOUNTS users, each with a home holding
    the script as ~/sieve/bench.sieve and ~/.dovecot.sieve pointing at it,
    from a private configuration (own base_dir, state_dir, instance_name)."""

    kind = None

    def __init__(self, root):
        self.base = os.path.join(root, "dovecot-" + self.kind)
        self.conf = os.path.join(self.base, "dovecot.conf")
        self.homes = {}
        self.maildirs = {}
        self.as_user = user_args()

    def setup(self):
        for sub in ("run", "state"):
            os.makedirs(os.path.join(self.base, sub), exist_ok=True)
        for k in range(1, ACCOUNTS + 1):
            acct = "user%d" % k
            home = os.path.join(self.base, "home", acct)
            os.makedirs(os.path.join(home, "sieve"))
            shutil.copy(SCRIPT, os.path.join(home, "sieve", "bench.sieve"))
            os.symlink("sieve/bench.sieve", os.path.join(home, ".dovecot.sieve"))
            self.homes[acct] = home
            self.maildirs[acct] = os.path.join(home, "Maildir")
        with open(self.conf, "w") as f:
            f.write("# Dovecot %s for bench/sieve.py\n" % self.kind)
            f.write(DOVECOT_COMMON.format(b=self.base, instance="yubin-bench-sieve-" + self.kind))
            f.write(self.extra_conf())
        if self.as_user:
            chown_tree(self.base, self.as_user["user"], self.as_user["group"])

    def extra_conf(self):
        return ""

    def set_sieve(self, on):
        assert on, "Dovecot rows always run the script"

    def log_tail(self, n=20):
        return sa.tail(os.path.join(self.base, "dovecot.log"), n)


class DovecotLda(Dovecot):
    """dovecot-lda, one process per message as Postfix's pipe(8) starts it
    (no Dovecot daemon runs)."""

    kind = "lda"

    def extra_conf(self):
        return "protocols =\nmail_plugins = sieve\n"

    def start(self):
        pass

    def stop(self):
        pass

    def deliver(self, path, env_from, to):
        """One dovecot-lda run; an error sentence or None."""
        acct = to.split("@")[0]
        with open(path, "rb") as f:
            r = subprocess.run([LDA, "-c", self.conf, "-f", env_from, "-a", to],
                               stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={"HOME": self.homes[acct], "USER": acct, "PATH": "/usr/bin:/bin"},
                               timeout=60, **self.as_user)
        if r.returncode != 0:
            return "dovecot-lda rc %d for %s: %s" % (r.returncode, os.path.basename(path),
                                                      r.stderr[:300].decode("utf-8", "replace").strip())
        return None

    def feed(self, corpus, errors):
        def worker(part):
            for m in part:
                try:
                    e = self.deliver(*m)
                except (OSError, subprocess.SubprocessError) as ex:
                    e = "dovecot-lda: %s" % ex
                if e:
                    errors.append(e)
                    return
        return run_parallel(worker, corpus)

    def cpu_seconds(self):
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return ru.ru_utime + ru.ru_stime

    def alive(self):
        return True


class DovecotLmtp(Dovecot):
    """A private Dovecot master serving LMTP on loopback, fed over
    SESSIONS persistent LMTP sessions like yubin's SMTP ones."""

    kind = "lmtp"

    def __init__(self, root):
        super().__init__(root)
        self.port = sa.free_port()
        self.proc = None

    def extra_conf(self):
        if os.geteuid() == 0:
            uid, gid, users = "nobody", "nogroup", ""
        else:
            # Not root: every Dovecot process runs as this user.
            me = pwd.getpwuid(os.geteuid()).pw_name
            uid, gid = str(os.geteuid()), str(os.getegid())
            group = grp.getgrgid(os.getegid()).gr_name
            users = ("default_internal_user = %s\ndefault_internal_group = %s\n"
                     "default_login_user = %s\nservice anvil {\n  chroot =\n}\n" % (me, group, me))
        uid = str(pwd.getpwnam(uid).pw_uid) if not uid.isdigit() else uid
        gid = str(pwd.getpwnam("nobody").pw_gid) if gid == "nogroup" else gid
        with open(os.path.join(self.base, "users"), "w") as f:
            for acct, home in self.homes.items():
                f.write("%s@%s::%s:%s::%s::\n" % (acct, DOMAIN, uid, gid, home))
        return DOVECOT_LMTP.format(b=self.base, port=self.port, users=users)

    def start(self):
        logf = open(os.path.join(self.base, "dovecot.stderr"), "ab")
        self.proc = subprocess.Popen(["/usr/sbin/dovecot", "-c", self.conf, "-F"],
                                     stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                     start_new_session=True)
        logf.close()
        sa.started_pids.append(self.proc.pid)
        try:
            banner = sa.wait_banner(self.port, 30, alive=self.alive)
        except BenchError as e:
            raise BenchError("%s; log:\n%s\n%s" % (e, self.log_tail(), sa.tail(
                os.path.join(self.base, "dovecot.stderr"), 10)))
        log("Dovecot LMTP up on 127.0.0.1:%d (pid %d): %s" % (self.port, self.proc.pid, banner))

    def stop(self):
        if self.proc is not None:
            sa.stop_pid(self.proc.pid, grace=20)
            if self.proc.pid in sa.started_pids:
                sa.started_pids.remove(self.proc.pid)
            self.proc = None

    def feed(self, corpus, errors):
        return feed_sessions(smtplib.LMTP, self.port, corpus, errors)

    def cpu_seconds(self):
        return sum(sa.tree_cpu_seconds(self.proc.pid))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


def feed_sessions(client, port, corpus, errors):
    """Send corpus over SESSIONS persistent sessions of client (smtplib's
    SMTP or LMTP class); a session stops at its first failure, which goes
    into errors."""
    def session(part):
        try:
            with client("127.0.0.1", port, local_hostname="client.test", timeout=60) as s:
                for path, env_from, to in part:
                    with open(path, "rb") as f:
                        s.sendmail(env_from, [to], f.read())
        except (smtplib.SMTPException, OSError) as e:
            errors.append("%s: %s" % (client.__name__, e))
    return run_parallel(session, corpus)


def run_parallel(fn, corpus):
    """Start SESSIONS threads, thread k gets messages k, k+SESSIONS, ...;
    returns the threads (started)."""
    threads = [threading.Thread(target=fn, args=(corpus[k::SESSIONS],), daemon=True)
               for k in range(SESSIONS)]
    for t in threads:
        t.start()
    return threads


# ---------------------------------------------------------------- rows

def wait_files(maildirs, want, minimum, feeders, alive):
    """Wait until want files are in the Maildirs, or until at least
    minimum are there, the feeders are done and nothing new arrived for
    SETTLE seconds (a server that files differently from the script);
    gives up after STALL_TIMEOUT without progress or ROW_TIMEOUT.
    Returns (time of the last new file, files)."""
    deadline = time.monotonic() + ROW_TIMEOUT
    last_n, last_change = -1, time.monotonic()
    while True:
        n = count_files(maildirs)
        now = time.monotonic()
        if n != last_n:
            last_n, last_change = n, now
        if n >= want:
            return now, n
        fed = not any(t.is_alive() for t in feeders)
        if fed and n >= minimum and now - last_change > SETTLE:
            return last_change, n
        if now > deadline or now - last_change > STALL_TIMEOUT or not alive():
            return None, n
        time.sleep(POLL)


def measure(row, server, corpus, expected):
    """One timed row; a dict with the rate, CPU and problems."""
    clear(server.maildirs)
    server.set_sieve(row != "yubin")
    want = sum(expected.values())
    errors = []
    cpu0 = server.cpu_seconds()
    t0 = time.monotonic()
    feeders = server.feed(corpus, errors)
    t1, n = wait_files(server.maildirs, want, len(corpus), feeders, server.alive)
    for t in feeders:
        t.join(timeout=ROW_TIMEOUT)
    cpu = server.cpu_seconds() - cpu0
    got = contents(server.maildirs)
    res = {"row": row, "files": n, "want": want, "errors": errors[:3],
           "rate": (len(corpus) / (t1 - t0)) if t1 is not None and t1 > t0 else None,
           "seconds": (t1 - t0) if t1 is not None else None,
           "cpu_ms": cpu * 1000 / len(corpus), "diff": None}
    if got != expected:
        res["diff"] = describe_diff(got, expected)
    log("%s: %s msgs/s (%d files of %d in %s s), server CPU %.2f ms/msg%s%s"
        % (ROW_LABEL[row], sa.fmt_rate(res["rate"]), n, want,
           "%.2f" % res["seconds"] if res["seconds"] else "?", res["cpu_ms"],
           "; NOT as the script says: " + res["diff"] if res["diff"] else "",
           "; errors: " + "; ".join(errors[:3]) if errors else ""))
    return res


def warm_up(row, server, corpus, files):
    """Deliver the first WARMUP messages untimed (scripts compiled, folders
    made, caches warm), wait for the files they make (files[i] for message
    i with the script; one each without), then empty the Maildirs again:
    a late file would otherwise count in the timed row."""
    server.set_sieve(row != "yubin")
    errors, part = [], corpus[:WARMUP]
    want = len(part) if row == "yubin" else sum(files[:len(part)])
    feeders = server.feed(part, errors)
    for t in feeders:
        t.join(timeout=ROW_TIMEOUT)
    if wait_files(server.maildirs, want, want, [], server.alive)[0] is None:
        raise BenchError("%s warm-up: %d files of %d" % (ROW_LABEL[row], count_files(server.maildirs), want))
    if errors:
        raise BenchError("%s warm-up: %s" % (ROW_LABEL[row], errors[0]))
    clear(server.maildirs)


# ---------------------------------------------------------------- report

def medians(rows, row):
    runs = [r for r in rows if r["row"] == row]
    rates = [r["rate"] for r in runs if r["rate"] is not None]
    return (statistics.median(rates) if rates else None,
            statistics.median(r["cpu_ms"] for r in runs) if runs else None, runs)


def filed_wrong(rows, row):
    """Did any run of row leave Maildirs other than the script says?"""
    return any(r["diff"] for r in rows if r["row"] == row)


def section_text(rows, info, checks, problems):
    out = [BEGIN, ""]
    out.append("Measured %s on %s (%d cores), %s, commit %s; every row on a fresh server and %s. %d messages (%d bytes "
               "typical, 2 %% of 50 KiB) to %d accounts, the script `bench/sieve-bench.sieve` "
               "(20 rules) active for each; %d persistent SMTP sessions into yubin, %d persistent "
               "LMTP sessions into Dovecot, %d dovecot-lda processes at a time; %d rounds, rows "
               "rotated, the median shown. Dovecot %s, as shipped (`mail_fsync = optimized`)."
               % (info["date"], info["cpu"], info["cores"], info["os"], info["commit"],
                  "a fresh ext4 image (journal, loop-mounted)" if api.FS == "image" else
                  "a fresh directory on %s" % info["fs"],
                  MESSAGES, SIZE, ACCOUNTS, SESSIONS, SESSIONS, SESSIONS, ROUNDS, info["dovecot"]))
    out.append("")
    med = {row: medians(rows, row) for row in ROWS}
    peers = [d for d in DOVECOT_ROWS if med.get(d, (None,))[0]]
    out.append("| row | msgs/s into the Maildir | %sserver CPU ms/msg | runs |"
               % "".join("vs %s | " % ROW_LABEL[d].split(" +")[0] for d in peers))
    out.append("|---|---:|%s---:|---|" % ("---:|" * len(peers)))
    for row in ROWS:
        rate, cpu, runs = med[row]
        out.append("| %s%s | %s | %s%s | %s |" % (
            ROW_LABEL[row], " (filed otherwise than the script says)"
            if filed_wrong(rows, row) else "", sa.fmt_rate(rate),
            "".join("%s | " % (sa.fmt_ratio(rate, med[d][0]) if row.startswith("yubin") else "")
                    for d in peers),
            "%.2f" % cpu if cpu is not None else "—",
            ", ".join(sa.fmt_rate(r["rate"]) for r in runs)))
    out.append("")
    y, ys = med.get("yubin", (None,))[0], med.get("yubin-sieve", (None,))[0]
    if y and ys:
        out.append("Cost of the script in yubin: %.1f %% fewer messages per second."
                   % (100.0 * (1 - ys / y)))
    if ys and peers and (filed_wrong(rows, "yubin-sieve") or
                         any(filed_wrong(rows, d) for d in peers)):
        out.append("Target: not judged, a row above did not file the mail as the script says "
                   "(see the problems below).")
    elif ys and peers:
        best = max(peers, key=lambda d: med[d][0])
        out.append("Target: yubin + Sieve ≥ Dovecot + Pigeonhole (its faster way in, %s): "
                   "%s (%.2f×)." % (ROW_LABEL[best].split(" +")[0],
                                    "met" if ys >= med[best][0] else "NOT met", ys / med[best][0]))
    out.append(checks)
    for p in problems:
        out.append("- problem: %s" % p)
    out.append("")
    out.append(END)
    return "\n".join(out)


def dovecot_version():
    r = sa.run(["/usr/sbin/dovecot", "--version"], timeout=20) \
        if os.path.exists("/usr/sbin/dovecot") else None
    return r.stdout.strip() if r is not None and r.returncode == 0 else "?"


def machine(tmp):
    try:
        info = sa.machine_info(tmp)
    except (OSError, subprocess.SubprocessError):
        info = {"cpu": sa.cpu_model(), "cores": os.cpu_count(), "os": "?", "commit": "?",
                "fs": "?", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    info["dovecot"] = dovecot_version()
    return info


# ---------------------------------------------------------------- main

def missing(row):
    """Why row cannot run on this machine (None if it can)."""
    plugin = "/usr/lib/dovecot/modules/lib90_sieve_plugin.so"
    if row in DOVECOT_ROWS and not os.path.exists(plugin):
        return "%s missing (apt-get install dovecot-sieve)" % plugin
    if row == "dovecot-lda" and not os.access(LDA, os.X_OK):
        return "%s missing (apt-get install dovecot-core)" % LDA
    if row == "dovecot-lmtp" and not os.path.exists("/usr/lib/dovecot/lmtp"):
        return "/usr/lib/dovecot/lmtp missing (apt-get install dovecot-lmtpd)"
    return None


def row_server(row, root, binary, corpus, files):
    """A fresh server for row under root, started, its scripts in place and
    warmed up with the first WARMUP messages (then emptied again)."""
    if row.startswith("yubin"):
        srv = Yubin(root, binary)
        srv.setup()
        srv.start()
        if row == "yubin-sieve":
            # The first delivery makes each account's Maildir; then the scripts go in.
            warm_up("yubin", srv, corpus[:max(ACCOUNTS, 1)], files)
            srv.install_scripts()
    else:
        srv = (DovecotLda if row == "dovecot-lda" else DovecotLmtp)(root)
        srv.setup()
        srv.start()
    warm_up(row, srv, corpus, files)
    return srv


def main():
    atexit.register(api.FreshFs.close_all)  # runs after sa.cleanup has stopped the servers
    atexit.register(sa.cleanup)
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, sa.on_signal)
    unknown = set(ROWS) - set(ROW_LABEL)
    if unknown:
        raise BenchError("ROWS: unknown %s (known: %s)"
                         % (" ".join(sorted(unknown)), " ".join(ROW_LABEL)))
    if not os.path.exists(SIEVE_TEST):
        raise BenchError("sieve-test not found (apt-get install dovecot-sieve): "
                         "the script cannot be checked against Pigeonhole")
    problems = []
    for row in ROWS:
        why = missing(row)
        if why:
            log("skipping %s: %s" % (ROW_LABEL[row], why))
            problems.append("skipped %s: %s" % (ROW_LABEL[row], why))
    binary = os.path.abspath(YUBIN_BIN)
    if not os.access(binary, os.X_OK):
        raise BenchError("%s is not executable" % binary)
    sa.tmp_root = tmp = tempfile.mkdtemp(prefix="yubin-bench-sieve-")
    os.chmod(tmp, 0o755)
    info = machine(tmp)
    log("temporary directory %s; %d messages to %d accounts, %d sessions, %d rounds, rows %s"
        % (tmp, MESSAGES, ACCOUNTS, SESSIONS, ROUNDS, " ".join(ROWS)))
    corpus = make_corpus(os.path.join(tmp, "corpus"), MESSAGES)
    os.chmod(os.path.join(tmp, "corpus"), 0o755)
    diffs = cross_check(tmp, binary, corpus)
    if diffs:
        problems.append("yubin and Pigeonhole disagree on %d of the sample's messages: %s"
                        % (len(diffs), "; ".join(diffs[:3])))
    log("cross-check on %d messages: %s" % (min(SAMPLE, len(corpus)),
                                           "same actions" if not diffs else "%d differ" % len(diffs)))
    with_sieve, files = expected_contents(binary, corpus)
    without = collections.Counter((to.split("@")[0], "INBOX", "") for _, _, to in corpus)
    filed = sum(v for (_, f, _), v in with_sieve.items() if f != "INBOX")
    checks = ("Checks: on %d messages spread over the corpus `yubin sieve test` and Pigeonhole's "
              "`sieve-test` %s; by the script, %d of %d messages leave the inbox (%d folders), "
              "%d files in all. After every row the Maildirs were compared with what the script "
              "says (folder and system flags of every file)."
              % (min(SAMPLE, len(corpus)), "take the same actions" if not diffs else
                 "DISAGREE on %d" % len(diffs), filed, len(corpus),
                 len({f for (_, f, _) in with_sieve}) - 1, sum(with_sieve.values())))
    rows, results, n = [r for r in ROWS if not missing(r)], [], 0
    for rnd in range(ROUNDS):
        k = rnd % max(1, len(rows))
        for row in rows[k:] + rows[:k]:
            n += 1
            fs = api.FreshFs(tmp, n)
            srv = None
            try:
                srv = row_server(row, fs.point, binary, corpus, files)
                r = measure(row, srv, corpus, without if row == "yubin" else with_sieve)
                if not srv.alive():
                    raise BenchError("died; log tail:\n%s" % srv.log_tail())
            except BenchError as e:
                log("%s, round %d: %s" % (ROW_LABEL[row], rnd + 1, e))
                problems.append("%s, round %d: %s" % (ROW_LABEL[row], rnd + 1, str(e).splitlines()[0]))
                continue
            finally:
                if srv is not None:
                    srv.stop()
                fs.close()
            results.append(r)
            if r["rate"] is None or r["errors"]:
                problems.append("%s, round %d: %d of %d files%s" % (
                    ROW_LABEL[row], rnd + 1, r["files"], r["want"],
                    "; " + "; ".join(r["errors"]) if r["errors"] else ""))
            if r["diff"]:
                problems.append("%s, round %d: the Maildirs are not what the script says: %s"
                                % (ROW_LABEL[row], rnd + 1, r["diff"]))
    text = section_text(results, info, checks, problems)
    sa.publish(text, WRITE_DOCS, not problems and set(ROWS) == set(ROW_LABEL),
               lambda t: sa.write_generated(SECTION, BEGIN, END, t))
    return 1 if problems else 0


if __name__ == "__main__":
    sa.run_main(main)
