/* accounts.h — the account store: local domains, virtual users with password
 * hashes, and aliases, kept in SQLite (data_dir/accounts.db).  Every lookup
 * reads the database afresh, so `yubin user|domain|alias` changes made while
 * the server runs take effect at once.  This module does not hash passwords
 * (password.h) and knows nothing about SMTP replies.
 *
 * Addresses are normalised before they are stored or looked up: the domain is
 * lower-cased, and the ASCII letters of the local part are lower-cased (local
 * parts match case-insensitively; UTF-8 bytes are kept as they are). */
#ifndef YUBIN_ACCOUNTS_H
#define YUBIN_ACCOUNTS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/strutil.h"

typedef struct accounts accounts;

typedef enum accounts_status {
	ACC_OK = 0,
	ACC_NOT_FOUND,      /* no such domain / user / alias */
	ACC_EXISTS,         /* already present */
	ACC_INVALID,        /* malformed address or domain */
	ACC_NO_DOMAIN,      /* user or alias in a domain that is not local */
	ACC_LOOP,           /* alias expansion loops or nests too deep */
	ACC_LIMIT,          /* a per-account bound is reached */
	ACC_ERROR,          /* database error: temporary for the client */
} accounts_status;

/* Open (creating the schema if needed) the database at path.  static_domains
 * (may be NULL) are local in addition to those in the database; the list is
 * copied.  On failure returns NULL and sets *err_r to a malloc'd sentence. */
accounts *accounts_open(const char *path, const strlist *static_domains, char **err_r);
void accounts_close(accounts **acc);
/* Human sentence for the last ACC_ERROR (valid until the next call). */
const char *accounts_last_error(accounts *acc);

/* Normalise an address (see above) into a malloc'd string; NULL if it is not
 * local@domain with a non-empty local part and a plausible domain. */
char *accounts_normalize(const char *address);

/* Domains. */
accounts_status accounts_domain_add(accounts *acc, const char *domain);
accounts_status accounts_domain_del(accounts *acc, const char *domain);
/* Every local domain (database and static), sorted, into out (appended). */
accounts_status accounts_domain_list(accounts *acc, strlist *out);
bool accounts_domain_is_local(accounts *acc, const char *domain);

/* Users: address = the mailbox address; hash = a crypt(3) hash string. */
accounts_status accounts_user_add(accounts *acc, const char *address, const char *hash);
accounts_status accounts_user_set_hash(accounts *acc, const char *address, const char *hash);
accounts_status accounts_user_del(accounts *acc, const char *address);
/* All user addresses, sorted. */
accounts_status accounts_user_list(accounts *acc, strlist *out);
/* The stored hash of a user (malloc'd) or ACC_NOT_FOUND. */
accounts_status accounts_user_get_hash(accounts *acc, const char *address, char **hash_r);

/* Aliases: alias is local@domain, or @domain for a catch-all of that domain;
 * target is any address (local or remote).  One alias may have many targets
 * (one row each). */
accounts_status accounts_alias_add(accounts *acc, const char *alias, const char *target);
/* Remove one target, or every target when target is NULL. */
accounts_status accounts_alias_del(accounts *acc, const char *alias, const char *target);
/* "alias target" lines, sorted. */
accounts_status accounts_alias_list(accounts *acc, strlist *out);

/* Resolve a recipient address to where the mail must go.
 *   - An address in a non-local domain: ACC_NO_DOMAIN (the caller decides if
 *     it may relay); nothing is appended.
 *   - Otherwise, look-up order for each address: exact alias, exact user,
 *     then with a "+tag" suffix of the local part removed (alias, user),
 *     then the domain catch-all alias "@domain".
 *   - Aliases expand recursively (depth limit 10); an address seen twice on
 *     one expansion path is a loop: ACC_LOOP.
 *   - local_r gets the normalised user addresses (mailboxes) to deliver to,
 *     remote_r the addresses in non-local domains; both de-duplicated.
 *   - A local address with no user, alias or catch-all: ACC_NOT_FOUND. */
accounts_status accounts_resolve(accounts *acc, const char *address,
                                 strlist *local_r, strlist *remote_r);

/* Send-as: addresses a user may send as besides its own and its aliases
 * (a shared mailbox, an address at another provider).  address is an
 * address in any domain, or "@domain" for every address of that domain.
 * add: ACC_NOT_FOUND when the user does not exist, ACC_EXISTS when listed.
 * del: ACC_NOT_FOUND when not listed.  Deleting a user deletes its list. */
accounts_status accounts_sendas_add(accounts *acc, const char *user, const char *address);
accounts_status accounts_sendas_del(accounts *acc, const char *user, const char *address);
/* The user's send-as entries, sorted, appended to out. */
accounts_status accounts_sendas_list(accounts *acc, const char *user, strlist *out);

/* May the authenticated user send as address (envelope sender, From and
 * Sender fields)?  ACC_OK when it is the user's own address
 * (case-insensitive, "+tag" allowed), an address whose resolution (aliases,
 * "+tag", catch-all) includes the user, or on the user's send-as list (the
 * address, its untagged form, or "@domain"); ACC_NOT_FOUND when not;
 * ACC_ERROR on a database error (temporary: the caller must not refuse
 * for good). */
accounts_status accounts_user_may_send_as(accounts *acc, const char *user, const char *address);

/* Quotas: what one account may keep (bytes of mail, messages), and which
 * 90 % warnings it has been sent (delivery/quota.h decides when).  Each
 * limit is ACC_QUOTA_DEFAULT (limits.mailbox_quota[_messages] apply),
 * ACC_QUOTA_NONE (no limit for this account), or a positive number. */
#define ACC_QUOTA_DEFAULT (-1)
#define ACC_QUOTA_NONE 0
#define ACC_QUOTA_WARNED_STORAGE 1u
#define ACC_QUOTA_WARNED_MESSAGES 2u
typedef struct accounts_quota {
	int64_t storage;          /* bytes */
	int64_t messages;
	unsigned warned;          /* ACC_QUOTA_WARNED_* bits */
} accounts_quota;

/* The user's quota (defaults when nothing was set): ACC_NOT_FOUND when
 * there is no such user (then *q_r holds the defaults). */
accounts_status accounts_quota_get(accounts *acc, const char *address, accounts_quota *q_r);
/* Store the user's quota and warning bits whole: ACC_NOT_FOUND when there
 * is no such user, ACC_INVALID for a limit below ACC_QUOTA_DEFAULT.
 * Deleting the user deletes them. */
accounts_status accounts_quota_set(accounts *acc, const char *address, const accounts_quota *q);

#endif
