#!/bin/bash
# SMTP acceptance benchmark (issue 2): yubin against a stock Postfix that
# delivers to Maildir, both driven by Postfix's smtp-source, in one run.
#
#   bench/smtp-accept.sh
#
# Environment overrides (all optional):
#   MESSAGES=20000          messages per measurement
#   SESSIONS="1 10 50"      concurrent sessions to measure
#   MODES="reconnect persistent"
#                           reconnect: one message per connection (smtp-source
#                           default); persistent: all messages of a session on
#                           one connection (smtp-source -d)
#   SIZE=4096               message payload bytes (smtp-source -l)
#   SERVERS="postfix yubin" which servers to measure
#   YUBIN_BIN=path          use this binary instead of building build-bench/yubin
#   WARMUP=200              messages sent (and discarded) before measuring
#   REPEAT=1                measure every row this many times (servers in
#                           alternating order) and report the median run
#   RUN_TIMEOUT=seconds     bound on one smtp-source run
#                           (default max(300, MESSAGES/20))
#   DELIVERY_TIMEOUT=seconds bound on the wait for delivery after acceptance
#                           (default max(120, MESSAGES/50)); also gives up
#                           after 60 s without progress
#   WRITE_DOCS=auto|1|0     update docs/BENCHMARKS.md (auto: only when every
#                           requested server ran cleanly)
#   KEEP_TMP=1              keep the temporary directory (logs, configs)
#
# Needs root (Postfix's master and yubin's privilege drop), the Debian
# postfix package (postfix, postconf, smtp-source), openssl, meson, ninja.
# Everything listens on 127.0.0.1 only.  Every process started is stopped by
# PID (Postfix with `postfix -c DIR stop`) at the end, also on error or ^C.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec /usr/bin/python3 "$here/smtp_accept.py" "$@"
