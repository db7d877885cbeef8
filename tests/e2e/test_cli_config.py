"""The command line: config check, admin commands on a running server,
queue commands, exit codes."""

import ctypes
import os
import re
import signal
import smtplib
import subprocess

import pytest

from conftest import (DOMAIN, REPO, YUBIN_BIN, Conn, Server, client_tls_context, config_text,
                      free_port, make_message, make_tempdir, port_open, qid_from,
                      run_yubin, uniq)


# ---------------------------------------------------------------- config check

@pytest.fixture
def cfgdir(tls_cert):
    d = make_tempdir("yubin-e2e-cfg-")
    yield d
    import shutil
    shutil.rmtree(d, ignore_errors=True)


def _ports():
    return {"smtp": free_port(), "submission": free_port(), "alt": free_port(),
            "submissions": free_port(), "pop3": free_port(), "pop3s": free_port(),
            "imap": free_port(), "imaps": free_port()}


def _good_lines(cfgdir, tls_cert, ports=None):
    text = config_text(cfgdir / "data", tls_cert["cert"], tls_cert["key"], ports or _ports())
    return text.splitlines()


def _write(cfgdir, lines, name="yubin.conf"):
    p = cfgdir / name
    p.write_text("\n".join(lines) + "\n")
    os.chmod(p, 0o644)
    return str(p)


def _find(lines, needle):
    for i, l in enumerate(lines):
        if needle in l:
            return i
    raise AssertionError(f"{needle!r} not in config")


def _check(path, *extra):
    return run_yubin(["--config", path, "config", "check", *extra])


def test_config_check_good(cfgdir, tls_cert):
    path = _write(cfgdir, _good_lines(cfgdir, tls_cert))
    p = _check(path)
    assert p.returncode == 0, p.stdout + p.stderr


def test_config_check_option_after_command(cfgdir, tls_cert):
    path = _write(cfgdir, _good_lines(cfgdir, tls_cert))
    p = run_yubin(["config", "check", "--config", path])
    assert p.returncode == 0, p.stdout + p.stderr


def test_annotated_example_is_accepted(cfgdir, tls_cert):
    """Every setting in etc/yubin.conf.example is a real one with a valid value."""
    example = REPO / "etc" / "yubin.conf.example"
    text = example.read_text()
    text = text.replace("/etc/yubin/cert.pem", tls_cert["cert"])
    text = text.replace("/etc/yubin/key.pem", tls_cert["key"])
    text = text.replace("/var/lib/yubin", str(cfgdir / "data"))
    text = re.sub(r'^user = "[^"]*";', 'user = "nobody";' if os.geteuid() == 0 else "",
                  text, flags=re.M)
    path = _write(cfgdir, text.splitlines(), name="example.conf")
    p = _check(path)
    assert p.returncode == 0, p.stdout + p.stderr


def _bad(cfgdir, tls_cert, mutate):
    lines = _good_lines(cfgdir, tls_cert)
    lineno = mutate(lines)
    return _write(cfgdir, lines), lineno


def _assert_error(path, lineno, words, p):
    out = p.stdout + p.stderr
    assert p.returncode == 1, f"exit {p.returncode}: {out}"
    if lineno is None:
        pat = rf"{re.escape(path)}(:\d+)?: \S"
    else:
        pat = rf"{re.escape(path)}:{lineno}: \S"
    m = re.search(pat + ".*", out)
    assert m, f"no '{path}:{lineno}: sentence' in output: {out!r}"
    for w in words:
        assert re.search(w, m.group(0), re.I), f"{w!r} not in {m.group(0)!r}"
    return m.group(0)


def _unknown_setting(lines):
    lines.append("frobnicate = 1;")
    return len(lines)


def _wrong_type(lines):
    i = _find(lines, "hostname =")
    lines[i] = "hostname = 5;"
    return i + 1


def _port_range(lines):
    i = _find(lines, 'role = "smtp"')
    lines[i] = re.sub(r"port = \d+", "port = 70000", lines[i])
    return i + 1


def _unknown_role(lines):
    i = _find(lines, 'role = "submissions"')
    lines[i] = lines[i].replace('"submissions"', '"jmap"')
    return i + 1


def _syntax(lines):
    i = _find(lines, "data_dir =")
    lines[i] = "data_dir = ;"
    return i + 1


def _unknown_in_group(lines):
    i = _find(lines, "limits:")
    lines[i] = lines[i].replace("limits: {", "limits: { bogus_limit = 3;")
    return i + 1


def _dmarc_action(lines):
    i = _find(lines, "msgauth:")
    lines[i] = 'msgauth: { dmarc_action = "bounce"; };'
    return None  # a cross-setting check: reported without a line


def _dmarc_temperror(lines):
    i = _find(lines, "msgauth:")
    lines[i] = 'msgauth: { dmarc_temperror = "reject"; };'
    return None  # a cross-setting check: reported without a line


def _msgauth_not_a_group(lines):
    i = _find(lines, "msgauth:")
    lines[i] = "msgauth = 1;"
    return i + 1


