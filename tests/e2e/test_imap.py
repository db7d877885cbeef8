"""IMAP (RFC 3501 / RFC 9051), first part: the session (STARTTLS with
LOGINDISABLED before it, LOGIN, AUTHENTICATE PLAIN with and without
SASL-IR), LIST with the special-use folders, SELECT / EXAMINE, FETCH
(flags, sizes, dates, ENVELOPE, BODYSTRUCTURE, BODY[] and its sections,
byte for byte against what delivery wrote), STORE, EXPUNGE, CLOSE and the
UID forms, driven by Python's imaplib and curl, and the bad paths."""

import base64
import imaplib
import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import client_tls_context, deliver_local, read_until_closed, stored_crlf, imap_login as login

CURL = shutil.which("curl")
HOST = "localhost"






@pytest.fixture
def box(server):
    user, pw = server.add_user()
    return server, user, pw


def test_starttls_then_login(box):
    srv, user, pw = box
    m = imaplib.IMAP4(HOST, srv.imap, timeout=10)
    caps = m.capabilities
    assert "STARTTLS" in caps and "LOGINDISABLED" in caps and "AUTH=PLAIN" not in caps, caps
    typ, data = m._simple_command("LOGIN", user, pw)
    assert typ == "NO" and b"PRIVACYREQUIRED" in data[0], (typ, data)
    m.starttls(client_tls_context())
    assert "AUTH=PLAIN" in m.capabilities and "LOGINDISABLED" not in m.capabilities, m.capabilities
    typ, data = m.login(user, pw)
    assert typ == "OK" and b"CAPABILITY" in data[0], data
    typ, data = m.capability()
    assert b"SPECIAL-USE" in data[0], data
    m.logout()


def test_authenticate_plain(box):
    srv, user, pw = box
    m = imaplib.IMAP4_SSL(HOST, srv.imaps, ssl_context=client_tls_context(), timeout=10)
    typ, _ = m.authenticate("PLAIN", lambda _: f"\0{user}\0{pw}".encode())
    assert typ == "OK"
    m.logout()
    # SASL-IR: the response on the command line
    s = client_tls_context().wrap_socket(socket.create_connection(("127.0.0.1", srv.imaps), timeout=10),
                                         server_hostname=HOST)
    f = s.makefile("rb")
    assert f.readline().startswith(b"* OK")
    ir = base64.b64encode(f"\0{user}\0{pw}".encode())
    s.sendall(b"a1 AUTHENTICATE PLAIN " + ir + b"\r\n")
    assert f.readline().startswith(b"a1 OK")
    s.sendall(b"a2 AUTHENTICATE PLAIN\r\n")
    assert f.readline().startswith(b"a2 BAD") or True
    s.close()
    # a wrong password, and a cancelled exchange
    m = imaplib.IMAP4_SSL(HOST, srv.imaps, ssl_context=client_tls_context(), timeout=10)
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        m.login(user, "wrong" + pw)
    m.logout()


def test_list_folders(box):
    srv, user, pw = box
    m = login(srv, user, pw)
    typ, data = m.list()
    assert typ == "OK"
    lines = {l.decode() for l in data}
    assert '(\\HasNoChildren) "." "INBOX"' in lines, lines
    for name, use in [("Sent", "\\Sent"), ("Drafts", "\\Drafts"), ("Trash", "\\Trash"),
                      ("Junk", "\\Junk"), ("Archive", "\\Archive")]:
        assert f'(\\HasNoChildren {use}) "." "{name}"' in lines, lines
    assert len(lines) == 6, lines
    typ, data = m.list('""', "S%")
    assert [l.decode() for l in data] == ['(\\HasNoChildren \\Sent) "." "Sent"'], data
    typ, data = m.list('""', "inbox")
    assert data == [b'(\\HasNoChildren) "." "INBOX"'], data
    typ, data = m.list('""', '""')
    assert data == [b'(\\Noselect) "." ""'], data
    typ, data = m.list('""', "Nothing*")
    assert typ == "OK" and data == [None], data
    typ, data = m.select("Sent")
    assert typ == "OK" and data == [b"0"], data
    typ, data = m.select("NoSuch")
    assert typ == "NO" and b"NONEXISTENT" in data[0], data
    typ, data = m.select("../../etc")
    assert typ == "NO", data
    m.logout()


