"""Finding a way out (issue 14, docs/ROUTING.md): the OP25B probe and the
relay failover, the transport map's fixed host, source addresses, and
IPv6 falling back to IPv4 in one attempt.

The "direct" route is MX:delivery.port on loopback.  Port 25 "blocked" is
made without root (research note 3.6): refused = nothing listens on the
port; dropped = a listen(0) socket whose one queue place is taken, so
later connects get no SYN-ACK and time out.  The relay is an aiosmtpd
submission server with the test CA's certificate and a login, as the
relay tests of test_outbound.py use."""
import os
import re
import socket
import time

from conftest import (Receiver, free_port, make_message, make_tempdir, outbound_config,
                      attempt_lines, final_lines, queue_text, submit, uniq, wait_final,
                      wait_until)

REMOTE = "remote.test"
RELAY_HOST = "mx1.remote.test"      # the test CA's certificate names it
DIRECT_MX = "mx2.remote.test"
DIRECT_IP, FIXED_IP, RELAY_IP = "127.0.0.2", "127.0.0.3", "127.0.0.4"
TIMEOUT = 20.0
PASSWORD = "relay-Secret-77"
ADMIN = "postmaster@example.test"


def relay_server(make_server, dns, test_ca, direct_port, relay_port, rounds=2, extra="", **delivery):
    """A server whose direct route is DIRECT_MX:direct_port, probed every
    second, with relay.when = "blocked": the relay is the fallback only."""
    pwfile = make_tempdir("yubin-e2e-op25b-") / "relay-password"
    pwfile.write_text(PASSWORD + "\n")
    os.chmod(pwfile, 0o644)
    dns.set(REMOTE, "MX", [(10, DIRECT_MX)])
    dns.set(DIRECT_MX, "A", [DIRECT_IP])
    dns.set(RELAY_HOST, "A", [RELAY_IP])
    delivery.setdefault("connect_timeout", 2)
    delivery.setdefault("probe_interval", 1)
    delivery.setdefault("probe_blocked_interval", 1)
    conf = outbound_config(dns, direct_port, ca_file=test_ca["ca"], probe_hosts=[f'"{DIRECT_IP}"'],
                           probe_rounds=rounds, **delivery)
    conf += ('\nrelay: { host = "%s"; ports = [ %d ]; user = "relayuser"; password_file = "%s"; '
             'when = "blocked"; };\n' % (RELAY_HOST, relay_port, pwfile)) + extra
    conf += f'web: {{ admins = [ "{ADMIN}" ]; }};\n'
    srv = make_server(extra=conf, start=False)
    srv.admin_pw = srv.add_user(ADMIN)[1]
    srv.start()
    srv.secrets.add(PASSWORD)
    return srv


def dashboard_route(srv):
    """The route line of the dashboard's queue page."""
    from test_dashboard import Browser
    b = Browser(srv)
    st, hd, page, _ = b.login(ADMIN, srv.admin_pw)
    assert st == 303, page
    st, _, page = b.get("/queue")
    assert st == 200, page
    m = re.search(r'<p class="route" id="route">(.*?)</p>', page)
    assert m, "no route on the queue page"
    return m.group(1)


def relay_receiver(port, test_ca):
    return Receiver(RELAY_IP, port, hostname=RELAY_HOST,
                    cert={"cert": test_ca["cert"], "key": test_ca["key"]},
                    logins={"relayuser": PASSWORD}).start()


def metric(srv, name, **labels):
    st, _h, body = srv.http("GET", "/metrics")
    assert st == 200, body[:200]
    lab = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    m = re.search(rf"^{re.escape(name)}\{{{re.escape(lab)}\}} (\S+)$", body.decode(), re.M)
    assert m, f"no {name}{{{lab}}} in the scrape"
    return float(m.group(1))


def log_lines(srv, event):
    return [ln for ln in srv.log_text().splitlines() if f" {event} " in f" {ln} " or ln.startswith(event)]


def wait_log(srv, pattern, timeout=TIMEOUT):
    return wait_until(lambda: re.search(pattern, srv.log_text()), timeout, what=pattern)


