"""IMAP conformance, byte by byte, the way an independent compliance suite
reads RFC 3501 (IMAP4rev1) and RFC 9051 (IMAP4rev2): exact bytes sent on a
raw TLS socket, every response line checked against the formal syntax
(responses with a text, quoted strings only of 7-bit characters without CR,
LF, or unescaped quote or backslash, literals where they are not), and the
behaviour each command section requires.  Only what the RFCs require is
asserted; where they leave a choice (BAD or NO for a command in the wrong
state, for instance) every allowed answer passes.

Each test names the RFC sections it checks."""

import re
import socket
import time

import pytest

from conftest import Conn, deliver_local, stored_crlf


# many tests here send bad commands on purpose: the per-session error limit
# is raised out of their way
SERVER_LIMITS = {"errors": 1000}


@pytest.fixture(scope="module")
def srv(server):
    return server


# --------------------------------------------------------------------------
# the response grammar (RFC 3501 section 9, RFC 9051 section 9)

class Atom(str):
    """An atom or number in a response (strings are bytes, NIL is None)."""


class Syntax(AssertionError):
    pass


ATOM_STOP = b" ()\"{}\r\n"


def parse_items(data, pos=0, closing=None):
    """Parse a sequence of response items from data[pos:], up to `closing`
    (b")") or the end.  Returns (items, pos)."""
    items = []
    while pos < len(data):
        ch = data[pos:pos + 1]
        if closing is not None and ch == closing:
            return items, pos + 1
        if items and not (ch == b"(" and isinstance(items[-1], list)):
            # (1*address and 1*body follow each other without a space)
            if ch != b" ":
                raise Syntax(f"expected a space at {pos} in {data!r}")
            pos += 1
            ch = data[pos:pos + 1]
        if ch == b"(":
            sub, pos = parse_items(data, pos + 1, b")")
            items.append(sub)
        elif ch == b'"':
            s, pos = parse_quoted(data, pos)
            items.append(s)
        elif ch == b"{":
            m = re.compile(rb"\{(\d+)\}\r\n").match(data, pos)
            if not m:
                raise Syntax(f"bad literal at {pos} in {data!r}")
            n = int(m.group(1))
            start = m.end()
            if start + n > len(data):
                raise Syntax(f"literal runs past the response in {data!r}")
            items.append(data[start:start + n])
            pos = start + n
        else:
            start = pos
            depth = 0
            while pos < len(data):
                c = data[pos:pos + 1]
                if c == b"[":
                    depth += 1
                elif c == b"]" and depth:
                    depth -= 1
                elif depth == 0 and c in ATOM_STOP and c != b"":
                    break
                if c in (b"\r", b"\n") or c[0] < 0x20 or c[0] > 0x7e:
                    raise Syntax(f"control or 8-bit byte in an atom at {pos} in {data!r}")
                pos += 1
            if pos == start:
                raise Syntax(f"empty item at {pos} in {data!r}")
            word = data[start:pos].decode("ascii")
            items.append(None if word.upper() == "NIL" else Atom(word))
    if closing is not None:
        raise Syntax(f"unclosed list in {data!r}")
    return items, pos


def parse_quoted(data, pos):
    """A quoted string at data[pos] (IMAP4rev1 QUOTED-CHAR: 7-bit TEXT-CHAR,
    quote and backslash only escaped).  Returns (bytes, pos after)."""
    out = bytearray()
    pos += 1
    while True:
        if pos >= len(data):
            raise Syntax(f"unterminated quoted string in {data!r}")
        c = data[pos]
        if c == 0x22:
            return bytes(out), pos + 1
        if c == 0x5C:
            nxt = data[pos + 1:pos + 2]
            if nxt not in (b'"', b"\\"):
                raise Syntax(f"backslash before {nxt!r} in a quoted string in {data!r}")
            out += nxt
            pos += 2
            continue
        if c in (0x0D, 0x0A) or c == 0 or c > 0x7F:
            raise Syntax(f"byte {c:#x} inside a quoted string (needs a literal) in {data!r}")
        out.append(c)
        pos += 1


def check_resp_text(rest, whole):
    """resp-text = ["[" resp-text-code "]" SP] text, text = 1*TEXT-CHAR
    (IMAP4rev1, the revision every session starts in)."""
    if rest.startswith(b"["):
        # a code may hold a parenthesised list; its "]" is followed by SP text
        m = re.match(rb"\[[A-Za-z0-9.\-]+(?: [^\r\n]*?)?\] (.+)$", rest, re.S)
        if not m:
            raise Syntax(f"response code without ']' SP text: {whole!r}")
        text = m.group(1)
    else:
        text = rest
    if not text or b"\r" in text or b"\n" in text:
        raise Syntax(f"response without a text: {whole!r}")


def check_response(resp, tag=None):
    """Check one whole response (line with its literals, CRLF included)
    against the formal syntax; returns the parsed items after the tag."""
    if not resp.endswith(b"\r\n"):
        raise Syntax(f"response not ended by CRLF: {resp!r}")
    body = resp[:-2]
    if body.startswith(b"+"):
        if not body.startswith(b"+ ") and body != b"+":
            raise Syntax(f"continuation request without SP: {resp!r}")
        return None
    first, _, rest = body.partition(b" ")
    if first == b"*":
        word = rest.split(b" ", 1)[0].upper()
        if word in (b"OK", b"NO", b"BAD", b"BYE", b"PREAUTH"):
            check_resp_text(rest[len(word) + 1:], resp)
            return [Atom(word.decode())]
        items, _ = parse_items(rest)
        return items
    if tag is not None and first != tag:
        raise Syntax(f"tagged response with tag {first!r}, expected {tag!r}: {resp!r}")
    m = re.match(rb"(OK|NO|BAD) (.*)$", rest, re.S)
    if not m:
        raise Syntax(f"tagged response is not OK/NO/BAD SP resp-text: {resp!r}")
    check_resp_text(m.group(2), resp)
    return [Atom(m.group(1).decode())]


# --------------------------------------------------------------------------
# a raw connection

class Raw(Conn):
    """An IMAP connection, byte for byte, on conftest's line connection:
    implicit TLS on the IMAPS port, or the clear port (plain=True) for
    STARTTLS.  Every response read is checked by check_response."""

    def __init__(self, srv, timeout=10, plain=False):
        super().__init__(srv.imap if plain else srv.imaps, tls=not plain, timeout=timeout,
                         read_greeting=False)
        self.greeting = self.line()

    def line(self, timeout=None):
        return self.readline(timeout) + b"\r\n"

    def response(self, timeout=None):
        """One whole response: a line and the literals it announces."""
        deadline = time.monotonic() + (timeout or self.timeout)
        out = self.line(timeout)
        while True:
            m = re.search(rb"\{(\d+)\}\r\n$", out)
            if not m:
                return out
            n = int(m.group(1))
            while len(self.buf) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout(f"literal of {n} octets not complete: {out[-200:]!r}")
                self._fill(left)
            out += self.buf[:n]
            self.buf = self.buf[n:]
            out += self.line(timeout)

    def until_tagged(self, tag, timeout=None):
        """(untagged responses, tagged response) up to tag's completion."""
        untagged = []
        while True:
            r = self.response(timeout)
            if r.startswith(tag + b" "):
                check_response(r, tag)
                return untagged, r
            check_response(r)
            untagged.append(r)

    def cmd(self, line):
        tag = line.split(b" ", 1)[0]
        self.send(line + b"\r\n")
        return self.until_tagged(tag)

    def ok(self, line):
        untagged, tagged = self.cmd(line)
        tag = line.split(b" ", 1)[0]
        assert tagged.startswith(tag + b" OK "), (line, untagged, tagged)
        return untagged

    def literal_cmd(self, head, data, tail=b""):
        """head ending in a synchronising literal "{n}" for data: wait for
        the "+", send data and tail; returns (untagged, tagged)."""
        self.send(head + b" {%d}\r\n" % len(data))
        cont = self.response()
        assert cont.startswith(b"+"), (head, cont)
        check_response(cont)
        self.send(data + tail + b"\r\n")
        return self.until_tagged(head.split(b" ", 1)[0])

    def login(self, user, pw):
        self.ok(b"L1 LOGIN " + quote(user) + b" " + quote(pw))


def quote(s):
    if isinstance(s, str):
        s = s.encode()
    return b'"' + s.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def status_of(tagged):
    return tagged.split(b" ", 2)[1].decode()


def fetch_items(resp):
    """A "* n FETCH (...)" response as (n, {NAME: value}) with names upper-cased."""
    items = check_response(resp)
    assert len(items) == 3 and items[1].upper() == "FETCH" and isinstance(items[2], list), resp
    kv = items[2]
    assert len(kv) % 2 == 0, resp
    out = {}
    for k, v in zip(kv[::2], kv[1::2]):
        assert isinstance(k, Atom), resp
        out[k.upper()] = v
    return int(items[0]), out


def fetches(untagged):
    return [fetch_items(r) for r in untagged if re.match(rb"\* \d+ FETCH ", r)]


def upper_strings(x):
    """Structure with every string (bytes) upper-cased, for comparisons where
    the RFC leaves case open (body types, subtypes, parameter names)."""
    if isinstance(x, list):
        return [upper_strings(i) for i in x]
    if isinstance(x, bytes):
        return x.upper()
    return x