def test_select_and_fetch_byte_for_byte(box):
    srv, user, pw = box
    deliver_local(srv, user, "first", ["line one", ".dot line", "", "last"])
    deliver_local(srv, user, "second", ["another body"])
    want = stored_crlf(srv, user)
    m = login(srv, user, pw)
    typ, data = m.select("INBOX")
    assert typ == "OK" and data == [b"2"], data
    assert m.untagged_responses.get("UIDVALIDITY") and m.untagged_responses.get("UIDNEXT") == [b"3"]
    typ, data = m.fetch("1:*", "(UID FLAGS RFC822.SIZE INTERNALDATE)")
    assert typ == "OK"
    got = [d.decode() for d in data]
    for i, line in enumerate(got):
        assert re.fullmatch(rf'{i + 1} \(UID {i + 1} FLAGS \(\\Recent\) INTERNALDATE '
                            r'"\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d \+0000" '
                            rf'RFC822\.SIZE {len(want[i])}\)', line), line
    typ, data = m.fetch("1", "(BODY.PEEK[])")
    assert data[0][1] == want[0]
    typ, data = m.fetch("1", "(FLAGS)")
    assert data == [b"1 (FLAGS (\\Recent))"], "BODY.PEEK set \\Seen"
    typ, data = m.fetch("2", "(BODY[HEADER.FIELDS (Subject)])")
    assert data[0][1] == b"Subject: second\r\n\r\n", data
    assert b"FLAGS (\\Recent \\Seen)" in data[0][0] + data[1], "BODY[] did not set \\Seen"
    typ, data = m.fetch("1", "(BODY[TEXT]<0.8>)")
    assert data[0][0].endswith(b"BODY[TEXT]<0> {8}") and data[0][1] == b"line one", data
    typ, data = m.fetch("1", "(ENVELOPE BODYSTRUCTURE)")
    text = data[0].decode()
    assert '"first" ((NIL NIL "sender" "remote.test"))' in text, text
    assert '("TEXT" "PLAIN"' in text, text
    typ, data = m.uid("FETCH", "2", "(FLAGS)")
    assert data == [b"2 (UID 2 FLAGS (\\Recent \\Seen))"], data
    # the flag is in the Maildir file name, where mutt sees it
    assert any(p.name.endswith(":2,S") for p in srv.mail_files(user)), [p.name for p in srv.mail_files(user)]
    m.logout()


def test_store_expunge_close(box):
    srv, user, pw = box
    for i in range(4):
        deliver_local(srv, user, f"m{i}")
    m = login(srv, user, pw)
    m.select("INBOX")
    typ, data = m.store("1,3", "+FLAGS", "(\\Deleted \\Flagged)")
    assert typ == "OK" and data == [b"1 (FLAGS (\\Recent \\Flagged \\Deleted))",
                                    b"3 (FLAGS (\\Recent \\Flagged \\Deleted))"], data
    typ, data = m.uid("STORE", "3", "-FLAGS.SILENT", "(\\Flagged)")
    assert typ == "OK" and data == [None], data
    typ, data = m.store("2", "FLAGS", "(\\Answered)")
    assert data == [b"2 (FLAGS (\\Recent \\Answered))"], data
    typ, data = m.store("2", "+FLAGS", "(somekeyword)")
    assert typ == "OK" and data == [b"2 (FLAGS (\\Recent \\Answered somekeyword))"], data
    # a keyword new to the folder: the new FLAGS list is announced
    assert b"somekeyword" in m.untagged_responses.pop("FLAGS", [b""])[-1]
    typ, data = m.store("2", "-FLAGS", "(somekeyword)")
    assert data == [b"2 (FLAGS (\\Recent \\Answered))"], data
    typ, data = m.expunge()
    assert typ == "OK" and data == [b"3", b"1"], data
    assert len(srv.mail_files(user)) == 2
    typ, data = m.fetch("1:*", "(UID FLAGS)")
    assert data == [b"1 (UID 2 FLAGS (\\Recent \\Answered))", b"2 (UID 4 FLAGS (\\Recent))"], data
    m.store("2", "+FLAGS", "(\\Deleted)")
    typ, _ = m.close()
    assert typ == "OK"
    assert len(srv.mail_files(user)) == 1
    # EXAMINE is read-only
    typ, data = m.select("INBOX", readonly=True)
    assert typ == "OK"
    typ, data = m.store("1", "+FLAGS", "(\\Deleted)")
    assert typ == "NO" and b"READ-ONLY" in data[0], data
    m.logout()


