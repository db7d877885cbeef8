"""IMAP4rev2 (RFC 9051) next to IMAP4rev1: the capabilities, ENABLE (RFC
5161) in each state, mailbox names in UTF-8 after ENABLE IMAP4rev2 or
UTF8=ACCEPT (RFC 6855) and in modified UTF-7 before it, LIST-EXTENDED (RFC
5258) with every selection and return option and its errors, SPECIAL-USE
selection (RFC 6154), LIST-STATUS (RFC 5819), STATUS SIZE (RFC 8438) and
DELETED, and ESEARCH replies to SEARCH under IMAP4rev2.

A small raw client is used so that each response can be compared exactly
and names can be sent as literals (UTF-8 bytes in any form)."""

import re
import socket

import pytest

from conftest import client_tls_context, deliver_local

HOST = "localhost"
LITERAL_RE = re.compile(rb"\{(\d+)\+?\}\r\n$")


class Raw:
    """A line-level IMAP client over IMAPS: cmd() sends one command and
    returns (untagged responses, tagged response), literals inlined."""

    def __init__(self, srv):
        sock = socket.create_connection(("127.0.0.1", srv.imaps), timeout=10)
        self.s = client_tls_context().wrap_socket(sock, server_hostname=HOST)
        self.f = self.s.makefile("rb")
        self.n = 0
        self.greeting = self.response()
        assert self.greeting.startswith(b"* OK"), self.greeting

    def response(self):
        """One response, with the bytes of any literal in it."""
        out = self.f.readline()
        m = LITERAL_RE.search(out)
        while m:
            out += self.f.read(int(m.group(1)))
            more = self.f.readline()
            out += more
            m = LITERAL_RE.search(more)
        assert out.endswith(b"\r\n"), out
        return out[:-2]

    def cmd(self, text):
        """Send text (bytes or str) under a new tag."""
        if isinstance(text, str):
            text = text.encode()
        self.n += 1
        tag = b"t%d" % self.n
        self.s.sendall(tag + b" " + text + b"\r\n")
        untagged = []
        while True:
            line = self.response()
            if line.startswith(tag + b" "):
                return untagged, line[len(tag) + 1:]
            untagged.append(line)

    def ok(self, text):
        untagged, tagged = self.cmd(text)
        assert tagged.startswith(b"OK"), (text, untagged, tagged)
        return untagged

    def bad(self, text):
        untagged, tagged = self.cmd(text)
        assert tagged.startswith(b"BAD"), (text, untagged, tagged)
        return tagged

    def no(self, text):
        untagged, tagged = self.cmd(text)
        assert tagged.startswith(b"NO"), (text, untagged, tagged)
        return tagged

    def close(self):
        self.s.close()


def lit(data):
    """A non-synchronizing literal (LITERAL-, under 4096 bytes)."""
    if isinstance(data, str):
        data = data.encode()
    return b"{%d+}\r\n" % len(data) + data


def login(srv, user, pw, enable=None):
    c = Raw(srv)
    c.ok(f"LOGIN {user} {pw}")
    if enable:
        assert c.ok("ENABLE " + enable) == [b"* ENABLED " + enable.encode()]
    return c


@pytest.fixture
def box(server):
    user, pw = server.add_user()
    return server, user, pw


def listed(untagged, verb=b"LIST"):
    """{name: (attributes, rest)} of the LIST responses."""
    out = {}
    for line in untagged:
        m = re.fullmatch(rb'\* ' + verb + rb' \(([^)]*)\) "\." (?:"([^"]*)"|\{\d+\}\r\n(\S+))(.*)', line)
        if m:
            name = (m.group(2) if m.group(2) is not None else m.group(3)).decode()
            out[name] = (m.group(1).decode(), m.group(4).decode())
    return out


# --------------------------------------------------------------------------
# capabilities and ENABLE

