/* downgrade.c — the 7-bit copy of a message and its new signatures (see
 * downgrade.h).  Owns the order "convert, remove our old signatures, sign
 * again"; must not decide when a copy is used (smtpc.c, by what the
 * server offers) nor how MIME is converted (mime/to7bit.c). */
#include "delivery/downgrade.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "mime/header.h"
#include "mime/to7bit.h"
#include "msgauth/dkimkeys.h"
#include "msgauth/dkimsign.h"
#include "msgauth/dkimtags.h"

/* The d= of a DKIM-Signature field (lower-cased), or NULL. */
static char *sig_domain(const char *m, const mime_field *f)
{
	dkim_sig sig;
	char *err = NULL;
	dkim_sig_parse(m + f->value_start, f->value_end - f->value_start, &sig, &err);
	char *d = sig.domain != NULL ? xstrdup(sig.domain) : NULL;
	dkim_sig_free(&sig);
	free(err);
	return d;
}

/* The domains of every DKIM-Signature in m's header, each once. */
static void signing_domains(const char *m, size_t len, strlist *domains)
{
	size_t pos = 0;
	mime_field f;
	while (mime_header_next(m, len, &pos, &f)) {
		if (!mime_field_is(m, &f, "DKIM-Signature"))
			continue;
		char *d = sig_domain(m, &f);
		if (d != NULL && !strlist_contains(domains, d))
			strlist_add(domains, d);
		free(d);
	}
}

/* m without the DKIM-Signature fields of domain, into out. */
static bool strip_signatures(const char *m, size_t len, const char *domain, buf *out)
{
	size_t pos = 0, last = 0;
	mime_field f;
	while (mime_header_next(m, len, &pos, &f)) {
		bool drop = false;
		if (mime_field_is(m, &f, "DKIM-Signature")) {
			char *d = sig_domain(m, &f);
			drop = d != NULL && strcmp(d, domain) == 0;
			free(d);
		}
		if (!drop && !buf_append(out, m + f.start, f.end - f.start))
			return false;
		last = f.end;
	}
	return buf_append(out, m + last, len - last);
}

/* If domain has keys here, its signatures in cur are replaced by new ones
 * over cur.  False when it has keys but signing failed (*err_r set). */
static bool resign(const char *data_dir, const char *domain, buf *cur, size_t max, downgrade *d)
{
	dkim_keyset set = {0};
	strlist problems;
	strlist_init(&problems);
	dkim_keys_load(data_dir, domain, &set, &problems);
	strlist_free(&problems);
	const dkim_key *keys[2];
	size_t n = dkim_keys_pick(&set, domain, NULL, keys);
	bool ok = true;
	if (n > 0) {
		buf stripped, out;
		buf_init(&stripped, max);
		buf_init(&out, max);
		char *err = NULL;
		dkim_sign_opts o = {.now = time(NULL), .crlf = false};
		ok = strip_signatures(cur->data, cur->len, domain, &stripped) &&
		     dkim_sign(stripped.data, stripped.len, keys, n, &o, &out, &err) &&
		     buf_append(&out, stripped.data, stripped.len);
		if (ok) {
			buf_free(cur);
			*cur = out;
			char *r = d->resigned ? xasprintf("%s,%s", d->resigned, domain) : xstrdup(domain);
			free(d->resigned);
			d->resigned = r;
		} else {
			d->sign_error = err != NULL ? xasprintf("%s: %s", domain, err)
			                            : xasprintf("%s: the message is too big", domain);
			free(err);
			buf_free(&out);
		}
		buf_free(&stripped);
	}
	dkim_keyset_free(&set);
	return ok;
}

void downgrade_prepare(const char *data_dir, const char *msg, size_t len, size_t max, downgrade *d)
{
	*d = (downgrade){0};
	buf cur;
	buf_init(&cur, max);
	const char *why = NULL;
	to7bit_status st = to7bit_convert(msg, len, &cur, &why);
	if (st != TO7BIT_CONVERTED) {
		if (st != TO7BIT_CLEAN)
			d->refusal = xasprintf("554 5.6.3 The remote server does not accept 8-bit mail (no 8BITMIME) "
			                       "and this message cannot be converted to 7 bit: %s", why);
		buf_free(&cur);
		return;
	}
	strlist domains;
	strlist_init(&domains);
	signing_domains(msg, len, &domains);
	for (size_t i = 0; i < domains.n; i++)
		if (!resign(data_dir, domains.items[i], &cur, max, d))
			break; /* the copy goes with what could be done; the error is logged */
	strlist_free(&domains);
	d->len = cur.len;
	d->body = buf_steal(&cur);
}

void downgrade_free(downgrade *d)
{
	free(d->body);
	free(d->refusal);
	free(d->sign_error);
	free(d->resigned);
	*d = (downgrade){0};
}
