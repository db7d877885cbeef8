"""Self-service (issue 13): app passwords and the dashboard for every account.

App passwords (`yubin user apppass add|list|revoke`, and the dashboard's
own page) log in to SMTP AUTH, IMAP and POP3 with Python's smtplib,
imaplib and poplib, are named in the audit trail and the log, stop
working when revoked, and never open the dashboard.  Every account logs in
to the dashboard; one that is not an administrator gets only its own page
(403 on every administrator's page), where it changes its password (the
current one checked, the new one twice, CSRF-protected), manages its app
passwords and sees its recent log-ins.  A headless Chromium screenshot of
that page is taken when YUBIN_SCREENSHOTS is set."""

import html
import imaplib
import json
import poplib
import re
import smtplib
import time

import pytest

from conftest import DOMAIN, client_tls_context, make_message, uniq, wait_until
from test_dashboard import ADMIN, Browser, chromium, follow, shot, web_config

ADMIN_PAGES = ["/queue", "/log", "/domains", "/charts", "/charts/received.svg", "/message/0123456789AB"]
APPPASS = re.compile(r"\b([a-z2-9]{4}(?:-[a-z2-9]{4}){5})\b")


# failures in a row are the point of some tests: short delays, no lock-out
RELAXED = {"fail_delay_ms": 10, "fail_delay_max_ms": 20, "lockout_failures": 1000}


def server_with_users(make_server, **kw):
    srv = make_server(extra=web_config(), start=False, **kw)
    admin_pw = srv.add_user(ADMIN)[1]
    user, pw = srv.add_user()
    srv.start()
    return srv, admin_pw, user, pw


def cli_apppass_add(srv, user, name):
    p = srv.cli("user", "apppass", "add", user, name)
    assert p.returncode == 0, p.stdout + p.stderr
    m = APPPASS.search(p.stdout)
    assert m, p.stdout
    srv.secrets.add(m.group(1))
    return m.group(1)


def smtp_login(srv, user, pw):
    s = smtplib.SMTP("127.0.0.1", srv.submission, timeout=10)
    try:
        s.ehlo("phone.test")
        s.starttls(context=client_tls_context())
        s.ehlo("phone.test")
        s.login(user, pw)
        return s
    except Exception:
        s.close()
        raise


def imap_login(srv, user, pw):
    m = imaplib.IMAP4_SSL("localhost", srv.imaps, ssl_context=client_tls_context(), timeout=10)
    try:
        m.login(user, pw)
    finally:
        try:
            m.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def pop3_login(srv, user, pw):
    p = poplib.POP3_SSL("localhost", srv.pop3s, context=client_tls_context(), timeout=10)
    try:
        p.user(user)
        p.pass_(pw)
        return p.stat()
    finally:
        p.quit()


def logged_in_user(srv, user, pw):
    b = Browser(srv)
    st, hd, page, _ = b.login(user, pw)
    assert st == 303 and hd["Location"] == "/account", (st, page)
    st, _, page = b.get("/account")
    assert st == 200, page
    return b, page


# ------------------------------------------------------------------ app passwords, CLI and protocols