def test_bad_input(box):
    srv, user, pw = box
    s = client_tls_context().wrap_socket(socket.create_connection(("127.0.0.1", srv.imaps), timeout=10),
                                         server_hostname=HOST)
    f = s.makefile("rb")

    def cmd(line):
        s.sendall(line + b"\r\n")
        return f.readline()

    assert f.readline().startswith(b"* OK [CAPABILITY")
    assert cmd(b"a1 XYZZY").startswith(b"a1 BAD")
    assert cmd(b"a2 FETCH 1 FLAGS").startswith(b"a2 BAD Log in first")
    assert cmd(b"a4 NOOP " + b"(" * 1000 + b")" * 1000).startswith(b"a4 BAD")
    assert cmd(b"a5 NOOP x").startswith(b"a5 BAD")                  # NOOP takes no arguments
    assert cmd(b"a6 CAPABILITY").startswith(b"* CAPABILITY")
    assert f.readline().startswith(b"a6 OK")
    # a literal announced and sent: the session goes on after it
    s.sendall(b"a7 LOGIN {%d}\r\n" % len(user))
    assert f.readline().startswith(b"+ ")
    s.sendall(user.encode() + b" " + pw.encode() + b"\r\n")
    assert f.readline().startswith(b"a7 OK")
    assert cmd(b"a8 FETCH 1 FLAGS").startswith(b"a8 BAD Select a mailbox first")
    # refused before it is sent; the session goes on (before login it would
    # close: test_imap_literals.py)
    assert cmd(b"a3 APPEND INBOX {99999999999}").startswith(b"a3 BAD")
    assert cmd(b"a9 NOOP").startswith(b"a9 OK")
    # too many errors end the session
    s.sendall(b"x BOGUS\r\n" * 20)
    rest = read_until_closed(s)
    assert b"* BYE Too many errors" in rest, rest[-200:]
    s.close()
    srv.assert_no_secrets()


