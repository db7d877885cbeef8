/* spf.c — check_host() of RFC 7208 as a state machine (see spf.h).  Owns
 * the evaluation order, include/redirect frames, the look-up and void
 * limits, the PTR validation shared by "ptr" and %{p}, and the
 * explanation of a fail.  Parsing is spfrecord.c's, macros spfmacro.c's;
 * it never does DNS itself, only through the caller's look-up function.
 *
 * One loop (run) drives it: a step either finishes, or asks one question
 * and waits; an answer, now or later, is kept and handled by the loop, so
 * a look-up function that answers at once does not make the stack grow. */
#include "msgauth/spf.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/strutil.h"
#include "msgauth/spfint.h"

#define SPF_MAX_DEPTH (SPF_MAX_DNS_TERMS + 2) /* every include counts as a term */
#define DEFAULT_EXPLANATION "%{o} does not designate %{c} as a permitted sender"

typedef struct spf_frame {
	char *domain;           /* <domain> of this check_host() */
	spf_record *rec;        /* NULL until its TXT answer is in */
	size_t next;            /* the next term to evaluate */
	const spf_term *via;    /* the include term that started this frame */
	bool redirected;        /* reached by redirect=: no record is permerror */
} spf_frame;

typedef struct spf_token {
	spf_check *chk;         /* NULL once the check is gone */
} spf_token;

typedef void answer_fn(spf_check *c, const dns_answer *a);
typedef enum ptr_state { PTR_UNKNOWN, PTR_KNOWN } ptr_state;
typedef enum phase { PHASE_TERMS, PHASE_EXP } phase;

struct spf_check {
	spf_ip ip;
	char *sender, *local, *sender_domain, *helo, *receiver;
	time_t now;
	spf_lookup_fn *lookup;
	void *lookup_ctx;
	void (*forget)(void *ctx, void *cb_arg);
	spf_done_fn *done;
	void *done_arg;

	spf_frame frames[SPF_MAX_DEPTH];
	size_t depth;
	int terms, voids, queries;
	phase phase;

	const spf_term *term;   /* the mechanism being evaluated */
	strlist names;          /* its MX host names */
	size_t name_idx;

	ptr_state ptr;          /* PTR validation, for "ptr" and %{p} */
	bool ptr_void;
	strlist ptr_names, validated;
	size_t ptr_idx;

	spf_token *pending;     /* the look-up in flight */
	answer_fn *on_answer;
	dns_answer ans;
	bool have_answer, waiting, running, finished;

	bool exp_asked;         /* explanation: TXT look-up made */
	char *exp_text;         /* its text, valid; NULL: the default */

	spf_result result;
	char *out_domain, *out_mech, *out_exp, *out_problem;
};

static const char *const result_names[] = {"none", "neutral", "pass", "fail",
                                           "softfail", "temperror", "permerror"};

const char *spf_result_name(spf_result r)
{
	return result_names[r];
}

/* ---- finishing */

static void finish(spf_check *c, spf_result r, char *problem)
{
	if (c->finished) {
		free(problem);
		return;
	}
	c->finished = true;
	c->result = r;
	c->out_problem = problem;
}

static void check_free(spf_check *c)
{
	if (c->pending != NULL && c->forget != NULL) {
		c->forget(c->lookup_ctx, c->pending);
		free(c->pending);
	} else if (c->pending != NULL) {
		c->pending->chk = NULL; /* freed when its answer comes */
	}
	for (size_t i = 0; i < c->depth; i++) {
		free(c->frames[i].domain);
		spf_record_free(&c->frames[i].rec);
	}
	strlist_free(&c->names);
	strlist_free(&c->ptr_names);
	strlist_free(&c->validated);
	strlist_free(&c->ans.values);
	free(c->ans.lens);
	free(c->sender);
	free(c->local);
	free(c->sender_domain);
	free(c->helo);
	free(c->receiver);
	free(c->exp_text);
	free(c->out_domain);
	free(c->out_mech);
	free(c->out_exp);
	free(c->out_problem);
	free(c);
}

