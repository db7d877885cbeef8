/* quotawarn.h — the message that tells a user the mailbox is nearly full
 * (store/quota.h decides when: at QUOTA_WARN_PERCENT of a limit, once per
 * crossing), its delivery straight into the account's INBOX, past the
 * quota that it is about, and the stored state of the warnings
 * (store/quotabook.h) brought up to date after mail was added, by local
 * delivery or by IMAP.  Knows nothing about the queue. */
#ifndef YUBIN_QUOTAWARN_H
#define YUBIN_QUOTAWARN_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "lib/buf.h"
#include "store/quota.h"
#include "store/quotabook.h"

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

/* The account (INBOX Maildir root) now holds bytes / messages under its
 * limits l, with the warning bits warned stored (quota_book_limits;
 * QUOTA_BOOK_NO_ACCOUNT: not in the account store, nothing to do);
 * counted: that usage was read (false: nothing is limited, or it could
 * not be read).  Delivers the warning when one is due, before the new
 * bits are stored (a crash between the two repeats the warning rather
 * than losing it; a warning not written is due again next time), and
 * stores the bits when they changed.  Touches the disk: workers only. */
void quota_warn_settle(quota_book *b, const char *hostname, const char *account, const char *root,
                       quota_limits l, unsigned warned, bool counted, uint64_t bytes, uint64_t messages);

/* After mail was added to the account other than by delivery (IMAP
 * APPEND, COPY): read its limits, warning bits and usage now, and settle
 * as above.  Two sessions adding mail at the same moment may both find a
 * warning due: the width of that race is the one extra warning.  Workers
 * only. */
void quota_warn_recheck(quota_book *b, const char *hostname, const char *account, const char *root);

#endif