def test_app_password_logs_in_to_smtp_imap_pop3_and_is_marked(make_server):
    srv, _, user, pw = server_with_users(make_server)
    rcpt, _ = srv.add_user()
    phone = cli_apppass_add(srv, user, "phone")
    laptop = cli_apppass_add(srv, user, "work laptop")
    assert phone != laptop
    # the password as shown, without its dashes, or in capitals: all the same password
    s = smtp_login(srv, user, phone)
    subject = "sent with an app password " + uniq()
    s.sendmail(user, [rcpt, user], make_message(user, rcpt, subject, ["hello"]))
    s.quit()
    imap_login(srv, user, laptop.replace("-", ""))
    srv.wait_mail(rcpt)
    srv.wait_mail(user)
    # reading it over POP3 with an app password: the READ record names it too
    p3 = poplib.POP3_SSL("localhost", srv.pop3s, context=client_tls_context(), timeout=10)
    p3.user(user)
    p3.pass_(phone.upper())
    assert p3.stat()[0] == 1
    p3.retr(1)
    p3.quit()
    # the list says when each was used; the password itself is never shown again
    p = srv.cli("user", "apppass", "list", user)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith('name="phone"') and lines[1].startswith('name="work laptop"'), lines
    assert "last_used=never" not in p.stdout and phone not in p.stdout, p.stdout
    # the trail names the app password on the message's RECEIVED record
    def received():
        t = srv.cli("trace", "--from", user, "--json")
        if t.returncode != 0:
            return None
        for msg in json.loads(t.stdout):
            for rec in msg["records"]:
                if rec["kind"] == "received":
                    return rec["data"]
        return None
    d = wait_until(received, 15, what="the RECEIVED record")
    assert d["user"] == user and d["app_password"] == "phone", d

    def read():
        t = srv.cli("trace", "--from", user, "--json")
        recs = [r for m in json.loads(t.stdout) for r in m["records"]] if t.returncode == 0 else []
        return next((r["data"] for r in recs if r["kind"] == "read"), None)
    d = wait_until(read, 15, what="the READ record")
    assert d["protocol"] == "pop3" and d["user"] == user and d["app_password"] == "phone", d
    t = srv.cli("trace", "--from", user)
    assert "app=phone" in t.stdout, t.stdout
    # and the log says which one logged in, over which protocol
    log = srv.log_text()
    assert re.search(rf'event=auth .*proto=smtp .*user={re.escape(user)} app="?phone"? result=ok', log), log[-2000:]
    assert re.search(rf'event=auth .*proto=imap .*user={re.escape(user)} app="work laptop" result=ok', log)
    assert re.search(rf'event=auth .*proto=pop3 .*user={re.escape(user)} app="?phone"? result=ok', log)
    srv.assert_no_secrets()


def test_revoked_app_password_is_refused_everywhere(make_server):
    srv, _, user, pw = server_with_users(make_server, auth=RELAXED)
    phone = cli_apppass_add(srv, user, "phone")
    imap_login(srv, user, phone)
    p = srv.cli("user", "apppass", "revoke", user, "phone")
    assert p.returncode == 0 and 'revoked app password "phone"' in p.stdout, p.stdout + p.stderr
    with pytest.raises(smtplib.SMTPAuthenticationError) as e:
        smtp_login(srv, user, phone)
    assert e.value.smtp_code == 535
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        imap_login(srv, user, phone)
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
        pop3_login(srv, user, phone)
    # the account's own password still works; the list is empty
    smtp_login(srv, user, pw).quit()
    assert srv.cli("user", "apppass", "list", user).stdout == ""
    # one user's app password is not another's
    other, _ = srv.add_user()
    theirs = cli_apppass_add(srv, other, "phone")
    with pytest.raises(imaplib.IMAP4.error):
        imap_login(srv, user, theirs)


def test_apppass_cli_errors(make_server):
    srv, _, user, _ = server_with_users(make_server)
    cli_apppass_add(srv, user, "phone")
    p = srv.cli("user", "apppass", "add", user, "phone")
    assert p.returncode == 1 and "already has an app password" in p.stderr, p.stderr
    p = srv.cli("user", "apppass", "add", f"nobody@{DOMAIN}", "phone")
    assert p.returncode == 1 and "no user" in p.stderr, p.stderr
    p = srv.cli("user", "apppass", "add", user, "bad\tname")
    assert p.returncode == 1 and "not a valid name" in p.stderr, p.stderr
    p = srv.cli("user", "apppass", "revoke", user, "tablet")
    assert p.returncode == 1 and 'no app password named "tablet"' in p.stderr, p.stderr
    p = srv.cli("user", "apppass", "add", user)
    assert p.returncode == 2 and "usage" in p.stderr
    for i in range(19):
        cli_apppass_add(srv, user, f"device {i}")
    p = srv.cli("user", "apppass", "add", user, "one too many")
    assert p.returncode == 1 and "already has 20 app passwords" in p.stderr, p.stderr
    # deleting the account deletes its app passwords
    assert srv.cli("user", "del", user).returncode == 0
    srv.add_user(user)
    assert srv.cli("user", "apppass", "list", user).stdout == ""


