"""250 means on disk: kill -9 right after the 250, restart, and every
acknowledged message is in the Maildir exactly once."""

import re
import threading
import time

import pytest

from conftest import check_delivered, make_message, qid_from, uniq, wait_until


def _test_ids(srv, rcpt):
    """X-Test-Id of every delivered message (with repetitions)."""
    out = []
    for data in srv.mails(rcpt):
        m = re.search(rb"^X-Test-Id: (\S+)$", data, re.M)
        assert m, f"delivered file without X-Test-Id: {data[:300]!r}"
        out.append(m.group(1).decode())
    return out


def _send_and_kill(srv, rcpt, tid, delay):
    msg = make_message("d@remote.test", rcpt, "durable " + tid, ["payload " + tid] * 50,
                       extra_headers=[f"X-Test-Id: {tid}"])
    c = srv.conn("smtp")
    try:
        c.ehlo()
        assert c.cmd("MAIL FROM:<d@remote.test>").code == 250
        assert c.cmd(f"RCPT TO:<{rcpt}>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(msg + b".\r\n")
        r = c.reply()
        assert r.code == 250, r
        if delay:
            time.sleep(delay)
        srv.kill9()
    finally:
        c.close()
    return msg, qid_from(r.text)


@pytest.mark.parametrize("delay", [0, 0.002, 0.01, 0.05])
def test_kill9_right_after_250(make_server, delay):
    srv = make_server()
    rcpt, _ = srv.add_user()
    tid = uniq("k")
    msg, qid = _send_and_kill(srv, rcpt, tid, delay)
    assert not srv.alive()
    srv.start()
    try:
        srv.wait_mail(rcpt, 1, timeout=15)
    except AssertionError as e:
        files = sorted(str(p.relative_to(srv.data_dir)) for p in srv.data_dir.rglob("*") if p.is_file())
        raise AssertionError(f"{e}\nfiles: {files}\nlog:\n{srv.log_text()[-6000:]}") from None
    time.sleep(1.0)
    datas = srv.mails(rcpt)
    assert len(datas) == 1, f"message delivered {len(datas)} times"
    check_delivered(datas[0], "d@remote.test", rcpt, msg, qid=qid)
    # nothing left in the queue, and another restart does not deliver it again
    wait_until(lambda: qid not in srv.cli("queue", "list").stdout, 5, what="queue to empty")
    srv.restart()
    time.sleep(1.0)
    assert len(srv.mails(rcpt)) == 1, "redelivered after a clean restart"


def test_kill9_after_delivery_no_duplicate(make_server):
    srv = make_server()
    rcpt, _ = srv.add_user()
    msg = make_message("d@remote.test", rcpt, "delivered then killed", ["x"],
                       extra_headers=["X-Test-Id: once"])
    with srv.conn("smtp") as c:
        c.ehlo()
        _, final = c.mail_transaction("d@remote.test", [rcpt], msg)
        assert final.code == 250
    srv.wait_mail(rcpt)
    time.sleep(0.3)
    srv.kill9()
    srv.start()
    time.sleep(1.5)
    assert _test_ids(srv, rcpt) == ["once"]


def test_kill9_remote_recipient_stays_queued(make_server):
    srv = make_server()
    user, pw = srv.add_user()
    remote = f"{uniq('far')}@remote.test"
    msg = make_message(user, remote, "queued durable", ["to the outside"])
    c = srv.submit_conn(user, pw)
    try:
        _, final = c.mail_transaction(user, [remote], msg)
        assert final.code == 250, final
        qid = qid_from(final.text)
        srv.kill9()
    finally:
        c.close()
    srv.start()
    q = srv.cli("queue", "list")
    assert q.returncode == 0, q.stderr
    assert qid in q.stdout and remote in q.stdout, q.stdout
    s = srv.cli("queue", "show", qid)
    assert s.returncode == 0
    assert "to the outside" in s.stdout


def test_concurrent_senders_then_kill9(make_server):
    srv = make_server()
    rcpt, _ = srv.add_user()
    n_threads, per_thread = 8, 12
    acked = {}          # tid -> qid
    sent = set()
    lock = threading.Lock()
    stop = threading.Event()
    kill_after = 30

    def worker(w):
        try:
            c = srv.conn("smtp", timeout=5)
            c.ehlo()
        except Exception:
            return
        try:
            for i in range(per_thread):
                if stop.is_set():
                    return
                tid = f"w{w}m{i}"
                msg = make_message("d@remote.test", rcpt, tid, [f"body of {tid}"] * 40,
                                   extra_headers=[f"X-Test-Id: {tid}"])
                try:
                    c.send(f"MAIL FROM:<d@remote.test>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n".encode())
                    codes = [c.reply().code for _ in range(3)]
                    if codes != [250, 250, 354]:
                        return
                    with lock:
                        sent.add(tid)
                    c.send(msg + b".\r\n")
                    r = c.reply()
                except Exception:
                    return
                if r.code == 250:
                    with lock:
                        acked[tid] = qid_from(r.text)
        finally:
            c.close()

    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(n_threads)]
    for t in threads:
        t.start()
    wait_until(lambda: len(acked) >= kill_after or not any(t.is_alive() for t in threads),
               30, what="acknowledged messages")
    srv.kill9()
    stop.set()
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads)
    with lock:
        acked_now = dict(acked)
        sent_now = set(sent)
    assert len(acked_now) >= kill_after, f"only {len(acked_now)} acknowledged"
    srv.start()
    wait_until(lambda: set(acked_now) <= set(_test_ids(srv, rcpt)), 20,
               what="every acknowledged message after restart")
    time.sleep(1.5)
    ids = _test_ids(srv, rcpt)
    dups = {i for i in ids if ids.count(i) > 1}
    assert not dups, f"delivered more than once: {sorted(dups)}"
    missing = set(acked_now) - set(ids)
    assert not missing, f"acknowledged but lost: {sorted(missing)}"
    unknown = set(ids) - sent_now
    assert not unknown, f"delivered but never sent: {unknown}"
    # every delivered file is whole
    for data in srv.mails(rcpt):
        tid = re.search(rb"^X-Test-Id: (\S+)$", data, re.M).group(1).decode()
        assert data.endswith(("body of %s\n" % tid).encode()), f"truncated file for {tid}"
        assert data.count(("body of %s\n" % tid).encode()) == 40