static void deliver(spf_check *c)
{
	spf_outcome out = {
		.result = c->result,
		.domain = c->out_domain,
		.mechanism = c->out_mech,
		.explanation = c->out_exp,
		.problem = c->out_problem,
	};
	c->done(c->done_arg, &out);
	check_free(c);
}

/* ---- asking and answering */

static void answer_copy(dns_answer *to, const dns_answer *from)
{
	to->status = from->status;
	to->secure = from->secure;
	strlist_init(&to->values);
	to->lens = NULL;
	to->prefs = NULL;
	for (size_t i = 0; i < from->values.n; i++) {
		size_t len = from->lens ? from->lens[i] : strlen(from->values.items[i]);
		char *v = xmalloc(len + 1);
		memcpy(v, from->values.items[i], len + 1);
		if (from->lens) {
			to->lens = xrealloc(to->lens, sizeof(size_t) * (i + 1));
			to->lens[i] = len;
		}
		strlist_add_owned(&to->values, v);
	}
}

static void answer_clear(dns_answer *a)
{
	strlist_free(&a->values);
	free(a->lens);
	a->lens = NULL;
}

static bool run(spf_check *c);

static void on_dns(void *arg, const dns_answer *a)
{
	spf_token *t = arg;
	spf_check *c = t->chk;
	free(t);
	if (c == NULL)
		return; /* cancelled meanwhile */
	c->pending = NULL;
	answer_copy(&c->ans, a);
	c->have_answer = true;
	c->waiting = false;
	if (!c->running)
		run(c);
}

/* Ask one question; fn gets the answer from the loop. */
static void ask(spf_check *c, const char *name, int rrtype, answer_fn *fn)
{
	if (++c->queries > SPF_MAX_QUERIES) {
		finish(c, SPF_PERMERROR, xstrdup("too many DNS look-ups for one check"));
		return;
	}
	spf_token *t = xcalloc(1, sizeof(*t));
	t->chk = c;
	c->pending = t;
	c->on_answer = fn;
	c->waiting = true;
	c->lookup(c->lookup_ctx, name, rrtype, on_dns, t);
}

static void tempfail(spf_check *c, const char *what, const char *name)
{
	finish(c, SPF_TEMPERROR, xasprintf("DNS failure looking up %s %s", what, name));
}

/* A void look-up (RFC 7208 4.6.4); true when it ended the check. */
static bool void_hit(spf_check *c)
{
	if (++c->voids <= SPF_MAX_VOID)
		return false;
	finish(c, SPF_PERMERROR, xstrdup("more than 2 void look-ups"));
	return true;
}

/* ---- macros */

static spf_frame *top(spf_check *c)
{
	return &c->frames[c->depth - 1];
}

/* Length without the trailing dots. */
static size_t name_len(const char *s)
{
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == '.')
		n--;
	return n;
}

/* Is name domain, or a name below it (ASCII case ignored)? */
static bool ends_with_domain(const char *name, const char *domain)
{
	size_t n = name_len(name), d = name_len(domain);
	if (d > n || d == 0)
		return false;
	return str_ascii_nieq(name + n - d, domain, d) && (n == d || name[n - d - 1] == '.');
}

/* %{p}: a validated name equal to the domain, else one below it, else any
 * (RFC 7208 7.3); NULL means "unknown". */
static const char *validated_for(const spf_check *c, const char *domain)
{
	const char *below = NULL;
	for (size_t i = 0; i < c->validated.n; i++) {
		const char *v = c->validated.items[i];
		if (ends_with_domain(v, domain) && name_len(v) == name_len(domain))
			return v;
		if (below == NULL && ends_with_domain(v, domain))
			below = v;
	}
	return below ? below : c->validated.n > 0 ? c->validated.items[0] : NULL;
}

static spf_macro_env env_of(spf_check *c)
{
	const char *domain = top(c)->domain;
	return (spf_macro_env){
		.sender = c->sender, .local = c->local, .sender_domain = c->sender_domain,
		.domain = domain, .ip = &c->ip, .validated = validated_for(c, domain),
		.helo = c->helo, .receiver = c->receiver, .now = c->now,
	};
}