def send_one(srv, subject):
    user, pw = srv.add_user() if not hasattr(srv, "_op_user") else srv._op_user
    srv._op_user = (user, pw)
    rcpt = f"{uniq('op')}@{REMOTE}"
    msg = make_message(user, rcpt, subject, [subject])
    return submit(srv, user, pw, [rcpt], msg), rcpt


def test_refused_port25_goes_via_relay_and_comes_back(make_server, dns, test_ca):
    direct_port, relay_port = free_port(), free_port()
    rx = relay_receiver(relay_port, test_ca)
    direct = None
    try:
        srv = relay_server(make_server, dns, test_ca, direct_port, relay_port)
        # nothing listens on DIRECT_IP:direct_port: every probe is refused;
        # one round is not enough (hysteresis), the second switches
        wait_log(srv, r"route_change from=direct to=relay reason=\"port 25 blocked \(probe "
                      + re.escape(f"{DIRECT_IP}:{direct_port}") + r" refused\)\"")
        log = srv.log_text()
        assert log.index("streak=1 of=2") < log.index("route_change from=direct to=relay"), log[-3000:]
        assert metric(srv, "yubin_outbound_route", route="relay") == 1
        assert metric(srv, "yubin_outbound_route", route="direct") == 0
        assert metric(srv, "yubin_outbound_route_changes_total", to="relay") == 1
        assert re.search(r"^route: relay since .* \(port 25 blocked", queue_text(srv), re.M), queue_text(srv)
        assert dashboard_route(srv).startswith("Outbound route: relay since ")

        qid, rcpt = send_one(srv, "while blocked")
        (m,) = rx.wait_messages(1, TIMEOUT)
        assert [r.lower() for r in m["rcpt_tos"]] == [rcpt.lower()]
        assert rx.auth_seen and rx.auth_seen[0][1] == "relayuser"
        assert wait_final(srv, qid, rcpt, TIMEOUT)["result"] == "sent"
        (att,) = attempt_lines(srv, qid, rcpt)
        assert att["route"] == "relay" and att["ip"] == RELAY_IP, att["_line"]

        # the peer opens: direct again after two open rounds, and the next
        # message goes direct
        direct = Receiver(DIRECT_IP, direct_port, hostname=DIRECT_MX).start()
        wait_log(srv, r"route_change from=relay to=direct reason=\"port 25 open\"")
        assert metric(srv, "yubin_outbound_route", route="direct") == 1
        assert metric(srv, "yubin_outbound_route_changes_total", to="direct") == 1
        assert re.search(r"^route: direct since ", queue_text(srv), re.M), queue_text(srv)
        assert dashboard_route(srv).startswith("Outbound route: direct since ")
        qid2, rcpt2 = send_one(srv, "open again")
        (m2,) = direct.wait_messages(1, TIMEOUT)
        assert [r.lower() for r in m2["rcpt_tos"]] == [rcpt2.lower()]
        assert wait_final(srv, qid2, rcpt2, TIMEOUT)["result"] == "sent"
        (att2,) = attempt_lines(srv, qid2, rcpt2)
        assert att2["route"] == "direct" and att2["ip"] == DIRECT_IP, att2["_line"]
        assert len(rx.messages) == 1, "the relay got mail after direct resumed"
    finally:
        rx.stop()
        if direct is not None:
            direct.stop()


def test_blackholed_port25_times_out_and_goes_via_relay(make_server, dns, test_ca):
    """Dropped SYNs (no answer at all) count as blocked too, after
    delivery.connect_timeout."""
    direct_port, relay_port = free_port(), free_port()
    hole = socket.socket()
    hole.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hole.bind((DIRECT_IP, direct_port))
    hole.listen(0)
    held = socket.create_connection((DIRECT_IP, direct_port))  # fills the one queue place
    rx = relay_receiver(relay_port, test_ca)
    try:
        srv = relay_server(make_server, dns, test_ca, direct_port, relay_port, connect_timeout=1)
        wait_log(srv, r"route_change from=direct to=relay reason=\"port 25 blocked \(probe "
                      + re.escape(f"{DIRECT_IP}:{direct_port}") + r" timed out\)\"", 30)
        qid, rcpt = send_one(srv, "blackholed")
        (m,) = rx.wait_messages(1, TIMEOUT)
        assert [r.lower() for r in m["rcpt_tos"]] == [rcpt.lower()]
        assert wait_final(srv, qid, rcpt, TIMEOUT)["result"] == "sent"
    finally:
        rx.stop()
        held.close()
        hole.close()


