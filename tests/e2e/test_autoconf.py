"""Automatic client set-up (autoconf/): the Thunderbird autoconfig file
fetched as Thunderbird does (curl with --resolve on the autoconfig. and
bare domain names, and python), checked with xmllint XPath against the
listeners the server really has; mbsync and msmtp configurations generated
from that XML and used to send and fetch mail; Outlook's Autodiscover POX
(any path case, Basic credentials ignored, never 401) and its bad paths
(malformed XML, a DOCTYPE with entities, another schema, an unknown domain,
a huge body); the Apple profile for a logged-in dashboard user, read with
plistlib; and the SRV / autoconfig records of `yubin dns records`."""

import os
import plistlib
import shutil
import subprocess
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

from conftest import DOMAIN, Server, free_port, make_tempdir, make_message, uniq, wait_until, KEEP
from test_dashboard import Browser

ADMIN = f"postmaster@{DOMAIN}"
NAMES = [f"autoconfig.{DOMAIN}", f"autodiscover.{DOMAIN}", DOMAIN, "localhost"]
AD_REQ_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
AD_2006A = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
AD_NS = {"a": "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006", "o": AD_2006A}


@pytest.fixture(scope="module")
def names_cert():
    """A certificate for the set-up names, as a real deployment needs."""
    d = make_tempdir("yubin-e2e-accert-")
    cert, key = d / "cert.pem", d / "key.pem"
    san = ",".join(f"DNS:{n}" for n in NAMES) + ",IP:127.0.0.1"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "400",
                    "-subj", "/CN=localhost", "-addext", f"subjectAltName={san}"],
                   check=True, capture_output=True, timeout=30)
    os.chmod(cert, 0o644)
    yield {"cert": str(cert), "key": str(key), "dir": d}
    if not KEEP:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def srv(names_cert):
    """One server for the module: hostname localhost (so that clients
    configured from its answers reach it), an account, a dashboard admin."""
    s = Server(names_cert, extra=f'web: {{ admins = [ "{ADMIN}" ]; }};')
    text = s.config_path.read_text()
    # a managesieve listener too: found by SRV only, never in the documents
    s.ports["managesieve"] = free_port()
    text = text.replace("listeners = (", f'listeners = (\n  {{ role = "managesieve"; address = "127.0.0.1"; '
                        f'port = {s.ports["managesieve"]}; }},', 1)
    s.config_path.write_text(text.replace('hostname = "mx.test.example";', 'hostname = "localhost";'))
    s.user, s.pw = s.add_user()
    s.admin_pw = s.add_user(ADMIN)[1]
    s.start()
    yield s
    s.stop()
    s.assert_clean()
    s.cleanup()


