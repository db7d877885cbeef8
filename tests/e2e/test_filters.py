"""The dashboard's Filters page (issue 13): every account edits its own
Sieve scripts (the ones ManageSieve serves, in <Maildir>/sieve) and its
vacation reply with a form.

A script that does not compile is refused with the compiler's line and
column, next to the text as typed (kept); one that compiles is stored and
can be activated, deactivated and deleted.  ManageSieve's limits apply
(size, count, names), every POST needs the session's CSRF token, and one
account never reaches another's scripts.  The vacation form writes the
script "vacation": typed text is quoted into Sieve strings (quotes,
backslashes, dot-stuffed text: block), the script active before is
included after the reply and is active again when the reply is turned
off; yubin's compiler (the page reads the form back through it) and
Pigeonhole's sieve-test accept the script.  With a real Chromium the whole
path is clicked through; YUBIN_SCREENSHOTS keeps the pages as PNGs."""

import email
import email.policy
import html
import http.client
import os
import pwd
import re
import shutil
import ssl
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import DOMAIN, make_message, submit, wait_until
from test_dashboard import ADMIN, Browser, chromium, follow, shot, web_config

MAX_SIZE = 2048
MAX_SCRIPTS = 4
LIMITS = f"managesieve: {{ max_script_size = {MAX_SIZE}; max_scripts = {MAX_SCRIPTS}; }};\n"
SIEVE_TEST = shutil.which("sieve-test") or "/usr/bin/sieve-test"

BROKEN = 'require "fileinto";\n\nif header :contains "subject" "[list]" {\n  fileinot "Lists";\n}\n'
FIXED = 'require "fileinto";\n\nif header :contains "subject" "[list]" {\n  fileinto "Lists";\n}\n'


def crlf(s):
    return s.replace("\r\n", "\n").replace("\n", "\r\n")


def start_server(make_server):
    srv = make_server(extra=web_config(LIMITS), start=False)
    srv.add_user(ADMIN)
    user, pw = srv.add_user()
    other, opw = srv.add_user()
    srv.start()
    return srv, (user, pw), (other, opw)


def logged_in(srv, user, pw):
    b = Browser(srv)
    st, hd, page, _ = b.login(user, pw)
    assert st == 303 and hd["Location"] == "/account", (st, page)
    st, _, page = b.get("/account")
    assert st == 200 and 'href="/account/filters"' in page, page
    st, _, page = b.get("/account/filters")
    assert st == 200, page
    return b, page


def sieve_dir(srv, user):
    return srv.maildir(user) / "sieve"


def scripts_on_disk(srv, user):
    d = sieve_dir(srv, user)
    return sorted(p.name for p in d.glob("*.sieve")) if d.exists() else []


def active_on_disk(srv, user):
    p = sieve_dir(srv, user) / ".active"
    return p.read_text().strip() if p.exists() else None


def textarea(page, name):
    """A textarea's text as a browser sends it back: CRLF line ends."""
    m = re.search(rf'<textarea name="{name}"[^>]*>\n(.*?)</textarea>', page, re.S)
    assert m, f"no textarea {name}"
    assert "\r" not in m.group(1) and "\ufffd" not in m.group(1)
    return crlf(html.unescape(m.group(1)))