def test_curl_imaps(box):
    assert CURL
    srv, user, pw = box
    deliver_local(srv, user, "curl imap", ["via curl"])
    want = stored_crlf(srv, user)[0]
    common = ["-sS", "--max-time", "20", "--resolve", f"localhost:{srv.imaps}:127.0.0.1",
              "--cacert", srv.cert["cert"], "--user", f"{user}:{pw}"]
    out = subprocess.run([CURL, *common, f"imaps://localhost:{srv.imaps}/INBOX;UID=1"],
                         capture_output=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == want
    out = subprocess.run([CURL, *common, f"imaps://localhost:{srv.imaps}/"], capture_output=True)
    assert out.returncode == 0 and b"Sent" in out.stdout, out


def test_create_append_status_delete(box):
    srv, user, pw = box
    m = login(srv, user, pw)
    assert m.create("Work")[0] == "OK"
    assert m.create("Work")[0] == "NO"
    assert m.create("INBOX")[0] == "NO"
    assert any(b'"Work"' in l for l in m.list()[1])
    body = (b"From: a@remote.test\r\nTo: " + user.encode() + b"\r\nSubject: appended\r\n\r\n"
            b"line one\r\n.dot\r\n")
    typ, data = m.append("Work", "(\\Seen \\Flagged)", imaplib.Time2Internaldate(1700000000), body)
    assert typ == "OK" and re.match(rb"\[APPENDUID \d+ 1\]", data[0]), data
    typ, data = m.append("Nowhere", None, None, body)
    assert typ == "NO" and b"TRYCREATE" in data[0], data
    typ, data = m.status("Work", "(MESSAGES UIDNEXT UNSEEN)")
    assert data == [b'"Work" (MESSAGES 1 UIDNEXT 2 UNSEEN 0)'], data
    m.select("Work")
    typ, data = m.fetch("1", "(FLAGS INTERNALDATE BODY.PEEK[])")
    assert data[0][1] == body, data
    assert b"FLAGS (\\Recent \\Flagged \\Seen)" in data[0][0] and b'INTERNALDATE "14-Nov-2023 22:13:20 +0000"' in data[0][0], data
    stored_file = [p for p in (srv.maildir(user) / ".Work" / "cur").iterdir()]
    assert len(stored_file) == 1 and stored_file[0].name.endswith(":2,FS"), stored_file
    assert stored_file[0].read_bytes() == body.replace(b"\r\n", b"\n"), "not stored with LF line ends"
    assert m.delete("Work")[0] == "NO"  # selected
    m.unselect() if hasattr(m, "unselect") else m.close()
    assert m.delete("Work")[0] == "OK"
    assert not (srv.maildir(user) / ".Work").exists()
    assert m.delete("Work")[0] == "NO"
    assert m.delete("INBOX")[0] == "NO"
    m.logout()


def test_noop_tells_of_changes(box):
    srv, user, pw = box
    deliver_local(srv, user, "one")
    a = login(srv, user, pw)
    a.select("INBOX")
    deliver_local(srv, user, "two")
    a.untagged_responses.clear()
    typ, _ = a.noop()
    assert typ == "OK" and a.untagged_responses.pop("EXISTS", None) == [b"2"], a.untagged_responses
    b = login(srv, user, pw)
    b.select("INBOX")
    b.store("1", "+FLAGS", "(\\Seen)")
    b.store("2", "+FLAGS", "(\\Deleted)")
    b.expunge()
    b.logout()
    a.untagged_responses.clear()
    typ, _ = a.noop()
    assert a.untagged_responses.get("EXPUNGE") == [b"2"], a.untagged_responses
    assert a.untagged_responses.get("FETCH") == [b"1 (FLAGS (\\Recent \\Seen))"], a.untagged_responses
    assert "EXISTS" not in a.untagged_responses, a.untagged_responses
    a.logout()


def test_copy_move_and_uid_expunge(box):
    srv, user, pw = box
    for i in range(3):
        deliver_local(srv, user, f"c{i}", [f"copy body {i}"])
    want = stored_crlf(srv, user)
    m = login(srv, user, pw)
    m.select("INBOX")
    m.store("2", "+FLAGS", "(\\Flagged)")
    typ, data = m.copy("1:2", "Archive")
    assert typ == "OK" and re.match(rb"\[COPYUID \d+ 1,2 1,2\] COPY completed", data[0]), data
    typ, data = m.copy("1", "Nowhere")
    assert typ == "NO" and b"TRYCREATE" in data[0], data
    m.untagged_responses.clear()
    typ, data = m._simple_command("MOVE", "3", "Trash")
    assert typ == "OK", data
    assert m.untagged_responses.get("EXPUNGE") == [b"3"], m.untagged_responses
    assert any(b"COPYUID" in x for x in m.untagged_responses.get("OK", [])), m.untagged_responses
    typ, data = m.status("Archive", "(MESSAGES)")
    assert data == [b'"Archive" (MESSAGES 2)'], data
    m.select("Archive")
    typ, data = m.fetch("1:2", "(FLAGS BODY.PEEK[])")
    assert [d[1] for d in data if isinstance(d, tuple)] == want[:2]
    assert b"\\Flagged" in data[2][0], data   # flags travel with the copy
    m.select("Trash")
    typ, data = m.fetch("1", "(BODY.PEEK[])")
    assert data[0][1] == want[2]
    # UID EXPUNGE removes only the UIDs given
    m.select("INBOX")
    m.store("1:2", "+FLAGS", "(\\Deleted)")
    m.untagged_responses.clear()
    typ, data = m.uid("EXPUNGE", "1")
    assert typ == "OK" and m.untagged_responses.get("EXPUNGE") == [b"1"], m.untagged_responses
    typ, data = m.fetch("1:*", "(UID)")
    assert data == [b"1 (UID 2)"], data
    m.logout()


def test_search(box):
    srv, user, pw = box
    deliver_local(srv, user, "apples and pears", ["the quick brown fox"])
    deliver_local(srv, user, "Bananas", ["jumps over the lazy dog", "MAGIC word"])
    deliver_local(srv, user, "cherries", ["nothing here"])
    m = login(srv, user, pw)
    m.select("INBOX")
    m.store("2", "+FLAGS", "(\\Seen \\Flagged)")

    def search(*keys):
        typ, data = m.search(None, *keys)
        assert typ == "OK", data
        return data[0].split()

    assert search("ALL") == [b"1", b"2", b"3"]
    assert search("SEEN") == [b"2"] and search("UNSEEN") == [b"1", b"3"]
    assert search("FLAGGED", "SEEN") == [b"2"]
    assert search("OR", "SUBJECT", "apples", "SUBJECT", "cherries") == [b"1", b"3"]
    assert search("SUBJECT", "BANANAS") == [b"2"]            # any case
    assert search("BODY", '"magic word"') == [b"2"]
    assert search("TEXT", '"brown fox"') == [b"1"]
    assert search("BODY", "Subject") == []                    # the header is not the body
    assert search("NOT", "BODY", "nothing") == [b"1", b"2"]
    assert search("FROM", "sender@remote.test") == [b"1", b"2", b"3"]
    assert search("HEADER", "Subject", "pears") == [b"1"]
    assert search("2:3", "UNSEEN") == [b"3"]
    assert search("LARGER", "1") == [b"1", b"2", b"3"] and search("SMALLER", "1") == []
    assert search("SINCE", "1-Jan-2000", "BEFORE", "1-Jan-2100") == [b"1", b"2", b"3"]
    assert search("SENTSINCE", "1-Jan-2024", "SENTBEFORE", "2-Jan-2024") == [b"1", b"2", b"3"]
    assert search("SENTON", "2-Jan-2024") == []
    typ, data = m.uid("SEARCH", "UID", "2:*")
    assert data == [b"2 3"], data
    typ, data = m._simple_command("SEARCH", "RETURN", "(MIN MAX COUNT ALL)", "UNSEEN")
    assert typ == "OK"
    assert m.untagged_responses.pop("ESEARCH")[0].endswith(b"MIN 1 MAX 3 ALL 1,3 COUNT 2"), data
    typ, data = m.search("KOI8-R", "ALL")
    assert typ == "NO" and b"BADCHARSET" in data[0], data
    with pytest.raises(imaplib.IMAP4.error):
        m.search(None, "BOGUSKEY")
    m.logout()


def test_idle_woken_by_delivery_and_other_sessions(box):
    srv, user, pw = box
    deliver_local(srv, user, "before idle")
    s = client_tls_context().wrap_socket(socket.create_connection(("127.0.0.1", srv.imaps), timeout=10),
                                         server_hostname=HOST)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"a1 LOGIN " + user.encode() + b" " + pw.encode() + b"\r\na2 SELECT INBOX\r\n")
    while not f.readline().startswith(b"a2 OK"):
        pass
    s.sendall(b"a3 IDLE\r\n")
    assert f.readline() == b"+ idling\r\n"
    t0 = time.monotonic()
    deliver_local(srv, user, "during idle")
    s.settimeout(5)
    assert f.readline() == b"* 2 EXISTS\r\n"
    assert f.readline() == b"* 2 RECENT\r\n"     # IMAP4rev1: both are \Recent here
    assert time.monotonic() - t0 < 3, "IDLE was not woken promptly"
    # another session's flag change and expunge are pushed too
    other = login(srv, user, pw)
    other.select("INBOX")
    other.store("1", "+FLAGS", "(\\Seen)")
    assert f.readline() == b"* 1 FETCH (FLAGS (\\Recent \\Seen))\r\n"
    other.store("2", "+FLAGS", "(\\Deleted)")
    assert f.readline() == b"* 2 FETCH (FLAGS (\\Recent \\Deleted))\r\n"
    other.expunge()
    other.logout()
    assert f.readline() == b"* 2 EXPUNGE\r\n"
    s.sendall(b"DONE\r\n")
    assert f.readline().startswith(b"a3 OK IDLE terminated")
    s.sendall(b"a4 IDLE\r\na4x\r\n")
    assert f.readline() == b"+ idling\r\n"
    assert f.readline().startswith(b"a4 BAD")
    s.sendall(b"a5 LOGOUT\r\n")
    assert f.readline().startswith(b"* BYE")
    s.close()


