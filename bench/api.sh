#!/bin/bash
# HTTP sending API benchmark (issue 12): messages accepted per second by one
# yubin through POST /v1/messages (wrk, keep-alive, 50 connections, a
# Bearer key, 4 KiB of text) against SMTP submission of the same text
# (STARTTLS and AUTH once per session, 50 sessions; pipelined DATA, and
# BDAT LAST in one write), rows in turn in the same run.  Method:
# bench/api.py; results: docs/BENCHMARKS.md ("HTTP sending API").
#
#   bench/api.sh
#
# Environment overrides (all optional):
#   SECONDS_PER_ROW=15      length of one measured row
#   REPEAT=3                rounds (rows in turn, order reversed every
#                           other round); the table shows the medians
#   CONNECTIONS=50          wrk connections / SMTP sessions
#   SIZE=4096               bytes of message text
#   MAX_MESSAGES=200000     bound on the messages of one SMTP row
#   ROWS="api smtp-data smtp-bdat"
#                           which rows (leave out api to try the SMTP half
#                           on a build without the API)
#   WARMUP_SECONDS=3        load before each measured row, not counted
#   FS=image|tmp            each row's server on a fresh loop-mounted ext4 image
#                           (default as root) or in a fresh directory in /tmp
#   FS_IMAGE_SIZE=6G        size of that (sparse) image
#   DELIVERY_TIMEOUT=300    bound on the wait, after each row, for every message to reach
#                           the mailbox at the end (also 30 s without progress)
#   YUBIN_BIN=path          default build-release/yubin (built here)
#   WRITE_DOCS=auto|1|0     update docs/BENCHMARKS.md (auto: after a clean run)
#   KEEP_TMP=1              keep the temporary directory (logs, config)
#
# Needs wrk, openssl and a C compiler (the SMTP loader,
# bench/smtp_submit_load.c, is built in the temporary directory).
# Loopback only; the server is stopped by PID at the end, also on error.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/release-build.sh"
exec /usr/bin/python3 "$here/api.py" "$@"
