"""`yubin sieve test`, checked against an independent implementation: every
script of sieve_corpus/cases runs on its message through yubin and through
Pigeonhole's `sieve-test` (Dovecot's Sieve, package dovecot-sieve), and the
two must take the same actions (normalised: folders with flags and :copy /
:create, redirects, discard, reject, vacation parameters and handle, and the
implicit keep), or both fail at run time.  The scripts of
sieve_corpus/errors must fail to compile in both, on the same line.

A case's first line may say `# case: message=NAME.eml from=ADDR to=ADDR`.
sieve-test runs as nobody (it refuses root) with TZ=UTC, from a private
configuration in a temporary folder; Pigeonhole 0.5 has no ereject, so the
corpus has none (the unit tests cover it)."""

import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import YUBIN_BIN

CORPUS = Path(__file__).parent / "sieve_corpus"
SIEVE_TEST = shutil.which("sieve-test") or "/usr/bin/sieve-test"
CASES = sorted(p.name for p in (CORPUS / "cases").glob("*.sieve"))
ERRORS = sorted(p.name for p in (CORPUS / "errors").glob("*.sieve"))
DEFAULTS = {"message": "plain.eml", "from": "alice@example.com", "to": "bob+lists@example.org"}


@pytest.fixture(scope="module")
def workdir():
    if not os.path.exists(SIEVE_TEST):
        pytest.fail("sieve-test not found: scripts/install-deps installs dovecot-sieve")
    # not under pytest's tmp_path: nobody must be able to reach it
    d = Path(tempfile.mkdtemp(prefix="yubin-sieve-"))
    yield from _populate(d)
    shutil.rmtree(d, ignore_errors=True)


def _populate(d):
    for sub in ("personal", "global", "messages"):
        shutil.copytree(CORPUS / sub, d / sub)
    (d / "home").mkdir()
    (d / "dovecot.conf").write_text(
        f"mail_location = maildir:{d}/home/Maildir\n"
        "log_path = /dev/stderr\nprotocols =\nssl = no\n"
        "import_environment = TZ\n"
        "plugin {\n"
        f"  sieve = file:{d}/personal;active={d}/home/.dovecot.sieve\n"
        f"  sieve_global = {d}/global\n"
        "  sieve_vacation_dont_check_recipient = yes\n"
        "}\n")
    nobody = pwd.getpwnam("nobody")
    for root, dirs, files in os.walk(d):
        for name in dirs + files:
            os.chown(os.path.join(root, name), nobody.pw_uid, nobody.pw_gid)
    os.chown(d, nobody.pw_uid, nobody.pw_gid)
    os.chmod(d, 0o755)
    yield d


def case_params(script: Path):
    params = dict(DEFAULTS)
    first = script.read_text().splitlines()[0]
    if first.startswith("# case:"):
        for item in first[len("# case:"):].split():
            k, v = item.split("=", 1)
            params[k] = v
    return params


def run_pigeonhole(workdir, script, params):
    """(status, actions): status "ok", "failed" (runtime) or "compile"."""
    cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
           "env", f"HOME={workdir}/home", "TZ=UTC", SIEVE_TEST, "-c", str(workdir / "dovecot.conf"),
           "-C", "-a", params["to"], "-r", params["to"], "-f", params["from"],
           str(script), str(workdir / "messages" / params["message"])]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if p.returncode == 89 or "parse failed" in p.stderr or "validation failed" in p.stderr:
        lines = [int(m) for m in re.findall(r": line (\d+): error", p.stderr)]
        return "compile", lines[:1], p.stderr
    if p.returncode == 1:
        return "failed", [], p.stderr
    assert p.returncode == 0, p.stderr
    return "ok", parse_pigeonhole(p.stdout), p.stderr


