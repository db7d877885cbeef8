/* dmarc.c — DMARC evaluation (RFC 7489 6.6): policy discovery at
 * _dmarc.<From domain>, else at _dmarc.<organizational domain> (6.6.3),
 * then alignment of the SPF and DKIM results with the From domain, and the
 * disposition the published policy asks for (p, sp, pct).  Asynchronous
 * through the caller's look-up function, one question at a time; never
 * blocks.  Owns no policy of ours: what the server does with a disposition
 * (reject, Junk, report only) is the caller's. */
#include "msgauth/dmarc.h"

#include <openssl/rand.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"
#include "msgauth/dkimtags.h"

struct dmarc_check {
	char *from, *org;          /* lower case */
	spf_result spf;
	char *spf_domain;
	strlist dkim_pass;         /* d= of every passing signature, in order */
	strlist dkim_temp;         /* d= of every signature that failed for now
	                            * ("" when its d= is not known) */
	const dmarc_psl *psl;
	dmarc_lookup_fn *lookup;
	void *lookup_ctx;
	void (*forget)(void *ctx, void *cb_arg);
	dmarc_draw_fn *draw;
	void *draw_ctx;
	dmarc_done_fn *done;
	void *done_arg;
	char *name;                /* the record name asked for now */
	bool at_org;               /* asking the organizational domain */
	bool in_flight, cancelled, finished;
	int busy;                  /* our frames on the stack (start, answers):
	                            * the last one out frees a finished check */
};

static const char *const result_names[] = {"none", "pass", "fail", "temperror", "permerror"};

const char *dmarc_result_name(dmarc_result r)
{
	return result_names[r];
}

static void check_free(dmarc_check *c)
{
	free(c->from);
	free(c->org);
	free(c->spf_domain);
	strlist_free(&c->dkim_pass);
	strlist_free(&c->dkim_temp);
	free(c->name);
	free(c);
}

/* Hand out the outcome once.  The check is freed by the outermost of our
 * frames (leave) when it returns. */
static void finish(dmarc_check *c, dmarc_outcome *out)
{
	out->from_domain = c->from;
	c->done(c->done_arg, out);
	c->finished = true;
}

/* Leave one of our frames; true when the check was freed. */
static bool leave(dmarc_check *c)
{
	if (--c->busy > 0 || !c->finished)
		return false;
	check_free(c);
	return true;
}

static void finish_simple(dmarc_check *c, dmarc_result r, const char *problem)
{
	dmarc_outcome out = {.result = r, .problem = problem};
	finish(c, &out);
}

/* A number in [0, 100) from OpenSSL's generator, without modulo bias. */
static int random_draw(void *ctx)
{
	unsigned char b[4];
	uint32_t v;
	do {
		if (RAND_bytes(b, sizeof(b)) != 1)
			return 0;   /* no randomness: sample the message in (the stricter side) */
		v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	} while (v >= 4294967200u);   /* the largest multiple of 100 below 2^32 */
	return (int)(v % 100);
}

/* A failing message whose SPF or DKIM failed for now (RFC 7489 6.6.2):
 * the name of what could still have made it pass, or NULL.  Only an
 * identifier that would align counts (an SPF pass of an unaligned MAIL FROM
 * would not change the verdict); a signature whose d= is not known might. */
static const char *temporary_failure(const dmarc_check *c, const dmarc_record *rec)
{
	if (c->spf == SPF_TEMPERROR &&
	    (c->spf_domain == NULL || dmarc_aligned(c->psl, c->from, c->spf_domain, rec->aspf_strict)))
		return "SPF";
	for (size_t i = 0; i < c->dkim_temp.n; i++)
		if (c->dkim_temp.items[i][0] == '\0' ||
		    dmarc_aligned(c->psl, c->from, c->dkim_temp.items[i], rec->adkim_strict))
			return "DKIM";
	return NULL;
}

/* Alignment and the verdict with the record found (6.6.2, 6.6.4, 6.3 pct).
 * A failure caused by a temporary error is temperror, and the policy is not
 * applied: the message might pass when asked again. */
static void judge(dmarc_check *c, const dmarc_record *rec)
{
	dmarc_outcome out = {.record = rec, .record_name = c->name};
	out.policy = c->at_org ? rec->sp : rec->p;
	out.spf_aligned = c->spf == SPF_PASS && dmarc_aligned(c->psl, c->from, c->spf_domain, rec->aspf_strict);
	for (size_t i = 0; i < c->dkim_pass.n && out.dkim_domain == NULL; i++)
		if (dmarc_aligned(c->psl, c->from, c->dkim_pass.items[i], rec->adkim_strict))
			out.dkim_domain = c->dkim_pass.items[i];
	out.dkim_aligned = out.dkim_domain != NULL;
	out.result = out.spf_aligned || out.dkim_aligned ? DMARC_PASS : DMARC_FAIL;
	const char *temp = out.result == DMARC_FAIL ? temporary_failure(c, rec) : NULL;
	char *why = NULL;
	if (temp != NULL) {
		out.result = DMARC_TEMPERROR;
		why = xasprintf("nothing aligned passed, and %s failed for now", temp);
	}
	if (out.result == DMARC_FAIL) {
		out.disposition = out.policy;
		/* pct: a failing message outside the sample gets the next milder
		 * policy (6.3): reject -> quarantine, quarantine -> none */
		if (out.policy != DMARC_POLICY_NONE && rec->pct < 100 &&
		    (c->draw ? c->draw(c->draw_ctx) : random_draw(NULL)) >= rec->pct) {
			out.disposition = (dmarc_policy)(out.policy - 1);
			out.sampled_out = true;
		}
	}
	out.problem = why != NULL ? why : rec->problem;
	finish(c, &out);
	free(why);
}

