"""The web dashboard on the https listener (web/): log-in with an account
password for the administrators in web.admins, sessions in Secure HttpOnly
SameSite=Strict cookies, CSRF tokens on every form, strict security headers,
pages that work without JavaScript (queue with its operations, delivery log
with search, a message's timeline, domains with their DNS records checked
live, SVG charts), driven with python's http.client; and the same in a real
browser (Debian's chromium through selenium, headless): log in, find a
bounced message in the delivery log, open its timeline, release a held
message and see the queue change."""

import html
import os
import http.client
import re
import ssl
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

from conftest import DOMAIN, Conn, make_message, outbound_config, qid_from, uniq, wait_until

ADMIN = f"postmaster@{DOMAIN}"
HOLD_RULE = '{ name = "hold-review"; header = "Subject: [review]"; action = "hold"; }'
PAGES = ["/queue", "/log", "/domains", "/charts"]
SVG = "{http://www.w3.org/2000/svg}"


def web_config(extra=""):
    return (f'web: {{ admins = [ "{ADMIN}" ]; }};\n'
            f"policy: {{ rules = ( {HOLD_RULE} ); }};\n" + extra)


class Browser:
    """A cookie-keeping HTTPS client (http.client) that logs in like a form."""

    def __init__(self, srv):
        self.srv = srv
        self.cookies = {}
        self.set_cookie_lines = []

    def request(self, method, path, fields=None, headers=None):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = http.client.HTTPSConnection("127.0.0.1", self.srv.https, timeout=20, context=ctx)
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
        finally:
            c.close()
        for line in r.headers.get_all("Set-Cookie") or []:
            self.set_cookie_lines.append(line)
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if value and "Max-Age=0" not in line:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return r.status, r.headers, data.decode("utf-8", "replace")

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, fields, **kw):
        return self.request("POST", path, fields=fields, **kw)

    def login(self, user, password):
        st, _, page = self.get("/login")
        assert st == 200, page
        token = re.search(r'name="token" value="([0-9a-f]{64})"', page).group(1)
        started = time.monotonic()
        st, hd, page = self.post("/login", {"token": token, "user": user, "password": password})
        return st, hd, page, time.monotonic() - started

    def csrf(self, page):
        m = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
        assert m, "no CSRF field in the page"
        return m.group(1)


def admin_server(make_server, extra=""):
    srv = make_server(extra=web_config(extra), start=False)
    pw = srv.add_user(ADMIN)[1]
    srv.start()
    return srv, pw


def logged_in(srv, pw):
    b = Browser(srv)
    st, hd, page, _ = b.login(ADMIN, pw)
    assert st == 303 and hd["Location"] == "/queue", (st, page)
    return b


def hold_message(srv, rcpt):
    """A message the hold rule keeps in the queue; its queue id."""
    subject = f"[review] {uniq('held')}"
    with Conn(srv.smtp) as c:
        c.ehlo()
        _, final = c.mail_transaction("someone@remote.example", [rcpt],
                                      make_message("someone@remote.example", rcpt, subject, ["hold me"]))
    assert final.code == 250, final
    return qid_from(final.text), subject


def check_headers(hd, path):
    csp = hd["Content-Security-Policy"] or ""
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp, (path, csp)
    assert hd["X-Frame-Options"] == "DENY", path
    assert hd["X-Content-Type-Options"] == "nosniff", path


# ------------------------------------------------------------------ http.client

def test_login_session_cookie_and_pages_without_javascript(make_server):
    srv, pw = admin_server(make_server)
    st, hd, _ = Browser(srv).get("/queue")
    assert st == 303 and hd["Location"] == "/login", st    # not logged in: to the log-in page
    b = Browser(srv)
    st, hd, page, _ = b.login(ADMIN, pw)
    assert st == 303 and hd["Location"] == "/queue", (st, page)
    [session] = [l for l in b.set_cookie_lines if l.startswith("__Host-yubin_session=") and "Max-Age=0" not in l]
    attrs = [a.strip() for a in session.split(";")]
    assert re.fullmatch(r"__Host-yubin_session=[0-9a-f]{64}", attrs[0]), attrs
    for want in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert want in attrs, (want, session)
    for line in b.set_cookie_lines:     # the log-in form's cookie too
        assert "Secure" in line and "HttpOnly" in line and "SameSite=Strict" in line, line
    for path in PAGES + ["/login"]:
        st, hd, page = b.get(path) if path != "/login" else Browser(srv).get(path)
        assert st == 200, (path, st, page[:500])
        check_headers(hd, path)
        assert "<script" not in page.lower() and "javascript:" not in page.lower(), path
        assert re.search(r'<link rel="stylesheet" href="/style.css">', page), path
        assert not re.search(r'(src|href)="(https?:)?//', page), f"an external asset in {path}"
    st, hd, css = b.get("/style.css")
    assert st == 200 and hd["Content-Type"].startswith("text/css") and "body{" in css
    st, _, page = b.get("/queue")
    assert ADMIN in page and "The queue is empty" in page, page
    srv.assert_no_secrets()


