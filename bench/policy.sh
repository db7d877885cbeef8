#!/bin/bash
# Policy-layer benchmark (issue 11): what the rules, a DNS blocklist, rate
# limits and rspamd cost per message, yubin against a private Postfix 3.7
# doing the same checks (access maps, header/body checks, anvil, postscreen
# DNSBL, smtpd_milters), both driven by smtp-source, in one run:
#   plain   no policy (the SMTP acceptance set-up)
#   rules   20 rules, one DNSBL answered locally, rate limits on
#   rspamd  one private rspamd in milter mode in the path of both
# Method and rule sets: bench/policy.py; results: docs/BENCHMARKS.md.
#
#   N=10000 bench/policy.sh
#
# Environment overrides (all optional):
#   N=10000                 messages per row
#   RSPAMD_N=$N             messages per row with rspamd in the path
#   SESSIONS="10 50"        concurrent sessions to measure
#   MODES="reconnect persistent"
#                           one message per connection / smtp-source -d
#   CONFIGS="plain rules rspamd"
#   SERVERS="yubin postfix"
#   SIZE=4096               message payload bytes (smtp-source -l)
#   WARMUP=200              messages sent before each measured row
#   REPEAT=1                measure every row this many times (median)
#   DNS_ADDR=127.0.53.53    loopback address of the benchmark's DNS server
#                           (port 53: Postfix asks resolv.conf's servers)
#   DNS_NEG_TTL=0           negative TTL of its NXDOMAIN answers
#   RSPAMD_WORKERS=1        rspamd proxy (self-scanning) worker processes
#   MILTER=unix|inet        how both servers reach rspamd: a Unix socket
#                           (default) or TCP on 127.0.0.1
#   YUBIN_WITHOUT="..."     leave parts of yubin's rule set out ("dnsbl",
#                           "ratelimits", "lists"): only to try the script
#                           on a build that lacks them; reported as such
#   YUBIN_BIN=path          default build-release/yubin (built here)
#   WRITE_DOCS=auto|1|0     update the "Policy layer (issue 11)" section of
#                           docs/BENCHMARKS.md (auto: only after a clean run)
#   KEEP_TMP=1              keep the temporary directory (logs, configs)
#
# Needs root (Postfix's master, port 53 on a loopback address, a private
# mount namespace for Postfix's resolv.conf, yubin's privilege drop), the
# Debian postfix, postfix-pcre, rspamd, python3-dnslib, openssl and
# util-linux packages.  Loopback only; every process started is stopped by
# PID (Postfix with `postfix -c DIR stop`) at the end, also on error or ^C.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
/usr/bin/python3 -c 'import dnslib' 2>/dev/null || {
	echo "bench/policy.sh: python3-dnslib is not installed (apt-get install python3-dnslib)" >&2
	exit 2
}
. "$here/release-build.sh"
exec /usr/bin/python3 "$here/policy.py" "$@"