/* The name a term looks up: its domain-spec expanded, or the current
 * domain; NULL when the expansion is no usable name. */
static char *target_name(spf_check *c, const spf_term *t)
{
	if (t->domain == NULL)
		return xstrdup(top(c)->domain);
	spf_macro_env env = env_of(c);
	return spf_expand_domain(&env, t->domain);
}

/* Does spec need %{p} before it can be expanded? */
static bool needs_ptr(const spf_check *c, const char *spec)
{
	return spec != NULL && c->ptr != PTR_KNOWN && spf_macro_uses_p(spec);
}

/* ---- PTR validation (RFC 7208 5.5): names whose A/AAAA include the IP */

static int addr_type(const spf_check *c)
{
	return c->ip.family == 4 ? DNS_TYPE_A : DNS_TYPE_AAAA;
}

static void ptr_next(spf_check *c);

static void on_ptr_addr(spf_check *c, const dns_answer *a)
{
	for (size_t i = 0; a->status == DNS_OK && i < a->values.n; i++) {
		spf_ip ip = {.family = c->ip.family};
		if (inet_pton(c->ip.family == 4 ? AF_INET : AF_INET6, a->values.items[i], ip.addr) == 1 &&
		    memcmp(ip.addr, c->ip.addr, sizeof ip.addr) == 0) {
			strlist_add(&c->validated, c->ptr_names.items[c->ptr_idx]);
			break;
		}
	}
	c->ptr_idx++; /* a DNS error skips the name */
	ptr_next(c);
}

static void ptr_next(spf_check *c)
{
	if (c->ptr_idx < c->ptr_names.n)
		ask(c, c->ptr_names.items[c->ptr_idx], addr_type(c), on_ptr_addr);
	else
		c->ptr = PTR_KNOWN; /* the loop resumes what needed it */
}

static void on_ptr(spf_check *c, const dns_answer *a)
{
	c->ptr_void = a->status == DNS_NXDOMAIN || a->status == DNS_NODATA;
	/* only the first 10 names are checked (RFC 7208 4.6.4) */
	for (size_t i = 0; a->status == DNS_OK && i < a->values.n && i < SPF_MAX_NAMES; i++)
		strlist_add(&c->ptr_names, a->values.items[i]);
	ptr_next(c);
}

static void ptr_start(spf_check *c)
{
	char *rev = spf_ip_reverse_name(&c->ip);
	ask(c, rev, DNS_TYPE_PTR, on_ptr);
	free(rev);
}

/* ---- the end of a frame */

static void mech_done(spf_check *c, bool matched);

static spf_result qualifier_result(char q)
{
	return q == '-' ? SPF_FAIL : q == '~' ? SPF_SOFTFAIL : q == '?' ? SPF_NEUTRAL : SPF_PASS;
}

static void pop(spf_check *c)
{
	spf_frame *f = top(c);
	free(f->domain);
	spf_record_free(&f->rec);
	memset(f, 0, sizeof(*f));
	c->depth--;
}

/* The frame on top ends with r (matched by t, or NULL). */
static void frame_done(spf_check *c, spf_result r, const spf_term *t)
{
	spf_frame *f = top(c);
	if (c->depth > 1) {
		/* include (RFC 7208 5.2): pass matches, fail/softfail/neutral do not */
		const spf_term *via = f->via;
		pop(c);
		c->term = via;
		mech_done(c, r == SPF_PASS);
		return;
	}
	c->result = r;
	c->out_domain = xstrdup(f->domain);
	c->out_mech = t ? xstrdup(t->text) : NULL;
	if (r == SPF_FAIL)
		c->phase = PHASE_EXP;
	else
		finish(c, r, NULL);
}

static void mech_done(spf_check *c, bool matched)
{
	const spf_term *t = c->term;
	c->term = NULL;
	strlist_free(&c->names);
	if (matched)
		frame_done(c, qualifier_result(t->qualifier), t);
}

/* ---- mechanisms */

