#!/bin/bash
# Sieve-at-delivery benchmark (issue 13): messages per second into the
# Maildir with a 20-rule Sieve script per recipient (bench/sieve-bench.sieve),
# against the same yubin without Sieve and against Dovecot + Pigeonhole
# running the same script on the same messages, in the same run: Dovecot's
# LDA started once per message as Postfix's pipe(8) would, and a private
# Dovecot's LMTP service.  yubin gets the messages over SMTP, Dovecot over
# LMTP, both from persistent sessions of the same client.  Before the
# timed rows the script's actions on a sample are compared between `yubin
# sieve test` and Pigeonhole's sieve-test; after each row the Maildirs are
# compared with what the script says.  Method: bench/sieve.py; results:
# docs/BENCHMARKS.md ("Sieve at delivery").
#
#   bench/sieve.sh
#
# Environment overrides (all optional):
#   MESSAGES=3000           messages per row (one recipient each)
#   ACCOUNTS=10             recipients, each with the script active
#   SESSIONS=10             SMTP sessions into yubin, LMTP sessions into
#                           Dovecot, dovecot-lda processes at a time
#   ROUNDS=3                rounds (row order rotated each round; median)
#   SIZE=4096               typical message size in bytes (2 % are 50 KiB)
#   SAMPLE=60               messages checked with yubin sieve test and sieve-test
#   WARMUP=200              untimed messages before each row
#   ROWS="yubin yubin-sieve dovecot-lda dovecot-lmtp"
#   FS=image|tmp            each row on a fresh loop-mounted ext4 image (the
#                           default as root) or a fresh directory in /tmp
#   FS_IMAGE_SIZE=4G        size of that (sparse) image
#   YUBIN_BIN=path          default build-release/yubin (built here if unset)
#   WRITE_DOCS=auto|1|0     update docs/BENCHMARKS.md (auto: after a clean run)
#   KEEP_TMP=1              keep the temporary directory
#
# Needs dovecot-core, dovecot-sieve and dovecot-lmtpd (dovecot-lda, the
# sieve plugin, sieve-test, the lmtp service); a missing Dovecot part skips
# its row.  Runs as root (yubin drops to its service user, Dovecot's mail
# processes, LDA and sieve-test run as nobody) or as any other user
# (everything runs as that user, FS=tmp).  Loopback only; every server
# started is stopped by PID, every image unmounted, also on error or ^C.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/release-build.sh"
exec /usr/bin/python3 "$here/sieve.py" "$@"
