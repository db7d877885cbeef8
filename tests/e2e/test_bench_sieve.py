"""bench/sieve.sh's own checks, so that the figures it prints mean what
they say: the 20-rule script (bench/sieve-bench.sieve) takes the same
actions in yubin and in Pigeonhole on the benchmark's messages and its
corpus reaches every rule; a short run of every row (yubin without and
with the script at local delivery, Dovecot LDA and LMTP with Pigeonhole)
leaves the Maildirs the script says and stops what it started; and the
Maildir comparison catches a message filed in the wrong folder or with the
wrong flags."""

import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import YUBIN_BIN

BENCH = Path(__file__).resolve().parent.parent.parent / "bench"
sys.path.insert(0, str(BENCH))
import sieve as bench  # noqa: E402  (bench/sieve.py)

FOLDERS = {"Junk", "Bounces", "dev-list", "Announce", "Notifications", "Tickets", "Invoices",
           "Large", "Newsletters", "Bulk", "Automated", "Team", "Auto-replies", "Calendar"}


@pytest.fixture
def tmp():
    # not under pytest's tmp_path: sieve-test runs as nobody when we are root
    d = tempfile.mkdtemp(prefix="yubin-test-bench-sieve-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_script_takes_the_same_actions_in_yubin_and_pigeonhole(tmp):
    if not os.path.exists(bench.SIEVE_TEST):
        pytest.fail("sieve-test not found: scripts/install-deps installs dovecot-sieve")
    corpus = bench.make_corpus(os.path.join(tmp, "corpus"), 200)
    bench.SAMPLE = len(corpus)
    assert bench.cross_check(tmp, YUBIN_BIN, corpus) == []
    exp, files = bench.expected_contents(YUBIN_BIN, corpus)
    assert sum(files) == sum(exp.values()) and len(files) == len(corpus)
    folders = {f for (_, f, _) in exp}
    assert folders - {"INBOX"} == FOLDERS, "the corpus must reach every fileinto of the script"
    assert {fl for (_, _, fl) in exp} >= {"", "F", "S"}
    # the :copy rule stores invoices twice
    assert sum(exp.values()) > len(corpus)


def test_rows_file_as_the_script_says_and_stop_what_they_start():
    env = {**os.environ, "YUBIN_BIN": YUBIN_BIN, "MESSAGES": "80", "ROUNDS": "1", "WARMUP": "20",
           "SAMPLE": "5", "WRITE_DOCS": "0", "ROWS": "yubin yubin-sieve dovecot-lda dovecot-lmtp"}
    env.pop("KEEP_TMP", None)
    p = subprocess.run(["/usr/bin/python3", str(BENCH / "sieve.py")], env=env, capture_output=True,
                       text=True, timeout=300)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    assert "problem:" not in out
    for label in ("yubin, no Sieve", "yubin + Sieve", "Dovecot LDA + Pigeonhole",
                  "Dovecot LMTP + Pigeonhole"):
        m = re.search(r"^\| %s \| (\d+) \|" % re.escape(label), out, re.M)
        assert m and int(m.group(1)) > 0, (label, out)
    assert "take the same actions" in out
    pids = [int(x) for x in re.findall(r" up on 127\.0\.0\.1:\d+ \(pid (\d+)\)", out)]
    assert len(pids) == 3, out
    for pid in pids:
        assert not os.path.exists("/proc/%d" % pid) or \
            open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] == "Z", pid
    tmpdir = re.search(r"temporary directory (\S+);", out).group(1)
    assert not os.path.exists(tmpdir)


def put(path, name):
    os.makedirs(path, exist_ok=True)
    open(os.path.join(path, name), "w").close()


def test_maildir_check_catches_a_wrong_folder_or_flag(tmp):
    md = {"user1": os.path.join(tmp, "user1")}
    put(os.path.join(md["user1"], "new"), "1.a")
    put(os.path.join(md["user1"], ".Junk", "cur"), "2.b:2,S")
    put(os.path.join(md["user1"], ".Invoices", "cur"), "3.c:2,Fa")   # keyword letter a is ignored
    got = bench.contents(md)
    assert got == collections.Counter({("user1", "INBOX", ""): 1, ("user1", "Junk", "S"): 1,
                                       ("user1", "Invoices", "F"): 1})
    assert bench.count_files(md) == 3
    wrong_folder = collections.Counter({("user1", "INBOX", ""): 2, ("user1", "Invoices", "F"): 1})
    d = bench.describe_diff(got, wrong_folder)
    assert "user1/INBOX: 1 files, expected 2" in d and "user1/Junk [S]: 1 files, expected 0" in d
    wrong_flag = collections.Counter({("user1", "INBOX", ""): 1, ("user1", "Junk", ""): 1,
                                      ("user1", "Invoices", "F"): 1})
    assert "user1/Junk: 0 files, expected 1" in bench.describe_diff(got, wrong_flag)
    bench.clear(md)
    assert bench.count_files(md) == 0
    assert os.path.isdir(os.path.join(md["user1"], ".Junk", "cur")), "folders stay"