/* Does any address of a (A or AAAA text) lie in the term's prefix? */
static bool any_addr_in(const spf_check *c, const spf_term *t, const dns_answer *a)
{
	int prefix = c->ip.family == 4 ? t->cidr4 : t->cidr6;
	for (size_t i = 0; i < a->values.n; i++) {
		spf_ip net = {.family = c->ip.family};
		if (inet_pton(c->ip.family == 4 ? AF_INET : AF_INET6, a->values.items[i], net.addr) == 1 &&
		    spf_ip_in(&c->ip, &net, prefix))
			return true;
	}
	return false;
}

/* The common answer handling of a, mx, exists: true to go on with a. */
static bool answer_usable(spf_check *c, const dns_answer *a, const char *what)
{
	if (a->status == DNS_TEMPFAIL) {
		tempfail(c, what, c->term->domain ? c->term->domain : top(c)->domain);
		return false;
	}
	if (a->status != DNS_OK) {
		if (!void_hit(c))
			mech_done(c, false);
		return false;
	}
	return true;
}

static void on_a(spf_check *c, const dns_answer *a)
{
	if (answer_usable(c, a, "A/AAAA for"))
		mech_done(c, any_addr_in(c, c->term, a));
}

static void mx_next(spf_check *c);

static void on_mx_addr(spf_check *c, const dns_answer *a)
{
	if (a->status == DNS_TEMPFAIL) {
		tempfail(c, "A/AAAA for the MX", c->names.items[c->name_idx]);
	} else if (a->status == DNS_OK && any_addr_in(c, c->term, a)) {
		mech_done(c, true);
	} else {
		c->name_idx++;
		mx_next(c);
	}
}

static void mx_next(spf_check *c)
{
	if (c->name_idx < c->names.n)
		ask(c, c->names.items[c->name_idx], addr_type(c), on_mx_addr);
	else
		mech_done(c, false);
}

static void on_mx(spf_check *c, const dns_answer *a)
{
	if (!answer_usable(c, a, "MX for"))
		return;
	if (a->values.n > SPF_MAX_NAMES) {
		finish(c, SPF_PERMERROR, xasprintf("more than %d MX names for \"%s\"", SPF_MAX_NAMES, c->term->text));
		return;
	}
	for (size_t i = 0; i < a->values.n; i++)
		if (strcmp(a->values.items[i], ".") != 0) /* a null MX has no addresses */
			strlist_add(&c->names, a->values.items[i]);
	c->name_idx = 0;
	mx_next(c);
}

static void on_exists(spf_check *c, const dns_answer *a)
{
	if (answer_usable(c, a, "A for"))
		mech_done(c, true);
}

/* a, mx, exists: look the target up; an unusable name matches nothing. */
static void eval_lookup(spf_check *c, const spf_term *t)
{
	char *name = target_name(c, t);
	if (name == NULL) {
		mech_done(c, false);
		return;
	}
	if (t->mech == SPF_M_MX)
		ask(c, name, DNS_TYPE_MX, on_mx);
	else if (t->mech == SPF_M_A)
		ask(c, name, addr_type(c), on_a);
	else
		ask(c, name, DNS_TYPE_A, on_exists);
	free(name);
}

static void eval_ptr(spf_check *c, const spf_term *t)
{
	if (c->ptr != PTR_KNOWN) {
		ptr_start(c); /* the loop comes back here when it is known */
		return;
	}
	if (c->ptr_void && void_hit(c))
		return;
	char *target = target_name(c, t);
	bool match = false;
	for (size_t i = 0; target != NULL && !match && i < c->validated.n; i++)
		match = ends_with_domain(c->validated.items[i], target);
	free(target);
	mech_done(c, match);
}

static void eval_include(spf_check *c, const spf_term *t)
{
	char *target = target_name(c, t);
	if (target == NULL) {
		finish(c, SPF_PERMERROR, xasprintf("\"%s\" names no usable domain", t->text));
		return;
	}
	if (c->depth >= SPF_MAX_DEPTH)
		abort(); /* a bug: the term limit ends the check long before */
	spf_frame *f = &c->frames[c->depth++];
	*f = (spf_frame){.domain = target, .via = t};
	c->term = NULL; /* the included frame's terms come next */
}