def test_no_probe_no_route_change(make_server, dns, test_ca):
    """Without probe targets nothing is probed: mail goes direct and
    `queue list` says so."""
    port = free_port()
    dns.set(REMOTE, "MX", [(10, DIRECT_MX)])
    dns.set(DIRECT_MX, "A", [DIRECT_IP])
    rx = Receiver(DIRECT_IP, port, hostname=DIRECT_MX).start()
    try:
        srv = make_server(extra=outbound_config(dns, port))
        assert "route: direct (no port-25 probe configured)" in queue_text(srv)
        qid, rcpt = send_one(srv, "plain")
        rx.wait_messages(1, TIMEOUT)
        assert "route_change" not in srv.log_text()
    finally:
        rx.stop()


def test_transport_map_fixed_host(make_server, dns):
    """transport: remote.test goes to a fixed host:port, not to its MX."""
    mx_port, fixed_port = free_port(), free_port()
    dns.set(REMOTE, "MX", [(10, DIRECT_MX)])
    dns.set(DIRECT_MX, "A", [DIRECT_IP])
    mx_rx = Receiver(DIRECT_IP, mx_port, hostname=DIRECT_MX).start()
    fixed = Receiver(FIXED_IP, fixed_port, hostname="fixed.test").start()
    try:
        extra = outbound_config(dns, mx_port) + (
            f'\ntransport = ( {{ domain = "{REMOTE}"; route = "host:[{FIXED_IP}]:{fixed_port}"; }} );\n')
        srv = make_server(extra=extra)
        qid, rcpt = send_one(srv, "fixed host")
        (m,) = fixed.wait_messages(1, TIMEOUT)
        assert [r.lower() for r in m["rcpt_tos"]] == [rcpt.lower()]
        assert wait_final(srv, qid, rcpt, TIMEOUT)["result"] == "sent"
        (att,) = attempt_lines(srv, qid, rcpt)
        assert att["route"] == "host" and att["ip"] == FIXED_IP and att["port"] == str(fixed_port), att["_line"]
        assert mx_rx.messages == [], "the MX was used despite the transport map"
    finally:
        mx_rx.stop()
        fixed.stop()


def test_source_address_per_domain_and_sender(make_server, dns):
    """The peer sees the source address: remote.test's transport entry
    says 127.0.0.5; other.test has none, so the sender domain's
    sender_sources entry (127.0.0.6) applies."""
    from conftest import DOMAIN
    port = free_port()
    dns.set(REMOTE, "MX", [(10, DIRECT_MX)])
    dns.set(DIRECT_MX, "A", [DIRECT_IP])
    dns.set("other.test", "MX", [(10, "mx.other.test")])
    dns.set("mx.other.test", "A", [FIXED_IP])
    rx1 = Receiver(DIRECT_IP, port, hostname=DIRECT_MX).start()
    rx2 = Receiver(FIXED_IP, port, hostname="mx.other.test").start()
    try:
        extra = outbound_config(dns, port) + (
            f'\ntransport = ( {{ domain = "{REMOTE}"; source_ipv4 = "127.0.0.5"; }} );\n'
            f'sender_sources = ( {{ sender_domain = "{DOMAIN}"; source_ipv4 = "127.0.0.6"; }} );\n')
        srv = make_server(extra=extra)
        user, pw = srv.add_user()
        r1, r2 = f"{uniq('s')}@{REMOTE}", f"{uniq('s')}@other.test"
        qid = submit(srv, user, pw, [r1, r2], make_message(user, r1, "sources", ["x"]))
        (m1,) = rx1.wait_messages(1, TIMEOUT)
        (m2,) = rx2.wait_messages(1, TIMEOUT)
        assert m1["peer"][0] == "127.0.0.5", m1["peer"]
        assert m2["peer"][0] == "127.0.0.6", m2["peer"]
        assert wait_final(srv, qid, r1, TIMEOUT)["result"] == "sent"
    finally:
        rx1.stop()
        rx2.stop()


