"""SORT, SORT=DISPLAY, ESORT and THREAD (RFC 5256, RFC 5957, RFC 5267 3)
end to end: five messages put in with APPEND (arrival dates, RFC 2047
encoded subjects and names, References / In-Reply-To, a Date: that cannot
be read), each sort key, REVERSE, UID SORT, ESORT's RETURN options, both
threading algorithms, search keys after the charset, and the bad inputs
(unknown key or algorithm, missing or unknown charset, bad RETURN options,
wrong state).  Responses are compared byte for byte."""

import imaplib

import pytest

from conftest import imap_login, imap_raw

SERVER_LIMITS = {"errors": 1000}

MSGS = [
    # (arrival, header)
    ("05-Jan-2021 10:00:00 +0000",
     "From: \"Aaron Zed\" <zed@b.test>\r\nTo: \"=?UTF-8?Q?=C3=89mile?=\" <e@y.test>\r\n"
     "Subject: Re: beta\r\nDate: Mon, 2 Mar 2020 10:00:00 +0000\r\n"
     "Message-ID: <b2@t>\r\nReferences: <b1@t>\r\n"),
    ("04-Jan-2021 10:00:00 +0000",
     "From: alice@a.test\r\nTo: Bob <b@y.test>\r\nSubject: alpha\r\n"
     "Date: Mon, 2 Mar 2020 09:00:00 -0200\r\nMessage-ID: <a1@t>\r\n"),
    ("03-Jan-2021 10:00:00 +0000",
     "From: \"=?ISO-8859-1?Q?=C9ric?=\" <eric@c.test>\r\n"
     "Subject: =?UTF-8?Q?Re=3A_[list]_Alpha?=\r\nDate: Sun, 1 Mar 2020 08:00:00 +0000\r\n"
     "Message-ID: <a2@t>\r\nIn-Reply-To: <a1@t>\r\n"),
    ("02-Jan-2021 10:00:00 +0000",
     "From: bob@a.test\r\nSubject: beta\r\nDate: Sun, 1 Mar 2020 07:00:00 +0000\r\n"
     "Message-ID: <b1@t>\r\n"),
    ("01-Jan-2019 10:00:00 +0000",
     "From: carol@a.test\r\nSubject: gamma\r\nDate: garbage\r\nMessage-ID: <g1@t>\r\n"),
]


@pytest.fixture(scope="module")
def box(server):
    user, pw = server.add_user()
    m = imap_login(server, user, pw)
    for k, (when, hdr) in enumerate(MSGS):
        body = (hdr + "\r\n" + "x" * (100 * (5 - k)) + "\r\n").encode()
        typ, _ = m.append("INBOX", None, '"' + when + '"', body)
        assert typ == "OK"
    assert m.select("INBOX")[0] == "OK"
    yield m
    m.logout()


raw = imap_raw


def one(m, line):
    lines, tagged = raw(m, line)
    assert tagged.startswith(b"OK"), (line, tagged)
    assert len(lines) == 1, lines
    return lines[0]


def test_capabilities_after_login(server, box):
    typ, data = box.capability()
    caps = data[0].split()
    for c in (b"SORT", b"SORT=DISPLAY", b"THREAD=REFERENCES", b"THREAD=ORDEREDSUBJECT", b"ESORT"):
        assert c in caps


@pytest.mark.parametrize("prog,want", [
    ("(ARRIVAL)", "5 4 3 2 1"),
    ("(REVERSE ARRIVAL)", "1 2 3 4 5"),
    # the sent date with its zone; 5's Date: is unreadable: its arrival (2019)
    ("(DATE)", "5 4 3 1 2"),
    ("(REVERSE DATE)", "2 1 3 4 5"),
    # base subjects: alpha (2, and 3's encoded "Re: [list] Alpha"), beta, gamma
    ("(SUBJECT)", "2 3 1 4 5"),
    ("(SUBJECT DATE)", "3 2 4 1 5"),
    ("(REVERSE SUBJECT)", "5 1 4 2 3"),
    ("(FROM)", "2 4 5 3 1"),
    # display names: "Aaron Zed", then addr-specs, then the decoded "Éric"
    ("(DISPLAYFROM)", "1 2 4 5 3"),
    ("(TO)", "3 4 5 2 1"),
    ("(DISPLAYTO)", "3 4 5 2 1"),
    ("(CC)", "1 2 3 4 5"),
])
def test_sort_keys(box, prog, want):
    assert one(box, f"SORT {prog} UTF-8 ALL") == f"* SORT {want}\r\n".encode()


def test_sort_size(box):
    typ, data = box.fetch("1:*", "(RFC822.SIZE)")
    sizes = {int(x.split()[0]): int(x.split()[-1].rstrip(b")")) for x in data}
    assert len(set(sizes.values())) == 5
    order = sorted(sizes, key=lambda k: sizes[k])
    assert one(box, "SORT (SIZE) UTF-8 ALL") == ("* SORT " + " ".join(map(str, order)) + "\r\n").encode()
    order.reverse()
    assert one(box, "SORT (reverse size) UTF-8 ALL") == ("* SORT " + " ".join(map(str, order)) + "\r\n").encode()