def parse_pigeonhole(out):
    """Pigeonhole's "Performed actions" and "Implicit keep" sections."""
    acts, cur, section, lines, i = [], None, None, out.splitlines(), 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line.startswith("Performed actions:"):
            section = "performed"
        elif line.startswith("Implicit keep:"):
            section = "implicit"
        elif line.startswith(" * store message in folder: "):
            cur = {"kind": "store", "folder": line.split(": ", 1)[1], "flags": (),
                   "copy": False, "create": False, "implicit": section == "implicit"}
            acts.append(cur)
        elif line.startswith("        + add IMAP flags: "):
            cur["flags"] = tuple(sorted(line.split(": ", 1)[1].lower().split()))
        elif line.strip() == "+ preserve implicit keep":
            cur["copy"] = True
        elif line.strip() == "+ create mailbox if it does not exist":
            cur["create"] = True
        elif line.startswith(" * redirect message to: "):
            addr = line.split(": ", 1)[1].strip("<>")
            cur = {"kind": "redirect", "address": addr, "copy": False}
            acts.append(cur)
        elif line.startswith(" * discard"):
            cur = {"kind": "discard"}
            acts.append(cur)
        elif line.startswith(" * reject message with reason: "):
            cur = {"kind": "reject", "reason": line.split(": ", 1)[1]}
            acts.append(cur)
        elif line.startswith(" * send vacation message:"):
            cur = {"kind": "vacation", "subject": None, "from": None}
            acts.append(cur)
            key = None
            while i < len(lines) and lines[i] != "START MESSAGE":
                m = re.match(r"    => (\w+)\s*: (.*)$", lines[i])
                if m:
                    key = m.group(1)
                    cur[key] = m.group(2)
                elif key is not None:
                    cur[key] += "\n" + lines[i]
                i += 1
            body = []
            i += 1
            while i < len(lines) and lines[i] != "END MESSAGE":
                body.append(lines[i])
                i += 1
            cur["reason"] = "\n".join(body)
            cur["seconds"] = int(cur["seconds"])
            cur["handle"] = cur["handle"].rstrip("\n")
            i += 1
    return normalise(acts)


def unquote(v):
    if not v.startswith('"'):
        return v
    out, i, v = [], 0, v[1:-1]
    while i < len(v):
        if v[i] == "\\" and v[i + 1] == "x":
            out.append(chr(int(v[i + 2:i + 4], 16)))
            i += 4
        elif v[i] == "\\":
            out.append(v[i + 1])
            i += 2
        else:
            out.append(v[i])
            i += 1
    return "".join(out)