static void eval_term(spf_check *c, const spf_term *t)
{
	switch (t->mech) {
	case SPF_M_ALL: mech_done(c, true); break;
	case SPF_M_IP4:
	case SPF_M_IP6:
		mech_done(c, spf_ip_in(&c->ip, &t->net, t->mech == SPF_M_IP4 ? t->cidr4 : t->cidr6));
		break;
	case SPF_M_INCLUDE: eval_include(c, t); break;
	case SPF_M_PTR: eval_ptr(c, t); break;
	case SPF_M_A:
	case SPF_M_MX:
	case SPF_M_EXISTS: eval_lookup(c, t); break;
	}
}

static bool queries_dns(spf_mech m)
{
	return m != SPF_M_ALL && m != SPF_M_IP4 && m != SPF_M_IP6;
}

/* ---- records */

static void record_none(spf_check *c, const char *why)
{
	spf_frame *f = top(c);
	if (c->depth == 1 && !f->redirected)
		finish(c, SPF_NONE, xasprintf("%s at %s", why, f->domain));
	else
		finish(c, SPF_PERMERROR, xasprintf("%s at %s (%s)", why, f->domain,
		                                   f->redirected ? "redirect" : "include"));
}

static void on_record(spf_check *c, const dns_answer *a)
{
	spf_frame *f = top(c);
	if (a->status == DNS_TEMPFAIL) {
		tempfail(c, "TXT", f->domain);
		return;
	}
	size_t found = 0, which = 0;
	for (size_t i = 0; a->status == DNS_OK && i < a->values.n; i++)
		if (spf_is_record(a->values.items[i], a->lens ? a->lens[i] : strlen(a->values.items[i]))) {
			found++;
			which = i;
		}
	if (found == 0) {
		record_none(c, "no SPF record");
		return;
	}
	if (found > 1) {
		finish(c, SPF_PERMERROR, xasprintf("more than one SPF record at %s", f->domain));
		return;
	}
	char *err = NULL;
	const char *text = a->values.items[which];
	f->rec = spf_record_parse(text, a->lens ? a->lens[which] : strlen(text), &err);
	if (f->rec == NULL)
		finish(c, SPF_PERMERROR, xasprintf("%s: %s", f->domain, err));
	free(err);
}

/* Every mechanism was evaluated without a match: redirect= or neutral. */
static void frame_end(spf_check *c, spf_frame *f)
{
	const char *redirect = f->rec->redirect;
	if (redirect == NULL) {
		frame_done(c, SPF_NEUTRAL, NULL);
		return;
	}
	if (needs_ptr(c, redirect)) {
		ptr_start(c);
		return;
	}
	if (++c->terms > SPF_MAX_DNS_TERMS) {
		finish(c, SPF_PERMERROR, xstrdup("more than 10 DNS-querying terms"));
		return;
	}
	spf_macro_env env = env_of(c);
	char *target = spf_expand_domain(&env, redirect);
	if (target == NULL) {
		finish(c, SPF_PERMERROR, xasprintf("redirect=%s names no usable domain", redirect));
		return;
	}
	free(f->domain);
	spf_record_free(&f->rec);
	f->domain = target;
	f->next = 0;
	f->redirected = true; /* exp= of the old record no longer applies */
}

static void step_terms(spf_check *c)
{
	spf_frame *f = top(c);
	if (f->rec == NULL) {
		ask(c, f->domain, DNS_TYPE_TXT, on_record);
		return;
	}
	if (c->term == NULL) {
		if (f->next == f->rec->n) {
			frame_end(c, f);
			return;
		}
		const spf_term *t = &f->rec->terms[f->next];
		if (needs_ptr(c, t->domain)) {
			ptr_start(c);
			return;
		}
		f->next++;
		c->term = t;
		if (queries_dns(t->mech) && ++c->terms > SPF_MAX_DNS_TERMS) {
			finish(c, SPF_PERMERROR, xstrdup("more than 10 DNS-querying terms"));
			return;
		}
	}
	eval_term(c, c->term);
}

/* ---- the explanation of a fail (RFC 7208 6.2) */

