/* TLS-RPT (RFC 8460): counting sessions and building the daily report.
 * See tlsrpt.h.  Pure: no DNS, queue or database here. */
#include "delivery/tlsrpt.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/buf.h"
#include "lib/strutil.h"

static const char *const result_names[TLSRPT_N_RESULTS] = {
	[TLSRPT_OK] = "",
	[TLSRPT_STARTTLS_NOT_SUPPORTED] = "starttls-not-supported",
	[TLSRPT_CERT_HOST_MISMATCH] = "certificate-host-mismatch",
	[TLSRPT_CERT_EXPIRED] = "certificate-expired",
	[TLSRPT_CERT_NOT_TRUSTED] = "certificate-not-trusted",
	[TLSRPT_VALIDATION_FAILURE] = "validation-failure",
	[TLSRPT_TLSA_INVALID] = "tlsa-invalid",
	[TLSRPT_DNSSEC_INVALID] = "dnssec-invalid",
	[TLSRPT_DANE_REQUIRED] = "dane-required",
	[TLSRPT_STS_POLICY_FETCH_ERROR] = "sts-policy-fetch-error",
	[TLSRPT_STS_POLICY_INVALID] = "sts-policy-invalid",
	[TLSRPT_STS_WEBPKI_INVALID] = "sts-webpki-invalid",
};

const char *tlsrpt_result_name(tlsrpt_result r)
{
	return (unsigned)r < TLSRPT_N_RESULTS ? result_names[r] : "validation-failure";
}

tlsrpt_result tlsrpt_result_from_x509(long v)
{
	switch (v) {
	case X509_V_ERR_HOSTNAME_MISMATCH:
		return TLSRPT_CERT_HOST_MISMATCH;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return TLSRPT_CERT_EXPIRED;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
		return TLSRPT_CERT_NOT_TRUSTED;
	default:
		return TLSRPT_VALIDATION_FAILURE;
	}
}

const char *tlsrpt_policy_name(tlsrpt_policy p)
{
	switch (p) {
	case TLSRPT_POLICY_STS:
		return "sts";
	case TLSRPT_POLICY_TLSA:
		return "tlsa";
	default:
		return "no-policy-found";
	}
}

int64_t tlsrpt_day_start(time_t t)
{
	int64_t s = (int64_t)t;
	int64_t r = s % 86400;
	return s - (r < 0 ? r + 86400 : r);
}

void tlsrpt_book_init(tlsrpt_book *b)
{
	*b = (tlsrpt_book){0};
}

static void detail_free(tlsrpt_detail *d)
{
	free(d->sending_ip);
	free(d->receiving_mx);
	free(d->receiving_ip);
	free(d->reason);
	free(d->receiving_helo);
}

void tlsrpt_book_free(tlsrpt_book *b)
{
	for (size_t i = 0; i < b->n; i++) {
		tlsrpt_entry *e = &b->v[i];
		free(e->domain);
		free(e->policy_string);
		for (size_t j = 0; j < e->n_mx; j++)
			free(e->mx[j]);
		for (size_t j = 0; j < e->n_details; j++)
			detail_free(&e->details[j]);
	}
	free(b->v);
	*b = (tlsrpt_book){0};
}

static bool same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* The entry for the session's key, made when missing; NULL when full. */
static tlsrpt_entry *entry_for(tlsrpt_book *b, const tlsrpt_session *s, int64_t day)
{
	const char *pstr = s->type == TLSRPT_POLICY_NONE ? NULL : s->policy_string;
	for (size_t i = 0; i < b->n; i++) {
		tlsrpt_entry *e = &b->v[i];
		if (e->day == day && e->type == s->type && strcasecmp(e->domain, s->policy_domain) == 0 &&
		    same(e->policy_string, pstr))
			return e;
	}
	if (b->n == TLSRPT_MAX_ENTRIES)
		return NULL;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->v = xrealloc(b->v, b->cap * sizeof *b->v);
	}
	tlsrpt_entry *e = &b->v[b->n++];
	*e = (tlsrpt_entry){.day = day, .domain = xstrdup(s->policy_domain), .type = s->type,
	                    .policy_string = dup_or_null(pstr)};
	return e;
}

static void note_mx(tlsrpt_entry *e, const char *mx)
{
	if (mx == NULL || *mx == '\0')
		return;
	for (size_t i = 0; i < e->n_mx; i++)
		if (strcasecmp(e->mx[i], mx) == 0)
			return;
	if (e->n_mx < TLSRPT_MAX_MX)
		e->mx[e->n_mx++] = xstrdup(mx);
}