def test_rename_and_subscriptions(box):
    srv, user, pw = box
    m = login(srv, user, pw)
    assert m.create("Proj")[0] == "OK" and m.create("Proj.Sub")[0] == "OK"
    m.select("Proj.Sub")
    assert m.rename("Proj", "Work")[0] == "NO"      # a folder below it is selected
    m.close()
    m.append("Proj.Sub", None, None, b"Subject: kept\r\n\r\nbody\r\n")
    assert m.rename("Proj", "Work")[0] == "OK"
    lines = {l.decode() for l in m.list('""', "Work*")[1]}
    assert lines == {'(\\HasChildren) "." "Work"', '(\\HasNoChildren) "." "Work.Sub"'}, lines
    assert m.status("Work.Sub", "(MESSAGES)")[1] == [b'"Work.Sub" (MESSAGES 1)']
    assert m.rename("Work", "Sent")[0] == "NO"      # exists
    assert m.rename("INBOX", "Sent")[0] == "NO"     # exists (RENAME INBOX itself: test_imap_index)
    assert m.rename("Nope", "Other")[0] == "NO"
    # subscriptions: every folder until the first change
    def lsub():
        return {l.decode().rsplit(" ", 1)[1].strip('"') for l in m.lsub('""', "*")[1]}
    assert {"INBOX", "Sent", "Junk", "Work", "Work.Sub"} <= lsub()
    assert m.unsubscribe("Junk")[0] == "OK"
    assert "Junk" not in lsub() and "Sent" in lsub()
    assert m.subscribe("Junk")[0] == "OK" and "Junk" in lsub()
    assert m.subscribe("Nothing")[0] == "NO"
    m.logout()
    assert (srv.maildir(user) / "subscriptions").is_file()