@pytest.fixture
def user(srv):
    return srv.add_user()


@pytest.fixture
def conn(srv, user):
    c = Raw(srv)
    c.login(*user)
    yield c
    c.close()


def append(c, box, msg, flags=b"", date=b""):
    """APPEND with a synchronising literal; returns the tagged response."""
    args = b" ".join(x for x in (box, flags, date) if x)
    c.send(b"P1 APPEND " + args + b" {%d}\r\n" % len(msg))
    r = c.response()
    if not r.startswith(b"+"):
        return r
    c.send(msg + b"\r\n")
    return c.until_tagged(b"P1")[1]


# --------------------------------------------------------------------------
# the session: greeting, CAPABILITY, states, tags, literals, strings

def test_greeting_form(srv):
    """RFC 3501 7.1 / 9051 7.1: greeting = "*" SP (resp-cond-auth /
    resp-cond-bye) CRLF; resp-text needs text after an optional code."""
    c = Raw(srv)
    g = c.greeting
    assert re.match(rb"\* (OK|PREAUTH|BYE) ", g), g
    check_response(g)
    if g.startswith(b"* OK [CAPABILITY "):
        caps = g[len(b"* OK [CAPABILITY "):g.index(b"]")].split()
        assert b"IMAP4rev1" in caps or b"IMAP4rev2" in caps, g
    assert c.buf == b"", f"more than one greeting line: {c.buf!r}"
    c.close()


def capability_set(c, tag):
    untagged, tagged = c.cmd(tag + b" CAPABILITY")
    assert tagged.startswith(tag + b" OK "), tagged
    caps = [r for r in untagged if r.startswith(b"* CAPABILITY ")]
    assert len(caps) == 1, untagged
    words = caps[0][len(b"* CAPABILITY "):-2].split(b" ")
    assert b"IMAP4rev1" in words or b"IMAP4rev2" in words, caps
    for w in words:
        assert re.fullmatch(rb"[!#$&'+\-./0-9:;<=>?@A-Z\[^_`a-z|}~]+", w), caps
    return set(words)


def test_capability_in_every_state(srv, user):
    """RFC 3501 6.1.1 / 9051 6.1.1: CAPABILITY is valid in any state and
    answers with exactly one untagged CAPABILITY listing IMAP4rev1 (or
    IMAP4rev2)."""
    c = Raw(srv)
    before = capability_set(c, b"c1")
    assert any(w.startswith(b"AUTH=") for w in before) or b"LOGINDISABLED" not in before
    c.login(*user)
    capability_set(c, b"c2")
    c.ok(b"c3 SELECT INBOX")
    capability_set(c, b"c4")
    c.ok(b"c5 EXAMINE INBOX")
    capability_set(c, b"c6")
    c.close()


WRONG_BEFORE_LOGIN = [b"SELECT INBOX", b"EXAMINE INBOX", b'LIST "" *', b"STATUS INBOX (MESSAGES)",
                      b"CREATE Foo", b"DELETE Foo", b"RENAME Foo Bar", b"SUBSCRIBE INBOX",
                      b"APPEND INBOX {0+}\r\n", b"FETCH 1 FLAGS", b"STORE 1 +FLAGS (\\Seen)",
                      b"SEARCH ALL", b"COPY 1 INBOX", b"EXPUNGE", b"CLOSE", b"UID FETCH 1 FLAGS",
                      b"IDLE"]
WRONG_WHEN_AUTHENTICATED = [b"FETCH 1 FLAGS", b"STORE 1 +FLAGS (\\Seen)", b"SEARCH ALL",
                            b"COPY 1 INBOX", b"EXPUNGE", b"CLOSE", b"UID FETCH 1 FLAGS",
                            b"UID SEARCH ALL", b"UID STORE 1 FLAGS ()", b"UID COPY 1 INBOX"]
WRONG_AFTER_LOGIN = [b"LOGIN a b", b"AUTHENTICATE PLAIN"]


def expect_refused(c, tag, line):
    _, tagged = c.cmd(tag + b" " + line)
    assert status_of(tagged) in ("BAD", "NO"), (line, tagged)


def test_commands_in_the_wrong_state(srv, user):
    """RFC 3501 3 / 9051 3: a command in an inappropriate state is a
    protocol error answered by a tagged BAD or NO (server's choice); the
    session goes on.  RFC 3501 6.3.1 / 9051 6.3.2: after a failed SELECT no
    mailbox is selected."""
    c = Raw(srv)
    for i, line in enumerate(WRONG_BEFORE_LOGIN):
        expect_refused(c, b"n%d" % i, line)
    c.ok(b"n99 NOOP")
    c.login(*user)
    for i, line in enumerate(WRONG_WHEN_AUTHENTICATED + WRONG_AFTER_LOGIN):
        expect_refused(c, b"a%d" % i, line)
    c.ok(b"a99 NOOP")
    c.ok(b"s1 SELECT INBOX")
    for i, line in enumerate(WRONG_AFTER_LOGIN):
        expect_refused(c, b"s%d" % (i + 10), line)
    _, tagged = c.cmd(b"s20 SELECT NoSuchMailbox")
    assert tagged.startswith(b"s20 NO "), tagged
    for i, line in enumerate(WRONG_WHEN_AUTHENTICATED):
        expect_refused(c, b"s%d" % (i + 30), line)
    c.ok(b"s99 NOOP")
    c.close()


ODD_TAGS = [b"A.1", b"x-y_z", b"~!#$&'", b"[t]", b"a]b", b"<>", b"@@", b",;", b"0",
            b"a/b=c?", b"^`|", b"TAG" * 20]


def test_odd_but_legal_tags(srv, user):
    """RFC 3501 9 / 9051 9: tag = 1*<any ASTRING-CHAR except "+">; the
    completion carries the tag exactly as sent."""
    c = Raw(srv)
    for tag in ODD_TAGS:
        untagged, tagged = c.cmd(tag + b" NOOP")
        assert tagged.startswith(tag + b" OK "), (tag, tagged)
    c.login(*user)
    for tag in ODD_TAGS:
        untagged, tagged = c.cmd(tag + b" SELECT INBOX")
        assert tagged.startswith(tag + b" OK "), (tag, tagged)
    c.close()


def test_unknown_command_and_bad_tags(srv, user):
    """RFC 3501 7.1.3 / 9051 7.1.3: an unknown command gets a tagged BAD
    and the session continues; a line without a legal tag gets a BAD (it
    cannot be tagged) and the session continues."""
    c = Raw(srv)
    c.login(*user)
    for i, line in enumerate([b"XYZZY", b"XYZZY arg (list) \"q\"", b"FETCHX 1 FLAGS", b"NOOP2"]):
        _, tagged = c.cmd(b"u%d " % i + line)
        assert tagged.startswith(b"u%d BAD " % i), tagged
    for bad in [b"a*b NOOP", b"+x NOOP", b"a%b NOOP", b'a"b NOOP', b"a\\b NOOP", b"(x NOOP",
                b"a{b NOOP"]:
        c.send(bad + b"\r\n")
        r = c.response()
        check_response(r)
        assert re.match(rb"(\*|\S+) BAD ", r), (bad, r)
    c.ok(b"v1 NOOP")
    c.close()


def test_synchronising_literals(srv):
    """RFC 3501 4.3, 7.5 / 9051 4.3, 7.5: the client waits for a "+"
    continuation before literal data; LOGIN with literal arguments; a
    literal may be empty."""
    user, pw = srv.add_user(password="pw with space \"and\" \\ {3}")
    c = Raw(srv)
    u, p = user.encode(), pw.encode()
    c.send(b"l1 LOGIN {%d}\r\n" % len(u))
    cont = c.response()
    assert cont.startswith(b"+ ") or cont == b"+\r\n", cont
    check_response(cont)
    assert c.buf == b""
    c.send(u + b" {%d}\r\n" % len(p))
    cont = c.response()
    assert cont.startswith(b"+"), cont
    c.send(p + b"\r\n")
    _, tagged = c.until_tagged(b"l1")
    assert tagged.startswith(b"l1 OK "), tagged
    # an empty literal is a legal (empty) string
    c.ok(b"l2 SELECT INBOX")
    untagged, tagged = c.literal_cmd(b"l3 SEARCH SUBJECT", b"")
    assert tagged.startswith(b"l3 OK "), tagged
    # an unknown command announcing a literal: "+" (then the data) or a
    # tagged BAD (then no data); either way the session goes on
    c.send(b"l4 XBOGUS {5}\r\n")
    r = c.response()
    check_response(r)
    if r.startswith(b"+"):
        c.send(b"hello\r\n")
        _, r = c.until_tagged(b"l4")
    assert r.startswith(b"l4 BAD "), r
    c.ok(b"l5 NOOP")
    c.close()