static void note_failure(tlsrpt_entry *e, const tlsrpt_session *s, uint64_t n)
{
	for (size_t i = 0; i < e->n_details; i++) {
		tlsrpt_detail *d = &e->details[i];
		if (d->result == s->result && same(d->sending_ip, s->sending_ip) && same(d->receiving_mx, s->receiving_mx) &&
		    same(d->receiving_ip, s->receiving_ip) && same(d->reason, s->reason) &&
		    same(d->receiving_helo, s->receiving_helo)) {
			d->count += n;
			return;
		}
	}
	if (e->n_details == TLSRPT_MAX_DETAILS)
		return;
	e->details[e->n_details++] = (tlsrpt_detail){
		.result = s->result, .sending_ip = dup_or_null(s->sending_ip), .receiving_mx = dup_or_null(s->receiving_mx),
		.receiving_ip = dup_or_null(s->receiving_ip), .reason = dup_or_null(s->reason),
		.receiving_helo = dup_or_null(s->receiving_helo), .count = n};
}

bool tlsrpt_book_add(tlsrpt_book *b, const tlsrpt_session *s)
{
	return tlsrpt_book_add_n(b, s, 1);
}

bool tlsrpt_book_add_n(tlsrpt_book *b, const tlsrpt_session *s, uint64_t n)
{
	if (s->policy_domain == NULL || *s->policy_domain == '\0')
		return false;
	tlsrpt_entry *e = entry_for(b, s, tlsrpt_day_start(s->when));
	if (e == NULL) {
		b->dropped += n;
		return false;
	}
	note_mx(e, s->receiving_mx);
	if (s->result == TLSRPT_OK) {
		e->ok += n;
	} else {
		e->failed += n;
		note_failure(e, s, n);
	}
	return true;
}

static char *iso_utc(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	char s[32];
	strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(s);
}

static json_t *iso_json(int64_t t)
{
	char *s = iso_utc(t);
	json_t *j = json_string(s);
	free(s);
	return j;
}

char *tlsrpt_report_id(const tlsrpt_sender *s, int64_t day, const char *domain)
{
	char *start = iso_utc(day);
	char *id = xasprintf("%s_%s@%s", start, domain, s->submitter);
	free(start);
	return id;
}

/* policy-string: the policy's lines, one array member each. */
static json_t *policy_lines(const char *text)
{
	json_t *a = json_array();
	const char *p = text;
	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		size_t m = n;
		if (m > 0 && p[m - 1] == '\r')
			m--;
		if (m > 0)
			json_array_append_new(a, json_stringn(p, m));
		p = nl ? nl + 1 : NULL;
	}
	return a;
}

/* mx-host: for sts the policy's mx patterns (RFC 8460 4.4), for tlsa (and
 * an sts policy that could not be fetched) the MX host names the sessions
 * went to. */
static json_t *mx_hosts(const tlsrpt_entry *e)
{
	json_t *a = json_array();
	if (e->type == TLSRPT_POLICY_STS && e->policy_string != NULL) {
		const char *p = e->policy_string;
		while (p != NULL && *p != '\0') {
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);
			if (n > 3 && strncmp(p, "mx:", 3) == 0) {
				const char *v = p + 3;
				while (*v == ' ' || *v == '\t')
					v++;
				size_t m = n - (size_t)(v - p);
				while (m > 0 && (v[m - 1] == '\r' || v[m - 1] == ' '))
					m--;
				if (m > 0)
					json_array_append_new(a, json_stringn(v, m));
			}
			p = nl ? nl + 1 : NULL;
		}
	} else {
		for (size_t i = 0; i < e->n_mx; i++)
			json_array_append_new(a, json_string(e->mx[i]));
	}
	return a;
}

static void set_opt(json_t *o, const char *key, const char *v)
{
	if (v != NULL && *v != '\0')
		json_object_set_new(o, key, json_string(v));
}

