/* mtasts.h — MTA-STS (RFC 8461) as pure logic: which `_mta-sts` TXT
 * record counts (3.1), the policy file's parser (3.2), whether an MX host
 * matches a policy's patterns (4.1), and the cache decisions of 5.1 (use
 * the cached policy, fetch, or act as if there were none).  No I/O: the
 * look-ups, the HTTPS fetch and the SQLite cache are mtastsget.c's,
 * mtastsfetch.c's and mtastsdb.c's. */
#ifndef YUBIN_DELIVERY_MTASTS_H
#define YUBIN_DELIVERY_MTASTS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lib/strutil.h"

#define MTASTS_MAX_AGE_MAX 31557600L    /* RFC 8461 3.2: one year */
#define MTASTS_POLICY_MAX ((size_t)64 << 10) /* bytes of a policy file we read */
#define MTASTS_ID_MAX 32                /* RFC 8461 3.1: 1*32 alphanumerics */

typedef enum mtasts_mode {
	MTASTS_MODE_NONE,
	MTASTS_MODE_TESTING,
	MTASTS_MODE_ENFORCE,
} mtasts_mode;

typedef struct mtasts_policy {
	mtasts_mode mode;
	strlist mx;           /* patterns, lower case, no final dot */
	long max_age;         /* seconds, 0 .. MTASTS_MAX_AGE_MAX */
	char *id;             /* the TXT id it was fetched under (NULL from the parser) */
	time_t fetched;
	time_t expires;       /* fetched + max_age */
} mtasts_policy;

/* Why a domain that announces a policy (a valid `_mta-sts` TXT) has none
 * to apply, for TLS-RPT (RFC 8460 4.3.2.2): the fetch failed (connection,
 * HTTP status, media type, size, time-out), the policy host's certificate
 * did not validate (PKIX, RFC 8461 3.3), or the body is no valid policy. */
typedef enum mtasts_failure {
	MTASTS_FAIL_NONE,
	MTASTS_FAIL_FETCH,
	MTASTS_FAIL_WEBPKI,
	MTASTS_FAIL_INVALID,
} mtasts_failure;

/* "none", "testing", "enforce". */
const char *mtasts_mode_name(mtasts_mode m);

typedef enum mtasts_txt {
	MTASTS_TXT_NONE,      /* no record, none starting with v=STSv1, or not exactly one valid one */
	MTASTS_TXT_FOUND,     /* exactly one valid record: its id */
	MTASTS_TXT_FAILED,    /* the look-up failed for now */
} mtasts_txt;

/* RFC 8461 3.1: of the TXT records at _mta-sts.DOMAIN (values: each
 * record's strings joined; lens as dns_answer's, may be NULL), only those
 * starting with "v=STSv1;" count; exactly one must be left and it must be
 * valid (an id of 1 to 32 letters and digits; other fields are ignored).
 * FOUND with *id_r (malloc'd), else NONE with *why_r saying why. */
mtasts_txt mtasts_txt_select(const char *const *values, const size_t *lens, size_t n, char **id_r,
                             const char **why_r);

/* RFC 8461 3.2: parse a policy body (LF or CRLF lines, "key: value";
 * unknown keys ignored; a repeated key other than mx: the first counts).
 * version STSv1, mode and max_age are required, and at least one mx
 * unless the mode is none; max_age above one year is invalid.  False with
 * *why_r on an invalid policy; p is then empty.  mtasts_policy_clear
 * frees what it holds. */
bool mtasts_policy_parse(const char *text, size_t len, mtasts_policy *p, const char **why_r);
void mtasts_policy_clear(mtasts_policy *p);
/* A deep copy (malloc'd); mtasts_policy_free frees one. */
mtasts_policy *mtasts_policy_dup(const mtasts_policy *p);
void mtasts_policy_free(mtasts_policy **p);

/* RFC 8461 4.1: pattern "mx.example.com" matches that name; "*.example.com"
 * matches exactly one more label on the left ("a.example.com", not
 * "example.com" nor "a.b.example.com").  ASCII case-insensitive; one final
 * dot of host is ignored; an address literal never matches. */
bool mtasts_pattern_match(const char *pattern, const char *host);
/* Some pattern of p matches host. */
bool mtasts_mx_match(const mtasts_policy *p, const char *host);

typedef enum mtasts_action {
	MTASTS_USE_CACHED,    /* apply the cached policy */
	MTASTS_FETCH,         /* fetch the policy for the TXT id */
	MTASTS_NO_POLICY,     /* deliver as if there were none */
} mtasts_action;

/* RFC 8461 5.1, before any fetch: cached_valid (a cached policy that has
 * not expired) with cached_id; what the TXT look-up found; fetch_blocked
 * (a fetch for this id failed a moment ago: not again yet).  A TXT with
 * the cached id uses the cache; a new id fetches; a missing or failed TXT
 * never drops a valid cached policy (an attacker could strip it). */
mtasts_action mtasts_decide(bool cached_valid, const char *cached_id, mtasts_txt txt, const char *txt_id,
                            bool fetch_blocked);
/* After a fetch: a good policy replaces the cache (FETCH: "use and
 * store the new one"); a failed or invalid one never replaces a valid
 * cached policy (USE_CACHED), and without one there is no policy. */
mtasts_action mtasts_after_fetch(bool fetch_ok, bool cached_valid);

#endif