def test_non_synchronising_literals(srv):
    """RFC 7888 / RFC 9051 4.3: "{n+}" literals are sent without waiting:
    before login up to 4096 octets (LITERAL-), after it of any size within
    the literal limit (LITERAL+); their octets are never run as commands."""
    user, pw = srv.add_user()
    c = Raw(srv)
    caps = capability_set(c, b"k0")
    assert b"LITERAL-" in caps and b"LITERAL+" not in caps, caps
    u, p = user.encode(), pw.encode()
    c.send(b"k1 LOGIN {%d+}\r\n%s {%d+}\r\n%s\r\n" % (len(u), u, len(p), p))
    _, tagged = c.until_tagged(b"k1")
    assert tagged.startswith(b"k1 OK "), tagged
    caps = capability_set(c, b"k1a")
    assert b"LITERAL+" in caps and b"LITERAL-" not in caps, caps
    msg = b"Subject: exactly 4096\r\n\r\n"
    msg += b"z" * (4096 - len(msg) - 2) + b"\r\n"
    assert len(msg) == 4096
    c.send(b"k2 APPEND INBOX {4096+}\r\n" + msg + b"\r\n")
    _, tagged = c.until_tagged(b"k2")
    assert tagged.startswith(b"k2 OK "), tagged
    # 4097 octets and more: the data holds what would be a command if the
    # server read it as command text
    evil = b"\r\nk9 CREATE Injected\r\n"
    big = b"Subject: bigger\r\n\r\n" + evil
    big += b"z" * (100000 - len(big))
    c.send(b"k3 APPEND INBOX {100000+}\r\n" + big + b"\r\n")
    _, tagged = c.until_tagged(b"k3")
    assert tagged.startswith(b"k3 OK "), tagged
    untagged = c.ok(b'k5 LIST "" "Injected"')
    assert untagged == [], f"literal octets were run as a command: {untagged}"
    untagged = c.ok(b"k6 STATUS INBOX (MESSAGES)")
    assert untagged == [b'* STATUS "INBOX" (MESSAGES 2)\r\n'] or \
        untagged == [b"* STATUS INBOX (MESSAGES 2)\r\n"], untagged
    c.close()


def test_quoted_strings_with_escapes(srv):
    """RFC 3501 4.3 / 9051 4.3: quoted strings carry '"' and '\\' escaped
    with a backslash (LOGIN, SEARCH)."""
    user, pw = srv.add_user(password='pa"ss\\wo rd')
    c = Raw(srv)
    _, tagged = c.cmd(b'q1 LOGIN "' + user.encode() + b'" "pa\\"ss\\\\wo rd"')
    assert tagged.startswith(b"q1 OK "), tagged
    msg = b'Subject: say "hi" \\ there\r\nFrom: a@b.test\r\n\r\nbody\r\n'
    assert status_of(append(c, b"INBOX", msg)) == "OK"
    c.ok(b"q2 SELECT INBOX")
    untagged = c.ok(b'q3 SEARCH SUBJECT "say \\"hi\\" \\\\ there"')
    assert untagged == [b"* SEARCH 1\r\n"], untagged
    untagged = c.ok(b'q4 SEARCH SUBJECT "\\"nobody\\""')
    assert untagged == [b"* SEARCH\r\n"], untagged
    # a mailbox name is an astring: atom, quoted string or literal alike
    c.ok(b'q5 EXAMINE "INBOX"')
    _, tagged = c.literal_cmd(b"q6 EXAMINE", b"INBOX")
    assert tagged.startswith(b"q6 OK "), tagged
    c.close()


# --------------------------------------------------------------------------
# SELECT / EXAMINE / STATUS

def select_responses(c, tag, verb=b"SELECT", box=b"INBOX"):
    untagged, tagged = c.cmd(tag + b" " + verb + b" " + box)
    assert status_of(tagged) == "OK", tagged
    got = {}
    for r in untagged:
        m = re.match(rb"\* (\d+) (EXISTS|RECENT)\r\n$", r)
        if m:
            got[m.group(2).decode()] = int(m.group(1))
        elif r.startswith(b"* FLAGS "):
            got["FLAGS"] = check_response(r)[1]
        else:
            m = re.match(rb"\* OK \[(PERMANENTFLAGS|UIDVALIDITY|UIDNEXT|UNSEEN) (.*?)\] ", r)
            if m:
                got[m.group(1).decode()] = m.group(2)
    return got, tagged


def test_select_and_examine_responses(conn, srv, user):
    """RFC 3501 6.3.1-6.3.2 / 9051 6.3.2-6.3.3: SELECT sends FLAGS, EXISTS,
    (RECENT for IMAP4rev1), OK [UIDVALIDITY], OK [UIDNEXT], OK
    [PERMANENTFLAGS] and completes with OK [READ-WRITE]; EXAMINE completes
    with OK [READ-ONLY] and changes nothing, not even \\Seen."""
    deliver_local(srv, user[0], "select me")
    deliver_local(srv, user[0], "and me")
    got, tagged = select_responses(conn, b"s1")
    assert re.match(rb"s1 OK \[READ-WRITE\] ", tagged), tagged
    assert got.get("EXISTS") == 2, got
    assert "RECENT" in got, got              # IMAP4rev1 requires it
    flags = got.get("FLAGS")
    assert isinstance(flags, list), got
    for f in ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"):
        assert f in flags, flags
    perm, _ = parse_items(got.get("PERMANENTFLAGS", b"<missing>"))
    assert isinstance(perm[0], list), got
    assert all(f in flags or f == "\\*" for f in perm[0]), (perm, flags)
    uidvalidity = int(got["UIDVALIDITY"])
    assert 0 < uidvalidity < 2 ** 32, got
    assert int(got["UIDNEXT"]) == 3, got
    # STATUS of the selected mailbox (RFC 9051 6.3.11: servers MUST be able to)
    untagged = conn.ok(b"s2 STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)")
    items = check_response(untagged[0])
    assert items[0] == "STATUS" and items[1] in (b"INBOX", "INBOX"), untagged
    vals = dict(zip([k.upper() for k in items[2][::2]], [int(v) for v in items[2][1::2]]))
    assert vals == {"MESSAGES": 2, "UIDNEXT": 3, "UIDVALIDITY": uidvalidity, "UNSEEN": 2}, vals
    got, tagged = select_responses(conn, b"e1", b"EXAMINE")
    assert re.match(rb"e1 OK \[READ-ONLY\] ", tagged), tagged
    assert got.get("EXISTS") == 2 and "RECENT" in got and "UIDVALIDITY" in got, got
    _, tagged = conn.cmd(b"e2 STORE 1 +FLAGS (\\Deleted)")
    assert status_of(tagged) in ("NO", "BAD"), tagged
    conn.ok(b"e3 FETCH 1 BODY[]")
    (n, f), = fetches(conn.ok(b"e4 FETCH 1 FLAGS"))
    assert "\\Seen" not in f["FLAGS"], f"FETCH BODY[] under EXAMINE set \\Seen: {f}"
    conn.ok(b"e5 CLOSE")   # a read-only CLOSE expunges nothing
    got, _ = select_responses(conn, b"s3")
    assert got["EXISTS"] == 2, got


# --------------------------------------------------------------------------
# FETCH against a known multipart message

MULTI = (
    b'From: "Joe Q. Public" <john.q.public@example.com>\r\n'
    b'Sender: Sender Name <sender@example.org>\r\n'
    b'Reply-To: reply@example.net\r\n'
    b'To: Mary Smith <mary@x.test>, jdoe@example.org\r\n'
    b'Cc: A Group: a@b.test, c@d.test;, "Giant; \\"Big\\" Box" <sysservices@example.net>\r\n'
    b'Subject: a "quoted" \\ subject\r\n'
    b'Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n'
    b'Message-ID: <5678.21-Nov-1997@example.com>\r\n'
    b'In-Reply-To: <1234@local.machine.example>\r\n'
    b'MIME-Version: 1.0\r\n'
    b'Content-Type: multipart/mixed; boundary="XX"\r\n'
    b'\r\n'
    b'preamble\r\n'
    b'--XX\r\n'
    b'Content-Type: text/plain; charset=us-ascii\r\n'
    b'\r\n'
    b'plain text\r\n'
    b'line 2\r\n'
    b'\r\n'
    b'--XX\r\n'
    b'Content-Type: text/html; charset="utf-8"\r\n'
    b'Content-Transfer-Encoding: quoted-printable\r\n'
    b'Content-ID: <html@x.test>\r\n'
    b'Content-Description: the html\r\n'
    b'\r\n'
    b'<p>hi=21</p>\r\n'
    b'\r\n'
    b'--XX\r\n'
    b'Content-Type: message/rfc822\r\n'
    b'\r\n'
    b'From: inner@example.com\r\n'
    b'Subject: inner\r\n'
    b'\r\n'
    b'inner body\r\n'
    b'\r\n'
    b'--XX\r\n'
    b'Content-Type: application/octet-stream; name="a.bin"\r\n'
    b'Content-Disposition: attachment; filename="a.bin"\r\n'
    b'Content-Transfer-Encoding: base64\r\n'
    b'\r\n'
    b'AAEC\r\n'
    b'\r\n'
    b'--XX--\r\n'
    b'epilogue\r\n')