def test_sort_with_search_keys_and_uid(box):
    assert one(box, "SORT (DATE) US-ASCII SUBJECT beta") == b"* SORT 4 1\r\n"
    assert one(box, "SORT (DATE) UTF-8 OR FROM alice FROM carol") == b"* SORT 5 2\r\n"
    assert one(box, "SORT (DATE) UTF-8 SUBJECT nothing-matches") == b"* SORT\r\n"
    typ, data = box.uid("FETCH", "1:*", "(UID)")
    uids = [int(x.split()[2].rstrip(b")")) for x in data]
    want = " ".join(str(uids[i - 1]) for i in (2, 3, 1, 4, 5))
    lines, tagged = raw(box, "UID SORT (SUBJECT) UTF-8 ALL")
    assert lines == [f"* SORT {want}\r\n".encode()]
    assert tagged == b"OK UID SORT completed\r\n"


def test_esort(box):
    assert one(box, "SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 ALL").endswith(
        b") MIN 5 MAX 2 ALL 5,4,3,1:2 COUNT 5\r\n")
    line = one(box, "SORT RETURN () (REVERSE ARRIVAL) UTF-8 ALL")
    assert line.startswith(b'* ESEARCH (TAG "R') and line.endswith(b'") ALL 1:5\r\n')
    assert one(box, "SORT RETURN (COUNT) (DATE) UTF-8 SUBJECT none").endswith(b'") COUNT 0\r\n')
    assert one(box, "SORT RETURN (MIN) (DATE) UTF-8 SUBJECT none").endswith(b'")\r\n')
    assert b" UID " in one(box, "UID SORT RETURN (MAX) (SUBJECT) UTF-8 ALL")


def test_thread(box):
    lines, tagged = raw(box, "THREAD REFERENCES UTF-8 ALL")
    assert lines == [b"* THREAD (5)(4 1)(2 3)\r\n"]
    assert tagged == b"OK THREAD completed\r\n"
    assert one(box, "THREAD ORDEREDSUBJECT UTF-8 ALL") == b"* THREAD (5)(4 1)(3 2)\r\n"
    assert one(box, "THREAD REFERENCES UTF-8 SUBJECT beta") == b"* THREAD (4 1)\r\n"
    assert one(box, "THREAD REFERENCES UTF-8 SUBJECT nothing") == b"* THREAD\r\n"
    typ, data = box.uid("FETCH", "4", "(UID)")
    uid4 = int(data[0].split()[2].rstrip(b")"))
    assert one(box, "UID THREAD REFERENCES UTF-8 UID %d" % uid4) == b"* THREAD (%d)\r\n" % uid4


@pytest.mark.parametrize("cmd,status", [
    ("SORT (FOO) UTF-8 ALL", b"BAD"),
    ("SORT (REVERSE) UTF-8 ALL", b"BAD"),
    ("SORT () UTF-8 ALL", b"BAD"),
    ("SORT DATE UTF-8 ALL", b"BAD"),
    ("SORT (DATE)", b"BAD"),
    ("SORT (DATE) UTF-8", b"BAD"),
    ("SORT (DATE) UTF-8 NOSUCHKEY", b"BAD"),
    ("SORT (DATE) KOI8-R ALL", b"NO [BADCHARSET (UTF-8 US-ASCII)]"),
    ("SORT RETURN (BOGUS) (DATE) UTF-8 ALL", b"BAD"),
    ("SORT RETURN (SAVE) (DATE) UTF-8 ALL", b"BAD"),
    ("SORT RETURN MIN (DATE) UTF-8 ALL", b"BAD"),
    ("THREAD FOO UTF-8 ALL", b"BAD"),
    ("THREAD", b"BAD"),
    ("THREAD REFERENCES", b"BAD"),
    ("THREAD REFERENCES UTF-8", b"BAD"),
    ("THREAD ORDEREDSUBJECT BIG5 ALL", b"NO [BADCHARSET (UTF-8 US-ASCII)]"),
    ("UID SORT (FOO) UTF-8 ALL", b"BAD"),
])
def test_bad_inputs(box, cmd, status):
    lines, tagged = raw(box, cmd)
    assert tagged.startswith(status + b" "), (cmd, tagged)
    assert lines == []


def test_not_selected(server):
    user, pw = server.add_user()
    m = imap_login(server, user, pw)
    for cmd in ("SORT (DATE) UTF-8 ALL", "THREAD REFERENCES UTF-8 ALL"):
        lines, tagged = raw(m, cmd)
        assert tagged.startswith(b"BAD "), tagged
    m.logout()
