"""The mailbox store as files: a new account's folders (INBOX plus the RFC
6154 special-use folders as Maildir++ folders), and what opening a mailbox
does to the Maildir: messages move from new/ to cur/ with their UID and
CRLF size in the name, the UID list is written, and UIDs hold when the
list is lost."""

import os
import poplib
import pwd
import re

from conftest import IS_ROOT, client_tls_context, deliver_local

NAME_RE = re.compile(r"^(?P<base>[^,:]+),U=(?P<uid>\d+),W=(?P<size>\d+):2,(?P<flags>[A-Z]*)$")




def pop3_uidls(srv, user, pw):
    p = poplib.POP3_SSL("localhost", srv.pop3s, context=client_tls_context(), timeout=10)
    p.user(user)
    p.pass_(pw)
    uidls = [l.split()[1] for l in p.uidl()[1]]
    p.quit()
    return uidls


def test_new_account_has_its_folders(server):
    user, _ = server.add_user()
    md = server.maildir(user)
    for sub in ("cur", "new", "tmp"):
        assert (md / sub).is_dir(), md
    for name in ("Sent", "Drafts", "Trash", "Junk", "Archive"):
        d = md / f".{name}"
        for sub in ("cur", "new", "tmp"):
            assert (d / sub).is_dir(), d
        assert (d / "maildirfolder").is_file(), d
        if IS_ROOT:
            assert os.stat(d).st_uid == pwd.getpwnam("nobody").pw_uid, "folder not the service user's"
        assert os.stat(d).st_mode & 0o077 == 0, oct(os.stat(d).st_mode)


def test_opening_names_messages_and_keeps_uids(server):
    user, pw = server.add_user()
    for i in range(3):
        deliver_local(server, user, f"store {i}")
    server.wait_mail(user, 3)
    md = server.maildir(user)
    first = pop3_uidls(server, user, pw)
    assert os.listdir(md / "new") == []
    names = sorted(os.listdir(md / "cur"))
    parsed = [NAME_RE.match(n) for n in names]
    assert all(parsed), names
    for m in parsed:
        data = (md / "cur" / m.group(0)).read_bytes()
        assert int(m.group("size")) == len(data.replace(b"\n", b"\r\n")), m.group(0)
    assert sorted(int(m.group("uid")) for m in parsed) == [1, 2, 3]
    text = (md / "yubin-uidlist").read_text()
    assert re.fullmatch(r"yubin-uidlist 1 \d+ 4\n", text), text
    # the UID list lost: the UIDs in the names still hold
    (md / "yubin-uidlist").unlink()
    second = pop3_uidls(server, user, pw)
    assert [u[-8:] for u in second] == [u[-8:] for u in first], (first, second)
    deliver_local(server, user, "store 3")
    server.wait_mail(user, 4)
    assert pop3_uidls(server, user, pw)[-1][-8:] == b"00000004"