INNER_ADDR = [[None, None, b"inner", b"example.com"]]
ENVELOPE = [
    b"Tue, 1 Jul 2003 10:52:37 +0200",
    b'a "quoted" \\ subject',
    [[b"Joe Q. Public", None, b"john.q.public", b"example.com"]],
    [[b"Sender Name", None, b"sender", b"example.org"]],
    [[None, None, b"reply", b"example.net"]],
    [[b"Mary Smith", None, b"mary", b"x.test"], [None, None, b"jdoe", b"example.org"]],
    [[None, None, b"A Group", None], [None, None, b"a", b"b.test"], [None, None, b"c", b"d.test"],
     [None, None, None, None], [b'Giant; "Big" Box', None, b"sysservices", b"example.net"]],
    None,
    b"<1234@local.machine.example>",
    b"<5678.21-Nov-1997@example.com>",
]
INNER_ENVELOPE = [None, b"inner", INNER_ADDR, INNER_ADDR, INNER_ADDR, None, None, None, None, None]

# BODY (no extension data), upper-cased strings; sizes as atoms
PART1 = [b"TEXT", b"PLAIN", [b"CHARSET", b"US-ASCII"], None, None, b"7BIT", "20", "2"]
PART2 = [b"TEXT", b"HTML", [b"CHARSET", b"UTF-8"], b"<HTML@X.TEST>", b"THE HTML",
         b"QUOTED-PRINTABLE", "14", "1"]
INNER_TEXT = [b"TEXT", b"PLAIN", [b"CHARSET", b"US-ASCII"], None, None, b"7BIT", "12", "1"]
PART3 = [b"MESSAGE", b"RFC822", None, None, None, b"7BIT", "55",
         upper_strings(INNER_ENVELOPE), INNER_TEXT, "4"]
PART4 = [b"APPLICATION", b"OCTET-STREAM", [b"NAME", b"A.BIN"], None, None, b"BASE64", "6"]


def strip_ext(body):
    """BODYSTRUCTURE without its extension data: what BODY would say."""
    if isinstance(body[0], list):
        n = 0
        while isinstance(body[n], list):
            n += 1
        return [strip_ext(p) for p in body[:n]] + [body[n]]
    if body[0].upper() == b"TEXT":
        return body[:8]
    if body[0].upper() == b"MESSAGE" and body[1].upper() == b"RFC822":
        return body[:7] + [body[7], strip_ext(body[8]), body[9]]
    return body[:7]


@pytest.fixture
def multi(conn):
    tagged = append(conn, b"INBOX", MULTI, b"(\\Flagged)", b'"01-Jul-2003 10:52:37 +0200"')
    assert status_of(tagged) == "OK", tagged
    conn.ok(b"m0 SELECT INBOX")
    return conn


def test_fetch_envelope(multi):
    """RFC 3501 7.4.2 / 9051 7.5.2 ENVELOPE: field order, address structure
    (name adl mailbox host), group start (NIL NIL "name" NIL) and end (NIL
    NIL NIL NIL) markers, NIL for an absent header, quoting or literals for
    strings with quotes and backslashes."""
    (n, f), = fetches(multi.ok(b"f1 FETCH 1 ENVELOPE"))
    assert n == 1
    assert f["ENVELOPE"] == ENVELOPE, f["ENVELOPE"]


def test_fetch_body_and_bodystructure(multi):
    """RFC 3501 7.4.2 / 9051 7.5.2 BODY and BODYSTRUCTURE: multipart parts
    then subtype (then parameters, disposition, language, location);
    basic fields type, subtype, parameters (NIL when none, never "()"), id,
    description, encoding, size; lines for TEXT; envelope, body and lines for
    MESSAGE/RFC822."""
    (n, f), = fetches(multi.ok(b"f1 FETCH 1 (BODY BODYSTRUCTURE)"))
    body = upper_strings(f["BODY"])
    assert body == [PART1, PART2, PART3, PART4, b"MIXED"], body
    bs = upper_strings(f["BODYSTRUCTURE"])
    assert strip_ext(bs) == body, bs
    # multipart extension data: body parameters first
    assert bs[5] == [b"BOUNDARY", b"XX"], bs
    # single-part extension data: md5 NIL, then disposition with its parameters
    part4 = bs[3]
    assert part4[7] is None and part4[8] == [b"ATTACHMENT", [b"FILENAME", b"A.BIN"]], part4