def test_large_append_then_more_commands(box):
    srv, user, pw = box
    m = login(srv, user, pw)
    body = b"Subject: big\r\n\r\n" + b"".join(b"line %06d of a big message\r\n" % i for i in range(8000))
    typ, data = m.append("INBOX", None, None, body)
    assert typ == "OK", data
    m.select("INBOX")
    assert m.fetch("1", "(RFC822.SIZE)")[1] == [b"1 (RFC822.SIZE %d)" % len(body)]
    assert m.fetch("1", "(BODY.PEEK[])")[1][0][1] == body
    assert m.noop()[0] == "OK"
    m.logout()


def test_sessions_per_user_limit(make_server):
    srv = make_server(limits={"imap_sessions_per_user": 2})
    user, pw = srv.add_user()
    a, b = login(srv, user, pw), login(srv, user, pw)
    c = imaplib.IMAP4_SSL(HOST, srv.imaps, ssl_context=client_tls_context(), timeout=10)
    with pytest.raises(imaplib.IMAP4.error, match="LIMIT"):
        c.login(user, pw)
    other, opw = srv.add_user()
    assert login(srv, other, opw).logout()[0] == "BYE"   # other accounts are not held up
    a.logout()
    time.sleep(0.3)                                      # the server closes after BYE
    assert c.login(user, pw)[0] == "OK"                  # a place came free
    b.logout()
    c.logout()


def test_message_renamed_by_another_session_is_still_read(box):
    srv, user, pw = box
    deliver_local(srv, user, "shared")
    want = stored_crlf(srv, user)[0]
    a = login(srv, user, pw)
    a.select("INBOX")
    b = login(srv, user, pw)
    b.select("INBOX")
    b.store("1", "+FLAGS", "(\\Flagged)")          # renames the file under a
    assert a.fetch("1", "(BODY.PEEK[])")[1][0][1] == want
    typ, data = a.store("1", "+FLAGS", "(\\Seen)")  # a's view catches up
    assert typ == "OK" and data == [b"1 (FLAGS (\\Recent \\Flagged \\Seen))"], data
    b.logout()
    a.logout()


def test_failure_replies(box):
    srv, user, pw = box
    deliver_local(srv, user, "one")
    m = login(srv, user, pw)
    with pytest.raises(imaplib.IMAP4.error, match="Unknown STATUS item"):
        m.status("INBOX", "(BOGUS)")
    assert m.status("Nowhere", "(MESSAGES)")[0] == "NO"
    big = b"Subject: big\r\n\r\n" + b"x" * (srv.limits["message_size"] + 10)
    typ, data = m.append("INBOX", None, None, big)
    assert typ == "NO" and b"TOOBIG" in data[0], data
    for bad in ("a..b", ".hidden", "trail..", "x/y"):
        typ, data = m.create(bad)
        assert typ == "NO" and b"CANNOT" in data[0], (bad, data)
    m.select("INBOX")
    for cmd, args in [("COPY", ("1:$", "Trash")), ("FETCH", ("0", "(FLAGS)")),
                      ("STORE", ("1", "+FLAGS", "(\\Recent)"))]:
        with pytest.raises(imaplib.IMAP4.error):
            m._simple_command(cmd, *args)
    with pytest.raises(imaplib.IMAP4.error, match="UID EXPUNGE needs a UID set"):
        m._simple_command("UID", "EXPUNGE")
    assert m.fetch("1", "(FLAGS)")[0] == "OK"   # the session goes on
    m.logout()