def test_capabilities(box):
    srv, user, pw = box
    c = Raw(srv)
    caps = c.greeting.split(b"]")[0].split()
    assert b"IMAP4rev1" in caps and b"IMAP4rev2" in caps and b"ENABLE" in caps, caps
    c.ok(f"LOGIN {user} {pw}")
    untagged = c.ok("CAPABILITY")
    caps = untagged[0].split()
    for cap in (b"IMAP4rev1", b"IMAP4rev2", b"ENABLE", b"LIST-EXTENDED", b"LIST-STATUS",
                b"CHILDREN", b"STATUS=SIZE", b"UTF8=ACCEPT", b"BINARY", b"SPECIAL-USE",
                b"ESEARCH", b"LITERAL+", b"IDLE", b"NAMESPACE", b"UNSELECT", b"UIDPLUS", b"MOVE"):
        assert cap in caps, (cap, caps)
    c.close()


def test_enable_in_each_state(box):
    srv, user, pw = box
    c = Raw(srv)
    assert c.bad("ENABLE IMAP4rev2").startswith(b"BAD Log in first")
    c.ok(f"LOGIN {user} {pw}")
    caps = c.ok("CAPABILITY")[0].split()
    assert c.bad("ENABLE")                        # needs names
    assert c.bad('ENABLE "IMAP4rev2"')            # names are atoms
    assert c.bad("ENABLE (IMAP4rev2)")
    # only the newly enabled ones, in their own spelling; unknown ones ignored
    assert c.ok("ENABLE imap4REV2 IMAP4rev2 X-UNKNOWN") == [b"* ENABLED IMAP4rev2"]
    assert c.ok("ENABLE IMAP4rev2") == [b"* ENABLED"]
    assert c.ok("ENABLE X-NOTHING") == [b"* ENABLED"]
    # CONDSTORE: enabled only once the server offers it
    got = c.ok("ENABLE UTF8=ACCEPT CONDSTORE")
    want = b"* ENABLED UTF8=ACCEPT" + (b" CONDSTORE" if b"CONDSTORE" in caps else b"")
    assert got == [want], (got, caps)
    assert c.ok("ENABLE UTF8=ACCEPT IMAP4rev2") == [b"* ENABLED"]
    # not with a mailbox selected (RFC 5161 3.1); again after UNSELECT
    c.ok("SELECT INBOX")
    assert c.bad("ENABLE IMAP4rev2").startswith(b"BAD")
    c.ok("UNSELECT")
    assert c.ok("ENABLE IMAP4rev2") == [b"* ENABLED"]
    c.close()


def test_enable_is_per_session(box):
    srv, user, pw = box
    a = login(srv, user, pw, "UTF8=ACCEPT")
    b = login(srv, user, pw)
    assert b.ok("ENABLE UTF8=ACCEPT") == [b"* ENABLED UTF8=ACCEPT"]
    a.close()
    b.close()


# --------------------------------------------------------------------------
# UTF-8 and modified UTF-7 names

def test_utf8_name_created_under_rev2_seen_as_mutf7_by_rev1(box):
    srv, user, pw = box
    v2 = login(srv, user, pw, "IMAP4rev2")
    v2.ok(b"CREATE " + lit("Entwürfe"))
    v2.ok(b"CREATE " + lit("A&B"))                 # "&" is itself in UTF-8 names
    v1 = login(srv, user, pw)
    names = listed(v1.ok('LIST "" "*"'))
    assert "Entw&APw-rfe" in names and "A&-B" in names, names
    assert names["Entw&APw-rfe"] == ("\\HasNoChildren", ""), names
    # the same mailbox by its rev1 name, and by its rev2 name
    assert v1.ok('STATUS "Entw&APw-rfe" (MESSAGES)') == [b'* STATUS "Entw&APw-rfe" (MESSAGES 0)']
    got = v2.ok(b"STATUS " + lit("Entwürfe") + b" (MESSAGES)")
    assert got == [b"* STATUS {9}\r\nEntw\xc3\xbcrfe (MESSAGES 0)"], got
    v2.ok(b"SELECT " + lit("Entwürfe"))
    assert (srv.maildir(user) / ".Entwürfe" / "cur").is_dir()
    v1.close()
    v2.close()


