/* pg_domains.c — the domains page: each local domain with the DNS
 * records it should publish (msgauth/dnsadvice.h, the same as `yubin dns
 * records`) and whether DNS answers them so, looked up live with the
 * server's resolver (dns/resolver.h), all look-ups at once, each bounded
 * by dns.timeout.  The domain list is a short read on the loop; the DKIM
 * keys are read on a worker.  Must not decide which records a domain
 * needs: that is dnsadvice.c's. */
#include <stdlib.h>
#include <string.h>

#include "dns/resolver.h"
#include "msgauth/dkimkeys.h"
#include "msgauth/dnsadvice.h"
#include "web/html.h"
#include "web/page.h"

/* Domains shown (each costs a handful of look-ups). */
#define DOMAINS_MAX 50

typedef struct domain_entry {
	char *name;
	dnsadvice advice;
	strlist *found;        /* per record: what DNS answered (NULL: failed for now) */
	bool *asked;           /* per record: a look-up was made */
} domain_entry;

typedef struct domains_job domains_job;

typedef struct lookup {
	domains_job *job;
	domain_entry *d;
	size_t rec;
	bool out;              /* asked, not answered yet */
} lookup;

struct domains_job {
	web_job base;
	domain_entry *v;
	size_t n, total;
	lookup *lks;           /* one per record with a name */
	size_t n_lks;
	size_t pending;        /* look-ups out */
};

static void work(web_job *j)
{
	domains_job *dj = (domains_job *)j;
	for (size_t i = 0; i < dj->n; i++) {
		dkim_keyset keys;
		strlist problems;
		strlist_init(&problems);
		dkim_keys_load(j->srv->cfg->data_dir, dj->v[i].name, &keys, &problems);
		strlist_free(&problems); /* `yubin dkim list` and the log say what is wrong with a key */
		dnsadvice_build(j->srv->cfg, dj->v[i].name, &keys, &dj->v[i].advice);
		dkim_keyset_free(&keys);
		dj->v[i].found = xcalloc(dj->v[i].advice.n ? dj->v[i].advice.n : 1, sizeof(strlist));
		dj->v[i].asked = xcalloc(dj->v[i].advice.n ? dj->v[i].advice.n : 1, sizeof(bool));
	}
}

static void on_answer(void *arg, const dns_answer *ans)
{
	lookup *lk = arg;
	lk->out = false;
	strlist *f = &lk->d->found[lk->rec];
	strlist_init(f);
	if (ans->status == DNS_TEMPFAIL)
		lk->d->asked[lk->rec] = false; /* shown as unknown */
	for (size_t i = 0; ans->status == DNS_OK && i < ans->values.n; i++)
		strlist_add(f, ans->values.items[i]);
	domains_job *dj = lk->job;
	if (--dj->pending == 0)
		web_job_finish(&dj->base);
}

/* The server stops with look-ups out: they are answered to nobody, and
 * the request is ended by the listener. */
static void on_abort(void *arg)
{
	domains_job *dj = arg;
	for (size_t i = 0; i < dj->n_lks; i++)
		if (dj->lks[i].out)
			dns_forget(dj->base.srv->dns, &dj->lks[i]);
	web_job_discard(&dj->base);
}

static void worked(void *arg)
{
	domains_job *dj = arg;
	dns_resolver *dns = dj->base.srv->dns;
	for (size_t i = 0; i < dj->n && dns != NULL; i++)
		for (size_t k = 0; k < dj->v[i].advice.n; k++)
			dj->n_lks += dj->v[i].advice.v[k].name != NULL;
	dj->lks = xcalloc(dj->n_lks ? dj->n_lks : 1, sizeof(*dj->lks));
	size_t next = 0;
	for (size_t i = 0; i < dj->n && dns != NULL; i++) {
		domain_entry *d = &dj->v[i];
		for (size_t k = 0; k < d->advice.n; k++)
			if (d->advice.v[k].name != NULL)
				dj->lks[next++] = (lookup){.job = dj, .d = d, .rec = k, .out = true};
	}
	dj->pending = dj->n_lks + 1; /* held until every look-up is out */
	if (dj->n_lks > 0)
		http_req_on_abort(dj->base.r, on_abort, dj);
	for (size_t i = 0; i < dj->n_lks; i++) {
		lookup *lk = &dj->lks[i];
		lk->d->asked[lk->rec] = true;
		dns_lookup(dns, lk->d->advice.v[lk->rec].name, lk->d->advice.v[lk->rec].rrtype, on_answer, lk);
	}
	if (--dj->pending == 0)
		web_job_finish(&dj->base);
}