def post_raw(b, path, body):
    """POST a form body written by hand (what urlencode would not send)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c = http.client.HTTPSConnection("127.0.0.1", b.srv.https, timeout=20, context=ctx)
    try:
        c.request("POST", path, body=body.encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in b.cookies.items())})
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        c.close()


def visible(page):
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


# ------------------------------------------------------------------ scripts

def test_save_refuses_what_does_not_compile_and_keeps_the_text(make_server):
    srv, (user, pw), _ = start_server(make_server)
    b, page = logged_in(srv, user, pw)
    csrf = b.csrf(page)
    assert "You have no scripts" in page
    st, _, page = b.post("/account/filters/save", {"csrf": csrf, "name": "lists", "script": crlf(BROKEN)})
    assert st == 400, page[-800:]
    m = re.search(r'id="compile-error">Not saved: line (\d+), column (\d+): ([^<]+)<', page)
    assert m and (m.group(1), m.group(2)) == ("4", "3"), page
    assert "fileinot" in html.unescape(m.group(3))
    # the line quoted with a caret under the column, the text kept as typed
    assert re.search(r'id="error-line">  fileinot &quot;Lists&quot;;\n  \^</pre>', page), page
    assert textarea(page, "script") == crlf(BROKEN)
    assert 'name="name" required maxlength="128" value="lists"' in page
    assert scripts_on_disk(srv, user) == []
    # fixed: stored as typed, listed, not active yet
    st, _, page = b.post("/account/filters/save", {"csrf": csrf, "name": "lists", "script": crlf(FIXED)})
    assert st == 200 and "The script &quot;lists&quot; is saved." in page, page[-800:]
    assert (sieve_dir(srv, user) / "lists.sieve").read_bytes() == crlf(FIXED).encode()
    assert active_on_disk(srv, user) is None
    assert re.search(r'<td class="mono"><a href="/account/filters\?edit=lists">lists</a></td><td>\d+ bytes</td>'
                     r'<td><span class="muted">inactive</span>', page), page
    # activate: .active names it, the page marks it
    st, _, page = b.post("/account/filters/activate", {"csrf": csrf, "name": "lists"})
    assert st == 200 and '<span class="state active">active</span>' in page, page
    assert active_on_disk(srv, user) == "lists.sieve"
    # the active one cannot be deleted; deactivated it can
    st, _, page = b.post("/account/filters/delete", {"csrf": csrf, "name": "lists"})
    assert st == 409 and "cannot be deleted: deactivate it first" in page
    assert scripts_on_disk(srv, user) == ["lists.sieve"]
    st, _, page = b.post("/account/filters/deactivate", {"csrf": csrf})
    assert st == 200 and "No script is active" in page and active_on_disk(srv, user) is None
    # edit opens the stored text; a name with quotes, slashes and UTF-8 stays one file in the folder
    st, _, page = b.get("/account/filters?edit=lists")
    assert st == 200 and textarea(page, "script") == crlf(FIXED) and 'Edit "lists"' in page
    odd = '../"work" ⁄ filters/x'
    st, _, page = b.post("/account/filters/save", {"csrf": csrf, "name": odd, "script": "keep;\r\n"})
    assert st == 200, page[-600:]
    assert len(scripts_on_disk(srv, user)) == 2 and not (srv.maildir(user) / "x.sieve").exists()
    st, _, page = b.get("/account/filters?edit=" + __import__("urllib.parse").parse.quote(odd))
    assert st == 200 and textarea(page, "script") == "keep;\r\n"
    st, _, page = b.post("/account/filters/delete", {"csrf": csrf, "name": "lists"})
    assert st == 200 and "is deleted" in page and scripts_on_disk(srv, user) != [] and \
        "lists.sieve" not in scripts_on_disk(srv, user)


def test_managesieve_limits_and_names(make_server):
    srv, (user, pw), _ = start_server(make_server)
    b, page = logged_in(srv, user, pw)
    csrf = b.csrf(page)
    assert f"At most {MAX_SCRIPTS} scripts of {MAX_SIZE} bytes each" in page
    big = "keep;\r\n" + "# " + "x" * MAX_SIZE + "\r\n"
    st, _, page = b.post("/account/filters/save", {"csrf": csrf, "name": "big", "script": big})
    assert st == 413 and f"more than the {MAX_SIZE} a script may have" in page
    assert textarea(page, "script") == big          # kept
    # a NUL makes the field unreadable: refused, never stored empty or cut short
    st, page = post_raw(b, "/account/filters/save", f"csrf={csrf}&name=nul&script=keep%3B%00discard%3B")
    assert st == 400 and "holds a NUL character" in page and "nul.sieve" not in scripts_on_disk(srv, user)
    for name, why in [("", "cannot be empty"), ("a\tb", "control characters"), ("n" * 129, "too long")]:
        st, _, page = b.post("/account/filters/save", {"csrf": csrf, "name": name, "script": "keep;"})
        assert st == 400 and why in page, (name, st, page[-600:])
    for i in range(MAX_SCRIPTS):
        st, _, page = b.post("/account/filters/save", {"csrf": csrf, "name": f"s{i}", "script": "keep;"})
        assert st == 200, page[-600:]
    st, _, page = b.post("/account/filters/save", {"csrf": csrf, "name": "one more", "script": "keep;"})
    assert st == 409 and f"as many scripts as an account may keep ({MAX_SCRIPTS})" in page
    # replacing one is no new script
    st, _, page = b.post("/account/filters/save", {"csrf": csrf, "name": "s0", "script": "discard;"})
    assert st == 200 and (sieve_dir(srv, user) / "s0.sieve").read_text() == "discard;"
    st, _, page = b.post("/account/filters/activate", {"csrf": csrf, "name": "nothing"})
    assert st == 404 and "no script of that name" in page
    st, _, page = b.get("/account/filters?edit=nothing")
    assert st == 404 and "no script of that name" in page


def test_csrf_and_other_accounts(make_server):
    srv, (user, pw), (other, opw) = start_server(make_server)
    b, page = logged_in(srv, user, pw)
    csrf = b.csrf(page)
    assert b.post("/account/filters/save", {"csrf": csrf, "name": "mine", "script": FIXED})[0] == 200
    assert b.post("/account/filters/activate", {"csrf": csrf, "name": "mine"})[0] == 200
    posts = [("/account/filters/save", {"name": "x", "script": "keep;"}),
             ("/account/filters/activate", {"name": "mine"}),
             ("/account/filters/deactivate", {}),
             ("/account/filters/delete", {"name": "mine"}),
             ("/account/vacation", {"on": "1", "message": "away"})]
    for path, fields in posts:
        st, _, body = b.post(path, fields)                           # no token
        assert st == 403 and "out of date" in body, (path, st)
        st, _, body = b.post(path, dict(fields, csrf="0" * 64))      # a wrong one
        assert st == 403, path
    assert scripts_on_disk(srv, user) == ["mine.sieve"] and active_on_disk(srv, user) == "mine.sieve"
    assert not (sieve_dir(srv, user) / "vacation.sieve").exists()
    # the other account sees none of it and cannot reach it by name
    o, opage = logged_in(srv, other, opw)
    ocsrf = o.csrf(opage)
    assert "You have no scripts" in opage and "mine" not in opage
    assert o.get("/account/filters?edit=mine")[0] == 404
    assert o.post("/account/filters/activate", {"csrf": ocsrf, "name": "mine"})[0] == 404
    assert o.post("/account/filters/delete", {"csrf": ocsrf, "name": "mine"})[0] == 404
    assert o.post("/account/filters/deactivate", {"csrf": ocsrf})[0] == 200
    assert o.post("/account/vacation", {"csrf": ocsrf, "on": "1", "message": "gone"})[0] == 200
    assert scripts_on_disk(srv, user) == ["mine.sieve"] and active_on_disk(srv, user) == "mine.sieve"
    assert scripts_on_disk(srv, other) == ["vacation.sieve"]
    # a session's token is its own
    st, _, _ = o.post("/account/filters/deactivate", {"csrf": csrf})
    assert st == 403
    # logged out: no page
    st, hd, _ = Browser(srv).get("/account/filters")
    assert st == 303 and hd["Location"] == "/login"


# ------------------------------------------------------------------ vacation

HOSTILE_SUBJECT = 'Away "till" Monday \\ ; } text: ${x}'
HOSTILE_MESSAGE = ('.\n..two dots\r\nI am away.\r\n"Quotes" and \\ backslash; } stop; # not code\r\n'
                   "/* nor this */\r\n.\r\nBack on Monday.\r\n\r\n")


def pigeonhole_accepts(script: bytes, included: dict):
    """Run Pigeonhole's sieve-test on the script as nobody, with the
    included scripts in its personal storage: (returncode, stdout, stderr)."""
    if not os.path.exists(SIEVE_TEST):
        pytest.fail("sieve-test not found: scripts/install-deps installs dovecot-sieve")
    d = Path(tempfile.mkdtemp(prefix="yubin-vacform-"))
    try:
        (d / "personal").mkdir()
        (d / "home").mkdir()
        for name, text in included.items():
            (d / "personal" / (name + ".sieve")).write_bytes(text)
        (d / "script.sieve").write_bytes(script)
        (d / "msg.eml").write_bytes(b"From: alice@example.com\r\nTo: someone@example.org\r\n"
                                    b"Subject: hello\r\nMessage-ID: <1@example.com>\r\n\r\nhi\r\n")
        (d / "dovecot.conf").write_text(
            f"mail_location = maildir:{d}/home/Maildir\nlog_path = /dev/stderr\nprotocols =\nssl = no\n"
            "plugin {\n"
            f"  sieve = file:{d}/personal;active={d}/home/.dovecot.sieve\n"
            "  sieve_vacation_dont_check_recipient = yes\n}\n")
        nobody = pwd.getpwnam("nobody")
        for root, dirs, files in os.walk(d):
            for n in dirs + files:
                os.chown(os.path.join(root, n), nobody.pw_uid, nobody.pw_gid)
        os.chown(d, nobody.pw_uid, nobody.pw_gid)
        os.chmod(d, 0o755)
        p = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "env",
                            f"HOME={d}/home", SIEVE_TEST, "-c", str(d / "dovecot.conf"),
                            "-a", "someone@example.org", "-f", "alice@example.com",
                            str(d / "script.sieve"), str(d / "msg.eml")],
                           capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_vacation_form_writes_a_safe_script_and_gives_the_filters_back(make_server):
    srv, (user, pw), (other, opw) = start_server(make_server)
    alias = f"holiday-{user.split('@')[0]}@{DOMAIN}"
    srv.add_alias(alias, user)
    b, page = logged_in(srv, user, pw)
    csrf = b.csrf(page)
    assert 'id="vacation-state">The vacation reply is <strong>off</strong>' in page
    assert f'<option value="{alias}">{alias}</option>' in page
    assert b.post("/account/filters/save", {"csrf": csrf, "name": 'my "work" filters', "script": FIXED})[0] == 200
    assert b.post("/account/filters/activate", {"csrf": csrf, "name": 'my "work" filters'})[0] == 200
    form = {"csrf": csrf, "on": "1", "subject": HOSTILE_SUBJECT, "message": HOSTILE_MESSAGE, "days": "10",
            "from": alias, "addresses": f"me.too@{DOMAIN}, second@{DOMAIN}\r\n"}
    st, _, page = b.post("/account/vacation", form)
    assert st == 200, page[-800:]
    assert "The vacation reply is on; your filters &quot;my &quot;work&quot; filters&quot; go on working" in page
    assert 'id="vacation-state">The vacation reply is <strong>on</strong>' in page
    assert '>vacation</a> <a class="muted" href="#vacation">(the vacation form\'s)</a></td>' in page
    assert active_on_disk(srv, user) == "vacation.sieve"
    script = (sieve_dir(srv, user) / "vacation.sieve").read_bytes()
    text = script.decode()
    assert text.startswith("# yubin vacation form:")
    assert 'require ["vacation", "include"];\r\n' in text
    assert ('vacation :days 10 :subject "Away \\"till\\" Monday \\\\ ; } text: ${x}" '
            f':from "{alias}" :addresses ["me.too@{DOMAIN}", "second@{DOMAIN}"] text:\r\n'
            '..\r\n...two dots\r\nI am away.\r\n"Quotes" and \\ backslash; } stop; # not code\r\n'
            "/* nor this */\r\n..\r\nBack on Monday.\r\n.\r\n;\r\n") in text, text
    assert text.endswith('include :personal :optional "my \\"work\\" filters";\r\n'), text
    # the page reads it back through yubin's compiler: what was typed, exactly
    st, _, page = b.get("/account/filters")
    assert 'name="on" value="1" checked' in page
    assert textarea(page, "message") == crlf(HOSTILE_MESSAGE).rstrip("\r\n")
    assert html.unescape(re.search(r'name="subject" maxlength="256" value="([^"]*)"', page).group(1)) == \
        HOSTILE_SUBJECT
    assert f'<option selected value="{alias}">' in page and 'name="days" min="1" max="365" value="10"' in page
    assert textarea(page, "addresses") == f"me.too@{DOMAIN}\r\nsecond@{DOMAIN}\r\n"
    # Pigeonhole agrees: it compiles, answers with that subject, and runs the included filters
    rc, out, err = pigeonhole_accepts(script, {'my "work" filters': FIXED.encode()})
    assert rc == 0, err + out
    assert "send vacation message" in out and "Away \"till\" Monday \\ ; } text: ${x}" in out, out
    # and delivery runs it: mail from another account is answered from the
    # alias with the typed subject and text, and the included filters still file
    submit(srv, other, opw, [user], make_message(other, user, "are you in?", ["?"]))
    (reply,) = srv.wait_mail(other, 1)
    m = email.message_from_bytes(reply, policy=email.policy.default)
    assert str(m["Subject"]) == HOSTILE_SUBJECT and m["From"] == alias, reply[:600]
    assert "I am away." in m.get_content() and "Back on Monday." in m.get_content()
    submit(srv, other, opw, [user], make_message(other, user, "[list] digest", ["x"]))
    wait_until(lambda: any((srv.maildir(user) / ".Lists" / d).glob("*") for d in ("new", "cur")), 15,
               what="the included filter's fileinto")
    # saving again while on keeps the filters included (not "vacation" itself)
    st, _, page = b.post("/account/vacation", dict(form, days="3"))
    assert st == 200 and b":days 3 " in (sieve_dir(srv, user) / "vacation.sieve").read_bytes()
    assert (sieve_dir(srv, user) / "vacation.sieve").read_bytes().endswith(b'"my \\"work\\" filters";\r\n')
    # off: the filters are active again, the form keeps its text
    st, _, page = b.post("/account/vacation", {"csrf": csrf, "message": ""})
    assert st == 200 and "your filters &quot;my &quot;work&quot; filters&quot; are active again" in page, page[-600:]
    assert active_on_disk(srv, user) == 'my "work" filters.sieve'
    assert 'name="on" value="1">' in page and textarea(page, "message").startswith(".\r\n..two dots")


def test_vacation_form_refusals(make_server):
    srv, (user, pw), (other, _) = start_server(make_server)
    b, page = logged_in(srv, user, pw)
    csrf = b.csrf(page)
    bad = [({"days": "0"}, "whole number from 1 to 365"),
           ({"days": "366"}, "whole number from 1 to 365"),
           ({"message": "  \r\n"}, "Write the message"),
           ({"subject": "a\r\nBcc: x@example.org"}, "one line"),
           ({"from": other}, "one of your addresses"),
           ({"addresses": "Name <a@example.org>"}, "plain address")]
    for fields, why in bad:
        form = dict({"csrf": csrf, "on": "1", "message": "Away.", "days": "7"}, **fields)
        st, _, page = b.post("/account/vacation", form)
        assert st == 400 and why in page, (fields, st, visible(page)[-600:])
        assert 'name="on" value="1" checked' in page      # what was typed stays
    assert scripts_on_disk(srv, user) == []
    # no vacation script of the form's: off is simply off, nothing written
    st, _, page = b.post("/account/vacation", {"csrf": csrf, "days": "0"})
    assert st == 200 and "The vacation reply is off." in page and scripts_on_disk(srv, user) == []
    # a script of the user's own named "vacation" is never overwritten
    mine = 'require "vacation";\r\nvacation "my own";\r\n'
    assert b.post("/account/filters/save", {"csrf": csrf, "name": "vacation", "script": mine})[0] == 200
    st, _, page = b.post("/account/vacation", {"csrf": csrf, "on": "1", "message": "Away."})
    assert st == 409 and "script of your own named" in page
    assert "(the vacation form" not in page
    # ... nor stopped by the form's "off"
    assert b.post("/account/filters/activate", {"csrf": csrf, "name": "vacation"})[0] == 200
    st, _, page = b.post("/account/vacation", {"csrf": csrf})
    assert st == 200 and active_on_disk(srv, user) == "vacation.sieve"
    assert b.post("/account/filters/deactivate", {"csrf": csrf})[0] == 200
    assert (sieve_dir(srv, user) / "vacation.sieve").read_bytes() == mine.encode()
    # too long for the script size limit
    assert b.post("/account/filters/delete", {"csrf": csrf, "name": "vacation"})[0] == 200
    st, _, page = b.post("/account/vacation", {"csrf": csrf, "on": "1", "message": "z" * MAX_SIZE})
    assert st == 413 and "shorten the message" in page
    # with no script active before, the reply includes nothing and off leaves none active
    st, _, page = b.post("/account/vacation", {"csrf": csrf, "on": "1", "message": "Away."})
    assert st == 200 and "The vacation reply is on." in page
    assert "include" not in (sieve_dir(srv, user) / "vacation.sieve").read_text()
    st, _, page = b.post("/account/vacation", {"csrf": csrf})
    assert st == 200 and active_on_disk(srv, user) is None
    # an active script whose name an include cannot name (RFC 6609: no "/")
    assert b.post("/account/filters/save", {"csrf": csrf, "name": "work/private", "script": "keep;"})[0] == 200
    assert b.post("/account/filters/activate", {"csrf": csrf, "name": "work/private"})[0] == 200
    st, _, page = b.post("/account/vacation", {"csrf": csrf, "on": "1", "message": "Away."})
    assert st == 409 and "rename it before turning the reply on" in page
    assert active_on_disk(srv, user) == "work%2Fprivate.sieve"


# ------------------------------------------------------------------ a real browser

def test_browser_filters_and_vacation(make_server):
    from selenium.webdriver.common.by import By
    srv, (user, pw), _ = start_server(make_server)
    d = chromium()
    try:
        base = f"https://127.0.0.1:{srv.https}"
        d.get(base + "/login")
        d.find_element(By.NAME, "user").send_keys(user)
        d.find_element(By.NAME, "password").send_keys(pw)
        follow(d, d.find_element(By.CSS_SELECTOR, "form.login button"))
        assert d.current_url.endswith("/account"), d.current_url
        follow(d, d.find_element(By.LINK_TEXT, "Edit your filters and vacation reply"))
        assert d.current_url.endswith("/account/filters"), d.current_url
        editor = "form[action='/account/filters/save'] "
        d.find_element(By.CSS_SELECTOR, editor + "input[name=name]").send_keys("lists")
        d.find_element(By.CSS_SELECTOR, editor + "textarea").send_keys(BROKEN)
        follow(d, d.find_element(By.CSS_SELECTOR, editor + "button"))
        err = d.find_element(By.ID, "compile-error").text
        assert err.startswith("Not saved: line 4, column 3:") and "fileinot" in err, err
        area = d.find_element(By.CSS_SELECTOR, editor + "textarea")
        assert area.get_property("value") == BROKEN          # kept as typed
        shot(d, "filters-error")
        area.clear()
        area.send_keys(FIXED)
        follow(d, d.find_element(By.CSS_SELECTOR, editor + "button"))
        assert 'The script "lists" is saved.' in d.find_element(By.ID, "page-notice").text
        follow(d, d.find_element(By.XPATH, "//table[@class='scripts']//button[text()='Activate']"))
        assert d.find_element(By.CSS_SELECTOR, "table.scripts .state.active").text == "active"
        assert (sieve_dir(srv, user) / ".active").read_text().strip() == "lists.sieve"
        vac = "form[action='/account/vacation'] "
        d.find_element(By.CSS_SELECTOR, vac + "input[name=on]").click()
        d.find_element(By.CSS_SELECTOR, vac + "input[name=subject]").send_keys('Out of office "till" Monday')
        d.find_element(By.CSS_SELECTOR, vac + "textarea[name=message]").send_keys(
            "Hello,\n.\nI am away until Monday.\n")
        days = d.find_element(By.CSS_SELECTOR, vac + "input[name=days]")
        days.clear()
        days.send_keys("14")
        follow(d, d.find_element(By.CSS_SELECTOR, vac + "button"))
        assert "The vacation reply is on" in d.find_element(By.ID, "page-notice").text
        assert d.find_element(By.ID, "vacation-state").text.startswith("The vacation reply is on.")
        script = (sieve_dir(srv, user) / "vacation.sieve").read_bytes().decode()
        assert ':days 14 :subject "Out of office \\"till\\" Monday" text:\r\nHello,\r\n..\r\nI am away' in script
        assert script.endswith('include :personal :optional "lists";\r\n')
        assert (sieve_dir(srv, user) / ".active").read_text().strip() == "vacation.sieve"
        shot(d, "filters")
    finally:
        d.quit()
