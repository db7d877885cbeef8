/* sieve.h — the Sieve mail filtering language (RFC 5228) with the extensions
 * yubin supports: fileinto, envelope, encoded-character, copy (RFC 3894),
 * mailbox (RFC 5490), reject and ereject (RFC 5429), vacation (RFC 5230),
 * imap4flags (RFC 5232), variables (RFC 5229), body (RFC 5173), relational
 * (RFC 5231), subaddress (RFC 5233), date and index (RFC 5260), include
 * (RFC 6609) and comparator-i;ascii-numeric (RFC 4790).
 *
 * Two steps.  sieve_compile checks a script as an upload must be checked
 * (syntax, require, argument types, tag conflicts, everything the RFCs
 * make a compile-time error) and reports the first error with its line and
 * column.  sieve_run evaluates a compiled script against one message and
 * returns what to do with it: an ordered, de-duplicated list of actions and
 * whether the implicit keep (RFC 5228 2.10.2) still applies.  Nothing here
 * delivers, sends or stores: local delivery and ManageSieve do that with
 * the result.  Pure apart from the callbacks the caller passes.
 *
 * Bounds: script size, nesting depth, include depth, variables (count and
 * value length), redirects, evaluation steps and the work of comparing
 * strings (a :matches costs value length times key length) are all limited
 * (sieve_limits); hitting one at compile time is a compile error, at run
 * time a runtime error (the implicit keep is then all that happens). */
#ifndef YUBIN_SIEVE_SIEVE_H
#define YUBIN_SIEVE_SIEVE_H
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include "lib/strutil.h"

#define SIEVE_MAX_SCRIPT_SIZE   (1024 * 1024)
#define SIEVE_MAX_NESTING       32    /* blocks and tests inside one another */
#define SIEVE_MAX_INCLUDE_DEPTH 10
#define SIEVE_MAX_INCLUDES      255   /* include commands compiled, in all */
#define SIEVE_MAX_TOTAL_SIZE    (4 * SIEVE_MAX_SCRIPT_SIZE)  /* all scripts together */
#define SIEVE_MAX_VARIABLES     255   /* per script scope */
#define SIEVE_MAX_VAR_SIZE      4096  /* longer values are cut (UTF-8 safe) */
#define SIEVE_MAX_EXPANDED      65536 /* a string after ${...} expansion */
#define SIEVE_MAX_REDIRECTS     4
#define SIEVE_MAX_STEPS         100000
#define SIEVE_MAX_WORK          200000000  /* octets compared, all tests together */
#define SIEVE_MAX_ACTIONS       256

typedef struct sieve_script sieve_script;

/* Where a compile error is: the script name ("" for the main script, else
 * the included script's name), 1-based line and column (columns count
 * characters), and a sentence. */
typedef struct sieve_error {
	char *script;
	unsigned line, col;
	char *msg;
} sieve_error;
void sieve_error_free(sieve_error *e);

/* Loads the script `name` for `include` (RFC 6609): global selects the
 * admin's scripts (:global) instead of the user's (:personal).  Returns true
 * with a malloc'd text, or false when there is no such script. */
typedef bool (*sieve_load_fn)(void *ctx, const char *name, bool global,
			      char **text_r, size_t *len_r);
typedef struct sieve_loader {
	sieve_load_fn load;   /* NULL: every include is of a missing script */
	void *ctx;
} sieve_loader;

/* Compile text[0, len).  True with *script_r set; false with *err_r filled
 * (free it with sieve_error_free). */
bool sieve_compile(const char *text, size_t len, const sieve_loader *loader,
		   sieve_script **script_r, sieve_error *err_r);
void sieve_script_free(sieve_script **s);

/* The message as stored (LF or CRLF line ends) and its envelope.  from is
 * the reverse-path without brackets, "" for the null sender; to is the
 * original recipient (RFC 5228 5.4). */
typedef struct sieve_message {
	const char *data;
	size_t len;
} sieve_message;
typedef struct sieve_envelope {
	const char *from;
	const char *to;
	const char *auth;     /* the authenticated submitter or NULL */
} sieve_envelope;