static void ask(dmarc_check *c, const char *domain);

/* Sort the TXT records of one name: exactly one DMARC record is used
 * (6.6.3: several, or none, end discovery at that name). */
static void handle_answer(dmarc_check *c, const dns_answer *ans)
{
	if (ans->status == DNS_TEMPFAIL) {
		char *why = xasprintf("the look-up of %s failed for now", c->name);
		finish_simple(c, DMARC_TEMPERROR, why);
		free(why);
		return;
	}
	dmarc_record rec, got = {0};
	size_t count = 0;
	char *why = NULL, *bad = NULL;
	dmarc_record_status got_status = DMARC_RECORD_NOT_DMARC;
	for (size_t i = 0; ans->status == DNS_OK && i < ans->values.n; i++) {
		size_t len = ans->lens ? ans->lens[i] : strlen(ans->values.items[i]);
		dmarc_record_status s = dmarc_record_parse(ans->values.items[i], len, &rec, &why);
		if (s == DMARC_RECORD_NOT_DMARC)
			continue;
		if (count++ == 0) {
			got_status = s;
			got = rec;
			bad = why;
		} else if (s == DMARC_RECORD_OK) {
			dmarc_record_free(&rec);
		} else {
			free(why);
		}
		why = NULL;
	}
	if (count == 1 && got_status == DMARC_RECORD_OK) {
		judge(c, &got);
		dmarc_record_free(&got);
		return;
	}
	if (count == 0 && !c->at_org && strcmp(c->from, c->org) != 0) {
		c->at_org = true;
		ask(c, c->org);
		return;
	}
	if (count > 1) {
		if (got_status == DMARC_RECORD_OK)
			dmarc_record_free(&got);
		free(bad);
		bad = xasprintf("more than one DMARC record at %s", c->name);
	} else if (count == 0) {
		bad = xasprintf("no DMARC record at _dmarc.%s%s%s", c->from, c->at_org ? " or " : "",
		                c->at_org ? c->name : "");
	}
	finish_simple(c, count == 0 ? DMARC_NONE : DMARC_PERMERROR, bad);
	free(bad);
}

static void on_answer(void *arg, const dns_answer *ans)
{
	dmarc_check *c = arg;
	c->in_flight = false;
	if (c->cancelled) {
		check_free(c);
		return;
	}
	c->busy++;
	handle_answer(c, ans);
	leave(c);
}

static void ask(dmarc_check *c, const char *domain)
{
	free(c->name);
	c->name = xasprintf("_dmarc.%s", domain);
	c->in_flight = true;
	c->lookup(c->lookup_ctx, c->name, DNS_TYPE_TXT, on_answer, c);
}

/* A From that cannot be judged: permerror, and the caller should reject. */
static void finish_bad_from(dmarc_check *c, dmarc_from_status s)
{
	dmarc_outcome out = {.result = DMARC_PERMERROR, .disposition = DMARC_POLICY_REJECT,
	                     .problem = dmarc_from_problem(s)};
	free(c->from);
	c->from = NULL;
	finish(c, &out);
}

static dmarc_check *check_new(const dmarc_request *req, dmarc_done_fn *done, void *done_arg)
{
	dmarc_check *c = xcalloc(1, sizeof(*c));
	c->from = req->from_domain ? xstrdup(req->from_domain) : NULL;
	if (c->from != NULL) {
		str_ascii_lower(c->from);
		c->org = dmarc_org_domain(req->psl, c->from);
	}
	c->spf = req->spf;
	c->spf_domain = req->spf_domain ? xstrdup(req->spf_domain) : NULL;
	strlist_init(&c->dkim_pass);
	strlist_init(&c->dkim_temp);
	for (size_t i = 0; i < req->n_dkim; i++) {
		const dkim_verdict *v = &req->dkim[i];
		if (v->result == DKIM_PASS && v->domain != NULL)
			strlist_add(&c->dkim_pass, v->domain);
		else if (v->result == DKIM_TEMPERROR)
			strlist_add(&c->dkim_temp, v->domain != NULL ? v->domain : "");
	}
	c->psl = req->psl;
	c->lookup = req->lookup;
	c->lookup_ctx = req->lookup_ctx;
	c->forget = req->forget;
	c->draw = req->draw;
	c->draw_ctx = req->draw_ctx;
	c->done = done;
	c->done_arg = done_arg;
	return c;
}

dmarc_check *dmarc_check_start(const dmarc_request *req, dmarc_done_fn *done, void *done_arg)
{
	dmarc_check *c = check_new(req, done, done_arg);
	c->busy = 1;
	dmarc_from_status fs = req->from_status;
	if (fs == DMARC_FROM_OK && (c->from == NULL || !dkim_name_valid(c->from) || strlen(c->from) > 246))
		fs = DMARC_FROM_INVALID;   /* _dmarc.<name> must be a DNS name too */
	if (fs != DMARC_FROM_OK)
		finish_bad_from(c, fs);
	else
		ask(c, c->from);
	return leave(c) ? NULL : c;
}

void dmarc_check_cancel(dmarc_check **cp)
{
	dmarc_check *c = *cp;
	*cp = NULL;
	if (c == NULL)
		return;
	c->cancelled = true;
	if (c->in_flight && c->forget != NULL) {
		c->forget(c->lookup_ctx, c);
		c->in_flight = false;
	}
	if (!c->in_flight)
		check_free(c);
}
