/* resolver.c — libunbound glued to libevent (see resolver.h): unbound's
 * file descriptor is watched by the loop, ub_process delivers answers, and
 * a timer per query bounds its time.  Owns the decoding of MX, A, AAAA,
 * PTR, TXT and TLSA record data. */
#include "dns/resolver.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unbound.h>
#include <unistd.h>

#include "lib/log.h"

typedef struct dns_query {
	struct dns_query *prev, *next;
	dns_resolver *r;
	int rrtype;
	int async_id;
	dns_callback *cb;
	void *arg;
	struct event *timer;
	bool started;
} dns_query;

struct dns_resolver {
	struct event_base *base;
	struct ub_ctx *ctx;
	struct event *ev;
	int timeout;
	bool validating;      /* a trust anchor is loaded */
	dns_query *queries;
};

static void query_unlink(dns_query *q)
{
	dns_resolver *r = q->r;
	if (q->prev)
		q->prev->next = q->next;
	else
		r->queries = q->next;
	if (q->next)
		q->next->prev = q->prev;
	event_free(q->timer);
	free(q);
}

static void answer_free(dns_answer *a)
{
	strlist_free(&a->values);
	free(a->prefs);
	free(a->lens);
}

/* A domain name in uncompressed wire format at p[0..n) as text. */
static bool wire_name(const unsigned char *p, size_t n, char *out, size_t cap)
{
	size_t i = 0, o = 0;
	while (i < n && p[i] != 0) {
		size_t len = p[i++];
		if (len > 63 || i + len > n || o + len + 2 > cap)
			return false;
		if (o > 0)
			out[o++] = '.';
		memcpy(out + o, p + i, len);
		o += len;
		i += len;
	}
	if (i >= n)
		return false;
	if (o == 0)
		out[o++] = '.'; /* the root: a null MX */
	out[o] = '\0';
	return true;
}

/* TXT: the character-strings, joined (RFC 7208 3.3), *len_r bytes (NUL
 * bytes kept); NULL if malformed. */
static char *txt_text(const unsigned char *d, size_t n, size_t *len_r)
{
	char *text = xmalloc(n + 1);
	size_t o = 0;
	for (size_t k = 0; k < n;) {
		size_t len = d[k++];
		if (k + len > n) {
			free(text);
			return NULL;
		}
		memcpy(text + o, d + k, len);
		o += len;
		k += len;
	}
	text[o] = '\0';
	*len_r = o;
	return text;
}

/* TLSA (RFC 6698): "usage selector matching-type hex-data". */
static char *tlsa_text(const unsigned char *d, size_t n)
{
	if (n < 4)
		return NULL;
	char *text = xmalloc(16 + 2 * n);
	int o = sprintf(text, "%u %u %u ", d[0], d[1], d[2]);
	for (size_t k = 3; k < n; k++)
		o += sprintf(text + o, "%02x", d[k]);
	return text;
}

static void decode(const struct ub_result *res, int rrtype, dns_answer *a)
{
	for (int i = 0; res->data[i] != NULL; i++) {
		const unsigned char *d = (const unsigned char *)res->data[i];
		size_t n = (size_t)res->len[i];
		char text[1024];
		if (rrtype == DNS_TYPE_A && n == 4) {
			inet_ntop(AF_INET, d, text, sizeof text);
		} else if (rrtype == DNS_TYPE_AAAA && n == 16) {
			inet_ntop(AF_INET6, d, text, sizeof text);
		} else if (rrtype == DNS_TYPE_MX && n >= 3) {
			if (!wire_name(d + 2, n - 2, text, sizeof text))
				continue;
			a->prefs = xrealloc(a->prefs, sizeof(int) * (a->values.n + 1));
			a->prefs[a->values.n] = (d[0] << 8) | d[1];
		} else if (rrtype == DNS_TYPE_SRV && n >= 7) {
			/* RFC 2782: priority, weight, port, target */
			char target[512]; /* a name is at most 255 bytes */
			if (!wire_name(d + 6, n - 6, target, sizeof target))
				continue;
			snprintf(text, sizeof text, "%u %u %u %s", (d[0] << 8) | d[1], (d[2] << 8) | d[3],
			         (d[4] << 8) | d[5], target);
		} else if (rrtype == DNS_TYPE_PTR || rrtype == DNS_TYPE_CNAME) {
			if (!wire_name(d, n, text, sizeof text))
				continue;
		} else if (rrtype == DNS_TYPE_TXT) {
			size_t len;
			char *t = txt_text(d, n, &len);
			if (t == NULL)
				continue;
			a->lens = xrealloc(a->lens, sizeof(size_t) * (a->values.n + 1));
			a->lens[a->values.n] = len;
			strlist_add_owned(&a->values, t);
			continue;
		} else if (rrtype == DNS_TYPE_TLSA) {
			char *t = tlsa_text(d, n);
			if (t != NULL)
				strlist_add_owned(&a->values, t);
			continue;
		} else {
			continue;
		}
		strlist_add(&a->values, text);
	}
}

