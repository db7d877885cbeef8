/* dmarcfrom.c — the RFC5322.From domain DMARC is about (RFC 7489 3.1,
 * 6.6.1).  yubin's rule: exactly one From field holding exactly one
 * address whose domain is a DNS name; anything else (no From, two From
 * fields, a list of authors, a group, an address literal) is a message
 * DMARC cannot be applied to safely, which dmarc_check_start reports as
 * permerror with disposition reject: 6.6.1 notes such messages are
 * typically rejected, and evaluating only one of several authors would
 * let the others ride on it.  Pure: reads the header, no DNS. */
#include "msgauth/dmarc.h"

#include <stdlib.h>

#include "lib/strutil.h"
#include "mime/address.h"
#include "mime/header.h"
#include "msgauth/dkimtags.h"

static const char *const problems[] = {
	[DMARC_FROM_OK] = NULL,
	[DMARC_FROM_MISSING] = "the message has no From field",
	[DMARC_FROM_MULTIPLE] = "the From field names more than one author (or there are several From fields)",
	[DMARC_FROM_INVALID] = "the From field has no address with a usable domain",
};

const char *dmarc_from_problem(dmarc_from_status s)
{
	return problems[s];
}

/* The one address of value (an unfolded From value), or a status. */
static dmarc_from_status one_address(const char *value, char **domain_r)
{
	mime_addrlist l;
	mime_parse_addresses(value, &l);
	const mime_address *found = NULL;
	size_t n = 0;
	for (size_t i = 0; i < l.n; i++)
		if (l.items[i].mailbox != NULL && l.items[i].host != NULL) {
			found = &l.items[i];
			n++;
		}
	dmarc_from_status s = DMARC_FROM_OK;
	if (n > 1)
		s = DMARC_FROM_MULTIPLE;
	else if (n == 0 || found->host[0] == '\0' || !dkim_name_valid(found->host))
		s = DMARC_FROM_INVALID;
	else {
		*domain_r = xstrdup(found->host);
		str_ascii_lower(*domain_r);
	}
	mime_addrlist_free(&l);
	return s;
}

dmarc_from_status dmarc_from_domain(const char *msg, size_t len, char **domain_r)
{
	mime_field f, from;
	size_t pos = 0, n = 0;
	while (mime_header_next(msg, len, &pos, &f))
		if (mime_field_is(msg, &f, "From") && n++ == 0)
			from = f;
	if (n == 0)
		return DMARC_FROM_MISSING;
	if (n > 1)
		return DMARC_FROM_MULTIPLE;
	char *value = mime_field_value(msg, &from);
	dmarc_from_status s = one_address(value, domain_r);
	free(value);
	return s;
}
