"""Policy lists (policy.lists) on the real server, through rules that name
them ("list:NAME"): a sender added to a file list (by `yubin policy list
add` and by writing the file) and to an sqlite list (by the CLI) is refused
by the running server within seconds, without a restart, and accepted
again once removed; a file that disappears or gains a bad line leaves the
list as it was, and the log says so; a static list of networks matches the
client address.  The CLI's own answers: show, add, del, and its refusals
(a bad network, a static list, an unknown list, bad usage)."""

import os
import pwd

from conftest import wait_until


def lists_config(base, lists_dir):
    return f"""
policy: {{
  lists = {{
    blocked = {{ type = "file"; path = "{base}/blocked"; }};
    dbblocked = {{ type = "sqlite"; path = "{lists_dir}/lists.db"; table = "senders"; }};
    partners = {{ type = "static"; values = [ "127.0.0.40/31", "2001:db8::/32" ]; }};
  }};
  rules = (
    {{ name = "blocked-file"; sender = "list:blocked"; action = "reject"; code = 550; status = "5.7.1";
      text = "Sender refused by the blocked list"; }},
    {{ name = "blocked-db"; sender = "list:dbblocked"; action = "reject"; code = 550; status = "5.7.1";
      text = "Sender refused by the database list"; }},
    {{ name = "partner-net"; stage = "mail"; client = "list:partners"; action = "tempfail"; code = 451;
      status = "4.7.1"; text = "Partner network seen"; }}
  );
}};
"""


def make_lists_server(make_server):
    srv = make_server(start=False)
    lists_dir = srv.base / "lists"
    lists_dir.mkdir()
    if os.geteuid() == 0:  # the server and the CLI write there as the service user
        nobody = pwd.getpwnam("nobody")
        os.chown(lists_dir, nobody.pw_uid, nobody.pw_gid)
    (srv.base / "blocked").write_text("# blocked senders\nold@bad.example\n")
    os.chmod(srv.base / "blocked", 0o644)
    with open(srv.config_path, "a") as f:
        f.write(lists_config(srv.base, lists_dir))
    srv.start()
    return srv


class Probe:
    """A port-25 connection that asks MAIL FROM again and again (and
    starts a new one before refusals add up to limits.errors)."""

    def __init__(self, srv, source="127.0.0.50"):
        self.srv, self.source = srv, source
        self.connect()

    def connect(self):
        self.c = self.srv.conn("smtp", source=self.source)
        assert self.c.greeting.code == 220, self.c.greeting
        self.c.ehlo("client.example.net")
        self.refused = 0

    def mail(self, sender):
        if self.refused >= 5:
            self.close()
            self.connect()
        r = self.c.cmd(f"MAIL FROM:<{sender}>")
        if r.code == 250:
            assert self.c.cmd("RSET").code == 250
        else:
            self.refused += 1
        return r

    def close(self):
        self.c.quit()


def test_file_and_sqlite_lists_change_while_running(make_server):
    srv = make_lists_server(make_server)
    p = Probe(srv)
    r = p.mail("old@bad.example")
    assert (r.code, r.first) == (550, "5.7.1 Sender refused by the blocked list"), r
    assert p.mail("spammer@bad.example").code == 250

    # the CLI appends to the file; the server sees it within a second or so
    out = srv.cli("policy", "list", "add", "blocked", "Spammer@Bad.Example")
    assert out.returncode == 0 and "added Spammer@Bad.Example" in out.stdout, out.stdout + out.stderr
    wait_until(lambda: p.mail("spammer@bad.example").code == 550, 5, interval=0.3,
               what="the file list change to reach the server")
    assert "spammer@bad.example" in (srv.base / "blocked").read_text()

    # an editor writes the file: a wildcard domain
    with open(srv.base / "blocked", "a") as f:
        f.write("*.spam.example   # whole zone\n")
    wait_until(lambda: p.mail("x@mx1.spam.example").code == 550, 5, interval=0.3,
               what="the edited file to reach the server")
    assert p.mail("x@spam.example").code == 250  # not the parent itself

    # a bad line: the list keeps what it had, and the log says where
    with open(srv.base / "blocked", "a") as f:
        f.write("new@bad.example\n10.0.0.1/8\n")
    # (the list looks at its file when a look-up needs it, at most once a second)
    wait_until(lambda: p.mail("new@bad.example") and "10.0.0.1/8 has bits set after the prefix" in srv.log_text(),
               5, interval=0.3, what="the bad line in the log")
    assert f"{srv.base}/blocked:6: list blocked:" in srv.log_text()
    assert p.mail("new@bad.example").code == 250
    assert p.mail("spammer@bad.example").code == 550

    # the file disappears: still the same list
    os.unlink(srv.base / "blocked")
    wait_until(lambda: p.mail("spammer@bad.example") and
               'error="No such file or directory" action="keeps its last contents"' in srv.log_text(),
               5, interval=0.3, what="the missing file in the log")
    assert p.mail("spammer@bad.example").code == 550
    # it comes back without spammer: accepted again
    (srv.base / "blocked").write_text("old@bad.example\n")
    wait_until(lambda: p.mail("spammer@bad.example").code == 250, 5, interval=0.3,
               what="the restored file to reach the server")

    # the sqlite list, by the CLI
    assert p.mail("evil@worse.example").code == 250
    out = srv.cli("policy", "list", "add", "dbblocked", "evil@worse.example")
    assert out.returncode == 0, out.stdout + out.stderr
    wait_until(lambda: p.mail("evil@worse.example").code == 550, 5, interval=0.3,
               what="the sqlite list change to reach the server")
    r = p.mail("evil@worse.example")
    assert r.first == "5.7.1 Sender refused by the database list", r
    out = srv.cli("policy", "list", "del", "dbblocked", "EVIL@worse.example")
    assert out.returncode == 0 and "removed" in out.stdout, out.stdout + out.stderr
    wait_until(lambda: p.mail("evil@worse.example").code == 250, 5, interval=0.3,
               what="the sqlite removal to reach the server")
    p.close()

    # a static list of networks: the client address
    q = Probe(srv, source="127.0.0.41")
    r = q.mail("someone@remote.example")
    assert (r.code, r.first) == (451, "4.7.1 Partner network seen"), r
    q.close()
    q = Probe(srv, source="127.0.0.42")
    assert q.mail("someone@remote.example").code == 250
    q.close()
    log = srv.log_text()
    assert 'by="rule blocked-file"' in log and 'by="rule blocked-db"' in log
    assert "event=policy_list list=blocked" in log and "action=reloaded" in log


