"""What a new administrator meets first: `config defaults` without a
configuration file, `tls fingerprint` for trusting a self-signed
certificate, log lines that quote a value once, `queue delete` that the
running server logs and forgets, and session ids that differ across
restarts."""

import poplib
import re
import subprocess
import time

from conftest import (client_tls_context, make_message, qid_from, run_yubin, uniq,
                      wait_until)

# a value quoted twice (reason=""..."") or an empty quoted value glued to
# something else (deleted=15""""): two quotes not opening an empty value
DOUBLED = re.compile(r'[^=\\\s]""|=""[^\s]')


def _assert_single_quoting(text):
    bad = [l for l in text.splitlines() if l.startswith("ts=") and DOUBLED.search(l)]
    assert not bad, "log lines with doubled quotes:\n" + "\n".join(bad[:10])


# ------------------------------------------------------------ config defaults

def test_config_defaults_needs_no_file(tmp_path):
    missing = tmp_path / "nowhere.conf"
    for args in (["config", "defaults"], ["--config", str(missing), "config", "defaults"]):
        p = run_yubin(args)
        assert p.returncode == 0, (args, p.stderr)
        assert p.stderr == "", p.stderr
        assert re.search(r"^hostname\s+=", p.stdout, re.M), p.stdout[:500]
        assert re.search(r"^data_dir\s+=", p.stdout, re.M), p.stdout[:500]
        assert "listeners" in p.stdout
    # a command that does need the file still says clearly that it is missing
    p = run_yubin(["--config", str(missing), "config", "check"])
    assert p.returncode != 0
    assert str(missing) in p.stderr, p.stderr


# ------------------------------------------------------------ tls fingerprint

def _openssl_fingerprint(cert):
    out = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-fingerprint", "-sha256"],
                         check=True, capture_output=True, text=True, timeout=30).stdout
    return out.strip().split("=", 1)[1]


def test_tls_fingerprint_matches_openssl(server, tls_cert):
    p = server.cli("tls", "fingerprint")
    assert p.returncode == 0, p.stderr
    m = re.search(r"^SHA-256\s+(\S+)$", p.stdout, re.M)
    assert m, p.stdout
    fp = m.group(1)
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", fp), fp
    assert fp == _openssl_fingerprint(tls_cert["cert"])
    assert re.search(r"^subject\s+.*CN\s*=\s*localhost", p.stdout, re.M), p.stdout
    assert f"openssl x509 -in {tls_cert['cert']} -noout -fingerprint -sha256" in p.stdout
    # the certificate the server presents is the one fingerprinted
    import hashlib
    import socket
    with socket.create_connection(("127.0.0.1", server.imaps), timeout=5) as s:
        with client_tls_context(verify=False).wrap_socket(s, server_hostname="localhost") as t:
            der = t.getpeercert(binary_form=True)
    assert hashlib.sha256(der).hexdigest().upper() == fp.replace(":", "")


def test_tls_fingerprint_bad_paths(tmp_path, tls_cert):
    p = run_yubin(["--config", str(tmp_path / "nowhere.conf"), "tls", "fingerprint"])
    assert p.returncode != 0
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    conf = tmp_path / "yubin.conf"
    conf.write_text(f'hostname = "mx.test.example";\ndata_dir = "{tmp_path}/data";\n'
                    f'domains = [ "example.test" ];\n'
                    f'tls: {{ cert = "{bad}"; key = "{tls_cert["key"]}"; }};\n'
                    'listeners = ( { role = "smtp"; address = "127.0.0.1"; port = 2525; } );\n')
    p = run_yubin(["--config", str(conf), "tls", "fingerprint"])
    assert p.returncode == 1
    assert "holds no PEM certificate" in p.stderr, p.stderr
    p = run_yubin(["--config", str(conf), "tls", "nonsense"])
    assert p.returncode == 2 and "usage" in p.stderr


# ------------------------------------------------------------ queue delete

def _queue_remote(srv):
    """Submit a message for a remote domain (the tests' DNS never answers,
    so it waits in the queue); its queue id."""
    user, pw = srv.add_user()
    remote = f"{uniq('gone')}@remote.test"
    with srv.submit_conn(user, pw) as c:
        _, final = c.mail_transaction(user, [remote], make_message(user, remote, "to delete", ["x"]))
        assert final.code == 250, final
        c.quit()
    return qid_from(final.text)


