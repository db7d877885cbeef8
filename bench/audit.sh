#!/bin/bash
# Audit-trail benchmark (issue 12): what keeping every message's timeline
# in data_dir/audit.db costs SMTP acceptance.  yubin with audit.enabled
# true and false, the same smtp-source load as the SMTP acceptance section,
# runs interleaved (on, off, then off, on, ...), each on a fresh server and
# a fresh file system (bench/freshfs.py), the median of REPEAT runs per row
# and the cost round by round.  Target: under 10 % fewer messages accepted
# per second.
# Method: bench/audit.py; results: docs/BENCHMARKS.md ("Audit trail").
#
#   bench/audit.sh
#
# Environment overrides (all optional):
#   N=3000                  messages per run
#   SESSIONS="10 50"        concurrent sessions
#   MODES="reconnect persistent"
#   REPEAT=5                runs per row and setting (median)
#   SIZE=4096               message payload bytes
#   WARMUP=200              messages before each measured run
#   YUBIN_BIN=path          default build-release/yubin (built here)
#   FS=image|tmp            each run on a fresh loop-mounted ext4 image
#                           (default as root) or in a fresh directory
#   FS_IMAGE_SIZE=6G        size of that (sparse) image
#   WRITE_DOCS=auto|1|0     update docs/BENCHMARKS.md (auto: after a clean run)
#   KEEP_TMP=1              keep the temporary directory
#
# Needs smtp-source (Debian postfix package) and openssl; run as root so
# that yubin drops to its service user as in production.  Loopback only;
# every server started is stopped by PID, also on error or ^C.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/release-build.sh"
exec /usr/bin/python3 "$here/audit.py" "$@"