static json_t *entry_json(const tlsrpt_entry *e)
{
	json_t *pol = json_object();
	json_object_set_new(pol, "policy-type", json_string(tlsrpt_policy_name(e->type)));
	if (e->type != TLSRPT_POLICY_NONE && e->policy_string != NULL) /* absent: not fetched (4.3.2.2) */
		json_object_set_new(pol, "policy-string", policy_lines(e->policy_string));
	json_object_set_new(pol, "policy-domain", json_string(e->domain));
	json_t *mx = mx_hosts(e);
	if (json_array_size(mx) > 0)
		json_object_set_new(pol, "mx-host", mx);
	else
		json_decref(mx);
	json_t *sum = json_object();
	json_object_set_new(sum, "total-successful-session-count", json_integer((json_int_t)e->ok));
	json_object_set_new(sum, "total-failure-session-count", json_integer((json_int_t)e->failed));
	json_t *o = json_object();
	json_object_set_new(o, "policy", pol);
	json_object_set_new(o, "summary", sum);
	if (e->n_details > 0) {
		json_t *fd = json_array();
		for (size_t i = 0; i < e->n_details; i++) {
			const tlsrpt_detail *d = &e->details[i];
			json_t *x = json_object();
			json_object_set_new(x, "result-type", json_string(tlsrpt_result_name(d->result)));
			set_opt(x, "sending-mta-ip", d->sending_ip);
			set_opt(x, "receiving-mx-hostname", d->receiving_mx);
			set_opt(x, "receiving-mx-helo", d->receiving_helo);
			set_opt(x, "receiving-ip", d->receiving_ip);
			json_object_set_new(x, "failed-session-count", json_integer((json_int_t)d->count));
			set_opt(x, "failure-reason-code", d->reason);
			json_array_append_new(fd, x);
		}
		json_object_set_new(o, "failure-details", fd);
	}
	return o;
}

char *tlsrpt_report_json(const tlsrpt_book *b, const tlsrpt_sender *s, int64_t day, const char *domain)
{
	json_t *pols = json_array();
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].day == day && strcasecmp(b->v[i].domain, domain) == 0)
			json_array_append_new(pols, entry_json(&b->v[i]));
	if (json_array_size(pols) == 0) {
		json_decref(pols);
		return NULL;
	}
	json_t *root = json_object();
	json_object_set_new(root, "organization-name", json_string(s->org_name));
	json_t *range = json_object();
	json_object_set_new(range, "start-datetime", iso_json(day));
	json_object_set_new(range, "end-datetime", iso_json(day + 86399));
	json_object_set_new(root, "date-range", range);
	json_object_set_new(root, "contact-info", json_string(s->contact));
	char *id = tlsrpt_report_id(s, day, domain);
	json_object_set_new(root, "report-id", json_string(id));
	free(id);
	json_object_set_new(root, "policies", pols);
	char *out = json_dumps(root, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(root);
	return out;
}

char *tlsrpt_filename(const tlsrpt_sender *s, int64_t day, const char *domain, const char *unique)
{
	return xasprintf("%s!%s!%lld!%lld%s%s.json.gz", s->submitter, domain, (long long)day, (long long)(day + 86399),
	                 unique != NULL && *unique ? "!" : "", unique != NULL ? unique : "");
}

bool tlsrpt_gzip(const void *data, size_t n, unsigned char **out_r, size_t *n_r)
{
	z_stream z = {0};
	/* 15 + 16: the gzip wrapper of RFC 1952, not zlib's RFC 1950 one */
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	size_t cap = deflateBound(&z, (uLong)n) + 32;
	unsigned char *out = xmalloc(cap);
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	int rc = deflate(&z, Z_FINISH);
	size_t got = cap - z.avail_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(out);
		return false;
	}
	*out_r = out;
	*n_r = got;
	return true;
}

/* base64 in 76-character lines (RFC 2045 6.8) */
static void put_base64(buf *m, const unsigned char *p, size_t n)
{
	unsigned char line[80];
	for (size_t i = 0; i < n; i += 57) {
		size_t k = n - i < 57 ? n - i : 57;
		int w = EVP_EncodeBlock(line, p + i, (int)k);
		BUF_APPEND(m, line, (size_t)w);
		BUF_PUTS(m, "\r\n");
	}
}