def test_mutf7_name_created_under_rev1_seen_as_utf8_by_rev2(box):
    srv, user, pw = box
    v1 = login(srv, user, pw)
    v1.ok('CREATE "&ZeVnLIqe-"')                   # 日本語
    v1.ok('CREATE "Q&-A"')
    v8 = login(srv, user, pw, "UTF8=ACCEPT")
    untagged = v8.ok('LIST "" "*"')
    names = listed(untagged)
    assert "日本語" in names and "Q&A" in names, untagged
    assert b'* LIST (\\HasNoChildren) "." {9}\r\n\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e' in untagged, untagged
    # a rev2 client's "&-" is two characters, not an escape
    assert v8.cmd('STATUS "Q&-A" (MESSAGES)')[1].startswith(b"NO")
    v8.ok(b"RENAME " + lit("日本語") + b" " + lit("Ελληνικά"))
    assert "&A5UDuwO7A7cDvQO5A7oDrA-" in listed(v1.ok('LIST "" "*"'))
    v1.close()
    v8.close()


def test_bad_names_in_each_mode(box):
    """A name of the right grammar (an astring) that is not valid modified
    UTF-7 / UTF-8 cannot name a mailbox: NO [CANNOT], not BAD (BAD is for
    the grammar, RFC 9051 7.1)."""
    srv, user, pw = box
    v1 = login(srv, user, pw)

    def cannot(conn, text):
        assert conn.no(text).startswith(b"NO [CANNOT] "), text

    cannot(v1, b"CREATE " + lit("Entwürfe"))         # 8-bit is not modified UTF-7
    cannot(v1, 'CREATE "&Jjo"')                       # unterminated
    cannot(v1, 'SELECT "&Jjo"')
    cannot(v1, 'EXAMINE "&U,BTFw-&ZeVnLIqe-"')       # two encoded runs in a row: not canonical
    cannot(v1, 'RENAME INBOX "&Jjo"')
    cannot(v1, 'DELETE "&Jjo"')
    v8 = login(srv, user, pw, "IMAP4rev2")
    cannot(v8, b"CREATE " + lit(b"bad\xff\xfe"))      # not UTF-8
    cannot(v8, b"CREATE " + lit(b"over\xc0\xaflong"))
    cannot(v8, b"STATUS " + lit(b"\xed\xa0\x80") + b" (MESSAGES)")   # a surrogate
    cannot(v8, b"SUBSCRIBE " + lit(b"\x80"))
    cannot(v8, b"APPEND " + lit(b"\x80") + b" {1+}\r\nx")
    assert v8.bad(b"LIST \"\" " + lit(b"\xff*"))     # a pattern, not a name
    assert v8.bad(b"CREATE (a b)")                      # not an astring: the grammar
    names = listed(v1.ok('LIST "" "*"'))
    assert len(names) == 6, names                       # nothing was created
    v1.close()
    v8.close()


def test_utf8_quoted_name_after_enable(box):
    srv, user, pw = box
    v8 = login(srv, user, pw, "UTF8=ACCEPT")
    v8.ok('CREATE "Brouillons-é"'.encode())
    v8.ok('SELECT "Brouillons-é"'.encode())
    assert "Brouillons-é" in listed(v8.ok('LIST "" "*"')), "a quoted UTF-8 name was not taken"
    v8.close()


def test_append_utf8_data(box):
    srv, user, pw = box
    c = login(srv, user, pw, "UTF8=ACCEPT")
    msg = "Subject: café\r\nFrom: ü@example.test\r\n\r\nbody\r\n".encode()
    _, tagged = c.cmd(b"APPEND INBOX UTF8 (~{%d+}\r\n" % len(msg) + msg + b")")
    assert tagged.startswith(b"OK [APPENDUID "), tagged
    assert c.bad(b"APPEND INBOX UTF8 ({%d+}\r\n" % len(msg) + msg + b")")   # must be literal8
    assert c.bad(b"APPEND INBOX UTF8 (~{4+}\r\nabcd ~{4+}\r\nabcd)")
    c.ok("SELECT INBOX")
    got = c.ok("FETCH 1 BODY.PEEK[]")
    assert got[0].endswith(msg + b")"), got
    c.close()


