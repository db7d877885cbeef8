/* tlsrptlive.c — TLS-RPT counts from the event loop to tlsrpt.db (see
 * tlsrptlive.h).  Must not build or send reports. */
#include "delivery/tlsrptlive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/mtasts.h"
#include "delivery/smtpc.h"
#include "delivery/tlsrptdb.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/strutil.h"

struct tlsrptlive {
	workers *wk;
	tlsrptdb *db;
	tlsrpt_book book;     /* noted since the last flush began */
	tlsrpt_book flushing; /* what the running flush writes */
	bool busy;            /* a flush is in flight */
	bool closing;         /* freed while busy: the flush's done frees */
	char *err;            /* the flush's error, for the log on the loop */
};

tlsrptlive *tlsrptlive_new(workers *wk, const char *data_dir, char **err_r)
{
	char *path = xasprintf("%s/tlsrpt.db", data_dir);
	tlsrptdb *db = tlsrptdb_open(path, err_r);
	free(path);
	if (db == NULL)
		return NULL;
	tlsrptlive *l = xcalloc(1, sizeof *l);
	l->wk = wk;
	l->db = db;
	tlsrpt_book_init(&l->book);
	tlsrpt_book_init(&l->flushing);
	return l;
}

static void flush_work(void *arg)
{
	tlsrptlive *l = arg;
	(void)tlsrptdb_add(l->db, &l->flushing, &l->err);
}

static void start_flush(tlsrptlive *l);

static void destroy(tlsrptlive *l)
{
	tlsrpt_book_free(&l->book);
	tlsrpt_book_free(&l->flushing);
	tlsrptdb_close(&l->db);
	free(l->err);
	free(l);
}

static void flush_done(void *arg)
{
	tlsrptlive *l = arg;
	l->busy = false;
	if (l->err != NULL) {
		log_event(LOG_LVL_ERROR, "tlsrpt_flush_failed", "error=\"%s\" sessions_lost=%llu", l->err,
		          (unsigned long long)l->flushing.n);
		free(l->err);
		l->err = NULL;
	}
	tlsrpt_book_free(&l->flushing);
	if (l->closing) {
		(void)tlsrptdb_add(l->db, &l->book, &l->err);
		destroy(l);
		return;
	}
	if (l->book.n > 0)
		start_flush(l);
}

static void start_flush(tlsrptlive *l)
{
	l->flushing = l->book;
	tlsrpt_book_init(&l->book);
	l->busy = true;
	workers_submit(l->wk, flush_work, flush_done, l);
}

void tlsrptlive_note(tlsrptlive *l, const tlsrpt_session *s)
{
	if (!tlsrpt_book_add(&l->book, s))
		return;
	if (!l->busy)
		start_flush(l);
}

void tlsrptlive_free(tlsrptlive **lp)
{
	tlsrptlive *l = *lp;
	*lp = NULL;
	if (l == NULL)
		return;
	if (l->busy) {
		l->closing = true;
		return;
	}
	char *err = NULL;
	if (l->book.n > 0 && !tlsrptdb_add(l->db, &l->book, &err)) {
		log_event(LOG_LVL_ERROR, "tlsrpt_flush_failed", "error=\"%s\"", err);
		free(err);
	}
	destroy(l);
}

/* policy-string (RFC 8460 4.4): the MTA-STS policy's lines, or the TLSA
 * records in presentation form, one a line. */
static char *policy_text(const smtpc_job *job, const mtasts_policy *sts)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	if (job->dane != NULL) {
		for (size_t i = 0; i < job->dane->n; i++) {
			const dane_tlsa *r = &job->dane->recs[i];
			BUF_PRINTF(&b, "%u %u %u ", r->usage, r->selector, r->mtype);
			for (size_t k = 0; k < r->len; k++)
				BUF_PRINTF(&b, "%02X", r->data[k]);
			BUF_PUTC(&b, '\n');
		}
	} else {
		BUF_PRINTF(&b, "version: STSv1\nmode: %s\n", mtasts_mode_name(sts->mode));
		for (size_t i = 0; i < sts->mx.n; i++)
			BUF_PRINTF(&b, "mx: %s\n", sts->mx.items[i]);
		BUF_PRINTF(&b, "max_age: %ld\n", sts->max_age);
	}
	return buf_steal(&b);
}

static tlsrpt_result job_result(const smtpc_job *job, tlsrpt_policy type)
{
	if (job->tls_failure != 0)
		return (tlsrpt_result)job->tls_failure;
	if (job->tls_version == NULL)
		return TLSRPT_STARTTLS_NOT_SUPPORTED;
	if (type == TLSRPT_POLICY_STS && !job->tls_verified)
		return tlsrpt_result_from_x509(job->tls_verify_result);
	return TLSRPT_OK;
}

void tlsrptlive_note_job(tlsrptlive *l, const smtpc_job *job, const char *domain, const char *ip,
                         const mtasts_policy *sts)
{
	if (l == NULL || !job->connected || job->reuse != NULL || job->stale)
		return;
	tlsrpt_policy type = job->dane != NULL ? TLSRPT_POLICY_TLSA
	                   : sts != NULL && sts->mode != MTASTS_MODE_NONE ? TLSRPT_POLICY_STS
	                                                                   : TLSRPT_POLICY_NONE;
	char *text = type == TLSRPT_POLICY_NONE ? NULL : policy_text(job, sts);
	tlsrpt_result r = job_result(job, type);
	tlsrpt_session s = {.when = time(NULL), .policy_domain = domain, .type = type, .policy_string = text,
	                    .result = r, .sending_ip = job->local_ip, .receiving_mx = job->mx_host, .receiving_ip = ip,
	                    .reason = r == TLSRPT_OK ? NULL : job->dane_why, .receiving_helo = job->mx_helo};
	tlsrptlive_note(l, &s);
	free(text);
}

void tlsrptlive_note_sts_failure(tlsrptlive *l, const smtpc_job *job, const char *domain, const char *ip, int fail,
                                 const char *why)
{
	if (l == NULL || !job->connected || job->reuse != NULL || job->stale)
		return;
	if (job->dane != NULL || fail == MTASTS_FAIL_NONE) {
		tlsrptlive_note_job(l, job, domain, ip, NULL);
		return;
	}
	tlsrpt_result r = fail == MTASTS_FAIL_WEBPKI    ? TLSRPT_STS_WEBPKI_INVALID
	                  : fail == MTASTS_FAIL_INVALID ? TLSRPT_STS_POLICY_INVALID
	                                                : TLSRPT_STS_POLICY_FETCH_ERROR;
	tlsrpt_session s = {.when = time(NULL), .policy_domain = domain, .type = TLSRPT_POLICY_STS, .result = r,
	                    .sending_ip = job->local_ip, .receiving_mx = job->mx_host, .receiving_ip = ip,
	                    .reason = why != NULL && *why ? why : NULL, .receiving_helo = job->mx_helo};
	tlsrptlive_note(l, &s);
}

void tlsrptlive_note_lookup(tlsrptlive *l, const char *domain, const char *mx, tlsrpt_result r, const char *why)
{
	if (l == NULL)
		return;
	tlsrpt_session s = {.when = time(NULL), .policy_domain = domain, .type = TLSRPT_POLICY_NONE, .result = r,
	                    .receiving_mx = mx, .reason = why};
	tlsrptlive_note(l, &s);
}
