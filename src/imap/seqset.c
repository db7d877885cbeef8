/* seqset.c — sequence-set parsing, membership and ordered walking (see
 * seqset.h).  Memory is one range per element, so O(len). */
#include "imap/seqset.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "imap/args.h"
#include "lib/strutil.h"

/* seq-number: nz-number or "*" (0 here). */
static bool parse_seq_number(const char *s, size_t len, uint32_t *n_r, const char **error_r)
{
	if (len == 1 && s[0] == '*') {
		*n_r = 0;
		return true;
	}
	if (len == 0) {
		*error_r = "Empty number in the sequence set.";
		return false;
	}
	uint32_t n;
	if (!imap_parse_number(s, len, &n)) {
		for (size_t i = 0; i < len; i++)
			if (s[i] < '0' || s[i] > '9') {
				*error_r = "Invalid character in the sequence set.";
				return false;
			}
		*error_r = "Number in the sequence set is larger than 4294967295.";
		return false;
	}
	if (n == 0) {
		*error_r = "Sequence numbers start at 1, not 0.";
		return false;
	}
	*n_r = n;
	return true;
}

static bool parse_range(const char *s, size_t len, imap_seq_range *r, const char **error_r)
{
	const char *colon = memchr(s, ':', len);
	if (colon == NULL) {
		if (!parse_seq_number(s, len, &r->lo, error_r))
			return false;
		r->hi = r->lo;
		return true;
	}
	size_t a = (size_t)(colon - s);
	return parse_seq_number(s, a, &r->lo, error_r) &&
	       parse_seq_number(colon + 1, len - a - 1, &r->hi, error_r);
}

bool imap_seqset_parse(const char *s, size_t len, imap_seqset *set, const char **error_r)
{
	memset(set, 0, sizeof(*set));
	if (len == 1 && s[0] == '$') {
		set->searchres = true;
		return true;
	}
	if (len == 0) {
		*error_r = "Empty sequence set.";
		return false;
	}
	size_t elems = 1;
	for (size_t i = 0; i < len; i++)
		elems += s[i] == ',';
	set->ranges = xcalloc(elems, sizeof(*set->ranges));
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != ',')
			continue;
		if (!parse_range(s + start, i - start, &set->ranges[set->n], error_r)) {
			if (memchr(s, '$', len) != NULL)
				*error_r = "$ must stand alone as a sequence set.";
			imap_seqset_free(set);
			return false;
		}
		set->n++;
		start = i + 1;
	}
	return true;
}

bool imap_seqset_parse_arg(const imap_arg *a, imap_seqset *set, const char **error_r)
{
	if (a == NULL || a->type != IMAP_ARG_ATOM) {
		memset(set, 0, sizeof(*set));
		*error_r = "Expected a sequence set.";
		return false;
	}
	return imap_seqset_parse(a->str, a->len, set, error_r);
}

void imap_seqset_free(imap_seqset *set)
{
	free(set->ranges);
	memset(set, 0, sizeof(*set));
}

/* A range with "*" replaced by max, lo <= hi. */
static void concrete(const imap_seq_range *r, uint32_t max, uint32_t *lo_r, uint32_t *hi_r)
{
	uint32_t a = r->lo == 0 ? max : r->lo;
	uint32_t b = r->hi == 0 ? max : r->hi;
	*lo_r = a < b ? a : b;
	*hi_r = a < b ? b : a;
}

bool imap_seqset_contains(const imap_seqset *set, uint32_t n, uint32_t max)
{
	assert(!set->searchres);
	if (n == 0)
		return false;
	for (size_t i = 0; i < set->n; i++) {
		uint32_t lo, hi;
		concrete(&set->ranges[i], max, &lo, &hi);
		if (n >= lo && n <= hi)
			return true;
	}
	return false;
}

uint32_t imap_seqset_largest(const imap_seqset *set)
{
	uint32_t m = 0;
	for (size_t i = 0; i < set->n; i++) {
		if (set->ranges[i].lo > m)
			m = set->ranges[i].lo;
		if (set->ranges[i].hi > m)
			m = set->ranges[i].hi;
	}
	return m;
}

static int cmp_range(const void *a, const void *b)
{
	const imap_seq_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

void imap_seqset_resolve(const imap_seqset *set, uint32_t max, imap_seqset *out)
{
	assert(!set->searchres);
	memset(out, 0, sizeof(*out));
	out->ranges = xcalloc(set->n + 1, sizeof(*out->ranges));
	for (size_t i = 0; i < set->n; i++) {
		uint32_t lo, hi;
		concrete(&set->ranges[i], max, &lo, &hi);
		if (hi > max)
			hi = max;
		if (lo == 0 || lo > hi)
			continue;    /* empty after clipping (max 0 gives nothing) */
		out->ranges[out->n].lo = lo;
		out->ranges[out->n++].hi = hi;
	}
	qsort(out->ranges, out->n, sizeof(*out->ranges), cmp_range);
	size_t w = 0;
	for (size_t i = 0; i < out->n; i++) {
		if (w > 0 && (uint64_t)out->ranges[i].lo <= (uint64_t)out->ranges[w - 1].hi + 1) {
			if (out->ranges[i].hi > out->ranges[w - 1].hi)
				out->ranges[w - 1].hi = out->ranges[i].hi;
		} else {
			out->ranges[w++] = out->ranges[i];
		}
	}
	out->n = w;
}

void imap_seqset_iter_init(imap_seqset_iter *it, const imap_seqset *resolved)
{
	it->set = resolved;
	it->i = 0;
	it->next = resolved->n > 0 ? resolved->ranges[0].lo : 0;
}

bool imap_seqset_iter_next(imap_seqset_iter *it, uint32_t *n_r)
{
	while (it->i < it->set->n) {
		const imap_seq_range *r = &it->set->ranges[it->i];
		if (it->next <= r->hi) {
			*n_r = (uint32_t)it->next++;
			return true;
		}
		if (++it->i < it->set->n)
			it->next = it->set->ranges[it->i].lo;
	}
	return false;
}

bool imap_seqset_write(buf *out, const uint32_t *v, size_t n)
{
	bool ok = true;
	for (size_t k = 0; ok && k < n;) {
		size_t e = k;
		while (e + 1 < n && v[e + 1] == v[e] + 1)
			e++;
		ok = buf_printf(out, "%s%u", k ? "," : "", v[k]) && (e == k || buf_printf(out, ":%u", v[e]));
		k = e + 1;
	}
	return ok;
}
