/* quotabook.h — the quota look-ups that SMTP (RCPT), local delivery and
 * IMAP share: an account's limits (its own values in the account store
 * over limits.mailbox_quota[_messages]), its usage (store/usage.h,
 * remembered for the QUOTA_BOOK_ACCOUNTS accounts looked at last), and the
 * durable state of its 90 % warnings.  Thread-safe: one lock around its
 * own account-store handle and the caches; every call but
 * quota_book_unlimited_now may wait on the disk, so only that one is for
 * the event loop.  Counting touches the disk (a stat per
 * folder once counted; a directory read when a folder changed). */
#ifndef YUBIN_STORE_QUOTABOOK_H
#define YUBIN_STORE_QUOTABOOK_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"
#include "store/quota.h"

#define QUOTA_BOOK_ACCOUNTS 64

typedef struct quota_book quota_book;

/* Open a handle on the account store of cfg (cfg must outlive the book).
 * NULL with *err_r (malloc'd) when the store cannot be opened. */
quota_book *quota_book_open(const config *cfg, char **err_r);
void quota_book_free(quota_book **b);

/* The limits in force for account (normalised address) and the warning
 * bits sent (warned_r may be NULL).  An account that is not in the store
 * (deleted while its mail waits) has the defaults, and no warning bits:
 * *warned_r is then QUOTA_BOOK_NO_ACCOUNT.  False on a database error
 * (logged; *l_r then holds the defaults). */
#define QUOTA_BOOK_NO_ACCOUNT (~0u)
bool quota_book_limits(quota_book *b, const char *account, quota_limits *l_r, unsigned *warned_r);

/* For the event loop, which must not wait: true when account's limits,
 * read from the store less than QUOTA_BOOK_LIMITS_TTL seconds ago, limit
 * nothing.  False when they limit something, are not known (or older), or
 * a worker holds the book this moment: then ask on a worker. */
#define QUOTA_BOOK_LIMITS_TTL 30
bool quota_book_unlimited_now(quota_book *b, const char *account);

/* The bytes and messages of the account whose INBOX Maildir is root.
 * False when it cannot be read (a mailbox not made yet holds nothing: the
 * caller decides). */
bool quota_book_usage(quota_book *b, const char *root, uint64_t *bytes_r, uint64_t *messages_r);

/* Store the account's warning bits (ACC_QUOTA_WARNED_*).  False on error
 * (logged), or when the account is not in the store. */
bool quota_book_set_warned(quota_book *b, const char *account, unsigned warned);

/* Would add_bytes in one more message take the account (root its INBOX
 * Maildir) past a limit?  False also when nothing is limited or the usage
 * cannot be read (the delivery that follows finds out). */
bool quota_book_full(quota_book *b, const char *account, const char *root, uint64_t add_bytes);

#endif
