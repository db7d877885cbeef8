/* fuzz_rewrite.c — libFuzzer target for rewrite/header.c (address lists
 * in header fields) and rewrite/srs.c.  Invariants checked (abort() when
 * one breaks):
 *  - a rebuilt field starts with the same name and colon, ends with a line
 *    end when the field did, has no line longer than 998 octets, every
 *    line after the first starts with a space or tab, and holds no CR
 *    unless the field had one (the spool never has: DATA refuses them);
 *  - rewriting is stable: the rebuilt field, rewritten again with the same
 *    map, changes no more (the map sends every address to @z.example and
 *    leaves those alone);
 *  - the fields the walker returns tile the header in order;
 *  - SRS: what srs_forward makes, srs_reverse turns back (SRS0: the
 *    sender; SRS1: an SRS0 address), and one changed hash character is
 *    refused.
 * Input: one option byte (bit 0: a long replacement, to make lines
 * fold), then the message; its first line is also the SRS sender. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/strutil.h"
#include "rewrite/header.h"
#include "rewrite/srs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool long_names;

static char *map(void *arg, const char *address)
{
	const char *at = strrchr(address, '@');
	if (at == NULL || strcmp(at, "@z.example") == 0)
		return NULL;
	if (long_names)
		return xasprintf("%.*s.with-a-long-suffix-to-make-the-line-fold@z.example", (int)(at - address), address);
	return xasprintf("%.*s@z.example", (int)(at - address), address);
}

static void check_field(const char *f, size_t len, size_t name_len)
{
	buf out;
	buf_init(&out, len * 4 + 65536);
	rw_hdr_status st = rw_header_rewrite(f, len, name_len, map, NULL, &out);
	if (st != RW_HDR_CHANGED) {
		if (out.len != 0)
			abort();
		buf_free(&out);
		return;
	}
	const char *o = out.data;
	if (out.len <= name_len || memcmp(o, f, name_len + 1) != 0)
		abort();
	if ((f[len - 1] == '\n') != (o[out.len - 1] == '\n'))
		abort();
	for (size_t ls = 0; ls < out.len;) {
		const char *nl = memchr(o + ls, '\n', out.len - ls);
		size_t le = nl ? (size_t)(nl - o) : out.len;
		if (le - ls > 998 || (memchr(o + ls, '\r', le - ls) != NULL && memchr(f, '\r', len) == NULL))
			abort();
		if (ls > 0 && o[ls] != ' ' && o[ls] != '\t')
			abort();
		ls = le + 1;
	}
	buf again;
	buf_init(&again, out.len * 4 + 65536);
	if (rw_header_rewrite(o, out.len, name_len, map, NULL, &again) != RW_HDR_SAME)
		abort();
	buf_free(&again);
	buf_free(&out);
}

static void check_srs(const char *sender)
{
	strlist secrets;
	strlist_init(&secrets);
	strlist_add(&secrets, "fuzz-secret");
	srs_config c = {.secrets = &secrets, .domain = "fwd.example", .max_age = 21};
	time_t now = 1700000000;
	char *fwd = NULL, *back = NULL;
	if (srs_forward(&c, sender, now, &fwd) == SRS_OK) {
		if (srs_reverse(&c, fwd, now, &back) != SRS_OK)
			abort();
		/* the sender itself, except an SRS1 sender: its first forwarder's
		 * SRS0; an SRS0 sender's tag comes back as "SRS0" whatever case
		 * it came in (the tag is not kept inside SRS1, as in libsrs2) */
		bool srs = srs_is_srs(sender), srs1 = srs && sender[3] == '1';
		bool same = srs ? strncasecmp(back, sender, 4) == 0 && strcmp(back + 4, sender + 4) == 0
		                : strcmp(back, sender) == 0;
		if (srs1 ? !srs_is_srs(back) : !same)
			abort();
		free(back);
		back = NULL;
		/* one hash character, other in any case (hashes compare without case) */
		fwd[5] = fwd[5] == 'A' || fwd[5] == 'a' ? 'B' : 'A';
		if (srs_reverse(&c, fwd, now, &back) == SRS_OK)
			abort();
	}
	free(fwd);
	free(back);
	strlist_free(&secrets);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long_names = size > 0 && (data[0] & 1);
	char *msg = size > 0 ? xstrndup((const char *)data + 1, size - 1) : xstrdup("");
	size_t len = strlen(msg), pos = 0, prev_end = 0;
	rw_field f;
	while (rw_header_next(msg, len, &pos, &f)) {
		if (f.start != prev_end || f.end <= f.start || f.end > len || f.name_len >= f.end - f.start)
			abort();
		prev_end = f.end;
		if (f.name_len > 0)
			check_field(msg + f.start, f.end - f.start, f.name_len);
	}
	const char *nl = strchr(msg, '\n');
	char *first = nl ? xstrndup(msg, (size_t)(nl - msg)) : xstrdup(msg);
	check_srs(first);
	free(first);
	free(msg);
	return 0;
}
