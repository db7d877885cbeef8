"""Real mail clients we did not write: swaks, curl, Python's smtplib, and
Postfix's smtp-source."""

import email
import email.policy
import shutil
import smtplib
import subprocess
import time
from email.message import EmailMessage

import pytest

from conftest import (DOMAIN, check_delivered, client_tls_context, make_message,
                      split_delivered, uniq)

SWAKS = shutil.which("swaks")
CURL = shutil.which("curl")
SMTP_SOURCE = shutil.which("smtp-source") or ("/usr/sbin/smtp-source"
                                               if shutil.which("smtp-source", path="/usr/sbin") else None)


def _run(cmd, input=None, timeout=60):
    p = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")


def _msg_file(tmp, sender, rcpt, subject):
    msg = make_message(sender, rcpt, subject, ["Sent by a real client.", "", "-- ", "test"])
    path = tmp / f"{uniq('m')}.eml"
    path.write_bytes(msg)
    return path, msg


def _parsed_body(data):
    _, _, rcv, rest = split_delivered(data)
    return rcv, email.message_from_bytes(rest, policy=email.policy.default)


# ---------------------------------------------------------------- swaks

@pytest.mark.parametrize("role,mech", [("submission", "PLAIN"), ("submission", "LOGIN"),
                                       ("alt", "PLAIN"), ("alt", "LOGIN")])
def test_swaks_starttls_auth(server, tmp_path, role, mech):
    assert SWAKS, "swaks not installed"
    user, pw = server.add_user()
    rcpt, _ = server.add_user()
    path, msg = _msg_file(tmp_path, user, rcpt, f"swaks {mech} {uniq()}")
    rc, out = _run([SWAKS, "--server", "127.0.0.1", "--port", str(server.ports[role]),
                    "--tls", "--auth", mech, "--auth-user", user, "--auth-password", pw,
                    "--from", user, "--to", rcpt, "--data", str(path), "--ehlo", "swaks.test"])
    assert rc == 0, out
    (data,) = server.wait_mail(rcpt)
    # swaks always sends one more CRLF before the final dot
    check_delivered(data, user, rcpt, msg + b"\r\n", rcpt=rcpt, proto="ESMTPSA")
    server.assert_no_secrets()


def test_swaks_tls_on_connect_465(server, tmp_path):
    assert SWAKS
    user, pw = server.add_user()
    rcpt, _ = server.add_user()
    path, msg = _msg_file(tmp_path, user, rcpt, "swaks 465 " + uniq())
    rc, out = _run([SWAKS, "--server", "127.0.0.1", "--port", str(server.submissions),
                    "--tls-on-connect", "--auth", "LOGIN", "--auth-user", user,
                    "--auth-password", pw, "--from", user, "--to", rcpt, "--data", str(path)])
    assert rc == 0, out
    (data,) = server.wait_mail(rcpt)
    check_delivered(data, user, rcpt, msg + b"\r\n", proto="ESMTPSA")


def test_swaks_pipelining_port25(server, tmp_path):
    assert SWAKS
    rcpt, _ = server.add_user()
    path, msg = _msg_file(tmp_path, "ext@remote.test", rcpt, "swaks pipe " + uniq())
    rc, out = _run([SWAKS, "--server", "127.0.0.1", "--port", str(server.smtp), "--pipeline",
                    "--from", "ext@remote.test", "--to", rcpt, "--data", str(path)])
    assert rc == 0, out
    (data,) = server.wait_mail(rcpt)
    check_delivered(data, "ext@remote.test", rcpt, msg + b"\r\n", proto="ESMTP")


def test_swaks_relay_denied_port25(server):
    assert SWAKS
    rc, out = _run([SWAKS, "--server", "127.0.0.1", "--port", str(server.smtp),
                    "--from", "ext@remote.test", "--to", "victim@elsewhere.test",
                    "--quit-after", "RCPT"])
    assert rc != 0, out
    assert "554 5.7.1" in out, out


def test_swaks_without_tls_refused_on_587(server):
    assert SWAKS
    user, pw = server.add_user()
    rc, out = _run([SWAKS, "--server", "127.0.0.1", "--port", str(server.submission),
                    "--auth", "PLAIN", "--auth-user", user, "--auth-password", pw,
                    "--from", user, "--to", user])
    assert rc != 0, out
    assert "250 2.0.0" not in out


def test_swaks_wrong_password(make_server):
    assert SWAKS
    srv = make_server()
    user, pw = srv.add_user()
    rc, out = _run([SWAKS, "--server", "127.0.0.1", "--port", str(srv.submission), "--tls",
                    "--auth", "LOGIN", "--auth-user", user, "--auth-password", pw + "-wrong",
                    "--from", user, "--to", user])
    assert rc == 28, f"swaks exit {rc}: {out}"
    assert "535 5.7.8" in out, out
    assert pw + "-wrong" not in srv.log_text()


# ---------------------------------------------------------------- curl

def _curl(server, url_scheme, port, user, pw, rcpt, path, extra=()):
    return _run([CURL, "-sS", "--max-time", "30", "--url", f"{url_scheme}://localhost:{port}",
                 "--resolve", f"localhost:{port}:127.0.0.1", "--cacert", server.cert["cert"],
                 "--user", f"{user}:{pw}", "--mail-from", user, "--mail-rcpt", rcpt,
                 "-T", str(path), *extra])