static void explain_with(spf_check *c, const char *text)
{
	spf_macro_env env = env_of(c);
	c->out_exp = spf_macro_expand(&env, text, true);
	if (c->out_exp == NULL)
		c->out_exp = spf_macro_expand(&env, DEFAULT_EXPLANATION, true);
	finish(c, SPF_FAIL, NULL);
}

static void on_exp(spf_check *c, const dns_answer *a)
{
	/* exactly one record of valid text, else as if there were no exp= */
	if (a->status == DNS_OK && a->values.n == 1 && (a->lens == NULL || a->lens[0] == strlen(a->values.items[0])) &&
	    spf_macro_valid(a->values.items[0], true))
		c->exp_text = xstrdup(a->values.items[0]);
}

static void step_exp(spf_check *c)
{
	const char *exp = top(c)->rec->exp;
	if (exp != NULL && !c->exp_asked) {
		if (needs_ptr(c, exp)) {
			ptr_start(c);
			return;
		}
		c->exp_asked = true;
		spf_macro_env env = env_of(c);
		char *name = spf_expand_domain(&env, exp);
		if (name != NULL) {
			ask(c, name, DNS_TYPE_TXT, on_exp); /* neither a term nor void */
			free(name);
			return;
		}
	}
	const char *text = c->exp_text ? c->exp_text : DEFAULT_EXPLANATION;
	if (needs_ptr(c, text))
		ptr_start(c);
	else
		explain_with(c, text);
}

/* ---- the loop */

/* Run until the check waits or is finished; true when it finished (and
 * is freed). */
static bool run(spf_check *c)
{
	c->running = true;
	while (!c->finished && !c->waiting) {
		if (c->have_answer) {
			/* taken out first: the handler's next question may be
			 * answered at once, into c->ans */
			dns_answer a = c->ans;
			c->ans = (dns_answer){.status = DNS_TEMPFAIL};
			strlist_init(&c->ans.values);
			c->have_answer = false;
			c->on_answer(c, &a);
			answer_clear(&a);
		} else if (c->phase == PHASE_TERMS) {
			step_terms(c);
		} else {
			step_exp(c);
		}
	}
	c->running = false;
	if (!c->finished)
		return false;
	deliver(c);
	return true;
}

static void set_sender(spf_check *c, const char *sender)
{
	const char *at = strrchr(sender, '@');
	c->sender_domain = xstrdup(at ? at + 1 : sender);
	c->local = at && at > sender ? xstrndup(sender, (size_t)(at - sender)) : xstrdup("postmaster");
	c->sender = xasprintf("%s@%s", c->local, c->sender_domain);
}

spf_check *spf_check_host(const spf_request *req, spf_done_fn *done, void *done_arg)
{
	spf_check *c = xcalloc(1, sizeof(*c));
	c->lookup = req->lookup;
	c->lookup_ctx = req->lookup_ctx;
	c->forget = req->forget;
	c->done = done;
	c->done_arg = done_arg;
	c->now = time(NULL);
	set_sender(c, req->sender);
	c->helo = req->helo ? xstrdup(req->helo) : NULL;
	c->receiver = req->receiver ? xstrdup(req->receiver) : NULL;
	strlist_init(&c->names);
	strlist_init(&c->ptr_names);
	strlist_init(&c->validated);
	strlist_init(&c->ans.values);
	if (!spf_ip_parse(req->ip, &c->ip)) {
		finish(c, SPF_PERMERROR, xasprintf("\"%s\" is no IP address", req->ip));
	} else if (!spf_name_usable(req->domain, true)) {
		/* RFC 7208 4.3: a malformed or single-label domain gives none */
		finish(c, SPF_NONE, xasprintf("\"%s\" is no usable domain name", req->domain));
	} else {
		c->frames[0].domain = xstrdup(req->domain);
		size_t n = strlen(c->frames[0].domain);
		if (n > 0 && c->frames[0].domain[n - 1] == '.')
			c->frames[0].domain[n - 1] = '\0';
		c->depth = 1;
	}
	return run(c) ? NULL : c;
}

void spf_check_cancel(spf_check **cp)
{
	if (*cp != NULL)
		check_free(*cp);
	*cp = NULL;
}