/* The end of the CNAME chain the answer followed, in canon (no final
 * dot), or NULL when the name asked was no alias (libunbound gives the
 * name asked then, or none). */
static const char *canon_name(const struct ub_result *res, char *canon, size_t cap)
{
	if (res->canonname == NULL || res->qname == NULL)
		return NULL;
	size_t n = strlen(res->canonname), qn = strlen(res->qname);
	if (n > 0 && res->canonname[n - 1] == '.')
		n--;
	if (qn > 0 && res->qname[qn - 1] == '.')
		qn--;
	if (n == 0 || n >= cap || (n == qn && strncasecmp(res->canonname, res->qname, n) == 0))
		return NULL;
	memcpy(canon, res->canonname, n);
	canon[n] = '\0';
	return canon;
}

static void on_result(void *arg, int err, struct ub_result *res)
{
	dns_query *q = arg;
	dns_answer a = {.status = DNS_TEMPFAIL};
	char canon[256];
	strlist_init(&a.values);
	if (err == 0 && res != NULL) {
		a.secure = res->secure;
		a.bogus = res->bogus != 0;
		if (a.bogus)
			a.why_bogus = res->why_bogus ? res->why_bogus : "DNSSEC validation failed";
		a.ttl = res->ttl > 0 ? res->ttl : 0;
		a.canonname = canon_name(res, canon, sizeof canon);
		if (res->rcode == 3 || res->nxdomain)
			a.status = DNS_NXDOMAIN;
		else if (res->rcode != 0 || res->bogus)
			a.status = DNS_TEMPFAIL;
		else if (res->havedata) {
			decode(res, q->rrtype, &a);
			a.status = a.values.n > 0 ? DNS_OK : DNS_NODATA;
		} else
			a.status = DNS_NODATA;
	}
	dns_callback *cb = q->cb;
	void *cb_arg = q->arg;
	query_unlink(q);
	cb(cb_arg, &a);
	answer_free(&a);
	if (res != NULL)
		ub_resolve_free(res); /* after the callback: why_bogus points into it */
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	dns_query *q = arg;
	if (q->started)
		ub_cancel(q->r->ctx, q->async_id);
	dns_answer a = {.status = DNS_TEMPFAIL};
	strlist_init(&a.values);
	dns_callback *cb = q->cb;
	void *cb_arg = q->arg;
	query_unlink(q);
	cb(cb_arg, &a);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	dns_resolver *r = arg;
	ub_process(r->ctx);
}

/* A chosen server answers for every name, even the special-use ones
 * unbound would otherwise answer NXDOMAIN itself: RFC 6761 "test." and the
 * reverse zones of private and documentation addresses (RFC 1918, RFC 5737,
 * RFC 3849), which test set-ups use (the RFC 7208 suite's PTR records),
 * and of the loopback addresses (a test's clients in 127.0.0.0/8 and ::1
 * have their names in the test's server). */
static const char *const special_zones[] = {
	"test.", "2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.",
	"113.0.203.in-addr.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa.", "127.in-addr.arpa.",
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
};

static int forward_special_zones(struct ub_ctx *ctx)
{
	int rc = ub_ctx_set_option(ctx, "unblock-lan-zones:", "yes");
	for (size_t i = 0; rc == 0 && i < sizeof(special_zones) / sizeof(special_zones[0]); i++)
		rc = ub_ctx_zone_add(ctx, special_zones[i], "nodefault");
	return rc;
}

/* The special-use zones a chosen server answers for are not signed from
 * the root: with the root anchor loaded they would all be bogus, so they
 * count as insecure (a trust anchor set below one, a test zone's, still
 * applies: unbound's domain-insecure yields to a deeper anchor). */
static int special_zones_insecure(struct ub_ctx *ctx)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(special_zones) / sizeof(special_zones[0]); i++)
		rc = ub_ctx_set_option(ctx, "domain-insecure:", special_zones[i]);
	return rc;
}

const char *dns_anchor_file(const char *setting, const char *server)
{
	if (setting == NULL || *setting == '\0')
		return NULL;
	if (strcmp(setting, "auto") != 0)
		return setting;
	if (server != NULL && *server != '\0')
		return NULL;
	return access(DNS_ROOT_ANCHOR, R_OK) == 0 ? DNS_ROOT_ANCHOR : NULL;
}

dns_resolver *dns_new(struct event_base *base, const char *server, int timeout_secs, char **err_r)
{
	return dns_new_validating(base, server, timeout_secs, NULL, err_r);
}

bool dns_validating(const dns_resolver *r)
{
	return r->validating;
}

