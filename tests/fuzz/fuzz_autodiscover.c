/* fuzz_autodiscover.c — libFuzzer target for the Autodiscover request
 * scanner (autoconf/autodiscover.c).  Invariants checked (abort() when
 * one breaks):
 *  - a refused body leaves the request empty;
 *  - an accepted one yields values within their bound, without NUL bytes
 *    and without the spaces the scanner trims;
 *  - the answers built from an accepted address are well-formed enough
 *    for the scanner itself to read back as markup (the address escaped).
 * Input: the request body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "autoconf/autoconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_value(const char *v)
{
	if (v == NULL)
		return;
	size_t n = strlen(v);
	if (n == 0 || n > 1024 || v[0] == ' ' || v[n - 1] == ' ')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > AUTODISCOVER_MAX_BODY)
		return 0;
	autodiscover_request req;
	autodiscover_status st = autodiscover_parse((const char *)data, size, &req);
	if (st != AUTODISCOVER_OK) {
		if (req.email != NULL || req.schema != NULL)
			abort();
		return 0;
	}
	check_value(req.email);
	check_value(req.schema);
	if (req.email != NULL) {
		static config_listener ls[] = {{ROLE_IMAPS, "::", 993, 0}, {ROLE_SUBMISSION, "::", 587, 0}};
		config cfg = {.hostname = "mail.example.org", .listeners = ls, .n_listeners = 2};
		autoconf_offer o;
		autoconf_offer_build(&cfg, &o);
		buf b;
		buf_init(&b, BUF_UNBOUNDED);
		autodiscover_settings(&o, req.email, &b);
		/* our own answer, with the prefix the scanner expects of a request */
		autodiscover_request back;
		if (autodiscover_parse(buf_str(&b), b.len, &back) != AUTODISCOVER_OK)
			abort();
		autodiscover_request_free(&back);
		buf_free(&b);
	}
	autodiscover_request_free(&req);
	return 0;
}
