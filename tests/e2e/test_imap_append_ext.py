"""MULTIAPPEND (RFC 3502) and CATENATE (RFC 4469), byte by byte on raw
sockets: several messages in one APPEND stored all or none with APPENDUID
naming their UIDs in order; messages made of TEXT literals and IMAP URLs
(RFC 5092) of messages and parts of this account; BADURL and TOOBIG; the
bad forms."""

import re

import pytest

from test_imap_rfc import Raw, capability_set

SERVER_LIMITS = {"errors": 1000, "message_size": 20000}


@pytest.fixture(scope="module")
def srv(server):
    return server


def lit(data):
    return b"{%d+}\r\n" % len(data) + data


def logged_in(srv):
    user, pw = srv.add_user()
    c = Raw(srv)
    c.login(user, pw)
    return c, user


def appended(tagged):
    m = re.match(rb"\S+ OK \[APPENDUID (\d+) ([0-9:,]+)\] ", tagged)
    assert m, tagged
    return int(m.group(1)), m.group(2)


def uid_list(uids):
    """The UIDs of an APPENDUID set, in the order of the messages."""
    out = []
    for part in uids.split(b","):
        lo, _, hi = part.partition(b":")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def body_of(c, tag, uid):
    untagged = c.ok(tag + b" UID FETCH %d (BODY.PEEK[])" % uid)
    m = re.search(rb"BODY\[\] \{(\d+)\}\r\n", untagged[0])
    start = m.end()
    return untagged[0][start:start + int(m.group(1))]


def count(c, tag, box=b"INBOX"):
    untagged = c.ok(tag + b" STATUS " + box + b" (MESSAGES)")
    return int(re.search(rb"MESSAGES (\d+)", untagged[0]).group(1))


M1 = b"Subject: one\r\n\r\nfirst\r\n"
M2 = b"Subject: two\r\n\r\nsecond\r\n"
M3 = b"Subject: three\r\n\r\nthird\r\n"


def test_capabilities(srv):
    c, _ = logged_in(srv)
    caps = capability_set(c, b"c1")
    assert b"MULTIAPPEND" in caps and b"CATENATE" in caps, caps
    c.close()


def test_multiappend_rfc3502_example_shape(srv):
    """RFC 3502 6: two messages, the second with flags and a date."""
    c, user = logged_in(srv)
    c.send(b'A003 APPEND INBOX (\\Seen) ' + lit(M1) +
           b' (\\Draft) " 7-Feb-1994 22:43:04 -0800" ' + lit(M2) + b" " + lit(M3) + b"\r\n")
    _, tagged = c.until_tagged(b"A003")
    uv, uids = appended(tagged)
    u1, u2, u3 = uid_list(uids)
    assert sorted([u1, u2, u3]) == [1, 2, 3], tagged
    assert count(c, b"s1") == 3
    c.ok(b"x SELECT INBOX")
    untagged = c.ok(b"f1 UID FETCH %d (FLAGS INTERNALDATE)" % u1)
    assert re.search(rb"FLAGS \((\\Recent )?\\Seen\)", untagged[0]), untagged  # \Recent: the first IMAP4rev1 session
    untagged = c.ok(b"f2 UID FETCH %d (FLAGS INTERNALDATE)" % u2)
    assert re.search(rb"FLAGS \((\\Recent )?\\Draft\)", untagged[0]) and b'"08-Feb-1994 06:43:04 +0000"' in untagged[0], untagged  # kept as UTC
    assert body_of(c, b"f3", u1) == M1
    assert body_of(c, b"f4", u2) == M2
    assert body_of(c, b"f5", u3) == M3
    c.close()


def test_multiappend_synchronizing_literals(srv):
    c, user = logged_in(srv)
    c.send(b"a APPEND INBOX {%d}\r\n" % len(M1))
    assert c.response().startswith(b"+ ")
    c.send(M1 + b" {%d}\r\n" % len(M2))
    assert c.response().startswith(b"+ ")
    c.send(M2 + b"\r\n")
    _, tagged = c.until_tagged(b"a")
    assert sorted(uid_list(appended(tagged)[1])) == [1, 2], tagged
    c.close()


