/* quotawarn.h — the message that tells a user the mailbox is nearly full
 * (store/quota.h decides when: at QUOTA_WARN_PERCENT of a limit, once per
 * crossing), and its delivery straight into the account's INBOX, past the
 * quota that it is about.  Knows nothing about the queue. */
#ifndef YUBIN_QUOTAWARN_H
#define YUBIN_QUOTAWARN_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "lib/buf.h"
#include "store/quota.h"

/* The warning's bytes (LF line ends): from MAILER-DAEMON@hostname to
 * account, about the resources in which (ACC_QUOTA_WARNED_* bits), with
 * the account's usage (bytes, messages) against its limits l.  False when
 * out is full. */
bool quota_warn_build(buf *out, const char *hostname, const char *account, quota_limits l, uint64_t bytes,
                      uint64_t messages, unsigned which, time_t now);

/* Build the warning and deliver it into the Maildir root (the account's
 * INBOX) under a name of its own; logged.  False when it could not be
 * written (errno set). */
bool quota_warn_deliver(const char *root, const char *hostname, const char *account, quota_limits l,
                        uint64_t bytes, uint64_t messages, unsigned which);

#endif