# ------------------------------------------------------------------ the dashboard for every account

def test_non_admin_gets_own_page_only(make_server):
    srv, _, user, pw = server_with_users(make_server)
    b, page = logged_in_user(srv, user, pw)
    assert f"Logged in as <strong>{user}</strong>" in page
    assert 'href="/queue"' not in page and 'href="/log"' not in page, "admin navigation shown to a user"
    for path in ADMIN_PAGES:
        st, _, body = b.get(path)
        assert st == 403 and "not a dashboard administrator" in body, (path, st)
    st, _, _ = b.post("/queue/0123456789AB/release", {"csrf": b.csrf(page)})
    assert st == 403
    st, hd, _ = b.get("/")
    assert st == 303 and hd["Location"] == "/account"


@pytest.fixture
def make_server_admin(make_server):
    def make(**kw):
        srv, admin_pw, user, pw = server_with_users(make_server, **kw)
        srv.admin_pw = admin_pw
        return srv, user, pw
    return make


def test_admin_keeps_the_dashboard_and_has_an_account_page(make_server_admin):
    srv, user, pw = make_server_admin()
    a = Browser(srv)
    st, hd, _, _ = a.login(ADMIN, srv.admin_pw)
    assert st == 303 and hd["Location"] == "/queue"
    st, _, page = a.get("/account")
    assert st == 200 and f"Logged in as <strong>{ADMIN}</strong>" in page and 'href="/queue"' in page


def test_app_password_cannot_log_in_to_the_dashboard(make_server):
    srv, _, user, pw = server_with_users(make_server)
    phone = cli_apppass_add(srv, user, "phone")
    b = Browser(srv)
    st, _, page, _ = b.login(user, phone)
    assert st == 401 and "Wrong account or password" in page, (st, page)
    assert "__Host-yubin_session" not in b.cookies
    # ... though it does log in to IMAP
    imap_login(srv, user, phone)


def test_change_password_and_its_bad_paths(make_server):
    srv, _, user, pw = server_with_users(make_server, auth=RELAXED)
    b, page = logged_in_user(srv, user, pw)
    csrf = b.csrf(page)
    new = "new-" + uniq("pw")
    srv.secrets.add(new)
    bad = [
        ({"csrf": csrf, "current": "wrong-current", "new": new, "new2": new}, 403, "current password is not right"),
        ({"csrf": csrf, "current": pw, "new": new, "new2": new + "x"}, 400, "two new passwords are not the same"),
        ({"csrf": csrf, "current": pw, "new": "short", "new2": "short"}, 400, "8 to 1024 characters"),
        ({"csrf": csrf, "current": "", "new": new, "new2": new}, 400, "Give your current password"),
        ({"current": pw, "new": new, "new2": new}, 403, "out of date"),                  # no CSRF token
        ({"csrf": "0" * 64, "current": pw, "new": new, "new2": new}, 403, "out of date"),  # a wrong one
    ]
    for fields, status, text in bad:
        st, _, body = b.post("/account/password", fields)
        assert st == status and text in body, (fields.keys(), st, body[-600:])
    # nothing changed: the old password still logs in to IMAP, the new one does not
    imap_login(srv, user, pw)
    with pytest.raises(imaplib.IMAP4.error):
        imap_login(srv, user, new)
    elsewhere, _ = logged_in_user(srv, user, pw)      # another browser, logged in with the old password
    st, _, body = b.post("/account/password", {"csrf": csrf, "current": pw, "new": new, "new2": new})
    assert st == 200 and "Your password is changed" in body, body[-600:]
    assert b.get("/account")[0] == 200                 # this session goes on
    st, hd, _ = elsewhere.get("/account")              # the other one is logged out
    assert st == 303 and hd["Location"] == "/login", st
    imap_login(srv, user, new)
    with pytest.raises(imaplib.IMAP4.error):
        imap_login(srv, user, pw)
    st, hd, _, _ = Browser(srv).login(user, new)
    assert st == 303 and hd["Location"] == "/account"
    srv.assert_no_secrets()