def test_multiappend_all_or_nothing(srv):
    """A bad second message refuses the whole command: nothing is stored."""
    c, user = logged_in(srv)
    big = b"Subject: big\r\n\r\n" + b"x" * 20001 + b"\r\n"
    c.send(b"a APPEND INBOX " + lit(M1) + b" " + lit(big) + b"\r\n")
    _, tagged = c.until_tagged(b"a")
    assert tagged.startswith(b"a NO [TOOBIG] "), tagged
    c.send(b"b APPEND INBOX " + lit(M1) + b' "bad date" ' + lit(M2) + b"\r\n")
    _, tagged = c.until_tagged(b"b")
    assert tagged.startswith(b"b BAD "), tagged
    c.send(b"d APPEND INBOX " + lit(M1) + b" (\\Bogus) " + lit(M2) + b"\r\n")
    _, tagged = c.until_tagged(b"d")
    assert tagged.startswith(b"d BAD "), tagged
    c.send(b"e APPEND INBOX " + lit(M1) + b" CATENATE (URL \"/INBOX;UIDVALIDITY=1/;UID=99\")\r\n")
    _, tagged = c.until_tagged(b"e")
    assert tagged.startswith(b'e NO [BADURL /INBOX;UIDVALIDITY=1/;UID=99] '), tagged
    assert count(c, b"s1") == 0
    assert srv.mail_files(user) == []
    c.close()


def test_multiappend_to_missing_mailbox(srv):
    c, user = logged_in(srv)
    c.send(b"a APPEND Nope " + lit(M1) + b" " + lit(M2) + b"\r\n")
    _, tagged = c.until_tagged(b"a")
    assert tagged.startswith(b"a NO [TRYCREATE] "), tagged
    c.close()


def test_catenate_rfc4469_example(srv):
    """RFC 4469 5: a new message from a TEXT header, the first part of a
    stored message by URL, more text, and a whole message by URL."""
    c, user = logged_in(srv)
    orig = (b"Subject: original\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n"
            b"--xx\r\nContent-Type: text/plain\r\n\r\nthe body part\r\n"
            b"--xx\r\nContent-Type: application/octet-stream\r\n\r\nAAAA\r\n--xx--\r\n")
    c.send(b"a0 APPEND Drafts " + lit(orig) + b"\r\n")  # new accounts have Drafts
    _, tagged = c.until_tagged(b"a0")
    uv, uid = appended(tagged)
    head = (b"Subject: forward\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=\"yy\"\r\n\r\n--yy\r\n")
    url1 = b"/Drafts;UIDVALIDITY=%d/;UID=%s/;SECTION=1.MIME" % (uv, uid)
    url2 = b"/Drafts;UIDVALIDITY=%d/;UID=%s/;SECTION=1" % (uv, uid)
    c.send(b"A003 APPEND Drafts (\\Seen \\Draft $MDNSent) CATENATE (TEXT " + lit(head) +
           b" URL \"" + url1 + b"\" URL \"" + url2 + b"\" TEXT " + lit(b"\r\n--yy--\r\n") + b")\r\n")
    _, tagged = c.until_tagged(b"A003")
    uv2, uid2 = appended(tagged)
    assert uv2 == uv and uid2 == b"2", tagged
    c.ok(b"s SELECT Drafts")
    got = body_of(c, b"f", 2)
    assert got == head + b"Content-Type: text/plain\r\n\r\nthe body part" + b"\r\n--yy--\r\n", got
    # an absolute URL of this server and user, a whole message, a partial
    host = b"mx.test.example"
    url3 = b"imap://%s@%s/Drafts;UIDVALIDITY=%d/;UID=1" % (user.replace("@", "%40").encode(), host, uv)
    url4 = b"/Drafts/;UID=1/;SECTION=HEADER/;PARTIAL=0.9"
    c.send(b"A004 APPEND INBOX CATENATE (URL \"" + url3 + b"\" URL \"" + url4 + b"\")\r\n")
    _, tagged = c.until_tagged(b"A004")
    _, uid4 = appended(tagged)
    c.ok(b"s2 SELECT INBOX")
    assert body_of(c, b"g", int(uid4)) == orig + b"Subject: "
    c.close()