BAD = {
    "dmarc_action": (_dmarc_action, [r"dmarc_action", r"follow"]),
    "dmarc_temperror": (_dmarc_temperror, [r"dmarc_temperror", r"accept", r"defer"]),
    "msgauth_not_a_group": (_msgauth_not_a_group, [r"msgauth", r"group"]),
    "unknown_setting": (_unknown_setting, [r"frobnicate"]),
    "wrong_type": (_wrong_type, [r"hostname"]),
    "port_out_of_range": (_port_range, [r"port"]),
    "unknown_role": (_unknown_role, [r"role|jmap"]),
    "syntax_error": (_syntax, []),
    "unknown_in_group": (_unknown_in_group, [r"bogus_limit"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_config_check_bad(cfgdir, tls_cert, case):
    mutate, words = BAD[case]
    path, lineno = _bad(cfgdir, tls_cert, mutate)
    p = _check(path)
    _assert_error(path, lineno, words, p)


def test_config_check_missing_hostname(cfgdir, tls_cert):
    lines = _good_lines(cfgdir, tls_cert)
    del lines[_find(lines, "hostname =")]
    path = _write(cfgdir, lines)
    p = _check(path)
    _assert_error(path, None, [r"hostname"], p)


def test_config_check_missing_file(cfgdir):
    path = str(cfgdir / "does-not-exist.conf")
    p = _check(path)
    assert p.returncode == 1, p.stdout + p.stderr
    assert path in p.stdout + p.stderr


@pytest.mark.parametrize("case", ["unknown_setting", "port_out_of_range", "unknown_role"])
def test_serve_refuses_bad_config(cfgdir, tls_cert, case):
    mutate, words = BAD[case]
    ports = _ports()
    lines = _good_lines(cfgdir, tls_cert, ports)
    lineno = mutate(lines)
    path = _write(cfgdir, lines)
    check = _check(path)
    msg = _assert_error(path, lineno, words, check)
    proc = subprocess.Popen([YUBIN_BIN, "--config", path, "serve"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=5)
        pytest.fail("serve kept running with a bad config")
    assert proc.returncode == 1, proc.returncode
    assert msg in (out + err).decode("utf-8", "replace"), (msg, err)
    for p in ports.values():
        assert not port_open(p)


# ---------------------------------------------------------------- usage

def test_usage_errors_exit_2(server):
    assert run_yubin([]).returncode == 2
    assert run_yubin(["--config", str(server.config_path), "no-such-command"]).returncode == 2
    assert server.cli("user").returncode == 2
    assert server.cli("user", "add").returncode == 2
    assert server.cli("alias", "add").returncode == 2
    assert server.cli("queue", "frob").returncode == 2
    assert server.cli("domain").returncode == 2


def test_sigterm_exits_cleanly(make_server):
    srv = make_server()
    with srv.conn("smtp") as c:
        c.ehlo()
    assert srv.stop() == 0
    for p in srv.ports.values():
        assert not port_open(p)


def test_rsa_certificate(rsa_cert):
    srv = Server(rsa_cert)
    try:
        srv.start()
        user, pw = srv.add_user()
        s = smtplib.SMTP("127.0.0.1", srv.submission, timeout=10)
        try:
            ctx = client_tls_context(verify=False)
            s.starttls(context=ctx)
            s.login(user, pw)
            s.quit()
        finally:
            s.close()
    finally:
        srv.cleanup()


# ---------------------------------------------------------------- admin on a running server

def _rcpt_code(srv, addr):
    with srv.conn("smtp") as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@remote.test>").code == 250
        r = c.cmd(f"RCPT TO:<{addr}>")
        c.quit()
    return r


def _login(srv, user, pw, source):
    c = Conn(srv.submission, source=source)
    try:
        c.ehlo()
        c.starttls()
        c.ehlo()
        return c.auth_plain(user, pw)
    finally:
        c.close()


def test_domain_add_list_del_live(server):
    dom = f"{uniq('dom')}.test"
    r = _rcpt_code(server, f"x@{dom}")
    assert r.code == 554 and r.enhanced() == "5.7.1", r
    p = server.cli("domain", "add", dom)
    assert p.returncode == 0, p.stderr
    p = server.cli("domain", "list")
    assert p.returncode == 0
    listed = p.stdout.split()
    assert dom in listed and DOMAIN in listed, p.stdout
    r = _rcpt_code(server, f"x@{dom}")
    assert r.code == 550 and r.enhanced() == "5.1.1", r
    server.add_user(f"x@{dom}")
    r = _rcpt_code(server, f"x@{dom}")
    assert r.code == 250, r
    server.cli("user", "del", f"x@{dom}")
    p = server.cli("domain", "del", dom)
    assert p.returncode == 0, p.stderr
    assert dom not in server.cli("domain", "list").stdout.split()
    r = _rcpt_code(server, f"x@{dom}")
    assert r.code == 554 and r.enhanced() == "5.7.1", r
    assert server.cli("domain", "add", "not a domain!").returncode == 1


def test_user_add_errors(server):
    addr, pw = server.add_user()
    p = server.cli("user", "add", addr, "--password-stdin", input="again\n")
    assert p.returncode == 1, "duplicate user accepted"
    p = server.cli("user", "add", "someone@not-local.test", "--password-stdin", input="x-pass-1\n")
    assert p.returncode == 1, "user in a non-local domain accepted"
    p = server.cli("user", "del", f"ghost-{uniq()}@{DOMAIN}")
    assert p.returncode == 1
    p = server.cli("user", "list")
    assert p.returncode == 0
    assert addr in p.stdout.split(), p.stdout


def test_password_stored_hashed(server):
    addr, pw = server.add_user()
    blob = b""
    for f in server.data_dir.iterdir():
        if f.name.startswith("accounts.db"):
            blob += f.read_bytes()
    assert blob, "no accounts.db in data_dir"
    assert pw.encode() not in blob, "plain-text password stored"
    assert b"$y$" in blob, "default hash is not yescrypt"


def test_user_add_del_passwd_live(server):
    addr, pw = server.add_user()
    assert _rcpt_code(server, addr).code == 250
    assert _login(server, addr, pw, "127.0.0.41").code == 235
    new = "new-" + uniq()
    server.secrets.add(new)
    p = server.cli("user", "passwd", addr, "--password-stdin", input=new + "\n")
    assert p.returncode == 0, p.stderr
    assert _login(server, addr, new, "127.0.0.42").code == 235
    r = _login(server, addr, pw, "127.0.0.43")
    assert r.code == 535, f"old password still works: {r}"
    p = server.cli("user", "del", addr)
    assert p.returncode == 0, p.stderr
    r = _rcpt_code(server, addr)
    assert r.code == 550 and r.enhanced() == "5.1.1", r
    r = _login(server, addr, new, "127.0.0.44")
    assert r.code == 535, f"deleted user can log in: {r}"
    assert addr not in server.cli("user", "list").stdout.split()


def _libcrypt():
    lib = ctypes.CDLL("libcrypt.so.1")
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt.restype = ctypes.c_char_p
    return lib


@pytest.mark.parametrize("prefix", [b"$6$", b"$2b$", b"$y$"])
def test_user_add_with_imported_hash(server, prefix):
    lib = _libcrypt()
    pw = "imported-" + uniq()
    server.secrets.add(pw)
    salt = lib.crypt_gensalt(prefix, 0, None, 0)
    h = lib.crypt(pw.encode(), salt).decode()
    assert h.startswith(prefix.decode())
    addr = f"{uniq('imp')}@{DOMAIN}"
    p = server.cli("user", "add", addr, "--hash", h)
    assert p.returncode == 0, p.stderr
    assert _login(server, addr, pw, "127.0.0.51").code == 235
    p = server.cli("user", "add", f"{uniq('bad')}@{DOMAIN}", "--hash", "not-a-hash")
    assert p.returncode != 0, "garbage hash accepted"


def test_queue_list_show_delete(server):
    user, pw = server.add_user()
    remote = f"{uniq('q')}@remote.test"
    msg = make_message(user, remote, "queue subject " + uniq(), ["queue body"])
    with server.submit_conn(user, pw) as c:
        _, final = c.mail_transaction(user, [remote], msg)
        assert final.code == 250, final
        qid = qid_from(final.text)
        c.quit()
    p = server.cli("queue", "list")
    assert p.returncode == 0
    assert qid in p.stdout and remote in p.stdout and user in p.stdout, p.stdout
    p = server.cli("queue", "show", qid)
    assert p.returncode == 0, p.stderr
    assert remote in p.stdout and user in p.stdout
    assert "queue body" in p.stdout and "Subject: queue subject" in p.stdout, p.stdout
    p = server.cli("queue", "delete", qid)
    assert p.returncode == 0, p.stderr
    p = server.cli("queue", "list")
    assert p.returncode == 0
    assert qid not in p.stdout, p.stdout
    assert server.cli("queue", "show", qid).returncode == 1
    assert server.cli("queue", "delete", qid).returncode == 1
    assert server.cli("queue", "show", "NOSUCHID").returncode == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="privilege drop needs root")
def test_drops_privileges_to_service_user(server):
    import pwd
    nobody = pwd.getpwnam("nobody")
    status = open(f"/proc/{server.proc.pid}/status").read()
    uids = re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()
    gids = re.search(r"^Gid:\s+(.*)$", status, re.M).group(1).split()
    assert all(int(u) == nobody.pw_uid for u in uids), f"server still has uid {uids}"
    assert all(int(g) != 0 for g in gids), f"server still has gid 0: {gids}"
    rcpt, _ = server.add_user()
    with server.conn("smtp") as c:
        c.ehlo()
        _, final = c.mail_transaction("a@remote.test", [rcpt],
                                      make_message("a@remote.test", rcpt, "owner", ["x"]))
        assert final.code == 250
        c.quit()
    server.wait_mail(rcpt)
    for f in server.mail_files(rcpt):
        st = f.stat()
        assert st.st_uid == nobody.pw_uid, f"{f} owned by uid {st.st_uid}"
        assert not (st.st_mode & 0o007), f"{f} is world-accessible: {oct(st.st_mode)}"