static void record_row(buf *out, const domain_entry *d, size_t k)
{
	const dnsadvice_rec *rec = &d->advice.v[k];
	if (rec->name == NULL) {
		html_printf(out, "<tr class=\"advice\"><td colspan=\"4\" class=\"muted\">%s", rec->why);
		if (rec->hint != NULL)
			html_printf(out, "<div class=\"mono\">%s</div>", rec->hint);
		BUF_PUTS(out, "</td></tr>\n");
		return;
	}
	dnsadvice_state st = dnsadvice_match(rec, d->asked[k] ? &d->found[k] : NULL);
	const char *name = dnsadvice_state_name(st);
	html_printf(out, "<tr><td>%s</td><td class=\"mono\">%s</td><td class=\"mono\">%s"
	            "<div class=\"why\">%s</div></td><td><span class=\"state %s\">%s</span>",
	            rec->type, rec->name, rec->value, rec->why, name, name);
	if (st == DNSADVICE_DIFFERS) {
		BUF_PUTS(out, "<div class=\"mono muted\">DNS has: ");
		for (size_t i = 0; i < d->found[k].n; i++) {
			if (i > 0)
				BUF_PUTS(out, " | ");
			html_text(out, d->found[k].items[i]);
		}
		BUF_PUTS(out, "</div>");
	}
	BUF_PUTS(out, "</td></tr>\n");
}

static void render(web_job *j, buf *out)
{
	domains_job *dj = (domains_job *)j;
	if (dj->n == 0) {
		BUF_PUTS(out, "<p class=\"muted\">No local domain yet: add one with <code>yubin domain add</code>.</p>\n");
		return;
	}
	if (j->srv->dns == NULL)
		BUF_PUTS(out, "<p class=\"error\">The server has no resolver: DNS is not checked.</p>\n");
	if (dj->total > dj->n)
		html_printf(out, "<p class=\"muted\">The first %zu of %zu domains.</p>\n", dj->n, dj->total);
	for (size_t i = 0; i < dj->n; i++) {
		domain_entry *d = &dj->v[i];
		html_printf(out, "<h2 id=\"d-%s\">%s</h2>\n<table class=\"dns\"><thead><tr><th>Type</th><th>Name</th>"
		            "<th>Value to publish</th><th>In DNS</th></tr></thead><tbody>\n", d->name, d->name);
		for (size_t k = 0; k < d->advice.n; k++)
			record_row(out, d, k);
		BUF_PUTS(out, "</tbody></table>\n");
	}
}

static void job_free(web_job *j)
{
	domains_job *dj = (domains_job *)j;
	for (size_t i = 0; i < dj->n; i++) {
		domain_entry *d = &dj->v[i];
		for (size_t k = 0; d->found != NULL && k < d->advice.n; k++)
			strlist_free(&d->found[k]);
		free(d->found);
		free(d->asked);
		dnsadvice_free(&d->advice);
		free(d->name);
	}
	free(dj->v);
	free(dj->lks);
}

static void job_work(void *arg)
{
	work(arg);
}

void web_get_domains(http_req *r)
{
	server *srv = http_req_server(r);
	strlist domains;
	strlist_init(&domains);
	if (accounts_domain_list(srv->acc, &domains) != ACC_OK) {
		strlist_free(&domains);
		http_add_header(r, "Retry-After", "10");
		web_reply_message(r, 503, "Not available now", "The domain list cannot be read now; try again shortly.");
		return;
	}
	domains_job *dj = xcalloc(1, sizeof(*dj));
	dj->total = domains.n;
	dj->n = domains.n < DOMAINS_MAX ? domains.n : DOMAINS_MAX;
	dj->v = xcalloc(dj->n ? dj->n : 1, sizeof(*dj->v));
	for (size_t i = 0; i < dj->n; i++)
		dj->v[i].name = xstrdup(domains.items[i]);
	strlist_free(&domains);
	dj->base.work = work;
	dj->base.render = render;
	dj->base.free = job_free;
	web_job_init(&dj->base, r, "Domains", "/domains");
	workers_submit(srv->wk, job_work, worked, dj);
}