def test_app_passwords_in_the_dashboard(make_server):
    srv, _, user, pw = server_with_users(make_server, auth=RELAXED)
    b, page = logged_in_user(srv, user, pw)
    csrf = b.csrf(page)
    assert "You have no app passwords" in page
    st, _, page = b.post("/account/apppass", {"csrf": csrf, "name": "phone"})
    assert st == 200, page
    m = re.search(r'id="new-apppass">([a-z2-9-]+)<', page)
    assert m and APPPASS.fullmatch(m.group(1)), page
    phone = m.group(1)
    srv.secrets.add(phone)
    assert "not shown again" in page
    # shown once: the next view of the page lists it without the password
    st, _, page = b.get("/account")
    assert phone not in page and "<td>phone</td>" in page and "never" in page, page
    pop3_login(srv, user, phone)
    st, _, page = b.get("/account")
    assert "never" not in page.split("Recent log-ins")[0], "last used not updated"
    # bad paths: a duplicate name, a bad name, no CSRF, revoking what is not there
    st, _, body = b.post("/account/apppass", {"csrf": csrf, "name": "phone"})
    assert st == 409 and "already have an app password of that name" in body
    st, _, body = b.post("/account/apppass", {"csrf": csrf, "name": ""})
    assert st == 400
    st, _, body = b.post("/account/apppass", {"name": "tablet"})
    assert st == 403
    st, _, body = b.post("/account/apppass/revoke", {"csrf": csrf, "name": "tablet"})
    assert st == 404 and "no app password of that name" in body
    # another account's app password of the same name is out of reach
    other, opw = srv.add_user()
    theirs = cli_apppass_add(srv, other, "laptop")
    st, _, body = b.post("/account/apppass/revoke", {"csrf": csrf, "name": "laptop"})
    assert st == 404
    imap_login(srv, other, theirs)
    # revoke: gone from the page, refused by POP3
    st, _, body = b.post("/account/apppass/revoke", {"csrf": csrf, "name": "phone"})
    assert st == 200 and 'The app password "phone" is revoked' in html.unescape(body), body
    assert "<td>phone</td>" not in body
    with pytest.raises(poplib.error_proto):
        pop3_login(srv, user, phone)
    srv.assert_no_secrets()


def test_recent_logins_listed_and_bounded(make_server):
    srv, _, user, pw = server_with_users(make_server, auth=RELAXED)
    phone = cli_apppass_add(srv, user, "phone")
    imap_login(srv, user, pw)
    smtp_login(srv, user, phone).quit()
    with pytest.raises(poplib.error_proto):
        pop3_login(srv, user, "wrong password")
    b, page = logged_in_user(srv, user, pw)
    rows = re.findall(r"<tr><td>(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)</td><td>(\w+)</td><td class=\"mono\">([^<]+)</td>"
                      r"<td><span class=\"state \w+\">(\w+)</span></td><td>([^<]+)</td></tr>",
                      page.split("Recent log-ins")[1])
    got = [(proto, ip, result, how) for _, proto, ip, result, how in rows]
    assert got[:4] == [("https", "127.0.0.1", "ok", "password"),
                       ("pop3", "127.0.0.1", "failed", "password"),
                       ("smtp", "127.0.0.1", "ok", 'app password "phone"'),
                       ("imap", "127.0.0.1", "ok", "password")], got
    now = time.time()
    t = time.mktime(time.strptime(rows[0][0], "%Y-%m-%d %H:%M:%S")) - time.timezone
    assert abs(now - t) < 120, (rows[0][0], now)
    # another account sees none of these
    other, opw = srv.add_user()
    _, opage = logged_in_user(srv, other, opw)
    assert user not in opage and opage.split("Recent log-ins")[1].count("<tr><td>") == 1
    # bounded: at most 50 kept for one account
    for i in range(55):
        with pytest.raises(imaplib.IMAP4.error):
            imap_login(srv, user, f"wrong-{i}")
    page = b.get("/account")[2]
    assert page.split("Recent log-ins")[1].count("<tr><td>") == 50


