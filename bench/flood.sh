#!/bin/bash
# Command-flood benchmark (issue 10): the server's peak memory while 50
# clients at once pipeline commands as fast as their sockets take them and
# never read a reply.  yubin against a private Dovecot 2.3 (IMAP and POP3
# rows) and a private Postfix (SMTP row), in one run:
#   imap   IMAP CAPABILITY before login, plain IMAP listener
#   pop3   POP3 CAPA before login, plain POP3 listener
#   smtp   SMTP EHLO on the port-25 (smtp role) listener
#   fetch  IMAP FETCH 1:* BODY.PEEK[] after LOGIN + SELECT, over IMAPS, on a
#          folder of 200 messages of 40 KB
# Method: bench/flood.py and docs/BENCHMARKS.md.
#
#   bench/flood.sh
#
# Environment overrides (all optional):
#   CLIENTS=50              flooding clients per row, all at once
#   FLOOD_SECS=20           seconds each row floods
#   FLOOD_MIB=32            MiB of commands one client sends at most
#   RCVBUF=4096             SO_RCVBUF of the client sockets (set before
#                           connect, so replies back up in the server)
#   SNDBUF=32768            SO_SNDBUF of the client sockets (so that the bytes
#                           sent say what the server took in)
#   MESSAGES=200            messages in the folder of the fetch row
#   MSG_SIZE=40000          bytes per message
#   SCENARIOS="imap pop3 smtp fetch"
#   SERVERS="yubin dovecot postfix"
#   YUBIN_BIN=path          default build-release/yubin (built here if missing)
#   WRITE_DOCS=1            replace the generated part of the "Memory under a
#                           command flood (issue 10)" section of
#                           docs/BENCHMARKS.md
#   KEEP_TMP=1              keep the temporary directory (logs, configs)
#
# Needs root, the Debian dovecot-imapd, dovecot-pop3d and postfix packages,
# openssl.  Loopback only; every server is started in the foreground (Postfix
# with `postfix -c DIR start`) and stopped by PID, also on error or ^C.  A
# full run takes about 3 minutes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/release-build.sh"
exec /usr/bin/python3 "$here/flood.py" "$@"
