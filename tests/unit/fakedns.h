/* fakedns.h — an in-memory zone for the unit tests of the modules that
 * take a look-up function (SPF, DMARC): the same shape as dns_lookup_any,
 * answering at once from a table, or holding the question so a test can
 * answer it later (or never, after a cancel). */
#ifndef YUBIN_TESTS_FAKEDNS_H
#define YUBIN_TESTS_FAKEDNS_H

#include <stdbool.h>

#include "dns/resolver.h"

typedef struct fakedns_rr {
	const char *name;
	int type;                /* DNS_TYPE_* */
	dns_status status;       /* DNS_OK with values, or the failure */
	const char *values[12];  /* NULL-terminated */
} fakedns_rr;

#define FAKEDNS_ASKED 8

typedef struct fakedns {
	const fakedns_rr *zone;  /* ends with a NULL name */
	int queries;
	char *asked[FAKEDNS_ASKED];  /* the first names asked */
	bool later;              /* hold the question instead of answering */
	dns_callback *held_cb;
	void *held_arg;
	char *held_name;
	int held_type;
} fakedns;

/* The look-up function (ctx: a fakedns).  A name with records of another
 * type is NODATA; a name not in the zone NXDOMAIN. */
void fakedns_lookup(void *ctx, const char *name, int type, dns_callback *cb, void *arg);
/* Answer name / type now, from the zone. */
void fakedns_answer(const fakedns *f, const char *name, int type, dns_callback *cb, void *arg);
/* Answer the held question (and forget it). */
void fakedns_release(fakedns *f);
void fakedns_free(fakedns *f);

#endif
