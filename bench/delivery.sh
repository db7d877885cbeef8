#!/bin/bash
# Delivery-throughput benchmark: messages per second from the queue into
# Postfix's smtp-sink on loopback, yubin against a private Postfix, at 10
# and 100 destinations (one smtp-sink per destination address), with each
# MTA's peak memory.  Method: bench/delivery.py and docs/BENCHMARKS.md.
#
#   bench/delivery.sh
#
# Environment overrides (all optional):
#   MESSAGES=10000          messages per run (one recipient each); the fill
#                           must stay under yubin's first retry (60 s)
#   DESTINATIONS="10 100"   destination counts to measure
#   SIZE=4096               bytes per message, headers included
#   SERVERS="postfix yubin" which MTAs to measure
#   FILL_SESSIONS=10        SMTP sessions that fill the queue
#   DRAIN_TIMEOUT=180       seconds a drain may take at most
#   STALL_TIMEOUT=30        give up a drain after this long without progress
#   YUBIN_BIN=path          default build-release/yubin (built here if missing)
#   WRITE_DOCS=1            replace the generated part of the "Delivery
#                           throughput" section of docs/BENCHMARKS.md
#   KEEP_TMP=1              keep the temporary directory (logs, configs)
#
# Needs root and the Debian postfix package (postfix, postqueue, smtp-sink),
# openssl, python3-dnslib.  Loopback only; everything started is stopped by
# PID (Postfix with `postfix -c DIR stop`), also on error or ^C.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/release-build.sh"
exec /usr/bin/python3 "$here/delivery.py" "$@"