def parse_kv(line):
    return {m.group(1): unquote(m.group(2))
            for m in re.finditer(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', line)}


def run_yubin(workdir, script, params, extra=()):
    cmd = [YUBIN_BIN, "sieve", "test", str(script), str(workdir / "messages" / params["message"]),
           "--from", params["from"], "--to", params["to"],
           "--global-dir", str(workdir / "global"), *extra]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env={**os.environ, "TZ": "UTC"})
    if p.returncode == 2:
        kv = parse_kv(p.stdout.splitlines()[0])
        assert "compile" in kv, p.stdout + p.stderr
        return "compile", [int(kv["line"])], p.stdout
    if p.returncode == 1:
        assert "runtime=failed" in p.stdout, p.stdout + p.stderr
        return "failed", [], p.stdout
    assert p.returncode == 0, p.stdout + p.stderr
    acts = []
    for line in p.stdout.splitlines():
        kv = parse_kv(line)
        flags = tuple(sorted(kv.get("flags", "").lower().split()))
        if "implicit_keep" in kv:
            if kv["implicit_keep"] == "yes":
                acts.append({"kind": "store", "folder": "INBOX", "flags": flags, "copy": False,
                             "create": False, "implicit": True})
            continue
        k = kv["action"]
        if k in ("keep", "fileinto"):
            acts.append({"kind": "store", "folder": kv.get("folder", "INBOX"), "flags": flags,
                         "copy": kv.get("copy") == "yes", "create": kv.get("create") == "yes",
                         "implicit": False})
        elif k == "redirect":
            acts.append({"kind": "redirect", "address": kv["address"], "copy": kv.get("copy") == "yes"})
        elif k == "discard":
            acts.append({"kind": "discard"})
        elif k == "reject":
            acts.append({"kind": "reject", "reason": kv["reason"]})
        elif k == "vacation":
            acts.append({"kind": "vacation", "seconds": int(kv["seconds"]), "subject": kv.get("subject"),
                         "from": kv.get("from"), "handle": kv["handle"], "reason": kv["reason"]})
    return "ok", normalise(acts), p.stdout


def normalise(acts):
    out = []
    for a in acts:
        a = dict(a)
        if a["kind"] == "vacation":
            # Pigeonhole prints a multi-line reason or handle without its final line end
            a["reason"] = a["reason"].replace("\r\n", "\n").rstrip("\n")
            a["handle"] = a["handle"].replace("\r\n", "\n").rstrip("\n")
        if a["kind"] == "redirect":
            # Pigeonhole shows :copy on a redirect as "preserve implicit keep"
            pass
        out.append(a)
    return out


@pytest.mark.parametrize("name", CASES)
def test_sieve_matches_pigeonhole(workdir, name):
    src = CORPUS / "cases" / name
    script = workdir / "personal" / name   # so that :personal includes resolve beside it
    shutil.copy(src, script)
    os.chown(script, pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("nobody").pw_gid)
    params = case_params(src)
    ref = run_pigeonhole(workdir, script, params)
    got = run_yubin(workdir, script, params)
    assert ref[0] != "compile", f"Pigeonhole does not compile {name}: {ref[2]}"
    assert got[0] == ref[0], (name, got, ref)
    assert got[1] == ref[1], f"{name}\nyubin:      {got[1]}\npigeonhole: {ref[1]}"


@pytest.mark.parametrize("name", ERRORS)
def test_sieve_compile_errors_match_pigeonhole(workdir, name):
    script = workdir / "personal" / name
    shutil.copy(CORPUS / "errors" / name, script)
    ref = run_pigeonhole(workdir, script, dict(DEFAULTS))
    got = run_yubin(workdir, script, dict(DEFAULTS))
    assert ref[0] == "compile", f"Pigeonhole compiles {name}: {ref}"
    assert got[0] == "compile", (name, got)
    assert got[1] == ref[1], f"{name}: yubin line {got[1]}, Pigeonhole line {ref[1]}\n{got[2]}\n{ref[2]}"


def test_sieve_corpus_is_broad():
    """The corpus covers every extension the cross-check can (all but ereject)."""
    text = "\n".join((CORPUS / "cases" / n).read_text() for n in CASES)
    for ext in ["fileinto", "envelope", "encoded-character", "copy", "mailbox", "reject",
                "vacation", "imap4flags", "variables", "body", "relational", "subaddress",
                "date", "index", "include", "comparator-i;ascii-numeric"]:
        assert f'"{ext}"' in text, ext
    assert len(CASES) >= 30


def test_sieve_cli_what_a_user_sees(tmp_path):
    """The CLI's own output: a compile error names line and column on stderr
    and exits 2; a folder that does not exist without :create is a runtime
    error that leaves the implicit keep (exit 1); otherwise one line per
    action."""
    msg = CORPUS / "messages" / "plain.eml"
    bad = tmp_path / "bad.sieve"
    bad.write_text('require "fileinto";\nif true {\n  fileinto "A"\n}\n')
    p = subprocess.run([YUBIN_BIN, "sieve", "test", str(bad), str(msg)], capture_output=True, text=True)
    assert p.returncode == 2
    assert "4:1: expected end of command ';'" in p.stderr, p.stderr
    assert p.stdout.startswith("compile=failed line=4 col=1 "), p.stdout
    ok = tmp_path / "ok.sieve"
    ok.write_text('require ["fileinto", "mailbox"];\nfileinto "Gone";\n')
    p = subprocess.run([YUBIN_BIN, "sieve", "test", str(ok), str(msg), "--missing-folder", "Gone"],
                       capture_output=True, text=True)
    assert p.returncode == 1, p.stdout + p.stderr
    assert p.stdout.splitlines() == [
        "implicit_keep=yes",
        "runtime=failed error=\"line 2: fileinto: folder 'Gone' does not exist\""], p.stdout
    ok.write_text('require ["fileinto", "mailbox"];\nfileinto :create "Gone";\n')
    p = subprocess.run([YUBIN_BIN, "sieve", "test", str(ok), str(msg), "--missing-folder", "Gone"],
                       capture_output=True, text=True)
    assert (p.returncode, p.stdout) == (0, "action=fileinto folder=Gone create=yes\nimplicit_keep=no\n")
    # no configuration needed; a missing file is said plainly
    p = subprocess.run([YUBIN_BIN, "sieve", "test", str(tmp_path / "none.sieve"), str(msg)],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "none.sieve" in p.stderr, p.stderr
