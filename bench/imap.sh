#!/bin/bash
# IMAP benchmark (issue 4): yubin against a private Dovecot 2.3 on the same
# machine, in one run, on copies of one generated 10,000-message Maildir, all
# over implicit TLS: LOGIN + SELECT, FETCH 1:* (UID FLAGS RFC822.SIZE
# ENVELOPE), 1,000 full bodies, SEARCH TEXT, and PSS per idle (IDLE)
# connection.  Method: bench/imap.py and docs/BENCHMARKS.md.
#
#   bench/imap.sh
#
# Environment overrides (all optional):
#   MESSAGES=10000          messages in the Maildir
#   REPEAT=5                timed runs per operation (median), after one
#                           untimed first run that is reported apart
#   BODIES=1000             full bodies fetched (every MESSAGES/BODIES-th UID)
#   IDLE_CONNS=1000         idle IMAPS connections for the memory figure
#   OPEN_THREADS=8          client threads that open them
#   SERVERS="yubin dovecot" which servers to measure
#   OP_TIMEOUT=120          seconds one command may take at most
#   OPEN_TIMEOUT=240        seconds opening all idle connections may take
#   YUBIN_BIN=path          default build-release/yubin (built here if missing)
#   WRITE_DOCS=1            replace the generated part of the "IMAP (issue 4)"
#                           section of docs/BENCHMARKS.md
#   KEEP_TMP=1              keep the temporary directory (logs, configs)
#
# Needs root, the Debian dovecot-imapd package (dovecot-core), openssl.
# Loopback only; yubin and Dovecot are started in the foreground and stopped
# by PID, also on error or ^C.  A full run takes about 6-8 minutes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/release-build.sh"
exec /usr/bin/python3 "$here/imap.py" "$@"
