/* sievedeliver.h — running an account's active Sieve script at local
 * delivery (RFC 5228 and the extensions of sieve/sieve.h) and turning its
 * result into what delivery does: the folders the message is written to
 * (with imap4flags' flags), and the messages sent in the account's name
 * (redirect, vacation, reject, ereject), queued durably before the
 * recipient is marked done.
 *
 * Two steps per recipient, both on a delivery thread:
 *   1. sieve_delivery_plan: run the script, check what the actions need
 *      (the folder names, the redirect addresses, whether a vacation reply
 *      is due), and build the messages to send.  Anything that cannot be
 *      done becomes the implicit keep, with the reason in the plan's note:
 *      a script that does not compile or fails at run time, a folder name
 *      that cannot be a folder, a redirect to an address that does not
 *      exist or that this message already passed (the loop marker: a
 *      Delivered-To field naming the recipient, added to every redirected
 *      copy), so that mail is never lost to a filter.
 *   2. after local.c has written the stores, sieve_delivery_send queues
 *      the messages and records the vacation replies sent (RFC 5230 4.1:
 *      at most one per sender and handle in :days).
 * Redirected mail keeps its envelope sender; outbound delivery applies SRS
 * when it leaves (rewrite.srs).  Replies and refusals go from the null
 * sender.  A script that cannot be read at all (an I/O error, not a
 * missing script) defers the recipient. */
#ifndef YUBIN_DELIVERY_SIEVEDELIVER_H
#define YUBIN_DELIVERY_SIEVEDELIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/config.h"
#include "lib/strutil.h"
#include "queue/qfile.h"
#include "queue/queue.h"

typedef struct sieve_delivery sieve_delivery;

/* What the server keeps for Sieve: the script cache, the vacation memory
 * (data_dir/vacation.db), a handle on the account store.  NULL with
 * *err_r (malloc'd). */
sieve_delivery *sieve_delivery_open(const config *cfg, queue *q, char **err_r);
void sieve_delivery_free(sieve_delivery **sd);

/* One copy to write. */
typedef struct sieve_store {
	char *folder;          /* the Maildir (INBOX's root or a ".Name" folder) */
	char *name;            /* the folder as IMAP shows it, for logs */
	unsigned flags;        /* MDF_* (store/mdname.h) */
	strlist keywords;      /* other imap4flags flags */
	bool create;           /* fileinto :create: make the folder if missing */
} sieve_store;

/* One message to queue. */
typedef struct sieve_send {
	const char *what;      /* "redirect", "vacation", "reject", "ereject" (static) */
	char *sender;          /* envelope sender ("" for <>) */
	strlist local, remote; /* its recipients, resolved */
	char *data;            /* LF line ends */
	size_t len;
	bool requiretls;       /* redirect of a REQUIRETLS message: it keeps the
	                        * requirement (RFC 8689 4) */
	char *vac_handle;      /* vacation: remember (sender, handle) until vac_until */
	time_t vac_until;
} sieve_send;

typedef struct sieve_plan {
	bool ran;              /* a script decided (else: deliver as without Sieve) */
	bool tempfail;         /* the script could not be read now: defer */
	sieve_store *stores;
	size_t n_stores;
	sieve_send *sends;
	size_t n_sends;
	buf did;               /* what the script did, for the log: "fileinto:Work; redirect:a@b" */
	buf error;             /* what could not be done and why (then the keep applies) */
} sieve_plan;

/* Step 1 for recipient idx of env, whose INBOX is root; keep_folder is
 * where a keep goes (root, or its Junk folder for quarantined mail). */
void sieve_delivery_plan(sieve_delivery *sd, const qenvelope *env, size_t idx, const char *root,
                         const char *keep_folder, const char *body, size_t len, sieve_plan *p);

/* The plan without a script: one copy into folder (INBOX's root, or its
 * Junk folder when junk). */
void sieve_plan_keep(sieve_plan *p, const char *folder, bool junk);

/* Step 2: queue the plan's messages; each queued file's path is appended
 * to queued (local_outcome.queued).  False when one could not be
 * queued: the recipient then waits, and the whole plan runs again on the
 * next try (the copies already written are found, not written twice). */
bool sieve_delivery_send(sieve_delivery *sd, const qenvelope *env, size_t idx, const sieve_plan *p,
                         strlist *queued);

void sieve_plan_free(sieve_plan *p);

#endif