char *tlsrpt_message(const tlsrpt_sender *s, const char *from, const char *to, int64_t day, const char *domain,
                     const unsigned char *gz, size_t n_gz, time_t now)
{
	unsigned char rnd[12];
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		memset(rnd, 0x5a, sizeof rnd);
	char hex[sizeof rnd * 2 + 1];
	str_hex(rnd, sizeof rnd, hex);
	char date[64];
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	char *id = tlsrpt_report_id(s, day, domain);
	char *fname = tlsrpt_filename(s, day, domain, hex + 16);
	char *start = iso_utc(day);
	buf m;
	buf_init(&m, BUF_UNBOUNDED);
	char *head = xasprintf(
	    "From: %s\r\nTo: %s\r\nDate: %s\r\nSubject: Report Domain: %s Submitter: %s Report-ID: <%s>\r\n"
	    "Message-ID: <tlsrpt.%s@%s>\r\nMIME-Version: 1.0\r\nTLS-Report-Domain: %s\r\nTLS-Report-Submitter: %s\r\n"
	    "TLS-Required: No\r\nAuto-Submitted: auto-generated\r\n"
	    "Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"tlsrpt-%s\"\r\n\r\n"
	    "This is a TLS report (RFC 8460) in MIME format.\r\n\r\n"
	    "--tlsrpt-%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
	    "This is an aggregate TLS report from %s about mail sent to %s on the UTC day that starts at %s.\r\n\r\n"
	    "--tlsrpt-%s\r\nContent-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment; filename=\"%s\"\r\n\r\n",
	    from, to, date, domain, s->submitter, id, hex, s->submitter, domain, s->submitter, hex, hex, s->submitter,
	    domain, start, hex, fname);
	BUF_PUTS(&m, head);
	put_base64(&m, gz, n_gz);
	BUF_PRINTF(&m, "\r\n--tlsrpt-%s--\r\n", hex);
	free(head);
	free(start);
	free(fname);
	free(id);
	return buf_steal(&m);
}

/* %-decode (RFC 8460 3: commas and '!' in URIs are %-encoded) */
static char *pct_decode(const char *p, size_t n)
{
	char *o = xmalloc(n + 1), *q = o;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '%' && i + 2 < n && str_hexval(p[i + 1]) >= 0 && str_hexval(p[i + 2]) >= 0) {
			*q++ = (char)(str_hexval(p[i + 1]) * 16 + str_hexval(p[i + 2]));
			i += 2;
		} else {
			*q++ = p[i];
		}
	}
	*q = '\0';
	return o;
}

/* The URIs of a rua value: mailto: ones %-decoded into mailto_r (up to
 * max), https: ones as they are into https_r (up to max_https; NULL: only
 * counted). */
typedef struct rua_out {
	char **mailto;
	size_t max, *n_mailto;
	char **https;
	size_t max_https, *n_https;
} rua_out;

static void take_uris(const char *v, size_t len, const rua_out *o)
{
	const char *p = v, *end = v + len;
	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *e = c ? c : end;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		const char *t = e;
		while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		size_t n = (size_t)(t - p);
		if (n > 7 && strncasecmp(p, "mailto:", 7) == 0) {
			if (*o->n_mailto < o->max)
				o->mailto[(*o->n_mailto)++] = pct_decode(p + 7, n - 7);
		} else if (n > 8 && strncasecmp(p, "https://", 8) == 0) {
			if (o->https == NULL)
				(*o->n_https)++;
			else if (*o->n_https < o->max_https)
				o->https[(*o->n_https)++] = xstrndup(p, n);
		}
		p = c ? c + 1 : end;
	}
}

static bool parse_rua(const char *const *txt, size_t n_txt, const rua_out *o)
{
	*o->n_mailto = 0;
	*o->n_https = 0;
	const char *rec = NULL;
	size_t found = 0;
	for (size_t i = 0; i < n_txt; i++)
		if (strncmp(txt[i], "v=TLSRPTv1;", 11) == 0) {
			rec = txt[i];
			found++;
		}
	if (found != 1)
		return false;
	/* fields: name=value separated by ';' */
	const char *p = rec + 11;
	while (*p != '\0') {
		const char *semi = strchr(p, ';');
		const char *e = semi ? semi : p + strlen(p);
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(e - p) > 4 && strncmp(p, "rua=", 4) == 0)
			take_uris(p + 4, (size_t)(e - p - 4), o);
		p = semi ? semi + 1 : e;
	}
	return *o->n_mailto + *o->n_https > 0;
}

bool tlsrpt_parse_txt(const char *const *txt, size_t n_txt, char **mailto_r, size_t max, size_t *n_mailto_r,
                      size_t *n_https_r)
{
	rua_out o = {.mailto = mailto_r, .max = max, .n_mailto = n_mailto_r, .n_https = n_https_r};
	return parse_rua(txt, n_txt, &o);
}

bool tlsrpt_parse_rua(const char *const *txt, size_t n_txt, char **mailto_r, size_t max, size_t *n_mailto_r,
                      char **https_r, size_t max_https, size_t *n_https_r)
{
	rua_out o = {.mailto = mailto_r, .max = max, .n_mailto = n_mailto_r, .https = https_r,
	             .max_https = max_https, .n_https = n_https_r};
	return parse_rua(txt, n_txt, &o);
}
