"""WITHIN (RFC 5032 OLDER / YOUNGER), SAVEDATE (RFC 8514: FETCH SAVEDATE,
SEARCH SAVEDBEFORE / SAVEDON / SAVEDSINCE / SAVEDATESUPPORTED; the save
date kept in the account's index, and an index made before it was kept
upgraded in place) and PREVIEW (RFC 8970: FETCH PREVIEW and PREVIEW
(LAZY), decoded, tags stripped, quoted or a literal), end to end with
exact bytes, and their bad inputs."""

import re
import sqlite3
import time

import pytest

from conftest import deliver_local, imap_login, imap_raw

SERVER_LIMITS = {"errors": 1000}

raw = imap_raw


def ok(m, line):
    lines, tagged = raw(m, line)
    assert tagged.startswith(b"OK"), (line, tagged)
    return lines


HTML = ("From: a@b.test\r\nSubject: html\r\nContent-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        "<html><style>p{}</style><p>Caf=C3=A9   &amp;\r\n<b>cr=C3=A8me</b></p></html>\r\n")
PLAIN = "From: a@b.test\r\nSubject: plain\r\n\r\n  Just   some\r\n text.\r\n"


@pytest.fixture(scope="module")
def box(server):
    user, pw = server.add_user()
    m = imap_login(server, user, pw)
    old = time.time() - 400 * 86400
    for body, when in ((PLAIN, old), (HTML, time.time() - 2 * 86400), ("Subject: none\r\n\r\n", None)):
        typ, _ = m.append("INBOX", None, when, body.encode())
        assert typ == "OK"
    assert m.select("INBOX")[0] == "OK"
    yield m
    m.logout()


def test_capabilities(box):
    caps = box.capability()[1][0].split()
    for c in (b"WITHIN", b"SAVEDATE", b"PREVIEW"):
        assert c in caps


def test_within(box):
    assert ok(box, "SEARCH YOUNGER %d" % (3 * 86400)) == [b"* SEARCH 2 3\r\n"]
    assert ok(box, "SEARCH OLDER %d" % (3 * 86400)) == [b"* SEARCH 1\r\n"]
    assert ok(box, "SEARCH OLDER %d" % (1000 * 86400)) == [b"* SEARCH\r\n"]
    assert ok(box, "SEARCH YOUNGER 3600") == [b"* SEARCH 3\r\n"]
    assert ok(box, "SEARCH OLDER 3600 YOUNGER %d" % (3 * 86400)) == [b"* SEARCH 2\r\n"]
    for bad in ("SEARCH OLDER 0", "SEARCH YOUNGER", "SEARCH YOUNGER -1", "SEARCH OLDER 1d"):
        lines, tagged = raw(box, bad)
        assert tagged.startswith(b"BAD "), (bad, tagged)


def test_savedate(box):
    lines = ok(box, "FETCH 1:3 (SAVEDATE INTERNALDATE)")
    today = time.strftime("%d-%b-%Y", time.gmtime())
    for k, ln in enumerate(lines):
        m = re.fullmatch(rb'\* (\d) FETCH \(INTERNALDATE "([^"]+)" SAVEDATE "([^"]+)"\)\r\n', ln)
        assert m, ln
        saved = time.mktime(time.strptime(m.group(3).decode()[:20], "%d-%b-%Y %H:%M:%S")) - time.timezone
        assert abs(saved - time.time()) < 120, ln           # saved now, whatever the arrival
    assert ok(box, "SEARCH SAVEDON " + today) == [b"* SEARCH 1 2 3\r\n"]
    assert ok(box, "SEARCH SAVEDBEFORE " + today) == [b"* SEARCH\r\n"]
    assert ok(box, "SEARCH SAVEDSINCE " + today + " ON 1-Jan-1990") == [b"* SEARCH\r\n"]
    assert ok(box, "SEARCH SAVEDATESUPPORTED") == [b"* SEARCH 1 2 3\r\n"]
    lines, tagged = raw(box, "SEARCH SAVEDON 31-Foo-2020")
    assert tagged.startswith(b"BAD ")


def test_preview(box):
    assert ok(box, "FETCH 1 (PREVIEW)") == [b'* 1 FETCH (PREVIEW "Just some text.")\r\n']
    want = "Café & crème".encode()
    got = b"".join(ok(box, "FETCH 2 (PREVIEW (LAZY))"))
    assert got == b"* 2 FETCH (PREVIEW {%d}\r\n" % len(want) + want + b")\r\n"
    assert ok(box, "FETCH 3 PREVIEW") == [b'* 3 FETCH (PREVIEW "")\r\n']
    assert ok(box, "UID FETCH 1:* (PREVIEW FLAGS)")[0].startswith(b"* 1 FETCH (UID ")
    for bad in ("FETCH 1 (PREVIEW (FUZZY))", "FETCH 1 (PREVIEW (LAZY LAZIER))", "FETCH 1 (PREVIEW ())"):
        lines, tagged = raw(box, bad)
        assert tagged.startswith(b"BAD "), (bad, tagged)
        assert lines == []


def test_index_from_before_savedate_and_preview(make_server):
    """An index made before save dates and previews were kept: it gets the
    columns, a message without a save date counts the time its file name
    starts with, and the preview is built on first use."""
    srv = make_server()
    user, pw = srv.add_user()
    deliver_local(srv, user, "old index", body=("previewed text",))
    m = imap_login(srv, user, pw)
    m.select("INBOX")
    ok(m, "FETCH 1 (ENVELOPE)")       # the row and its cache are there
    m.logout()
    srv.stop()
    db = srv.maildir(user) / "yubin-index.db"
    con = sqlite3.connect(db)
    con.execute("ALTER TABLE msgs DROP COLUMN savedate")
    con.execute("ALTER TABLE msgs DROP COLUMN preview")
    con.commit()
    cols = [r[1] for r in con.execute("PRAGMA table_info(msgs)")]
    con.close()
    assert "savedate" not in cols and "preview" not in cols
    srv.start()
    m = imap_login(srv, user, pw)
    m.select("INBOX")
    name = [p.name for p in srv.mail_files(user)][0]
    stamp = int(name.split(".")[0])
    want = time.strftime("%d-%b-%Y %H:%M:%S +0000", time.gmtime(stamp)).encode()
    lines = ok(m, "FETCH 1 (SAVEDATE PREVIEW)")
    assert lines == [b'* 1 FETCH (SAVEDATE "' + want + b'" PREVIEW "previewed text")\r\n'], lines
    m.logout()
    con = sqlite3.connect(db)
    cols = [r[1] for r in con.execute("PRAGMA table_info(msgs)")]
    previews = [r[0] for r in con.execute("SELECT preview FROM msgs")]
    con.close()
    assert "savedate" in cols and "preview" in cols
    assert previews == ["previewed text"]