@pytest.mark.parametrize("role,scheme,extra", [
    ("submission", "smtp", ("--ssl-reqd",)),
    ("alt", "smtp", ("--ssl-reqd", "--login-options", "AUTH=LOGIN")),
    ("submissions", "smtps", ()),
    ("submissions", "smtps", ("--login-options", "AUTH=PLAIN", "--tlsv1.3")),
    ("submission", "smtp", ("--ssl-reqd", "--tlsv1.2", "--tls-max", "1.2")),
])
def test_curl_submission(server, tmp_path, role, scheme, extra):
    assert CURL
    user, pw = server.add_user()
    rcpt, _ = server.add_user()
    path, msg = _msg_file(tmp_path, user, rcpt, f"curl {scheme} {uniq()}")
    rc, out = _curl(server, scheme, server.ports[role], user, pw, rcpt, path, extra)
    assert rc == 0, out
    (data,) = server.wait_mail(rcpt)
    check_delivered(data, user, rcpt, msg, proto="ESMTPSA")


def test_curl_wrong_password(make_server, tmp_path):
    assert CURL
    srv = make_server()
    user, pw = srv.add_user()
    path, _ = _msg_file(tmp_path, user, user, "nope")
    rc, out = _curl(srv, "smtps", srv.submissions, user, "bad" + pw, user, path)
    assert rc == 67, f"curl exit {rc} (67 = login denied): {out}"
    srv.assert_no_mail(user, wait=0.3)


def test_curl_cert_verification(server, tmp_path):
    """The certificate is valid for localhost and 127.0.0.1 (curl verifies)."""
    assert CURL
    user, pw = server.add_user()
    path, msg = _msg_file(tmp_path, user, user, "curl ip " + uniq())
    rc, out = _run([CURL, "-sS", "--max-time", "30", "--url",
                    f"smtps://127.0.0.1:{server.submissions}", "--cacert", server.cert["cert"],
                    "--user", f"{user}:{pw}", "--mail-from", user, "--mail-rcpt", user,
                    "-T", str(path)])
    assert rc == 0, out
    server.wait_mail(user)


# ---------------------------------------------------------------- smtplib

def test_smtplib_starttls_login_send_message(server):
    user, pw = server.add_user()
    rcpt, _ = server.add_user()
    m = EmailMessage()
    m["From"] = user
    m["To"] = rcpt
    m["Subject"] = "smtplib " + uniq()
    m.set_content("Hello from smtplib.\n.\n..dots\nBye.\n")
    m.add_attachment(b"\x00\x01binary\xff" * 100, maintype="application",
                     subtype="octet-stream", filename="blob.bin")
    s = smtplib.SMTP("127.0.0.1", server.submission, timeout=10)
    try:
        s.ehlo("smtplib.test")
        s.starttls(context=client_tls_context())
        s.ehlo("smtplib.test")
        assert s.has_extn("auth")
        s.login(user, pw)
        refused = s.send_message(m)
        assert refused == {}
        s.quit()
    finally:
        s.close()
    (data,) = server.wait_mail(rcpt)
    rcv, parsed = _parsed_body(data)
    assert parsed["Subject"] == m["Subject"]
    body = parsed.get_body(("plain",)).get_content()
    assert body == "Hello from smtplib.\n.\n..dots\nBye.\n"
    att = next(parsed.iter_attachments())
    assert att.get_content() == b"\x00\x01binary\xff" * 100
    assert "ESMTPSA" in rcv


def test_smtplib_ssl_465_login(server):
    user, pw = server.add_user()
    rcpt, _ = server.add_user()
    msg = make_message(user, rcpt, "smtplib 465", ["implicit tls"])
    s = smtplib.SMTP_SSL("127.0.0.1", server.submissions, timeout=10,
                         context=client_tls_context(verify=False))
    try:
        s.login(user, pw)
        assert s.sendmail(user, [rcpt], msg) == {}
        s.quit()
    finally:
        s.close()
    (data,) = server.wait_mail(rcpt)
    check_delivered(data, user, rcpt, msg, proto="ESMTPSA")


def test_smtplib_plain_587_has_no_auth(server):
    s = smtplib.SMTP("127.0.0.1", server.submission, timeout=10)
    try:
        s.ehlo()
        assert not s.has_extn("auth")
        with pytest.raises(smtplib.SMTPNotSupportedError):
            s.login("x@" + DOMAIN, "y")
    finally:
        s.close()


def test_smtplib_sender_not_owned(server):
    user, pw = server.add_user()
    other, _ = server.add_user()
    s = smtplib.SMTP("127.0.0.1", server.alt, timeout=10)
    try:
        s.starttls(context=client_tls_context())
        s.login(user, pw)
        with pytest.raises(smtplib.SMTPSenderRefused) as ei:
            s.sendmail(other, [user], b"Subject: spoof\r\n\r\nx\r\n")
        assert ei.value.smtp_code == 553
        assert ei.value.smtp_error.startswith(b"5.7.1")
    finally:
        s.close()


# ---------------------------------------------------------------- smtp-source

def test_smtp_source_load(server):
    assert SMTP_SOURCE, "smtp-source (postfix) not installed"
    rcpt, _ = server.add_user()
    n = 60
    rc, out = _run([SMTP_SOURCE, "-s", "6", "-m", str(n), "-l", "4096",
                    "-f", "load@remote.test", "-t", rcpt, f"127.0.0.1:{server.smtp}"], timeout=60)
    assert rc == 0, out
    try:
        server.wait_mail(rcpt, n, timeout=45)
    except AssertionError as e:
        log = server.stderr_text()
        bad = [l for l in log.splitlines() if "level=warn" in l or "level=error" in l]
        raise AssertionError(f"{e}; {len(server.mail_files(rcpt))} delivered; "
                             f"warnings/errors: {bad[-20:]}; log tail: {log[-3000:]}")
    time.sleep(0.5)
    files = server.mails(rcpt)
    assert len(files) == n
    for data in files:
        _, dt, _, rest = split_delivered(data)
        assert len(rest) >= 4096 - 200