# --------------------------------------------------------------------------
# STATUS

def test_status_size_deleted_recent(box):
    srv, user, pw = box
    deliver_local(srv, user, "one", ["a" * 100])
    deliver_local(srv, user, "two", ["b" * 50])
    v1 = login(srv, user, pw)
    v1.ok("SELECT INBOX")
    sizes = [int(x) for x in re.findall(rb"RFC822\.SIZE (\d+)", b" ".join(v1.ok("FETCH 1:* RFC822.SIZE")))]
    v1.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    v1.ok("UNSELECT")
    got = v1.ok("STATUS INBOX (MESSAGES SIZE DELETED UNSEEN RECENT)")
    assert got == [b'* STATUS "INBOX" (MESSAGES 2 RECENT 0 UNSEEN 2 SIZE %d DELETED 1)' % sum(sizes)], got
    assert v1.ok("STATUS Trash (SIZE DELETED)") == [b'* STATUS "Trash" (SIZE 0 DELETED 0)']
    assert v1.bad("STATUS INBOX ()")
    assert v1.bad("STATUS INBOX (SIZE BOGUS)")
    assert v1.bad("STATUS INBOX SIZE")
    v2 = login(srv, user, pw, "IMAP4rev2")
    assert v2.bad("STATUS INBOX (MESSAGES RECENT)")   # RFC 9051 has no RECENT
    assert v2.ok("STATUS INBOX (DELETED)") == [b'* STATUS "INBOX" (DELETED 1)']
    v1.close()
    v2.close()


# --------------------------------------------------------------------------
# LIST-EXTENDED

@pytest.fixture
def tree(box):
    """Folders Proj, Proj.A, Proj.B, Deep.X (Deep itself does not exist),
    and subscriptions: everything but Proj, Proj.A and Junk, plus Gone,
    which was deleted after it was subscribed."""
    srv, user, pw = box
    c = login(srv, user, pw)
    for name in ("Proj", "Proj.A", "Proj.B", "Deep.X", "Gone"):
        c.ok(f"CREATE {name}")
    assert not (srv.maildir(user) / ".Deep").exists()
    for name in ("Proj", "Proj.A", "Junk"):
        c.ok(f"UNSUBSCRIBE {name}")
    c.ok("SUBSCRIBE Gone")
    c.ok("DELETE Gone")
    return srv, user, pw, c


def test_list_basic_form_unchanged_and_nonexistent_parents(tree):
    srv, user, pw, c = tree
    names = listed(c.ok('LIST "" "%"'))
    assert names["Deep"] == ("\\Noselect \\HasChildren", ""), names
    assert names["Proj"] == ("\\HasChildren", "") and names["Sent"] == ("\\HasNoChildren \\Sent", "")
    assert "Gone" not in names and "Proj.A" not in names
    # IMAP4rev2 knows \NonExistent
    v2 = login(srv, user, pw, "IMAP4rev2")
    assert listed(v2.ok('LIST "" "%"'))["Deep"] == ("\\NonExistent \\HasChildren", "")
    v2.close()
    c.close()


