#!/bin/bash
# DANE delivery benchmark: messages per second from the queue to one TLS
# sink behind 100 domains of a DNSSEC-signed test zone, each MX with a
# matching "3 1 1" TLSA record, with DANE (dns.trust_anchor = the zone's
# DS record) against opportunistic TLS (dns.trust_anchor = ""); target
# within 10 %.  Method: bench/dane.py and docs/BENCHMARKS.md ("DANE").
#
#   bench/dane.sh
#
# Environment overrides (all optional):
#   MESSAGES=10000          messages per round (one recipient each); the fill
#                           must stay under yubin's first retry (60 s)
#   DESTINATIONS=100        domains d1.dane.bench .. dN.dane.bench
#   SIZE=4096               bytes per message, headers included
#   ROUNDS=3                rounds; each mode once per round, medians shown
#   MODES="dane tls"        which modes to measure
#   SINK_PROCS=2            processes of the TLS sink (one port, SO_REUSEPORT)
#   FILL_SESSIONS=10        SMTP sessions that fill the queue
#   DRAIN_TIMEOUT=180       seconds a drain may take at most
#   STALL_TIMEOUT=30        give up a drain after this long without progress
#   YUBIN_BIN=path          default build-release/yubin (built here if missing)
#   WRITE_DOCS=1            replace the generated part of the "DANE" section
#                           of docs/BENCHMARKS.md
#
# Needs root (yubin drops to nobody), openssl, python3-dnslib,
# python3-dnspython and python3-cryptography.  Loopback only; everything
# started is stopped by PID, also on error or ^C.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/release-build.sh"
export DESTINATIONS="${DESTINATIONS:-100}"
exec /usr/bin/python3 "$here/dane.py" "$@"