@pytest.mark.parametrize("url", [
    b"/INBOX;UIDVALIDITY=1/;UID=1",            # wrong UIDVALIDITY
    b"/INBOX/;UID=77",                          # no such message
    b"/Nope/;UID=1",                            # no such mailbox
    b"/INBOX/;UID=1/;SECTION=9",                # no such part
    b"/INBOX/;UID=1/;SECTION=BOGUS",
    b"imap://other.example/INBOX/;UID=1",       # another server
    b"imap://someone@mx.test.example/INBOX/;UID=1",  # another account
    b"/INBOX/;UID=1/;URLAUTH=anonymous",
    b"INBOX/;UID=1",
    b"/INBOX",
    b"/INBOX/;UID=0",
    b"/IN%00BOX/;UID=1",
    b"/INBOX/;UID=1/;PARTIAL=0.0",
])
def test_catenate_badurl(srv, url):
    c, user = logged_in(srv)
    c.send(b"a0 APPEND INBOX " + lit(M1) + b"\r\n")
    _, tagged = c.until_tagged(b"a0")
    appended(tagged)
    c.send(b"a1 APPEND INBOX CATENATE (TEXT " + lit(b"x") + b" URL \"" + url + b"\")\r\n")
    _, tagged = c.until_tagged(b"a1")
    assert tagged.startswith(b"a1 NO [BADURL " + url + b"] "), tagged
    assert count(c, b"s") == 1
    c.close()


def test_catenate_toobig(srv):
    c, user = logged_in(srv)
    part = b"y" * 15000
    c.send(b"a0 APPEND INBOX " + lit(b"Subject: s\r\n\r\n" + part) + b"\r\n")
    _, tagged = c.until_tagged(b"a0")
    appended(tagged)
    c.send(b"a1 APPEND INBOX CATENATE (URL \"/INBOX/;UID=1\" TEXT " + lit(part) + b")\r\n")
    _, tagged = c.until_tagged(b"a1")
    assert tagged.startswith(b"a1 NO [TOOBIG] "), tagged
    assert count(c, b"s") == 1
    c.close()


@pytest.mark.parametrize("args", [
    b"CATENATE ()",
    b"CATENATE (TEXT)",
    b"CATENATE (FOO {1+}\r\nx)",
    b"CATENATE (URL)",
    b"CATENATE TEXT {1+}\r\nx",
    b"CATENATE",
    b"(\\Seen)",
    b"{1+}\r\nx (\\Seen)",
])
def test_bad_forms(srv, args):
    c, user = logged_in(srv)
    c.send(b"a APPEND INBOX " + args + b"\r\n")
    _, tagged = c.until_tagged(b"a")
    assert tagged.startswith(b"a BAD "), (args, tagged)
    assert count(c, b"s") == 0
    c.close()


def test_catenate_urls_cannot_grow_the_server(make_server):
    """Each URL part may add only what the message size still allows: 300
    URLs naming a 500 KB message are refused with TOOBIG without the server
    reading 150 MB of them into memory first."""
    from test_backpressure import GROWTH_LIMIT, rss
    big = make_server(limits={"message_size": 1048576})
    c, user = logged_in(big)
    body = (b"z" * 998 + b"\r\n") * 500
    c.send(b"a0 APPEND INBOX " + lit(b"Subject: big\r\n\r\n" + body) + b"\r\n")
    _, tagged = c.until_tagged(b"a0")
    appended(tagged)
    before = rss(big.proc.pid)
    parts = b" ".join([b'URL "/INBOX/;UID=1"'] * 300)
    c.send(b"a1 APPEND INBOX CATENATE (" + parts + b")\r\n")
    _, tagged = c.until_tagged(b"a1")
    grown = rss(big.proc.pid) - before
    assert tagged.startswith(b"a1 NO [TOOBIG] "), tagged
    assert grown < GROWTH_LIMIT, f"grew by {grown >> 20} MiB"
    assert count(c, b"s") == 1
    c.close()