def curl(srv, name, path, *extra):
    """GET https://NAME:PORT/PATH as a client that checks the certificate
    for NAME; (status, content-type, body)."""
    p = subprocess.run(["curl", "-sS", "--max-time", "20", "--cacert", srv.cert["cert"],
                        "--resolve", f"{name}:{srv.https}:127.0.0.1",
                        "-w", "\n%{http_code} %{content_type}", *extra,
                        f"https://{name}:{srv.https}{path}"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    body, _, tail = p.stdout.rpartition("\n")
    code, _, ctype = tail.partition(" ")
    return int(code), ctype, body


def xpath(xml_text, expr, tmp):
    f = tmp / "doc.xml"
    f.write_text(xml_text)
    p = subprocess.run(["xmllint", "--xpath", expr, str(f)], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, (expr, p.stderr)
    return p.stdout.strip()


def well_formed(xml_text, tmp):
    f = tmp / "wf.xml"
    f.write_text(xml_text)
    p = subprocess.run(["xmllint", "--noout", "--nonet", str(f)], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr


def servers(doc):
    """[(tag, type, hostname, port, socketType, username)] in document order."""
    root = ET.fromstring(doc)
    return [(e.tag, e.get("type"), e.findtext("hostname"), int(e.findtext("port")), e.findtext("socketType"),
             e.findtext("username"))
            for e in root.find("emailProvider") if e.tag in ("incomingServer", "outgoingServer")]


def expected(srv, user):
    subs = sorted([srv.submission, srv.alt])
    return [("incomingServer", "imap", "localhost", srv.imaps, "SSL", user),
            ("incomingServer", "imap", "localhost", srv.imap, "STARTTLS", user),
            ("incomingServer", "pop3", "localhost", srv.pop3s, "SSL", user),
            ("incomingServer", "pop3", "localhost", srv.pop3, "STARTTLS", user),
            ("outgoingServer", "smtp", "localhost", srv.submissions, "SSL", user),
            ("outgoingServer", "smtp", "localhost", subs[0], "STARTTLS", user),
            ("outgoingServer", "smtp", "localhost", subs[1], "STARTTLS", user)]


# ------------------------------------------------------------------ Thunderbird

def test_autoconfig_as_thunderbird_fetches_it(srv, tmp_path):
    q = "?emailaddress=" + urllib.parse.quote(srv.user)
    code, ctype, doc = curl(srv, f"autoconfig.{DOMAIN}", "/mail/config-v1.1.xml" + q)
    assert code == 200 and ctype.startswith("application/xml"), (code, ctype, doc)
    well_formed(doc, tmp_path)
    assert servers(doc) == expected(srv, srv.user)
    assert xpath(doc, "string(/clientConfig/emailProvider/@id)", tmp_path) == DOMAIN
    assert xpath(doc, f"string(//incomingServer[@type='imap'][1]/port)", tmp_path) == str(srv.imaps)
    assert xpath(doc, "count(//authentication[.='password-cleartext'])", tmp_path) == "7"
    assert xpath(doc, "count(//socketType[.='plain'])", tmp_path) == "0"
    assert f"<port>{srv.smtp}</port>" not in doc      # port 25 takes no log-in
    no_sieve(srv, doc)

    # the well-known URL on the domain itself, without the address: placeholders
    for path in ("/.well-known/autoconfig/mail/config-v1.1.xml", "/.well-known/mail-v1.xml"):
        code, _, doc = curl(srv, DOMAIN, path)
        assert code == 200, (path, doc)
        assert servers(doc) == expected(srv, "%EMAILADDRESS%"), path
    # what python's urllib sends (Host: autoconfig.DOMAIN) with an encoded address
    st, hd, body = srv.http("GET", "/mail/config-v1.1.xml?emailaddress=" + urllib.parse.quote(srv.user, safe=""),
                            headers={"Host": f"autoconfig.{DOMAIN}"})
    assert st == 200 and servers(body.decode()) == expected(srv, srv.user)


def no_sieve(srv, doc):
    """The client documents have no element for ManageSieve (RFC 5804 is
    found by its SRV record): neither its port nor its name appears."""
    text = doc if isinstance(doc, str) else doc.decode("utf-8", "replace")
    assert str(srv.ports["managesieve"]) not in text and "sieve" not in text.lower(), text


def test_autoconfig_unknown_domain_and_bad_address(srv):
    code, _, body = curl(srv, f"autoconfig.{DOMAIN}", "/mail/config-v1.1.xml?emailaddress=bob%40elsewhere.example")
    assert code == 404, body
    st, _, body = srv.http("GET", "/mail/config-v1.1.xml", headers={"Host": "autoconfig.elsewhere.example"})
    assert st == 404, body
    st, _, body = srv.http("GET", "/mail/config-v1.1.xml", headers={"Host": "[::1]"})
    assert st == 404, body
    for bad in ("no-at-sign", "a%01b%40" + DOMAIN):
        st, _, body = srv.http("GET", "/mail/config-v1.1.xml?emailaddress=" + bad,
                               headers={"Host": f"autoconfig.{DOMAIN}"})
        assert st == 400, (bad, body)


MBSYNC = """IMAPAccount acct
Host {host}
Port {port}
User {user}
PassCmd "cat {pwfile}"
SSLType {tls}
CertificateFile {ca}

IMAPStore remote
Account acct

MaildirStore local
Path {md}/
Inbox {md}/INBOX

Channel ch
Far :remote:
Near :local:
Patterns INBOX
Create Near
SyncState *
"""

MSMTP = """defaults
tls on
tls_trust_file {ca}
logfile {log}

account acct
host {host}
port {port}
tls_starttls {starttls}
auth on
user {user}
passwordeval "cat {pwfile}"
from {user}
"""


def test_mbsync_and_msmtp_configured_from_autoconfig_send_and_fetch(srv, tmp_path):
    if shutil.which("msmtp") is None or shutil.which("mbsync") is None:
        pytest.fail("msmtp and mbsync are needed (scripts/install-deps)")
    code, _, doc = curl(srv, f"autoconfig.{DOMAIN}", "/mail/config-v1.1.xml?emailaddress=" +
                        urllib.parse.quote(srv.user))
    assert code == 200
    root = ET.fromstring(doc).find("emailProvider")
    pwfile = tmp_path / "pw"
    pwfile.write_text(srv.pw)
    pwfile.chmod(0o600)
    subjects = []
    for i, out in enumerate(root.findall("outgoingServer")[:2]):     # 465 SSL, then STARTTLS
        rc = tmp_path / f"msmtprc{i}"
        rc.write_text(MSMTP.format(ca=srv.cert["cert"], log=tmp_path / "msmtp.log", host=out.findtext("hostname"),
                                   port=out.findtext("port"), user=out.findtext("username"), pwfile=pwfile,
                                   starttls="on" if out.findtext("socketType") == "STARTTLS" else "off"))
        rc.chmod(0o600)
        subject = uniq(f"autoconf-{out.findtext('socketType')}")
        subjects.append(subject)
        msg = make_message(srv.user, srv.user, subject, ["configured from autoconfig"])
        p = subprocess.run(["msmtp", "-C", str(rc), "-a", "acct", srv.user], input=msg,
                           capture_output=True, timeout=60)
        assert p.returncode == 0, (out.findtext("port"), p.stderr, (tmp_path / "msmtp.log").read_text())

    for i, inc in enumerate(root.findall("incomingServer[@type='imap']")):   # 993 SSL, then STARTTLS
        md = tmp_path / f"mail{i}"
        md.mkdir()
        rc = tmp_path / f"mbsyncrc{i}"
        rc.write_text(MBSYNC.format(host=inc.findtext("hostname"), port=inc.findtext("port"),
                                    user=inc.findtext("username"), pwfile=pwfile, ca=srv.cert["cert"],
                                    tls="IMAPS" if inc.findtext("socketType") == "SSL" else "STARTTLS", md=md))
        env = dict(os.environ, HOME=str(tmp_path))

        def fetched():
            p = subprocess.run(["mbsync", "-c", str(rc), "-a"], capture_output=True, text=True, timeout=60, env=env)
            assert p.returncode == 0, (inc.findtext("port"), p.stdout, p.stderr)
            got = "".join(f.read_text(errors="replace") for f in (md / "INBOX").glob("*/*") if f.is_file())
            return all(s in got for s in subjects)

        wait_until(fetched, 20, interval=0.5, what=f"both messages fetched by mbsync on {inc.findtext('port')}")


# ------------------------------------------------------------------ Outlook

def ad_request(email, schema=AD_2006A):
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<Autodiscover xmlns="{AD_REQ_NS}">\n  <Request>\n'
            f"    <EMailAddress>{email}</EMailAddress>\n"
            f"    <AcceptableResponseSchema>{schema}</AcceptableResponseSchema>\n  </Request>\n</Autodiscover>\n")


def autodiscover(srv, body, path="/Autodiscover/Autodiscover.xml", headers=None):
    h = {"Host": f"autodiscover.{DOMAIN}", "Content-Type": "text/xml", **(headers or {})}
    st, hd, data = srv.http("POST", path, body=body.encode() if isinstance(body, str) else body, headers=h)
    return st, hd, data


def ad_error(data):
    root = ET.fromstring(data)
    return root.findtext("a:Response/a:Error/a:ErrorCode", namespaces=AD_NS)


def test_autodiscover_as_outlook_posts_it(srv, tmp_path):
    for path in ("/Autodiscover/Autodiscover.xml", "/autodiscover/autodiscover.xml"):
        # Outlook may send Basic credentials: not needed, and never a 401
        st, hd, data = autodiscover(srv, ad_request(srv.user), path,
                                    headers={"Authorization": "Basic Ym9iOndyb25n"})
        assert st == 200 and hd["Content-Type"].startswith("text/xml"), (path, st, data)
        well_formed(data.decode(), tmp_path)
        acct = ET.fromstring(data).find("o:Response/o:Account", AD_NS)
        assert acct.findtext("o:Action", namespaces=AD_NS) == "settings"
        protos = {p.findtext("o:Type", namespaces=AD_NS): p for p in acct.findall("o:Protocol", AD_NS)}
        assert list(protos) == ["IMAP", "POP3", "SMTP"]
        no_sieve(srv, data)
        want = {"IMAP": srv.imaps, "POP3": srv.pop3s, "SMTP": srv.submissions}
        for kind, p in protos.items():
            assert p.findtext("o:Server", namespaces=AD_NS) == "localhost"
            assert p.findtext("o:Port", namespaces=AD_NS) == str(want[kind])
            assert p.findtext("o:Encryption", namespaces=AD_NS) == "SSL"
            assert p.findtext("o:LoginName", namespaces=AD_NS) == srv.user
            assert p.findtext("o:SPA", namespaces=AD_NS) == "off"
    st, hd, _ = srv.http("GET", "/autodiscover/autodiscover.xml")
    assert st == 405 and hd["Allow"] == "POST"


BILLION_LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
                  + "".join(f' <!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">\n'
                            for i in range(1, 10))
                  + ']>\n' + ad_request("&lol9;").split("\n", 1)[1])


@pytest.mark.parametrize("body, code", [
    ("<Autodiscover><Request><EMailAddress>x", "600"),                   # not well-formed
    ("", "600"),
    ("this is not xml", "600"),
    (BILLION_LAUGHS, "600"),                                             # never expanded
    ('<!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + ad_request("&xxe;"), "600"),
    (ad_request("&undeclared;"), "600"),
    (ad_request("{user}", schema="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"),
     "601"),
    (ad_request("someone@elsewhere.example"), "500"),
    (ad_request("not-an-address"), "600"),
])
def test_autodiscover_bad_requests(srv, body, code):
    started = time.monotonic()
    st, _, data = autodiscover(srv, body.replace("{user}", srv.user))
    assert st == 200, (st, data)
    assert ad_error(data) == code, data
    assert b"root:" not in data and b"lollol" not in data
    assert time.monotonic() - started < 5


def test_autodiscover_huge_body_is_refused(srv):
    body = ad_request(srv.user).replace("<Request>", "<Request><!--" + "x" * 20000 + "-->")
    st, _, data = autodiscover(srv, body)
    assert st == 413, (st, data[:200])
    st, _, data = autodiscover(srv, ad_request(srv.user))      # and the next request is served
    assert st == 200 and ad_error(data) is None


# ------------------------------------------------------------------ Apple

def test_account_page_links_the_profile_of_that_account(srv):
    """Any account (not only an admin) finds its own profile on its page."""
    b = Browser(srv)
    st, _, page, _ = b.login(srv.user, srv.pw)
    assert st == 303, page
    c = b.srv.https_conn()
    cookie = "; ".join(f"{k}={v}" for k, v in b.cookies.items())
    c.request("GET", "/account", headers={"Cookie": cookie})
    r = c.getresponse()
    page = r.read().decode()
    assert r.status == 200 and 'href="/account/mail.mobileconfig"' in page, page
    c.request("GET", "/account/mail.mobileconfig", headers={"Cookie": cookie})
    r = c.getresponse()
    data = r.read()
    c.close()
    assert r.status == 200, data
    [mail] = plistlib.loads(data)["PayloadContent"]
    assert mail["EmailAddress"] == srv.user == mail["IncomingMailServerUsername"]


def test_mobileconfig_for_a_logged_in_user(srv):
    st, hd, _ = Browser(srv).get("/account/mail.mobileconfig")
    assert st == 303 and hd["Location"] == "/login"          # not logged in
    b = Browser(srv)
    st, _, page, _ = b.login(ADMIN, srv.admin_pw)
    assert st == 303, page
    ids, uuids = set(), set()
    for _ in range(2):
        c = b.srv.https_conn()
        c.request("GET", "/account/mail.mobileconfig",
                  headers={"Cookie": "; ".join(f"{k}={v}" for k, v in b.cookies.items())})
        r = c.getresponse()
        data = r.read()
        c.close()
        assert r.status == 200, data
        assert r.headers["Content-Type"] == "application/x-apple-aspen-config"
        assert r.headers["Content-Disposition"] == f'attachment; filename="{DOMAIN}.mobileconfig"'
        prof = plistlib.loads(data)
        no_sieve(srv, data)
        assert prof["PayloadType"] == "Configuration" and prof["PayloadVersion"] == 1
        [mail] = prof["PayloadContent"]
        assert mail["PayloadType"] == "com.apple.mail.managed"
        assert mail["EmailAddress"] == ADMIN and mail["EmailAccountType"] == "EmailTypeIMAP"
        assert mail["IncomingMailServerHostName"] == "localhost"
        assert mail["IncomingMailServerPortNumber"] == srv.imaps
        assert mail["OutgoingMailServerPortNumber"] == srv.submissions
        assert mail["IncomingMailServerUseSSL"] is True and mail["OutgoingMailServerUseSSL"] is True
        assert mail["IncomingMailServerUsername"] == ADMIN == mail["OutgoingMailServerUsername"]
        assert mail["OutgoingPasswordSameAsIncomingPassword"] is True
        assert not any("Password" in k and k != "OutgoingPasswordSameAsIncomingPassword" for k in mail)
        assert srv.admin_pw.encode() not in data
        assert mail["PayloadIdentifier"] == prof["PayloadIdentifier"] + ".email"
        ids.add(prof["PayloadIdentifier"])
        uuids.update({prof["PayloadUUID"], mail["PayloadUUID"]})
    assert len(ids) == 1 and len(uuids) == 4     # stable identifier, fresh UUIDs


# ------------------------------------------------------------------ DNS

def test_dns_records_list_srv_and_setup_names(srv):
    p = srv.cli("dns", "records", DOMAIN)
    assert p.returncode == 0, p.stderr
    lines = [l for l in p.stdout.splitlines() if not l.startswith(";")]
    srv_lines = [l for l in lines if " IN SRV " in l]
    assert srv_lines == [
        f"_submissions._tcp.{DOMAIN}. IN SRV 0 1 {srv.submissions} localhost.",
        f"_submission._tcp.{DOMAIN}. IN SRV 10 1 {min(srv.submission, srv.alt)} localhost.",
        f"_submission._tcp.{DOMAIN}. IN SRV 11 1 {max(srv.submission, srv.alt)} localhost.",
        f"_imaps._tcp.{DOMAIN}. IN SRV 0 1 {srv.imaps} localhost.",
        f"_imap._tcp.{DOMAIN}. IN SRV 10 1 {srv.imap} localhost.",
        f"_pop3s._tcp.{DOMAIN}. IN SRV 0 1 {srv.pop3s} localhost.",
        f"_pop3._tcp.{DOMAIN}. IN SRV 10 1 {srv.pop3} localhost.",
        f"_sieve._tcp.{DOMAIN}. IN SRV 0 1 {srv.ports['managesieve']} localhost.",  # RFC 5804 1.8
    ], p.stdout
    assert f"; SRV (RFC 5804): mail programs find ManageSieve on localhost port {srv.ports['managesieve']}" \
        in p.stdout.splitlines(), p.stdout
    assert f"autoconfig.{DOMAIN}. IN CNAME localhost." in lines
    assert f"autodiscover.{DOMAIN}. IN CNAME localhost." in lines


def test_dns_records_mark_services_not_offered(make_server):
    s = make_server(start=False)
    text = s.config_path.read_text()
    kept = [l for l in text.splitlines() if 'role = "pop3' not in l and 'role = "imap"' not in l]
    s.config_path.write_text("\n".join(kept).replace("},\n);", "}\n);") + "\n")
    p = s.cli("dns", "records", DOMAIN)
    assert p.returncode == 0, p.stderr + s.config_path.read_text()
    out = p.stdout
    for name in ("_pop3s", "_pop3", "_imap", "_sieve"):
        assert f"{name}._tcp.{DOMAIN}. IN SRV 0 0 0 ." in out, out
    assert f"_imaps._tcp.{DOMAIN}. IN SRV 0 1 {s.imaps} " in out


def test_a_server_without_client_listeners_offers_no_settings(make_server):
    """Only port 25 and https: nothing for a mail program to log in to."""
    s = make_server(start=False)
    text = s.config_path.read_text()
    kept = [l for l in text.splitlines()
            if not any(f'role = "{r}"' in l for r in ("submission", "submissions", "pop3", "pop3s", "imap", "imaps"))]
    s.config_path.write_text("\n".join(kept) + "\n")
    for r in ("submission", "alt", "submissions", "pop3", "pop3s", "imap", "imaps"):
        del s.ports[r]
    s.start()
    st, _, body = s.http("GET", f"/mail/config-v1.1.xml?emailaddress=bob%40{DOMAIN}")
    assert st == 404 and b"no imap(s), pop3(s) or submission(s) listener" in body, body
    st, _, data = autodiscover(s, ad_request(f"bob@{DOMAIN}"))
    assert st == 200 and ad_error(data) == "501", data