def test_post_without_or_with_a_wrong_csrf_token_is_refused(make_server):
    srv, pw = admin_server(make_server)
    user = srv.add_user()[0]
    qid, _ = hold_message(srv, user)
    b = logged_in(srv, pw)
    st, _, page = b.get("/queue")
    assert qid in page, page
    token = b.csrf(page)
    wrong = ("0" if token[0] != "0" else "1") + token[1:]
    for fields, headers in [({}, {}), ({"csrf": wrong}, {}), ({"csrf": token[:-1]}, {}),
                            ({"csrf": token}, {"Origin": "https://evil.example"}),
                            ({"csrf": token}, {"Origin": "null"})]:
        st, _, page = b.post(f"/queue/{qid}/release", fields, headers=headers)
        assert st == 403, (fields, headers, st, page[:300])
    st, _, page = b.get("/queue")
    assert re.search(rf'id="q-{qid}".*?>held<', page, re.S), "a refused POST changed the queue"
    st, _, _ = b.post("/logout", {"csrf": wrong})
    assert st == 403
    # another session's token is not this session's
    other = logged_in(srv, pw)
    other_token = other.csrf(other.get("/queue")[2])
    st, _, _ = b.post(f"/queue/{qid}/release", {"csrf": other_token})
    assert st == 403
    # the right token from this site works; the log-in form needs its own token
    st, hd, _ = b.post(f"/queue/{qid}/release", {"csrf": token},
                       headers={"Origin": f"https://127.0.0.1:{srv.https}", "Host": f"127.0.0.1:{srv.https}"})
    assert st == 303 and hd["Location"] == f"/queue?did=release&qid={qid}", st
    st, _, page = b.get(hd["Location"])
    assert f"{qid} released." in page, page
    st, _, _ = Browser(srv).post("/login", {"user": ADMIN, "password": pw, "token": "0" * 64})
    assert st == 403
    assert "web_denied" in srv.log_text()


def test_wrong_password_refused_and_throttled(make_server):
    srv = make_server(extra=web_config(), auth={"fail_delay_ms": 300, "fail_delay_max_ms": 1200,
                                                "lockout_failures": 3}, start=False)
    pw = srv.add_user(ADMIN)[1]
    srv.start()
    delays = []
    for i in range(3):
        st, hd, page, took = Browser(srv).login(ADMIN, f"wrong-{i}")
        assert st == 401 and "Wrong account or password" in page, (st, page)
        assert not any(l.startswith("__Host-yubin_session=") for l in hd.get_all("Set-Cookie") or [])
        delays.append(took)
    assert delays[0] >= 0.28 and delays[1] >= 0.55, delays     # the delay grows: 300, 600 ms
    # locked out: the right password does not help now
    st, hd, page, _ = Browser(srv).login(ADMIN, pw)
    assert st == 429 and hd["Retry-After"] and "Too many failed" in page, (st, page)
    log = srv.log_text()
    assert "wrong-0" not in log and pw not in log


def test_stop_during_a_login_delay(make_server):
    """The server stops while a failed log-in waits out its delay: the
    request is ended, nothing leaks (ASan), the exit is clean."""
    import threading
    srv = make_server(extra=web_config(), auth={"fail_delay_ms": 20000, "fail_delay_max_ms": 20000}, start=False)
    srv.add_user(ADMIN)
    srv.start()
    got = {}

    def attempt():
        try:
            got["status"] = Browser(srv).login(ADMIN, "wrong")[0]
        except (OSError, http.client.HTTPException) as e:
            got["error"] = e
    t = threading.Thread(target=attempt)
    t.start()
    wait_until(lambda: "event=auth" in srv.log_text() and "result=fail" in srv.log_text(), 10,
               what="the failed check")
    started = time.monotonic()
    srv.stop()
    t.join(15)
    assert not t.is_alive()
    assert time.monotonic() - started < 12
    assert got.get("status") in (None, 503), got