# ------------------------------------------------------------------ a real browser

def test_browser_self_service_page(make_server):
    from selenium.webdriver.common.by import By
    srv, _, user, pw = server_with_users(make_server)
    cli_apppass_add(srv, user, "work laptop")
    assert srv.cli("user", "quota", user, "--storage", "2K").returncode == 0  # a meter to look at
    sender = f"someone@{uniq('far')}.example"
    with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=10) as s:
        s.sendmail(sender, [user], make_message(sender, user, "fills a half", ["z" * 60] * 8))
    srv.wait_mail(user, 1)
    imap_login(srv, user, pw)
    d = chromium()
    try:
        base = f"https://127.0.0.1:{srv.https}"
        d.get(base + "/login")
        d.find_element(By.NAME, "user").send_keys(user)
        d.find_element(By.NAME, "password").send_keys(pw)
        follow(d, d.find_element(By.CSS_SELECTOR, "form.login button"))
        assert d.current_url.endswith("/account"), d.current_url
        d.find_element(By.CSS_SELECTOR, "form[action='/account/apppass'] input[name=name]").send_keys("phone")
        follow(d, d.find_element(By.CSS_SELECTOR, "form[action='/account/apppass'] button"))
        secret = d.find_element(By.ID, "new-apppass").text
        assert APPPASS.fullmatch(secret), secret
        srv.secrets.add(secret)
        names = [td.text for td in d.find_elements(By.CSS_SELECTOR, "table.apppass td:first-child")]
        assert names == ["phone", "work laptop"], names
        logins = d.find_elements(By.CSS_SELECTOR, "table.logins tbody tr")
        assert len(logins) >= 2
        shot(d, "account")
    finally:
        d.quit()


def test_account_page_shows_the_quota_and_a_full_mailbox(make_server):
    """The page shows what the mailbox holds against the account's own
    limits (`yubin user quota`), and says when it is full."""
    srv, _, user, pw = server_with_users(make_server)
    p = srv.cli("user", "quota", user, "--storage", "1M", "--messages", "4")
    assert p.returncode == 0, p.stdout + p.stderr
    sender = f"someone@{uniq('far')}.example"
    with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=10) as s:
        for i in range(2):
            s.sendmail(sender, [user], make_message(sender, user, f"q{i}", ["x" * 60] * 10))
    srv.wait_mail(user, 2)
    b, page = logged_in_user(srv, user, pw)
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    assert re.search(r"Storage\s+[\d.]+ KiB of 1\.0 MiB \(0 %\)", text), text
    assert re.search(r"Messages\s+2 of 4 \(50 %\)", text), text
    assert 'max="4" value="2" high="3"' in page
    assert "The mailbox is full" not in page
    with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=10) as s:
        for i in range(2, 4):
            s.sendmail(sender, [user], make_message(sender, user, f"q{i}", ["y"]))
    # the fourth message fills it, and the 90 % warning comes on top (it
    # is never refused for the quota it warns about)
    srv.wait_mail(user, 5)
    st, _, page = b.get("/account")
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    assert st == 200 and re.search(r"Messages\s+5 of 4 \(100 %\)", text), text
    assert 'max="4" value="4" high="3"' in page
    assert "The mailbox is full" in page
    # without a limit: "no limit"
    assert srv.cli("user", "quota", user, "--storage", "none", "--messages", "none").returncode == 0
    st, _, page = b.get("/account")
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    assert re.search(r"Messages\s+\d+\s+no limit", text), text