def test_unbindable_source_is_a_temporary_failure(make_server, dns):
    """A source address that is not on this machine: the attempt defers
    with the reason (4.4.0), nothing is lost."""
    port = free_port()
    dns.set(REMOTE, "MX", [(10, DIRECT_MX)])
    dns.set(DIRECT_MX, "A", [DIRECT_IP])
    rx = Receiver(DIRECT_IP, port, hostname=DIRECT_MX).start()
    try:
        extra = outbound_config(dns, port, source_ipv4="192.0.2.55", retry=(60,))
        srv = make_server(extra=extra)
        qid, rcpt = send_one(srv, "no such source")
        att = wait_until(lambda: attempt_lines(srv, qid, rcpt), TIMEOUT, what="an attempt line")
        assert "4.4.0 Cannot bind the source address 192.0.2.55" in att[0]["reply"], att[0]["_line"]
        assert rx.messages == []
        assert qid in queue_text(srv)
    finally:
        rx.stop()


def test_ipv6_refused_falls_back_to_ipv4_in_one_attempt(make_server, dns):
    """prefer_family = ipv6: the MX has ::1 (nothing listens there on
    this port) and 127.0.0.1; the refused IPv6 address is followed by
    IPv4 in the same attempt, and nothing is deferred."""
    port = free_port()
    dns.set(REMOTE, "MX", [(10, DIRECT_MX)])
    dns.set(DIRECT_MX, "A", ["127.0.0.1"])
    dns.set(DIRECT_MX, "AAAA", ["::1"])
    rx = Receiver("127.0.0.1", port, hostname=DIRECT_MX).start()
    try:
        srv = make_server(extra=outbound_config(dns, port, prefer_family="ipv6"))
        qid, rcpt = send_one(srv, "v6 then v4")
        rx.wait_messages(1, TIMEOUT)
        fin = wait_final(srv, qid, rcpt, TIMEOUT)
        assert fin["result"] == "sent", fin["_line"]
        atts = attempt_lines(srv, qid, rcpt)
        assert [a["ip"] for a in atts] == ["::1", "127.0.0.1"], [a["_line"] for a in atts]
        assert "refused" in atts[0]["reply"].lower(), atts[0]["_line"]
        assert not [d for d in final_lines(srv, qid, rcpt) if d.get("result") != "sent"]
        assert "deferred" not in " ".join(d["_line"] for d in final_lines(srv, qid)), "deferred"
    finally:
        rx.stop()


def test_dead_domain_asks_for_an_early_probe_but_switches_nothing(make_server, dns, test_ca):
    """Every MX of one domain refused: the probe runs again before its
    interval (300 s here), finds port 25 open (its target listens), and
    the route stays direct."""
    direct_port, relay_port = free_port(), free_port()
    direct = Receiver(DIRECT_IP, direct_port, hostname=DIRECT_MX).start()
    try:
        srv = relay_server(make_server, dns, test_ca, direct_port, relay_port, retry=(1, 1),
                           probe_interval=300)
        dns.set("dead.test", "MX", [(10, "mx.dead.test")])
        dns.set("mx.dead.test", "A", ["127.0.0.9"])      # nothing listens there
        user, pw = srv.add_user()
        rcpt = f"{uniq('dead')}@dead.test"
        submit(srv, user, pw, [rcpt], make_message(user, rcpt, "dead", ["x"]))
        wait_log(srv, r"port25_probe round=early reason=\"every MX of a domain refused or timed out\"")
        time.sleep(1.5)
        assert "route_change" not in srv.log_text()
        assert "streak=" not in srv.log_text()
    finally:
        direct.stop()


def test_relay_unreachable_too_is_not_op25b(make_server, dns, test_ca):
    """Port 25 refused, and the relay's port refused as well: the network
    (or the relay) is down, not port 25 alone, so the route stays."""
    direct_port, relay_port = free_port(), free_port()
    srv = relay_server(make_server, dns, test_ca, direct_port, relay_port)
    wait_log(srv, r"port25_probe round=inconclusive reason=\"the relay is unreachable too; port 25 blocked")
    time.sleep(2.5)  # more rounds than probe_rounds
    assert "route_change" not in srv.log_text()
    assert "streak=" not in srv.log_text()
    assert "route: direct since" in queue_text(srv)