def test_queue_delete_is_logged_and_a_later_flush_is_quiet(make_server):
    srv = make_server()
    qid = _queue_remote(srv)
    assert qid in srv.cli("queue", "list").stdout
    p = srv.cli("queue", "delete", qid)
    assert p.returncode == 0, p.stderr
    assert qid in p.stdout and "deleted" in p.stdout, p.stdout
    wait_until(lambda: re.search(rf"level=info event=queue_delete qid={qid}$", srv.stderr_text(), re.M),
               5, what="the queue_delete log line")
    assert qid not in srv.cli("queue", "list").stdout
    # a second delete: no such message, and the server stays up
    p = srv.cli("queue", "delete", qid)
    assert p.returncode == 1 and "no such message" in p.stderr, p.stderr
    # flushing does not look for the deleted message again
    p = srv.cli("queue", "flush", qid)
    assert p.returncode == 1 and "not waiting" in p.stderr, p.stderr
    assert srv.cli("queue", "flush").returncode == 0
    time.sleep(1.5)   # a flushed attempt would read the file within this
    errors = [l for l in srv.stderr_text().splitlines()
              if "level=error" in l and (qid in l or "result=skipped" in l)]
    assert not errors, errors
    # the attempt that was running when it was deleted, if any, left nothing
    assert not list((srv.data_dir / "queue" / "active").glob(qid + "*"))
    _assert_single_quoting(srv.stderr_text())


def test_queue_delete_without_a_running_server(make_server):
    srv = make_server()
    qid = _queue_remote(srv)
    srv.stop()
    p = srv.cli("queue", "delete", qid)
    assert p.returncode == 0, p.stderr
    assert re.search(rf"event=queue_delete qid={qid}$", p.stderr, re.M), p.stderr
    srv.start()
    time.sleep(0.5)
    assert qid not in srv.cli("queue", "list").stdout


# ------------------------------------------------------------ log quoting

def test_log_values_quoted_once(server):
    user, pw = server.add_user()
    with server.submit_conn(user, pw) as c:
        msg = make_message(user, user, "quote me", ["hello"])
        _, final = c.mail_transaction(user, [user], msg)
        assert final.code == 250
        c.quit()
    server.wait_mail(user)
    pop = poplib.POP3_SSL("127.0.0.1", server.pop3s, context=client_tls_context(), timeout=10)
    pop.user(user)
    pop.pass_(pw)
    pop.dele(1)
    pop.quit()
    line = wait_until(lambda: [l for l in server.stderr_text().splitlines()
                               if "event=pop3_update" in l and f"user={user}" in l], 5,
                      what="the pop3_update line")[0]
    assert line.endswith(" deleted=1"), line
    # a value with spaces is quoted once (the refusal reason of a bad login)
    with server.conn("submission") as c:
        c.ehlo()
        c.starttls()
        c.ehlo()
        assert c.auth_plain(user, "wrong-" + uniq()).code == 535
    _assert_single_quoting(server.stderr_text())


# ------------------------------------------------------------ session ids

SID = re.compile(r"event=accept sid=(\S+)")


def test_session_ids_differ_across_restarts(make_server):
    srv = make_server()
    runs = []
    for _ in range(2):
        for role in ("smtp", "submission"):
            with srv.conn(role) as c:
                c.ehlo()
                c.quit()
        pop = poplib.POP3("127.0.0.1", srv.pop3, timeout=10)
        pop.quit()
        time.sleep(0.3)
        log = srv.log_files[-2].read_text()          # this run's stderr
        sids = SID.findall(log)   # the start-up port probes are sessions too
        assert len(sids) >= 3, log[-2000:]
        assert sids[-1][0] == "P" and {s[0] for s in sids} == {"S", "P", "I"}, sids
        runs.append(sids)
        srv.restart()
    assert not set(runs[0]) & set(runs[1]), runs
    for sid in runs[0] + runs[1]:
        assert re.fullmatch(r"[SPI][0-9a-z]{6}\.[0-9a-f]+", sid), sid
    # within a run, ids share the run part and count up
    assert len({s[1:7] for s in runs[0]}) == 1 and len({s[1:7] for s in runs[1]}) == 1