def test_fetch_macros_sizes_and_dates(multi):
    """RFC 3501 6.4.5 / 9051 6.4.5: ALL, FAST and FULL macros; RFC822.SIZE
    is the exact size of BODY[]; INTERNALDATE has the date-time form and
    keeps the instant APPEND gave; the flags APPEND gave are set."""
    (n, f), = fetches(multi.ok(b"f1 FETCH 1 ALL"))
    assert set(f) == {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"}, f
    (n, f), = fetches(multi.ok(b"f2 FETCH 1 FAST"))
    assert set(f) == {"FLAGS", "INTERNALDATE", "RFC822.SIZE"}, f
    (n, f), = fetches(multi.ok(b"f3 FETCH 1 FULL"))
    assert set(f) == {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"}, f
    assert "\\Flagged" in f["FLAGS"], f
    assert f["RFC822.SIZE"] == str(len(MULTI)), f
    date = f["INTERNALDATE"]
    m = re.fullmatch(rb"([ \d]\d)-([A-Z][a-z]{2})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)", date)
    assert m, date
    import calendar
    months = [calendar.month_abbr[i] for i in range(1, 13)]
    d, mon, y, hh, mm, ss, sign, zh, zm = m.groups()
    when = calendar.timegm((int(y), months.index(mon.decode()) + 1, int(d), int(hh), int(mm), int(ss)))
    when -= (1 if sign == b"+" else -1) * (int(zh) * 3600 + int(zm) * 60)
    assert when == calendar.timegm((2003, 7, 1, 8, 52, 37)), date
    (n, f), = fetches(multi.ok(b"f4 FETCH 1 (BODY.PEEK[] RFC822.SIZE)"))
    assert f["BODY[]"] == MULTI and int(f["RFC822.SIZE"]) == len(MULTI), f


def test_fetch_sections_and_partials(multi):
    """RFC 3501 6.4.5 / 9051 6.4.5 section specs: HEADER.FIELDS (field
    names any case, as atoms, quoted strings or literals, matching fields
    then the blank line), HEADER.FIELDS.NOT,
    TEXT, part numbers, n.MIME, n.HEADER and n.TEXT of a MESSAGE/RFC822 part,
    partials <origin.length> answered as BODY[...]<origin>, and an origin
    past the end giving an empty string.  BODY.PEEK leaves \\Seen alone,
    BODY[] sets it."""
    c = multi
    untagged = c.ok(b"h1 FETCH 1 (BODY.PEEK[HEADER.FIELDS (subject DATE X-None)] "
                    b"BODY.PEEK[HEADER.FIELDS.NOT (From Sender Reply-To To Cc Subject Date Message-ID "
                    b"In-Reply-To)])")
    (n, f), = fetches(untagged)
    keys = {k.split("]")[0] + "]": v for k, v in f.items()}
    hf = [v for k, v in keys.items() if k.startswith("BODY[HEADER.FIELDS (")]
    assert hf == [b'Subject: a "quoted" \\ subject\r\nDate: Tue, 1 Jul 2003 10:52:37 +0200\r\n\r\n'], f
    hn = [v for k, v in keys.items() if k.startswith("BODY[HEADER.FIELDS.NOT")]
    assert hn == [b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="XX"\r\n\r\n'], f
    (n, f), = fetches(c.ok(b"h2 FETCH 1 (BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[3] BODY.PEEK[3.HEADER] "
                           b"BODY.PEEK[3.TEXT] BODY.PEEK[3.1] BODY.PEEK[4] BODY.PEEK[TEXT]<0.8> "
                           b"BODY.PEEK[]<0.10> BODY.PEEK[]<%d.100> BODY.PEEK[1]<17.100>)" % (len(MULTI) + 10)))
    assert f["BODY[1]"] == b"plain text\r\nline 2\r\n", f
    assert f["BODY[2.MIME]"] == (b'Content-Type: text/html; charset="utf-8"\r\n'
                                 b"Content-Transfer-Encoding: quoted-printable\r\n"
                                 b"Content-ID: <html@x.test>\r\nContent-Description: the html\r\n\r\n"), f
    assert f["BODY[3.HEADER]"] == b"From: inner@example.com\r\nSubject: inner\r\n\r\n", f
    assert f["BODY[3]"] == f["BODY[3.HEADER]"] + b"inner body\r\n", f   # the whole inner message
    assert f["BODY[3.TEXT]"] == b"inner body\r\n" and f["BODY[3.1]"] == b"inner body\r\n", f
    assert f["BODY[4]"] == b"AAEC\r\n", f
    assert f["BODY[TEXT]<0>"] == b"preamble", f
    assert f["BODY[]<0>"] == MULTI[:10], f
    assert f["BODY[]<%d>" % (len(MULTI) + 10)] == b"", f
    assert f["BODY[1]<17>"] == b"2\r\n", f
    assert all(k != "FLAGS" or "\\Seen" not in v for k, v in f.items()), f
    (n, f), = fetches(c.ok(b"h3 FETCH 1 FLAGS"))
    assert "\\Seen" not in f["FLAGS"], "BODY.PEEK set \\Seen"
    c.ok(b"h4 FETCH 1 BODY[1]")
    (n, f), = fetches(c.ok(b"h5 FETCH 1 FLAGS"))
    assert "\\Seen" in f["FLAGS"], "BODY[1] did not set \\Seen"
    # header-fld-name is an astring: quoted strings and literals too
    want = b'Subject: a "quoted" \\ subject\r\nDate: Tue, 1 Jul 2003 10:52:37 +0200\r\n\r\n'
    (n, f), = fetches(c.ok(b'h7 FETCH 1 (BODY.PEEK[HEADER.FIELDS ("Subject" "DATE")])'))
    assert list(f.values()) == [want], f
    untagged, tagged = c.literal_cmd(b'h8 FETCH 1 (BODY.PEEK[HEADER.FIELDS ("Subject"', b"Date", b")])")
    assert tagged.startswith(b"h8 OK "), tagged
    (n, f), = fetches(untagged)
    assert list(f.values()) == [want], f
    # RFC822.HEADER and RFC822.TEXT are BODY.PEEK[HEADER] and BODY[TEXT]
    (n, f), = fetches(c.ok(b"h6 FETCH 1 (RFC822.HEADER RFC822.TEXT)"))
    head, text = MULTI.split(b"\r\n\r\n", 1)
    assert f["RFC822.HEADER"] == head + b"\r\n\r\n" and f["RFC822.TEXT"] == text, f


def test_envelope_nil_and_empty_rules(conn):
    """RFC 3501 7.4.2 / 9051 7.5.2: Date, Subject, In-Reply-To, Message-ID
    absent -> NIL, present but empty -> ""; Sender and Reply-To absent or
    empty -> the From value; an absent To/Cc/Bcc -> NIL.  Strings with
    8-bit bytes or line breaks are literals (IMAP4rev1 quoted strings hold
    neither)."""
    msgs = [
        b"From: a@b.test\r\n\r\nbody\r\n",
        b"Subject:\r\nDate:\r\nMessage-ID:\r\nIn-Reply-To:\r\nFrom: Al <a@b.test>\r\nSender:\r\n"
        b"Reply-To:\r\n\r\nbody\r\n",
        b"Subject: caf\xc3\xa9\r\nFrom: J\xc3\xb6rg <j@x.test>\r\n\r\nbody\r\n",
        b"Subject: folded\r\n  subject line\r\nFrom: a@b.test\r\n\r\nbody\r\n",
    ]
    for m in msgs:
        assert status_of(append(conn, b"INBOX", m)) == "OK"
    conn.ok(b"n0 SELECT INBOX")
    env = {n: f["ENVELOPE"] for n, f in fetches(conn.ok(b"n1 FETCH 1:4 ENVELOPE"))}
    a = [[None, None, b"a", b"b.test"]]
    assert env[1] == [None, None, a, a, a, None, None, None, None, None], env[1]
    al = [[b"Al", None, b"a", b"b.test"]]
    assert env[2] == [b"", b"", al, al, al, None, None, None, b"", b""], env[2]
    j = [[b"J\xc3\xb6rg", None, b"j", b"x.test"]]
    assert env[3][1] == b"caf\xc3\xa9" and env[3][2:5] == [j, j, j], env[3]
    assert env[4][1] in (b"folded  subject line", b"folded\r\n  subject line"), env[4]


def test_envelope_routes_groups_and_body_extensions(conn):
    """RFC 3501 7.4.2 / 9051 7.5.2: the adl member holds a source route; an
    empty group is its start and end markers; a part without Content-Type in
    multipart/digest is MESSAGE/RFC822 (RFC 2046 5.1.5); single-part
    extension data is md5, disposition, language (a list when several),
    location; a parameter value with a quote is quoted or a literal."""
    msgs = [
        b"From: a@b.test\r\nTo: <@a.test,@b.test:joe@c.test>\r\nCc: undisclosed-recipients:;\r\n"
        b"Subject: routes\r\n\r\nbody\r\n",
        b"From: a@b.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/digest; boundary=D\r\n\r\n"
        b"--D\r\n\r\nFrom: x@y.test\r\nSubject: digest 1\r\n\r\nd1\r\n--D--\r\n",
        b"From: a@b.test\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: text/plain; charset=utf-8; x="a\\"b"\r\n'
        b"Content-Language: en, de\r\nContent-Location: http://x.test/y\r\n"
        b"Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\nContent-Disposition: inline\r\n\r\nbody\r\n",
    ]
    for m in msgs:
        assert status_of(append(conn, b"INBOX", m)) == "OK"
    conn.ok(b"e0 SELECT INBOX")
    got = {n: f for n, f in fetches(conn.ok(b"e1 FETCH 1:3 (ENVELOPE BODYSTRUCTURE)"))}
    env = got[1]["ENVELOPE"]
    assert env[5] == [[None, b"@a.test,@b.test", b"joe", b"c.test"]], env
    assert env[6] == [[None, None, b"undisclosed-recipients", None], [None, None, None, None]], env
    digest = upper_strings(got[2]["BODYSTRUCTURE"])
    assert digest[0][:2] == [b"MESSAGE", b"RFC822"] and digest[1] == b"DIGEST", digest
    assert digest[0][7][1] == b"DIGEST 1", digest
    bs = upper_strings(got[3]["BODYSTRUCTURE"])
    assert bs[:8] == [b"TEXT", b"PLAIN", [b"CHARSET", b"UTF-8", b"X", b'A"B'], None, None, b"7BIT",
                      "6", "1"], bs
    assert bs[8] == b"Q2HLY2SGSW50ZWDYAXR5IQ==", bs
    assert bs[9] == [b"INLINE", None], bs
    assert bs[10] == [b"EN", b"DE"] and bs[11] == b"HTTP://X.TEST/Y", bs


def test_commands_and_items_in_any_case(srv, user):
    """RFC 3501 9 / 9051 9: command names, FETCH items, section specs and
    INBOX are case-insensitive."""
    deliver_local(srv, user[0], "lower case")
    c = Raw(srv)
    _, tagged = c.cmd(b"lc1 login " + quote(user[0]) + b" " + quote(user[1]))
    assert tagged.startswith(b"lc1 OK "), tagged
    c.ok(b"lc2 select inbox")
    (n, f), = fetches(c.ok(b"lc3 fetch 1 (uid flags body.peek[header.fields (subject)] rfc822.size)"))
    f = {k.upper(): v for k, v in f.items()}
    assert f["UID"] == "1" and f["BODY[HEADER.FIELDS (SUBJECT)]"] == b"Subject: lower case\r\n\r\n", f
    assert c.ok(b"lc4 uid search all") == [b"* SEARCH 1\r\n"]
    c.ok(b"lc5 Logout")
    c.close()


# --------------------------------------------------------------------------
# UID, STORE, SEARCH, sequence sets

def test_uid_fetch_always_has_uid(conn, srv, user):
    """RFC 3501 6.4.8 / 9051 6.4.9: a FETCH response caused by a UID command
    (UID FETCH, UID STORE) includes UID whether asked for or not."""
    deliver_local(srv, user[0], "uid one")
    deliver_local(srv, user[0], "uid two")
    conn.ok(b"u0 SELECT INBOX")
    for n, f in fetches(conn.ok(b"u1 UID FETCH 1:* FLAGS")):
        assert f.get("UID") == str(n), f
    for n, f in fetches(conn.ok(b"u2 UID FETCH 2 (RFC822.SIZE)")):
        assert f.get("UID") == "2", f
    (n, f), = fetches(conn.ok(b"u3 UID STORE 2 +FLAGS (\\Answered)"))
    assert n == 2 and f.get("UID") == "2" and "\\Answered" in f["FLAGS"], f


def test_store_responses(conn, srv, user):
    """RFC 3501 6.4.6 / 9051 6.4.6: STORE answers with the new flags in
    untagged FETCH (FLAGS ...) responses; .SILENT suppresses them; FLAGS
    replaces, +FLAGS adds, -FLAGS removes."""
    for i in range(3):
        deliver_local(srv, user[0], f"store {i}")
    conn.ok(b"t0 SELECT INBOX")
    got = fetches(conn.ok(b"t1 STORE 1:2 +FLAGS (\\Flagged \\Seen)"))
    assert sorted(n for n, _ in got) == [1, 2], got
    assert all(set(f["FLAGS"]) >= {"\\Flagged", "\\Seen"} for _, f in got), got
    assert fetches(conn.ok(b"t2 STORE 1 -FLAGS.SILENT (\\Flagged)")) == []
    (n, f), = fetches(conn.ok(b"t3 STORE 2 FLAGS (\\Draft)"))
    assert n == 2 and f["FLAGS"] == ["\\Recent", "\\Draft"], f
    got = {n: set(f["FLAGS"]) for n, f in fetches(conn.ok(b"t4 FETCH 1:3 FLAGS"))}
    assert got == {1: {"\\Recent", "\\Seen"}, 2: {"\\Recent", "\\Draft"}, 3: {"\\Recent"}}, got
    # flags without parentheses are legal too: flag-list / (flag *(SP flag))
    (n, f), = fetches(conn.ok(b"t5 STORE 3 +FLAGS \\Answered \\Flagged"))
    assert n == 3 and set(f["FLAGS"]) == {"\\Recent", "\\Answered", "\\Flagged"}, f
    (n, f), = fetches(conn.ok(b"t6 STORE 3 FLAGS ()"))
    assert n == 3 and f["FLAGS"] == ["\\Recent"], f
    # CHECK (IMAP4rev1 6.4.1) is a checkpoint: OK in the selected state
    conn.ok(b"t7 CHECK")


def test_search_charsets(conn, srv, user):
    """RFC 3501 6.4.4 / 9051 6.4.4: SEARCH CHARSET US-ASCII (and UTF-8) are
    accepted, an unknown charset is NO [BADCHARSET]; a UTF-8 literal search
    string matches."""
    assert status_of(append(conn, b"INBOX", b"Subject: caf\xc3\xa9 time\r\n\r\nx\r\n")) == "OK"
    assert status_of(append(conn, b"INBOX", b"Subject: plain\r\n\r\nx\r\n")) == "OK"
    conn.ok(b"r0 SELECT INBOX")
    assert conn.ok(b"r1 SEARCH CHARSET US-ASCII SUBJECT plain") == [b"* SEARCH 2\r\n"]
    assert conn.ok(b"r2 SEARCH CHARSET UTF-8 SUBJECT plain") == [b"* SEARCH 2\r\n"]
    untagged, tagged = conn.literal_cmd(b"r3 SEARCH CHARSET UTF-8 SUBJECT", b"caf\xc3\xa9")
    assert tagged.startswith(b"r3 OK ") and untagged == [b"* SEARCH 1\r\n"], (untagged, tagged)
    _, tagged = conn.cmd(b"r4 SEARCH CHARSET X-NO-SUCH-CHARSET ALL")
    assert re.match(rb"r4 NO \[BADCHARSET[ \]]", tagged), tagged


def test_sequence_ranges(conn, srv, user):
    """RFC 3501 6.4.8, 9 (seq-range) / 9051 6.4.9, 9: a:b and b:a are the
    same set, "*" is the highest number, a UID range n:* includes the last
    message even when n is above every UID, and UIDs that do not exist are
    ignored without an error."""
    for i in range(3):
        deliver_local(srv, user[0], f"range {i}")
    conn.ok(b"q0 SELECT INBOX")
    assert [n for n, _ in fetches(conn.ok(b"q1 FETCH 2:* UID"))] == [2, 3]
    assert [n for n, _ in fetches(conn.ok(b"q2 FETCH *:1 UID"))] == [1, 2, 3]
    assert [n for n, _ in fetches(conn.ok(b"q3 FETCH 3:2 UID"))] == [2, 3]
    assert [n for n, _ in fetches(conn.ok(b"q4 FETCH 1,3 UID"))] == [1, 3]
    assert [f["UID"] for _, f in fetches(conn.ok(b"q5 UID FETCH 100:* UID"))] == ["3"]
    assert [f["UID"] for _, f in fetches(conn.ok(b"q6 UID FETCH *:100 UID"))] == ["3"]
    assert fetches(conn.ok(b"q7 UID FETCH 100 FLAGS")) == []
    assert fetches(conn.ok(b"q8 UID FETCH 100:200 FLAGS")) == []
    assert conn.ok(b"q9 UID SEARCH UID 100:*") == [b"* SEARCH 3\r\n"]
    assert fetches(conn.ok(b"qa UID STORE 100:200 +FLAGS (\\Seen)")) == []
    _, tagged = conn.cmd(b"qb UID COPY 100:200 Archive")
    assert status_of(tagged) == "OK", tagged
    # a sequence number past the last message is an error (RFC 9051 9,
    # seq-number), for FETCH, STORE and COPY alike; UIDs are not
    for line in (b"qc FETCH 4 FLAGS", b"qd FETCH 1:4 FLAGS", b"qe STORE 9 +FLAGS (\\Seen)",
                 b"qf COPY 2,4 Archive"):
        _, tagged = conn.cmd(line)
        assert status_of(tagged) == "BAD", (line, tagged)
    conn.ok(b"qg SELECT Drafts")                       # empty: even "*" names nothing
    _, tagged = conn.cmd(b"qh FETCH * FLAGS")
    assert status_of(tagged) == "BAD", tagged
    assert fetches(conn.ok(b"qi UID FETCH 1:* FLAGS")) == []


def test_expunge_responses_are_consistent(conn, srv, user):
    """RFC 3501 7.4.1 / 9051 7.5.1: each EXPUNGE response names a sequence
    number as it is at that moment (numbers above it go down by one);
    CLOSE expunges without EXPUNGE responses."""
    for i in range(6):
        deliver_local(srv, user[0], f"expunge {i}")
    conn.ok(b"x0 SELECT INBOX")
    conn.ok(b"x1 STORE 2,3,5 +FLAGS.SILENT (\\Deleted)")
    untagged = conn.ok(b"x2 EXPUNGE")
    uids = [1, 2, 3, 4, 5, 6]
    for r in untagged:
        m = re.fullmatch(rb"\* (\d+) EXPUNGE\r\n", r)
        assert m, untagged
        n = int(m.group(1))
        assert 1 <= n <= len(uids), untagged
        del uids[n - 1]
    assert uids == [1, 4, 6], untagged
    got = [int(f["UID"]) for _, f in fetches(conn.ok(b"x3 FETCH 1:* UID"))]
    assert got == [1, 4, 6], got
    conn.ok(b"x4 STORE 1 +FLAGS.SILENT (\\Deleted)")
    untagged = conn.ok(b"x5 CLOSE")
    assert not any(b"EXPUNGE" in r for r in untagged), untagged
    got, _ = select_responses(conn, b"x6")
    assert got["EXISTS"] == 2, got


# --------------------------------------------------------------------------
# mailboxes: COPY, APPEND, CREATE, DELETE, RENAME

def test_copy_and_append_to_a_missing_mailbox_say_trycreate(conn, srv, user):
    """RFC 3501 6.3.11, 6.4.7 / 9051 6.3.12, 6.4.7: COPY or APPEND to a
    mailbox that does not exist fails with NO [TRYCREATE] (the server can
    create it) and creates nothing."""
    deliver_local(srv, user[0], "copy me")
    conn.ok(b"y0 SELECT INBOX")
    _, tagged = conn.cmd(b"y1 COPY 1 NoSuchBox")
    assert re.match(rb"y1 NO \[TRYCREATE\] ", tagged), tagged
    tagged = append(conn, b"NoSuchBox", b"Subject: x\r\n\r\ny\r\n")
    assert re.match(rb"P1 NO \[TRYCREATE\] ", tagged), tagged
    assert conn.ok(b'y2 LIST "" NoSuchBox') == []


def test_append_with_flags_and_date(conn):
    """RFC 3501 6.3.11 / 9051 6.3.12: APPEND keeps the flags and the date
    given, and the message exactly."""
    msg = b"Subject: appended\r\nFrom: a@b.test\r\n\r\nline\r\n.line\r\n"
    tagged = append(conn, b"INBOX", msg, b"(\\Seen \\Draft)", b'" 5-Feb-2021 03:04:05 -0700"')
    assert status_of(tagged) == "OK", tagged
    conn.ok(b"w0 EXAMINE INBOX")
    (n, f), = fetches(conn.ok(b"w1 FETCH 1 (FLAGS INTERNALDATE BODY.PEEK[])"))
    assert set(f["FLAGS"]) == {"\\Recent", "\\Seen", "\\Draft"}, f
    assert f["BODY[]"] == msg, f
    import email.utils
    when = email.utils.parsedate_to_datetime(
        re.sub(rb"^ ?(\d+)-(\w+)-(\d+) ", rb"\1 \2 \3 ", f["INTERNALDATE"]).decode())
    assert when.timestamp() == 1612519445, f["INTERNALDATE"]
    # an empty flag list is legal and sets no flag
    tagged = append(conn, b"INBOX", msg, b"()")
    assert status_of(tagged) == "OK", tagged
    conn.ok(b"w2 EXAMINE INBOX")
    (n, f), = fetches(conn.ok(b"w3 FETCH 2 FLAGS"))
    assert f["FLAGS"] == ["\\Recent"], f          # claimed by no SELECT yet


def test_create_and_delete_inbox_fail(conn):
    """RFC 3501 6.3.3-6.3.4 / 9051 6.3.4-6.3.5: creating INBOX (any case) or
    deleting INBOX is an error (NO)."""
    for i, line in enumerate([b"CREATE INBOX", b"CREATE inbox", b"DELETE INBOX", b"DELETE iNbOx"]):
        _, tagged = conn.cmd(b"d%d " % i + line)
        assert tagged.startswith(b"d%d NO " % i), (line, tagged)
    got, _ = select_responses(conn, b"d9")
    assert "EXISTS" in got


def test_create_with_trailing_separator(conn):
    """RFC 3501 6.3.3 / 9051 6.3.4: a trailing hierarchy separator declares
    that names will be created below; a server that does not need the
    declaration MUST ignore it, and the name created is without the
    separator."""
    untagged = conn.ok(b'z0 LIST "" ""')
    sep = check_response(untagged[0])[2]
    assert isinstance(sep, bytes) and len(sep) == 1, untagged
    _, tagged = conn.cmd(b"z1 CREATE " + quote(b"Projects" + sep))
    assert tagged.startswith(b"z1 OK "), tagged
    untagged = conn.ok(b'z2 LIST "" Projects*')
    names = [check_response(r)[3] for r in untagged]
    assert names in ([b"Projects"], ["Projects"]), untagged


def test_rename_inbox_moves_its_messages(conn, srv, user):
    """RFC 3501 6.3.5 / 9051 6.3.6: renaming INBOX is permitted: it moves
    every message of INBOX into a new mailbox of the given name, and INBOX
    stays, empty."""
    deliver_local(srv, user[0], "old one")
    deliver_local(srv, user[0], "old two")
    want = stored_crlf(srv, user[0])
    _, tagged = conn.cmd(b"i1 RENAME INBOX OldInbox")
    assert tagged.startswith(b"i1 OK "), tagged
    got, _ = select_responses(conn, b"i2", box=b"INBOX")
    assert got["EXISTS"] == 0, got
    got, _ = select_responses(conn, b"i3", box=b"OldInbox")
    assert got["EXISTS"] == 2, got
    bodies = [f["BODY[]"] for _, f in fetches(conn.ok(b"i4 FETCH 1:* BODY.PEEK[]"))]
    assert sorted(bodies) == sorted(want)


# --------------------------------------------------------------------------
# IDLE, AUTHENTICATE, LOGOUT

def test_idle_and_done(conn, srv, user):
    """RFC 2177 / 9051 6.3.13: IDLE answers "+", sends changes as they come
    (EXISTS for a new message) and ends with the tagged OK after DONE; it is
    valid in the authenticated state too."""
    conn.ok(b"g0 SELECT INBOX")
    conn.send(b"g1 IDLE\r\n")
    cont = conn.response()
    assert cont.startswith(b"+"), cont
    check_response(cont)
    deliver_local(srv, user[0], "while idle")
    r = conn.response(timeout=10)
    assert r == b"* 1 EXISTS\r\n", r
    conn.send(b"DONE\r\n")
    untagged, tagged = conn.until_tagged(b"g1")
    assert tagged.startswith(b"g1 OK "), (untagged, tagged)
    conn.ok(b"g2 UNSELECT")
    conn.send(b"g3 IDLE\r\n")
    cont = conn.response()
    assert cont.startswith(b"+"), cont
    conn.send(b"DONE\r\n")
    _, tagged = conn.until_tagged(b"g3")
    assert tagged.startswith(b"g3 OK "), tagged


def test_authenticate_cancelled_with_star(srv):
    """RFC 3501 6.2.2 / 9051 6.2.2: a client line of a single "*" cancels
    AUTHENTICATE, and the server MUST answer with a tagged BAD; an unknown
    mechanism is refused (NO)."""
    c = Raw(srv)
    c.send(b"au1 AUTHENTICATE PLAIN\r\n")
    cont = c.response()
    assert cont.startswith(b"+"), cont
    check_response(cont)
    c.send(b"*\r\n")
    _, tagged = c.until_tagged(b"au1")
    assert tagged.startswith(b"au1 BAD "), tagged
    _, tagged = c.cmd(b"au2 AUTHENTICATE X-NO-SUCH-MECHANISM")
    assert status_of(tagged) in ("NO", "BAD"), tagged
    c.ok(b"au3 NOOP")
    c.close()


def test_logout_sends_bye_then_ok(srv, user):
    """RFC 3501 6.1.3 / 9051 6.1.3: LOGOUT gets an untagged BYE before the
    tagged OK, then the server closes the connection; in every state."""
    for state in ("not authenticated", "authenticated", "selected"):
        c = Raw(srv)
        if state != "not authenticated":
            c.login(*user)
        if state == "selected":
            c.ok(b"o0 SELECT INBOX")
        untagged, tagged = c.cmd(b"o1 LOGOUT")
        assert tagged.startswith(b"o1 OK "), (state, tagged)
        assert [r for r in untagged if r.startswith(b"* BYE ")], (state, untagged)
        assert untagged[-1].startswith(b"* BYE "), (state, untagged)
        assert c.closed(), f"the connection stayed open after LOGOUT ({state})"
        c.close()


def test_imap4rev2_only_as_advertised(conn, srv, user):
    """RFC 5161 / RFC 9051 2.3 and 6.3.1: ENABLE is refused (BAD) without
    the ENABLE capability and never enables what is not advertised; after
    ENABLE IMAP4rev2 (when advertised) SELECT sends a LIST response for the
    mailbox and no RECENT, and SEARCH answers with ESEARCH."""
    deliver_local(srv, user[0], "rev2")
    caps = capability_set(conn, b"v0")
    untagged, tagged = conn.cmd(b"v1 ENABLE IMAP4rev2")
    enabled = b" ".join(r for r in untagged if r.startswith(b"* ENABLED"))
    if b"ENABLE" not in caps:
        assert status_of(tagged) in ("BAD", "NO") and not enabled, (untagged, tagged)
        return
    assert status_of(tagged) == "OK", tagged
    if b"IMAP4rev2" not in caps:
        assert b"IMAP4rev2" not in enabled, untagged
        return
    assert re.match(rb"\* ENABLED( \S+)* IMAP4rev2( |\r)", enabled, re.I), untagged
    untagged = conn.ok(b"v2 SELECT INBOX")
    assert any(re.match(rb'\* LIST \([^)]*\) (NIL|"[^"]{1,2}") "?INBOX"?\r\n', r) for r in untagged), untagged
    assert not any(re.match(rb"\* \d+ RECENT", r) for r in untagged), untagged
    untagged = conn.ok(b"v3 SEARCH ALL")
    assert untagged == [b'* ESEARCH (TAG "v3") ALL 1\r\n'], untagged


def test_no_expunge_response_during_fetch_store_search(srv, user):
    """RFC 3501 7.4.1 / 9051 7.5.1: an EXPUNGE response MUST NOT be sent
    while answering FETCH, STORE or SEARCH (the sequence numbers the client
    used would shift under it); it comes with NOOP (or another command)."""
    for i in range(3):
        deliver_local(srv, user[0], f"shared view {i}")
    a = Raw(srv)
    a.login(*user)
    a.ok(b"a1 SELECT INBOX")
    b = Raw(srv)
    b.login(*user)
    b.ok(b"b1 SELECT INBOX")
    b.ok(b"b2 STORE 2 +FLAGS.SILENT (\\Deleted)")
    b.ok(b"b3 EXPUNGE")
    b.ok(b"b4 LOGOUT")
    b.close()
    for i, line in enumerate([b"FETCH 1:* (UID FLAGS)", b"STORE 1 +FLAGS (\\Seen)", b"SEARCH ALL",
                              b"FETCH 3 BODY.PEEK[HEADER]", b"STORE 3 -FLAGS.SILENT (\\Seen)"]):
        untagged, tagged = a.cmd(b"a%d " % (i + 2) + line)
        assert status_of(tagged) in ("OK", "NO"), (line, tagged)
        assert not [r for r in untagged if re.match(rb"\* \d+ EXPUNGE", r)], (line, untagged)
    untagged = a.ok(b"a9 NOOP")
    assert b"* 2 EXPUNGE\r\n" in untagged, untagged
    got = [int(f["UID"]) for _, f in fetches(a.ok(b"b9 FETCH 1:* UID"))]
    assert got == [1, 3], got
    a.close()


def test_pipelined_commands_answered_in_order(conn):
    """RFC 3501 5.5 / 9051 5.5: a client may send several commands without
    waiting; the server answers them in order, LITERAL- data included; the
    IDLE terminator is case-insensitive like all ABNF literals."""
    msg = b"Subject: pipelined\r\n\r\nx\r\n"
    conn.send(b"p1 NOOP\r\np2 APPEND INBOX {%d+}\r\n%s\r\np3 SELECT INBOX\r\n"
              b"p4 FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\np5 IDLE\r\ndone\r\n" % (len(msg), msg))
    seen = []
    for tag in (b"p1", b"p2", b"p3", b"p4"):
        untagged, tagged = conn.until_tagged(tag)
        assert tagged.startswith(tag + b" OK "), (tag, tagged)
        seen.append((untagged, tagged))
    (n, f), = fetches(seen[3][0])
    assert list(f.values()) == [b"Subject: pipelined\r\n\r\n"], f
    untagged, tagged = conn.until_tagged(b"p5")
    assert tagged.startswith(b"p5 OK ") and untagged[0].startswith(b"+"), (untagged, tagged)


def test_starttls_discards_pipelined_plaintext(srv, user):
    """RFC 3501 6.2.1 / 9051 6.2.1: STARTTLS on the plain port answers OK,
    and commands sent after it in the clear before the handshake are thrown
    away, never run inside TLS (command injection); the capabilities are
    asked again after TLS."""
    c = Raw(srv, plain=True)
    c.send(b"s1 STARTTLS\r\ns2 CREATE Injected\r\n")
    _, tagged = c.until_tagged(b"s1")
    assert tagged.startswith(b"s1 OK "), tagged
    assert c.nothing_arrives(0.5), f"an answer in the clear after STARTTLS's OK: {c.buf!r}"
    c._wrap()
    caps = capability_set(c, b"s3")
    assert b"STARTTLS" not in caps, caps
    c.login(*user)
    assert c.ok(b's4 LIST "" Injected') == [], "a command sent before the handshake ran"
    c.close()


# --------------------------------------------------------------------------
# \Recent (IMAP4rev1 only)

def recent_of(c, tag):
    """The RECENT count of a SELECT / NOOP's untagged responses."""
    untagged = c.ok(tag)
    counts = [int(m.group(1)) for r in untagged for m in [re.match(rb"\* (\d+) RECENT\r\n$", r)] if m]
    return counts[-1] if counts else None, untagged


def flags_of(c, tag, seqs=b"1:*"):
    return {n: [str(f) for f in kv["FLAGS"]] for n, kv in fetches(c.ok(tag + b" FETCH " + seqs + b" FLAGS"))}


def searched(c, tag, keys):
    untagged = c.ok(tag + b" SEARCH " + keys)
    line = [r for r in untagged if r.startswith(b"* SEARCH")]
    assert len(line) == 1, untagged
    return [int(x) for x in line[0].split()[2:]]


def test_recent_belongs_to_one_session(srv, user):
    """RFC 3501 2.3.2: a message is \\Recent in one session only, the first
    to be told of it with the mailbox selected; SELECT and new mail tell the
    count (RECENT responses, 7.3.2); SEARCH RECENT / NEW / OLD (6.4.4) and
    STATUS RECENT (6.3.10) agree; EXAMINE sees without claiming (6.3.2);
    an IMAP4rev2 session neither sees nor claims it (RFC 9051)."""
    deliver_local(srv, user[0], "r1")
    deliver_local(srv, user[0], "r2")
    probe = Raw(srv)
    probe.login(*user)
    assert probe.ok(b"s1 STATUS INBOX (RECENT MESSAGES)") == [b'* STATUS "INBOX" (MESSAGES 2 RECENT 2)\r\n']
    # an IMAP4rev2 session takes nothing
    v2 = Raw(srv)
    v2.login(*user)
    v2.ok(b"e1 ENABLE IMAP4rev2")
    n, untagged = recent_of(v2, b"e2 SELECT INBOX")
    assert n is None, untagged
    assert all("\\Recent" not in f for f in flags_of(v2, b"e3").values())
    # EXAMINE sees them, claims none
    ex = Raw(srv)
    ex.login(*user)
    assert recent_of(ex, b"x1 EXAMINE INBOX")[0] == 2
    assert probe.ok(b"s2 STATUS INBOX (RECENT)") == [b'* STATUS "INBOX" (RECENT 2)\r\n']
    # the first SELECT claims them
    a = Raw(srv)
    a.login(*user)
    assert recent_of(a, b"a1 SELECT INBOX")[0] == 2
    assert flags_of(a, b"a2") == {1: ["\\Recent"], 2: ["\\Recent"]}
    assert searched(a, b"a3", b"RECENT") == [1, 2]
    a.ok(b"a4 STORE 1 +FLAGS.SILENT (\\Seen)")
    assert searched(a, b"a5", b"NEW") == [2]
    assert searched(a, b"a6", b"OLD") == []
    assert probe.ok(b"s3 STATUS INBOX (RECENT)") == [b'* STATUS "INBOX" (RECENT 0)\r\n']
    # a second SELECT gets none of them
    b = Raw(srv)
    b.login(*user)
    assert recent_of(b, b"b1 SELECT INBOX")[0] == 0
    assert all("\\Recent" not in f for f in flags_of(b, b"b2").values())
    assert searched(b, b"b3", b"RECENT") == [] and searched(b, b"b4", b"OLD") == [1, 2]
    # new mail: recent in the session told of it first
    deliver_local(srv, user[0], "r3")
    n, untagged = recent_of(b, b"b5 NOOP")
    assert n == 1 and b"* 3 EXISTS\r\n" in untagged, untagged
    n, untagged = recent_of(a, b"a7 NOOP")
    assert n == 2 and b"* 3 EXISTS\r\n" in untagged, untagged
    assert "\\Recent" in flags_of(b, b"b6", b"3")[3] and "\\Recent" not in flags_of(a, b"a8", b"3")[3]
    # \Recent cannot be stored, and leaves with the session's selection
    _, t = a.cmd(b"a9 STORE 1 +FLAGS (\\Recent)")
    assert status_of(t) in ("BAD", "NO"), t
    a.ok(b"a10 UNSELECT")
    assert recent_of(a, b"a11 SELECT INBOX")[0] == 0
    for c in (probe, v2, ex, a, b):
        c.close()


def test_recent_claims_outlive_a_restart(make_server):
    """The claims are the mailbox's state (RFC 3501 2.3.2: "this session is
    the first session to have been notified"): after a restart the same
    messages are not recent again."""
    srv = make_server()
    user = srv.add_user()
    deliver_local(srv, user[0], "one")
    c = Raw(srv)
    c.login(*user)
    assert recent_of(c, b"a1 SELECT INBOX")[0] == 1
    c.close()
    srv.stop()
    srv.start()
    deliver_local(srv, user[0], "two")
    c = Raw(srv)
    c.login(*user)
    assert recent_of(c, b"a1 SELECT INBOX")[0] == 1
    assert searched(c, b"a2", b"RECENT") == [2]
    c.close()


# --------------------------------------------------------------------------
# mailbox names, LIST, UIDVALIDITY

def test_uidvalidity_of_a_recreated_mailbox(conn):
    """RFC 9051 2.3.1.1: a mailbox deleted and created again gets a new,
    larger UIDVALIDITY, even within the same second."""
    seen = []
    for i in range(3):
        conn.ok(b"c%d CREATE Again" % i)
        got = conn.ok(b"s%d STATUS Again (UIDVALIDITY)" % i)
        m = re.match(rb'\* STATUS "?Again"? \(UIDVALIDITY (\d+)\)\r\n$', got[0])
        assert m, got
        seen.append(int(m.group(1)))
        conn.ok(b"d%d DELETE Again" % i)
    assert seen == sorted(set(seen)), seen


def test_list_matching_nothing_is_ok(conn):
    """RFC 9051 6.3.9: a pattern that matches no mailbox is no error: OK
    with no LIST response."""
    assert conn.ok(b'l1 LIST "" "NoSuchBox*"') == []
    assert conn.ok(b'l2 LIST "Nothing." "%"') == []
    assert conn.ok(b'l3 LSUB "" "NoSuchBox"') == []


def test_names_that_cannot_be_mailboxes_get_no(conn):
    """RFC 3501 5.1.3: a name that is an astring but not valid modified
    UTF-7 is refused with NO (the command is well formed), with a response
    code the client can act on."""
    for cmd in (b'n1 SELECT "&Jjo"', b'n2 CREATE "a&AGE"', b'n3 STATUS "&-&" (MESSAGES)',
                b'n4 RENAME INBOX "&Jjo"', b'n5 SUBSCRIBE "&Jjo"', b'n6 GETQUOTAROOT "&Jjo"'):
        _, t = conn.cmd(cmd)
        assert t.startswith(cmd.split(b" ")[0] + b" NO "), (cmd, t)


def test_response_codes_of_mailbox_commands(conn, srv, user):
    """RFC 5530 response codes as RFC 9051 7.1 lists them, on every command
    that names a mailbox: NONEXISTENT for a mailbox that must exist,
    TRYCREATE where the client may create it, ALREADYEXISTS, CANNOT for a
    name no mailbox can have, READ-ONLY for a change under EXAMINE."""
    deliver_local(srv, user[0], "codes")
    cases = [
        (b"SELECT Missing", b"NONEXISTENT"),
        (b"EXAMINE Missing", b"NONEXISTENT"),
        (b"STATUS Missing (MESSAGES)", b"NONEXISTENT"),
        (b"DELETE Missing", b"NONEXISTENT"),
        (b"RENAME Missing Other", b"NONEXISTENT"),
        (b"CREATE Sent", b"ALREADYEXISTS"),
        (b"RENAME Sent Trash", b"ALREADYEXISTS"),
        (b"CREATE INBOX", b"ALREADYEXISTS"),
        (b"DELETE INBOX", b"CANNOT"),
        (b"CREATE a..b", b"CANNOT"),
        (b'CREATE "&Jjo"', b"CANNOT"),
        (b"RENAME Sent INBOX", b"CANNOT"),
    ]
    for i, (line, code) in enumerate(cases):
        tag = b"r%d" % i
        _, tagged = conn.cmd(tag + b" " + line)
        assert tagged.startswith(tag + b" NO [" + code + b"] "), (line, tagged)
    conn.ok(b"x1 EXAMINE INBOX")
    for i, line in enumerate([b"STORE 1 +FLAGS (\\Seen)", b"EXPUNGE", b"MOVE 1 Trash", b"UID EXPUNGE 1"]):
        tag = b"w%d" % i
        _, tagged = conn.cmd(tag + b" " + line)
        assert tagged.startswith(tag + b" NO [READ-ONLY] "), (line, tagged)
    for i, line in enumerate([b"COPY 1 Missing", b"MOVE 1 Missing"]):
        tag = b"t%d" % i
        _, tagged = conn.cmd(tag + b" " + line)
        assert tagged.startswith(tag + b" NO [TRYCREATE] "), (line, tagged)