dns_resolver *dns_new_validating(struct event_base *base, const char *server, int timeout_secs,
                                 const char *anchor, char **err_r)
{
	dns_resolver *r = xcalloc(1, sizeof(*r));
	r->base = base;
	r->timeout = timeout_secs;
	r->ctx = ub_ctx_create();
	int rc = 0;
	if (r->ctx == NULL) {
		*err_r = xstrdup("cannot create the DNS resolver");
		free(r);
		return NULL;
	}
	/* threads, not a forked process; must be set before anything that
	 * finalizes the context (ub_ctx_zone_add does) */
	rc = ub_ctx_async(r->ctx, 1);
	/* answers from a resolver on this machine (tests, a local unbound) */
	ub_ctx_set_option(r->ctx, "do-not-query-localhost:", "no");
	bool custom = server != NULL && *server != '\0';
	if (rc == 0 && custom)
		rc = ub_ctx_set_fwd(r->ctx, server);
	else if (rc == 0 && ub_ctx_resolvconf(r->ctx, NULL) != 0)
		/* no usable /etc/resolv.conf: unbound resolves from the root itself */
		log_event(LOG_LVL_WARN, "dns", "resolver=%s", "recursive (no /etc/resolv.conf)");
	/* the trust anchor goes in before ub_ctx_zone_add, which finalizes
	 * the context (a later one is refused) */
	const char *what = server && *server ? server : "/etc/resolv.conf";
	r->validating = anchor != NULL && *anchor != '\0';
	if (rc == 0 && r->validating) {
		what = anchor;
		rc = ub_ctx_add_ta_file(r->ctx, anchor);
		if (rc == 0 && custom)
			rc = special_zones_insecure(r->ctx);
	}
	if (rc == 0 && custom) {
		what = server;
		rc = forward_special_zones(r->ctx);
	}
	if (rc != 0) {
		*err_r = xasprintf("DNS resolver set-up (%s): %s", what, ub_strerror(rc));
		ub_ctx_delete(r->ctx);
		free(r);
		return NULL;
	}
	if (r->validating)
		log_event(LOG_LVL_INFO, "dns", "dnssec=on trust_anchor=%s", anchor);
	r->ev = event_new(base, ub_fd(r->ctx), EV_READ | EV_PERSIST, on_readable, r);
	event_add(r->ev, NULL);
	return r;
}

#define DNS_TYPE_DNSKEY 48

static void on_selftest(void *arg, const dns_answer *ans)
{
	if (ans->bogus)
		log_event(LOG_LVL_ERROR, "dns", "dnssec=unusable why=\"%s\" hint=\"%s\"", ans->why_bogus,
		          "the DNS servers asked strip DNSSEC records: use a validating resolver, or dns.trust_anchor = \"\"");
	else if (ans->secure)
		log_event(LOG_LVL_INFO, "dns", "dnssec=ok");
}

void dns_selftest(dns_resolver *r)
{
	if (r->validating)
		dns_lookup(r, ".", DNS_TYPE_DNSKEY, on_selftest, r);
}

void dns_free(dns_resolver **rp)
{
	dns_resolver *r = *rp;
	if (r == NULL)
		return;
	while (r->queries != NULL) {
		if (r->queries->started)
			ub_cancel(r->ctx, r->queries->async_id);
		query_unlink(r->queries);
	}
	event_free(r->ev);
	ub_ctx_delete(r->ctx);
	free(r);
	*rp = NULL;
}

/* Report a failure to start on the next loop turn (never re-entrantly). */
static void start_failed(evutil_socket_t fd, short what, void *arg)
{
	on_timeout(fd, what, arg);
}

void dns_lookup(dns_resolver *r, const char *name, int rrtype, dns_callback *cb, void *arg)
{
	dns_query *q = xcalloc(1, sizeof(*q));
	q->r = r;
	q->rrtype = rrtype;
	q->cb = cb;
	q->arg = arg;
	q->next = r->queries;
	if (r->queries)
		r->queries->prev = q;
	r->queries = q;
	int rc = ub_resolve_async(r->ctx, name, rrtype, 1 /* IN */, q, on_result, &q->async_id);
	struct timeval tv = {rc == 0 ? r->timeout : 0, 0};
	q->started = rc == 0;
	q->timer = evtimer_new(r->base, rc == 0 ? on_timeout : start_failed, q);
	evtimer_add(q->timer, &tv);
}

static void answer_nobody(void *arg, const dns_answer *ans)
{
}

void dns_forget(dns_resolver *r, void *arg)
{
	for (dns_query *q = r->queries; q != NULL; q = q->next) {
		if (q->arg == arg) {
			q->cb = answer_nobody;
			q->arg = NULL;
		}
	}
}

void dns_forget_any(void *resolver, void *arg)
{
	dns_forget(resolver, arg);
}

void dns_lookup_any(void *resolver, const char *name, int rrtype, dns_callback *cb, void *arg)
{
	dns_lookup(resolver, name, rrtype, cb, arg);
}