def test_list_selection_subscribed(tree):
    srv, user, pw, c = tree
    names = listed(c.ok('LIST (SUBSCRIBED) "" "*"'))
    assert names == {
        "INBOX": ("\\Subscribed", ""), "Sent": ("\\Subscribed", ""), "Drafts": ("\\Subscribed", ""),
        "Trash": ("\\Subscribed", ""), "Archive": ("\\Subscribed", ""),
        "Proj.B": ("\\Subscribed", ""), "Deep.X": ("\\Subscribed", ""),
        "Gone": ("\\NonExistent \\Subscribed", ""),
    }, names
    # with the other return options
    names = listed(c.ok('LIST (SUBSCRIBED) "" "*" RETURN (CHILDREN SPECIAL-USE)'))
    assert names["Sent"] == ("\\Subscribed \\HasNoChildren \\Sent", ""), names
    assert names["Gone"] == ("\\NonExistent \\Subscribed \\HasNoChildren", ""), names
    # without RECURSIVEMATCH a parent that is not subscribed is not listed
    names = listed(c.ok('LIST (SUBSCRIBED) "" "%"'))
    assert "Proj" not in names and "Deep" not in names and "Gone" in names, names
    # LSUB goes on as before: no \Subscribed, no special use
    lsub = listed(c.ok('LSUB "" "*"'), b"LSUB")
    assert lsub["Sent"] == ("\\HasNoChildren", "") and lsub["Gone"] == ("\\Noselect \\HasNoChildren", "")
    assert "Proj" not in lsub and "Junk" not in lsub, lsub
    c.close()