def test_a_non_admin_reaches_no_admin_page(make_server):
    """Every account logs in (to its own page, tests/e2e/test_selfserve.py);
    the administrators' pages stay theirs."""
    srv, _ = admin_server(make_server)
    user, upw = srv.add_user()
    b = Browser(srv)
    st, hd, page, _ = b.login(user, upw)
    assert st == 303 and hd["Location"] == "/account", (st, page)
    for path in PAGES:
        st, hd, page = b.get(path)
        assert st == 403 and "not a dashboard administrator" in page, (path, st)
    assert re.search(r"event=web_login .*admin=no result=ok", srv.log_text())
    assert re.search(r"event=web_denied .*reason=\"not in web.admins\"", srv.log_text())


def test_logout_ends_the_session(make_server):
    srv, pw = admin_server(make_server)
    b = logged_in(srv, pw)
    old = dict(b.cookies)
    st, _, page = b.get("/queue")
    st, hd, _ = b.post("/logout", {"csrf": b.csrf(page)})
    assert st == 303 and hd["Location"] == "/login"
    assert "__Host-yubin_session" not in b.cookies
    b.cookies = old                    # the old cookie, replayed
    st, hd, _ = b.get("/queue")
    assert st == 303 and hd["Location"] == "/login"


def test_queue_operations_and_bad_input(make_server):
    srv, pw = admin_server(make_server)
    user = srv.add_user()[0]
    qid, subject = hold_message(srv, user)
    b = logged_in(srv, pw)
    st, _, page = b.get("/queue")
    row = re.search(rf'<tr id="q-{qid}">.*?</tr>', page, re.S).group(0)
    assert "someone@remote.example" in row and user in row and ">held<" in row
    assert f'action="/queue/{qid}/release"' in row and f'action="/queue/{qid}/hold"' not in row
    token = b.csrf(page)
    for path in [f"/queue/{qid}/explode", "/queue/not-a-qid/release", f"/queue/{qid}/flush"]:
        st, _, _ = b.post(path, {"csrf": token})
        assert st == 404, path
    st, hd, _ = b.post(f"/queue/{qid}/delete", {"csrf": token})
    assert st == 303, st
    st, _, page = b.get("/queue")
    assert f'id="q-{qid}"' not in page
    st, _, page = b.post(f"/queue/{qid}/release", {"csrf": token})
    assert st == 409 and qid in page, (st, page)
    assert re.search(rf"event=web_queue .*qid={qid} op=delete result=ok", srv.log_text())
    # the log's search form refuses what it cannot read, and says so
    st, _, page = b.get("/log?since=yesterday")
    assert st == 400 and "Since is not a time" in page
    st, _, page = b.get("/log?status=%3Cscript%3E")
    assert st == 400 and "<script>" not in page
    st, _, page = b.get("/message/..%2F..%2Fetc")
    assert st == 404


def test_domains_page_checks_dns(make_server, dns):
    from conftest import HOSTNAME
    dns.set(DOMAIN, "MX", [(10, HOSTNAME)])
    dns.set(DOMAIN, "TXT", ["v=spf1 a -all"])
    srv, pw = admin_server(make_server, extra=f'dns: {{ resolver = "{dns.resolver_spec}"; timeout = 5; }};\n')
    # client set-up records: one SRV as advised, one on another port, a CNAME
    dns.set(f"_imaps._tcp.{DOMAIN}", "SRV", [(0, 1, srv.imaps, HOSTNAME)])
    dns.set(f"_imap._tcp.{DOMAIN}", "SRV", [(0, 1, 143, HOSTNAME)])
    dns.set(f"autoconfig.{DOMAIN}", "CNAME", [HOSTNAME])
    b = logged_in(srv, pw)
    st, hd, page = b.get("/domains")
    assert st == 200, page
    rows = {m.group(1): m.group(0) for m in re.finditer(r"<tr><td>(MX|TXT|A|AAAA)</td>.*?</tr>", page, re.S)}
    cells = re.findall(r"<tr><td>(MX|TXT)</td><td class=\"mono\">([^<]*)</td>.*?class=\"state (\w+)\"", page, re.S)
    states = {(t, n): s for t, n, s in cells}
    assert states[("MX", DOMAIN)] == "matches", cells
    assert states[("TXT", DOMAIN)] == "differs", cells          # SPF published, not as advised
    assert "v=spf1 a -all" in page
    assert states[("TXT", "_dmarc." + DOMAIN)] == "missing", cells
    assert f"yubin dkim keygen {DOMAIN}" in html.unescape(page)   # no key yet: advice
    assert rows
    setup = dict(((t, n), s) for t, n, s in re.findall(
        r"<tr><td>(SRV|CNAME)</td><td class=\"mono\">([^<]*)</td>.*?class=\"state (\w+)\"", page, re.S))
    assert setup[("SRV", f"_imaps._tcp.{DOMAIN}")] == "matches", setup
    assert setup[("SRV", f"_imap._tcp.{DOMAIN}")] == "differs", setup
    assert setup[("SRV", f"_pop3s._tcp.{DOMAIN}")] == "missing", setup
    assert setup[("CNAME", f"autoconfig.{DOMAIN}")] == "matches", setup