/* What the script may ask of its surroundings.  Every member may be NULL. */
typedef struct sieve_env {
	/* Does the user's mailbox `name` exist?  NULL: every mailbox exists. */
	bool (*mailbox_exists)(void *ctx, const char *name);
	/* The current time for currentdate; NULL: time(NULL). */
	time_t (*now)(void *ctx);
	void *ctx;
	/* The local zone's offset east of UTC in minutes for date tests
	 * without :zone; used when zone_set, else the process's local zone. */
	int zone_minutes;
	bool zone_set;
} sieve_env;

/* What delivery still has to do for each kind (not done here):
 *  - FILEINTO: map the UTF-8 name as IMAP CREATE does; create only with
 *    create set (the run already failed when the folder was missing).
 *  - REDIRECT: send the message unchanged to the addr-spec in target, with
 *    the original envelope sender (SRS, "<>" stays "<>"); refuse to
 *    redirect a message that carries our own loop marker (RFC 5228 4.2).
 *  - REJECT / EREJECT: nothing is sent when the envelope sender is empty
 *    (RFC 5429 2.1-2.2); otherwise an MDN-style refusal (or, for ereject,
 *    a 5xx at protocol level where delivery still can).
 *  - VACATION: sieve_vacation_should_reply(), then at most one reply per
 *    (sender, handle) per vac.seconds; record the sender only after the
 *    reply was sent (RFC 5230 4.1, 5).  :from should be one of the
 *    user's own addresses. */
typedef enum sieve_action_kind {
	SIEVE_ACT_KEEP,       /* store in INBOX (explicit keep) */
	SIEVE_ACT_FILEINTO,   /* store in target */
	SIEVE_ACT_REDIRECT,   /* forward, unchanged, to target */
	SIEVE_ACT_DISCARD,
	SIEVE_ACT_REJECT,     /* refuse with an MDN-like report; target: reason */
	SIEVE_ACT_EREJECT,    /* refuse at protocol level if possible */
	SIEVE_ACT_VACATION,
} sieve_action_kind;

typedef struct sieve_vacation {
	long seconds;         /* :days times 86400, clamped to 1..365 days */
	char *subject;        /* NULL: "Auto: " + the original subject */
	char *from;           /* NULL: the user's address */
	strlist addresses;    /* :addresses */
	bool mime;            /* reason is a MIME entity */
	char *handle;         /* given or derived (RFC 5230 4.2) */
	char *reason;
} sieve_vacation;

typedef struct sieve_action {
	sieve_action_kind kind;
	char *target;         /* folder, address or reject reason; NULL else */
	strlist flags;        /* imap4flags: flags to set on the stored copy */
	bool copy;            /* :copy: does not cancel the implicit keep */
	bool create;          /* :create (RFC 5490) */
	sieve_vacation vac;   /* SIEVE_ACT_VACATION only */
	unsigned line;        /* where in the script (main or included) */
} sieve_action;

typedef struct sieve_result {
	sieve_action *actions;
	size_t n;
	bool implicit_keep;   /* store in INBOX with keep_flags as well */
	strlist keep_flags;
	char *error;          /* runtime error (then only the implicit keep) */
} sieve_result;

/* Run script on a message.  Always produces a result: on a runtime error
 * the actions are dropped, implicit_keep is true and error says why. */
void sieve_run(const sieve_script *script, const sieve_message *msg,
	       const sieve_envelope *env, const sieve_env *environment,
	       sieve_result *result_r);
void sieve_result_free(sieve_result *r);

/* The RFC 5230 section 5 / RFC 3834 2 rules: false (with *why_r, a static
 * sentence) when this message must not get an automatic reply.  user is
 * the recipient's own address; addresses the :addresses list (may be
 * NULL); check_recipient applies the 4.5 test that one of the user's
 * addresses is in To, Cc, Bcc or Resent-To/Cc/Bcc. */
bool sieve_vacation_should_reply(const sieve_message *msg, const sieve_envelope *env,
				 const char *user, const strlist *addresses,
				 bool check_recipient, const char **why_r);

/* The capabilities sieve_compile accepts in `require`, space-separated
 * (ManageSieve's SIEVE capability). */
const char *sieve_capabilities(void);
#endif