def test_list_cli(make_server):
    srv = make_lists_server(make_server)
    out = srv.cli("policy", "list", "add", "dbblocked", "a@x.example")
    assert out.returncode == 0 and out.stdout == "added a@x.example list dbblocked\n", out.stdout
    if os.geteuid() == 0:  # made by the CLI as the service user, so the server can use it
        assert (srv.base / "lists" / "lists.db").stat().st_uid == pwd.getpwnam("nobody").pw_uid
    out = srv.cli("policy", "list", "add", "dbblocked", "A@X.example")
    assert out.returncode == 0 and out.stdout == "list dbblocked already has A@X.example\n", out.stdout
    out = srv.cli("policy", "list", "add", "dbblocked", "192.0.2.0/24")
    assert out.returncode == 0
    out = srv.cli("policy", "list", "show", "dbblocked")
    assert sorted(out.stdout.splitlines()) == ["192.0.2.0/24", "a@x.example"], out.stdout
    out = srv.cli("policy", "list", "show")
    assert out.stdout.splitlines() == ["blocked type=file entries=1", "dbblocked type=sqlite entries=2",
                                       "partners type=static entries=2"], out.stdout
    out = srv.cli("policy", "list", "del", "dbblocked", "b@x.example")
    assert out.returncode == 0 and out.stdout == "list dbblocked has no b@x.example\n", out.stdout

    # refusals, each with its sentence
    out = srv.cli("policy", "list", "add", "dbblocked", "10.1.2.3/8")
    assert out.returncode == 1
    assert out.stderr == ("yubin: list dbblocked: 10.1.2.3/8 has bits set after the prefix; "
                          "the network is 10.0.0.0/8\n"), out.stderr
    out = srv.cli("policy", "list", "add", "blocked", "two words")
    assert out.returncode == 1 and "blanks and control characters are not allowed" in out.stderr
    out = srv.cli("policy", "list", "add", "partners", "192.0.2.1")
    assert out.returncode == 1
    assert out.stderr == ("yubin: list partners: list partners is written in the configuration file: "
                          "change it there\n"), out.stderr
    out = srv.cli("policy", "list", "add", "nosuch", "a@b.example")
    assert out.returncode == 1 and "no list nosuch in policy.lists" in out.stderr, out.stderr
    out = srv.cli("policy", "list", "frob")
    assert out.returncode == 2 and "usage:" in out.stderr
    out = srv.cli("policy")
    assert out.returncode == 2 and "yubin policy list" in out.stderr
    # the file list's file is what the CLI wrote, comments kept
    out = srv.cli("policy", "list", "add", "blocked", "new@bad.example")
    assert out.returncode == 0
    assert (srv.base / "blocked").read_text() == "# blocked senders\nold@bad.example\nnew@bad.example\n"


def test_list_config_errors(make_server):
    srv = make_server(start=False, extra="""
policy: {
  lists = {
    nets = { type = "static"; values = [ "192.0.2.0/24", "198.51.100.0/33" ]; };
    gone = { type = "file"; path = "/nonexistent/yubin-blocked"; };
    odd = { type = "ldap"; };
    bad-table = { type = "sqlite"; path = "/tmp/lists.db"; };
  };
};
""")
    p = srv.cli("config", "check")
    assert p.returncode != 0
    path = str(srv.config_path)
    text = srv.config_path.read_text().splitlines()

    def line_of(s):
        return next(i + 1 for i, l in enumerate(text) if s in l)

    lines = p.stderr.splitlines()
    assert (f"{path}:{line_of('nets =')}: list nets: value 2: 198.51.100.0/33: the prefix length must be "
            "0 to 32") in lines, p.stderr
    assert (f"{path}:{line_of('gone =')}: list gone: cannot read /nonexistent/yubin-blocked: No such file "
            "or directory (an empty file makes an empty list)") in lines, p.stderr
    assert (f'{path}:{line_of("odd =")}: list odd: type must be "static", "file" or "sqlite", not "ldap"'
            in lines), p.stderr
    assert (f'{path}:{line_of("bad-table =")}: list bad-table: table = "bad-table" must be letters, digits '
            "and _ (set table = to name it)") in lines, p.stderr

    # a bad line in a list file is reported at its own file and line
    bad = srv.base / "blocked"
    bad.write_text("ok@example.net\n\n# comment\n192.0.2.300\n")
    srv.config_path.write_text(srv.config_path.read_text().split("policy: {")[0] +
                               f'policy: {{ lists = {{ b = {{ type = "file"; path = "{bad}"; }}; }}; }};\n')
    p = srv.cli("config", "check")
    assert p.returncode != 0
    assert f"{bad}:4: list b: 192.0.2.300 is not an IP address or network" in p.stderr.splitlines(), p.stderr