def test_named_relay_from_the_transport_map(make_server, dns, test_ca):
    """route = "relay:office": that relay's own host, port and login; other
    domains still go direct."""
    relay_port, mx_port = free_port(), free_port()
    pwfile = make_tempdir("yubin-e2e-office-") / "office-password"
    pwfile.write_text(PASSWORD + "\n")
    os.chmod(pwfile, 0o644)
    dns.set(RELAY_HOST, "A", [RELAY_IP])
    dns.set("other.test", "MX", [(10, "mx.other.test")])
    dns.set("mx.other.test", "A", [FIXED_IP])
    rx = relay_receiver(relay_port, test_ca)
    mx_rx = Receiver(FIXED_IP, mx_port, hostname="mx.other.test").start()
    try:
        extra = outbound_config(dns, mx_port, ca_file=test_ca["ca"]) + (
            f'\nrelays = ( {{ name = "office"; host = "{RELAY_HOST}"; ports = [ {relay_port} ]; '
            f'user = "relayuser"; password_file = "{pwfile}"; }} );\n'
            f'transport = ( {{ domain = "{REMOTE}"; route = "relay:office"; }} );\n')
        srv = make_server(extra=extra)
        srv.secrets.add(PASSWORD)
        user, pw = srv.add_user()
        r1, r2 = f"{uniq('n')}@{REMOTE}", f"{uniq('n')}@other.test"
        qid = submit(srv, user, pw, [r1, r2], make_message(user, r1, "named relay", ["x"]))
        (m,) = rx.wait_messages(1, TIMEOUT)
        assert [r.lower() for r in m["rcpt_tos"]] == [r1.lower()]
        assert m["tls"] is not None and rx.auth_seen[0][1] == "relayuser"
        (m2,) = mx_rx.wait_messages(1, TIMEOUT)
        assert [r.lower() for r in m2["rcpt_tos"]] == [r2.lower()]
        # the attempt line follows the relay's 250, which may come after the test sees the message
        assert wait_final(srv, qid, r1, TIMEOUT)["result"] == "sent"
        (att,) = attempt_lines(srv, qid, r1)
        assert att["route"] == "office" and att["verified"] == "yes", att["_line"]
    finally:
        rx.stop()
        mx_rx.stop()


def test_tls_levels_none_and_encrypt(make_server, dns, test_ca):
    """tls = "none": no STARTTLS although the peer offers it; tls =
    "encrypt": a peer without STARTTLS gets nothing (4.7.10, deferred)."""
    port = free_port()
    dns.set(REMOTE, "MX", [(10, "mx1.remote.test")])
    dns.set("mx1.remote.test", "A", [DIRECT_IP])
    dns.set("plain.test", "MX", [(10, "mx.plain.test")])
    dns.set("mx.plain.test", "A", [FIXED_IP])
    tls_rx = Receiver(DIRECT_IP, port, hostname="mx1.remote.test",
                      cert={"cert": test_ca["cert"], "key": test_ca["key"]}).start()
    plain_rx = Receiver(FIXED_IP, port, hostname="mx.plain.test").start()
    try:
        extra = outbound_config(dns, port, ca_file=test_ca["ca"], retry=(60,)) + (
            f'\ntransport = ( {{ domain = "{REMOTE}"; tls = "none"; }},\n'
            f'  {{ domain = "plain.test"; tls = "encrypt"; }} );\n')
        srv = make_server(extra=extra)
        user, pw = srv.add_user()
        r1, r2 = f"{uniq('t')}@{REMOTE}", f"{uniq('t')}@plain.test"
        qid = submit(srv, user, pw, [r1, r2], make_message(user, r1, "levels", ["x"]))
        (m,) = tls_rx.wait_messages(1, TIMEOUT)
        assert m["tls"] is None, "STARTTLS used despite tls = none"
        att = wait_until(lambda: attempt_lines(srv, qid, r2), TIMEOUT, what="an attempt to plain.test")
        assert "4.7.10" in att[0]["reply"], att[0]["_line"]
        assert plain_rx.messages == []
        assert qid in queue_text(srv)
    finally:
        tls_rx.stop()
        plain_rx.stop()
