/* fakedns.c — the unit tests' in-memory zone (see fakedns.h). */
#include "fakedns.h"

#include <stdlib.h>

#include "lib/strutil.h"

void fakedns_answer(const fakedns *f, const char *name, int type, dns_callback *cb, void *arg)
{
	dns_answer a = {.status = DNS_NXDOMAIN};
	strlist_init(&a.values);
	for (const fakedns_rr *r = f->zone; r->name != NULL; r++) {
		if (!str_ascii_ieq(r->name, name))
			continue;
		if (a.status == DNS_NXDOMAIN)
			a.status = DNS_NODATA;
		if (r->type != type)
			continue;
		a.status = r->status;
		for (size_t i = 0; r->values[i] != NULL; i++)
			strlist_add(&a.values, r->values[i]);
	}
	cb(arg, &a);
	strlist_free(&a.values);
}

void fakedns_lookup(void *ctx, const char *name, int type, dns_callback *cb, void *arg)
{
	fakedns *f = ctx;
	if (f->queries < FAKEDNS_ASKED)
		f->asked[f->queries] = xstrdup(name);
	f->queries++;
	if (f->later) {
		free(f->held_name);
		f->held_cb = cb;
		f->held_arg = arg;
		f->held_name = xstrdup(name);
		f->held_type = type;
		return;
	}
	fakedns_answer(f, name, type, cb, arg);
}

void fakedns_release(fakedns *f)
{
	char *name = f->held_name;
	f->held_name = NULL;
	fakedns_answer(f, name, f->held_type, f->held_cb, f->held_arg);
	free(name);
}

void fakedns_free(fakedns *f)
{
	for (int i = 0; i < FAKEDNS_ASKED && i < f->queries; i++)
		free(f->asked[i]);
	free(f->held_name);
	f->held_name = NULL;
}