def test_list_recursivematch_childinfo(tree):
    srv, user, pw, c = tree
    names = listed(c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"'))
    assert names["Proj"] == ("", ' ("CHILDINFO" ("SUBSCRIBED"))'), names
    assert names["Deep"] == ("\\NonExistent", ' ("CHILDINFO" ("SUBSCRIBED"))'), names
    assert names["Sent"] == ("\\Subscribed", ""), names
    assert "Junk" not in names and "Proj.B" not in names, names
    # the child is listed itself: no CHILDINFO (RFC 5258 suppresses it)
    names = listed(c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "Proj*"'))
    assert names == {"Proj.B": ("\\Subscribed", "")}, names
    # RECURSIVEMATCH alone, or only with REMOTE, is an error
    assert c.bad('LIST (RECURSIVEMATCH) "" "%"')
    assert c.bad('LIST (REMOTE RECURSIVEMATCH) "" "%"')
    c.close()


def test_list_selection_remote_and_special_use(tree):
    srv, user, pw, c = tree
    assert listed(c.ok('LIST (REMOTE) "" "%"')) == listed(c.ok('LIST () "" "%"'))
    names = listed(c.ok('LIST (SPECIAL-USE) "" "*"'))
    assert names == {"Sent": ("\\Sent", ""), "Drafts": ("\\Drafts", ""), "Trash": ("\\Trash", ""),
                     "Junk": ("\\Junk", ""), "Archive": ("\\Archive", "")}, names
    # both criteria: special use and subscribed
    names = listed(c.ok('LIST (SPECIAL-USE SUBSCRIBED) "" "*"'))
    assert "Junk" not in names and names["Sent"] == ("\\Subscribed \\Sent", ""), names
    c.close()


def test_list_return_options(tree):
    srv, user, pw, c = tree
    # the extended form shows only what is asked for
    names = listed(c.ok('LIST "" "%" RETURN ()'))
    assert names["Sent"] == ("", "") and names["Deep"] == ("\\NonExistent", ""), names
    names = listed(c.ok('LIST () "" "%" RETURN (CHILDREN)'))
    assert names["Proj"] == ("\\HasChildren", "") and names["Sent"] == ("\\HasNoChildren", ""), names
    assert names["Deep"] == ("\\NonExistent \\HasChildren", ""), names
    names = listed(c.ok('LIST "" "*" RETURN (SUBSCRIBED)'))
    assert names["Proj"] == ("", "") and names["Proj.B"] == ("\\Subscribed", ""), names
    assert names["Junk"] == ("", "") and "Gone" not in names, names
    names = listed(c.ok('LIST "" "*" RETURN (SPECIAL-USE)'))
    assert names["Junk"] == ("\\Junk", "") and names["Proj"] == ("", ""), names
    # several patterns, each name once, INBOX in any case
    names = listed(c.ok('LIST "" ("inbox" "Proj.*" "Proj*")'))
    assert set(names) == {"INBOX", "Proj", "Proj.A", "Proj.B"}, names
    # a reference goes in front of every pattern
    names = listed(c.ok('LIST "Proj." ("A" "B")'))
    assert set(names) == {"Proj.A", "Proj.B"}, names
    c.close()


@pytest.mark.parametrize("args", [
    '(BOGUS) "" "*"',                     # unknown selection option
    '"" "*" RETURN (BOGUS)',              # unknown return option
    '"" "*" RETURN CHILDREN',             # RETURN needs a list
    '"" "*" RETURN',
    '"" "*" NOTRETURN ()',
    '"" "*" RETURN () extra',
    '"" ()',                              # no pattern
    '(SUBSCRIBED)',
    '() ""',
    '"" "*" RETURN (STATUS)',             # STATUS needs items
    '"" "*" RETURN (STATUS ())',
    '"" "*" RETURN (STATUS (BOGUS))',
    '"" "*" RETURN (STATUS MESSAGES)',
])
def test_list_extended_errors(box, args):
    srv, user, pw = box
    c = login(srv, user, pw)
    assert c.bad("LIST " + args)
    assert c.ok('LIST "" "INBOX"')                        # the session goes on
    c.close()


def test_lsub_takes_only_the_basic_form(box):
    srv, user, pw = box
    c = login(srv, user, pw)
    assert c.bad('LSUB (SUBSCRIBED) "" "*"')
    assert c.bad('LSUB "" ("*")')
    assert c.bad('LSUB "" "*" RETURN ()')
    assert listed(c.ok('LSUB "" "INBOX"'), b"LSUB") == {"INBOX": ("\\HasNoChildren", "")}
    c.close()


# --------------------------------------------------------------------------
# LIST-STATUS

def test_list_status(tree):
    srv, user, pw, c = tree
    deliver_local(srv, user, "one")
    deliver_local(srv, user, "two")
    untagged = c.ok('LIST "" "%" RETURN (STATUS (MESSAGES UNSEEN SIZE))')
    # every selectable mailbox: its LIST, then its STATUS
    size = sum(p.stat().st_size for p in srv.mail_files(user))
    by_name = {}
    for i, line in enumerate(untagged):
        m = re.match(rb'\* STATUS "([^"]+)" \((.*)\)$', line)
        if m:
            prev = listed([untagged[i - 1]])
            assert list(prev) == [m.group(1).decode()], (line, untagged[i - 1])
            by_name[m.group(1).decode()] = m.group(2).decode()
    assert by_name["INBOX"].startswith("MESSAGES 2 UNSEEN 2 SIZE "), by_name
    assert int(by_name["INBOX"].rsplit(" ", 1)[1]) >= size, by_name
    assert by_name["Sent"] == "MESSAGES 0 UNSEEN 0 SIZE 0", by_name
    assert set(by_name) == {"INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive", "Proj"}, by_name
    assert "Deep" in listed(untagged)                     # listed, but no STATUS
    # with a selection, and the rev2 items
    v2 = login(srv, user, pw, "IMAP4rev2")
    untagged = v2.ok('LIST (SUBSCRIBED) "" "*" RETURN (STATUS (DELETED UIDNEXT))')
    status = [l for l in untagged if l.startswith(b"* STATUS")]
    assert b'* STATUS "INBOX" (UIDNEXT 3 DELETED 0)' in status, untagged
    assert not any(b'"Gone"' in l for l in status), untagged
    assert v2.bad('LIST "" "*" RETURN (STATUS (RECENT))')
    v2.close()
    c.close()


# --------------------------------------------------------------------------
# SEARCH under IMAP4rev2

def test_search_answers_esearch_under_rev2(box):
    srv, user, pw = box
    for i in range(3):
        deliver_local(srv, user, f"m{i}")
    v1 = login(srv, user, pw)
    v1.ok("SELECT INBOX")
    assert v1.ok("SEARCH ALL") == [b"* SEARCH 1 2 3"]
    v2 = login(srv, user, pw, "IMAP4rev2")
    v2.ok("SELECT INBOX")
    n = v2.n + 1
    assert v2.ok("SEARCH ALL") == [b'* ESEARCH (TAG "t%d") ALL 1:3' % n]
    assert v2.ok("UID SEARCH 2:3") == [b'* ESEARCH (TAG "t%d") UID ALL 2:3' % (n + 1)]
    assert v2.ok("SEARCH SUBJECT nothing-like-this") == [b'* ESEARCH (TAG "t%d")' % (n + 2)]
    assert v2.ok("SEARCH RETURN (COUNT) ALL") == [b'* ESEARCH (TAG "t%d") COUNT 3' % (n + 3)]
    # UTF8=ACCEPT alone does not change SEARCH
    v8 = login(srv, user, pw, "UTF8=ACCEPT")
    v8.ok("SELECT INBOX")
    assert v8.ok("SEARCH 1") == [b"* SEARCH 1"]
    for c in (v1, v2, v8):
        c.close()


def test_searchres_saved_result(box):
    """RFC 5182 (part of IMAP4rev2): SEARCH RETURN (SAVE) keeps the result
    as "$" for FETCH, STORE, COPY, UID SEARCH and UID EXPUNGE."""
    srv, user, pw = box
    for i in range(4):
        deliver_local(srv, user, f"sr{i}", [f"body {'match' if i % 2 else 'other'}"])
    c = login(srv, user, pw)
    c.ok("SELECT INBOX")
    assert c.ok("SEARCH RETURN (SAVE) BODY match") == []          # SAVE alone: no ESEARCH
    got = c.ok("FETCH $ (UID)")
    assert [re.search(rb"UID (\d+)", x).group(1) for x in got] == [b"2", b"4"], got
    got = c.ok("STORE $ +FLAGS (\\Flagged)")
    assert len(got) == 2, got
    got = c.ok("SEARCH FLAGGED NOT $")
    assert got == [b"* SEARCH"], got
    got = c.ok("UID SEARCH RETURN (COUNT SAVE) UID $")                 # "$" is UIDs, not numbers
    assert re.fullmatch(rb'\* ESEARCH \(TAG "t\d+"\) UID COUNT 2', got[0]), got
    # MIN / MAX with SAVE keep only those
    c.ok("SEARCH RETURN (MIN SAVE) ALL")
    got = c.ok("FETCH $ (UID)")
    assert len(got) == 1 and b"UID 1" in got[0], got
    # a failed SEARCH with SAVE empties it
    assert c.no(b"SEARCH RETURN (SAVE) CHARSET KOI8-R BODY x")
    assert c.ok("FETCH $ (UID)") == []
    c.ok("SEARCH RETURN (SAVE) UID 3")
    got = c.ok("COPY $ Archive")
    c.ok("STORE $ +FLAGS (\\Deleted)")
    got = c.ok("UID EXPUNGE $")
    assert got == [b"* 3 EXPUNGE"], got
    assert c.ok("FETCH $ (UID)") == []                                  # it went with the message
    c.ok("UNSELECT")
    c.ok("SELECT Archive")
    assert c.ok("FETCH $ (UID)") == []                                  # a new SELECT empties it
    c.close()


def test_select_under_rev2(box):
    """RFC 9051 6.3.2: LIST of the mailbox, no RECENT, no UNSEEN; [CLOSED]
    when another mailbox was selected."""
    srv, user, pw = box
    deliver_local(srv, user, "rev2 select")
    c = login(srv, user, pw, "IMAP4rev2")
    got = c.ok("SELECT INBOX")
    assert b'* LIST () "." "INBOX"' in got, got
    assert not any(b"RECENT" in x or b"UNSEEN" in x for x in got), got
    assert b"* 1 EXISTS" in got and any(b"[UIDVALIDITY " in x for x in got), got
    got = c.ok("EXAMINE Archive")
    assert got[0] == b"* OK [CLOSED] Previous mailbox closed", got
    c.close()