def test_timeline_log_and_chart(make_server, dns):
    srv, pw = admin_server(make_server, extra=outbound_config(dns, 25))
    user, upw = srv.add_user()
    started = time.time()
    rcpt = f"{uniq('n')}@nosuchdomain.test"                       # NXDOMAIN: bounced at once
    with Conn(srv.submission) as c:
        c.ehlo()
        c.starttls()
        c.ehlo()
        c.auth_plain(user, upw)
        _, final = c.mail_transaction(user, [rcpt], make_message(user, rcpt, "bounce me <b>&", ["x"]))
    assert final.code == 250, final
    qid = qid_from(final.text)
    for i in range(2):
        hold_message(srv, user)
    b = logged_in(srv, pw)
    page = wait_until(lambda: (lambda p: p if qid in p else None)(
        b.get(f"/log?status=bounced&since=1h")[2]), 15, what="the bounce in the delivery log")
    assert re.search(rf'<a href="/message/{qid}">{qid}</a>', page)
    assert ">bounced<" in page and rcpt in page
    st, _, page = b.get(f"/message/{qid}")
    assert st == 200, page
    assert "bounce me &lt;b&gt;&amp;" in page or "sha256:" in page        # the subject, escaped (or hashed)
    for kind in ("received", "bounced"):
        assert f'class="state {kind}">{kind}<' in page, kind
    st, _, page = b.get("/log?sender=nobody%40nowhere.example&since=")
    assert st == 200 and "No record matches" in page
    # the received chart: the three messages sent and the bounce (a message
    # too) in one bar per hour: one, or two when the test crossed an hour
    hours = {int(started // 3600), int(time.time() // 3600)}
    st, hd, svg = b.get("/charts/received.svg")
    assert st == 200 and hd["Content-Type"].startswith("image/svg+xml"), st
    root = ET.fromstring(svg.encode())
    assert root.tag == SVG + "svg"
    bars = [r for r in root.iter(SVG + "rect") if r.get("class") == "bar"]
    assert len(bars) == len(hours) and sum(int(r.get("data-count")) for r in bars) == 4, [r.attrib for r in bars]
    assert {int(r.get("data-hour")) // 3600 for r in bars} == hours
    root = ET.fromstring(b.get("/charts/bounced.svg")[2].encode())
    bars = [r for r in root.iter(SVG + "rect") if r.get("class") == "bar"]
    assert sum(int(r.get("data-count")) for r in bars) == 1
    st, _, _ = b.get("/charts/nothing.svg")
    assert st == 404


# ------------------------------------------------------------------ a real browser

def chromium():
    """Headless Debian chromium through chromium-driver (selenium)."""
    import shutil
    for prog in ("chromium", "chromedriver"):
        if shutil.which(prog) is None:
            pytest.fail(f"{prog} is not installed: apt-get install chromium chromium-driver python3-selenium")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("python3-selenium is not installed (run the tests with Debian's /usr/bin/python3)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for a in ("--headless=new", "--no-sandbox", "--ignore-certificate-errors", "--disable-gpu",
              "--disable-dev-shm-usage", "--window-size=1360,900", "--disable-extensions",
              "--no-first-run", "--password-store=basic"):
        opts.add_argument(a)
    if os.geteuid() != 0:
        opts.arguments.remove("--no-sandbox")
    d = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    d.set_page_load_timeout(30)
    return d


def shot(driver, name):
    """A full-page screenshot into $YUBIN_SCREENSHOTS (scripts/screenshot-dashboard)."""
    out = os.environ.get("YUBIN_SCREENSHOTS")
    if not out:
        return
    os.makedirs(out, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1360, max(600, min(int(height) + 40, 4000)))
    assert driver.save_screenshot(os.path.join(out, f"{name}.png")), name
    driver.set_window_size(1360, 900)


def follow(driver, element):
    """Click a link or a submit button and wait for the next page, so that
    nothing is looked for on the page being left."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def left(_):
        # chromium names a node of a page already left either way
        try:
            old.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            if "does not belong to the document" in str(e):
                return True
            raise
    WebDriverWait(driver, 15).until(left)


def test_browser_bounce_timeline_and_release(make_server, dns):
    from selenium.webdriver.common.by import By
    srv, pw = admin_server(make_server, extra=outbound_config(dns, 25))
    user, upw = srv.add_user()
    rcpt = f"{uniq('n')}@nosuchdomain.test"
    with Conn(srv.submission) as c:
        c.ehlo()
        c.starttls()
        c.ehlo()
        c.auth_plain(user, upw)
        _, final = c.mail_transaction(user, [rcpt], make_message(user, rcpt, "a bounce <i>", ["x"]))
    assert final.code == 250, final
    bounced = qid_from(final.text)
    held, _ = hold_message(srv, user)
    other_held, _ = hold_message(srv, user)
    base = f"https://127.0.0.1:{srv.https}"
    d = chromium()
    try:
        d.get(base + "/queue")                               # not logged in: the log-in page
        assert d.current_url == base + "/login", d.current_url
        shot(d, "login")
        d.find_element(By.NAME, "user").send_keys(ADMIN)
        d.find_element(By.NAME, "password").send_keys(pw)
        follow(d, d.find_element(By.CSS_SELECTOR, "form.login button[type=submit]"))
        wait_until(lambda: d.current_url == base + "/queue", 15, what="the queue page after log-in")
        names = {c["name"]: c for c in d.get_cookies()}
        s = names["__Host-yubin_session"]
        assert s["secure"] and s["httpOnly"] and s["sameSite"] == "Strict", s
        assert d.find_element(By.ID, f"q-{held}")
        shot(d, "queue")

        # the delivery log: search for bounced messages, find ours, open its timeline
        follow(d, d.find_element(By.LINK_TEXT, "Delivery log"))
        from selenium.webdriver.support.ui import Select
        Select(d.find_element(By.NAME, "status")).select_by_visible_text("bounced")
        follow(d, d.find_element(By.CSS_SELECTOR, "form.search button[type=submit]"))

        def bounce_link():
            links = d.find_elements(By.LINK_TEXT, bounced)
            if not links:
                d.refresh()
            return links[0] if links else None
        link = wait_until(bounce_link, 20, interval=0.5, what="the bounced message in the delivery log")
        assert "status=bounced" in d.current_url
        shot(d, "log")
        follow(d, link)
        assert d.current_url == f"{base}/message/{bounced}"
        text = d.find_element(By.TAG_NAME, "main").text
        assert f"Message {bounced}" in text and "bounced" in text and rcpt in text, text
        shot(d, "message")

        # release the held message from the queue page
        follow(d, d.find_element(By.LINK_TEXT, "Queue"))
        row = d.find_element(By.ID, f"q-{held}")
        assert "held" in row.text
        follow(d, row.find_element(By.XPATH, ".//button[text()='Release']"))
        notice = d.find_element(By.CSS_SELECTOR, "p.notice").text
        assert notice == f"{held} released.", notice

        def released():
            d.get(base + "/queue")
            return not d.find_elements(By.ID, f"q-{held}")
        wait_until(released, 15, interval=0.5, what="the released message to leave the queue")
        assert d.find_element(By.ID, f"q-{other_held}")      # the other one still waits
        wait_until(lambda: any(b"hold me" in m for m in srv.mails(user)), 10, what="the released message")

        for name in ("domains", "charts"):
            follow(d, d.find_element(By.LINK_TEXT, name.capitalize()))
            assert d.find_element(By.TAG_NAME, "h1").text == name.capitalize()
            shot(d, name)
        imgs = d.find_elements(By.CSS_SELECTOR, ".charts img")
        assert len(imgs) == 4 and all(d.execute_script("return arguments[0].naturalWidth", i) > 0 for i in imgs)

        follow(d, d.find_element(By.CSS_SELECTOR, "button.logout"))
        assert d.current_url == base + "/login"
        d.get(base + "/queue")
        assert d.current_url == base + "/login"
    finally:
        d.quit()
