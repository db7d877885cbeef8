/* TLS-RPT (RFC 8460): the sender side's counting and the daily report.
 *
 * Owns: the result types of RFC 8460 4.3, an in-memory book of sessions per
 * (UTC day, policy domain, policy type, policy string) with the failure
 * details, and turning one day of one policy domain into the report: the
 * JSON of RFC 8460 4, its gzip (RFC 1952) form, the file name of 5.1 and the
 * multipart/report message of 5.3.  It does no I/O: no DNS, no queue, no
 * database; callers feed it sessions and take the bytes it builds. */
#ifndef YUBIN_DELIVERY_TLSRPT_H
#define YUBIN_DELIVERY_TLSRPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* What happened to one session, RFC 8460 4.3; TLSRPT_OK is a success. */
typedef enum tlsrpt_result {
	TLSRPT_OK = 0,
	TLSRPT_STARTTLS_NOT_SUPPORTED,
	TLSRPT_CERT_HOST_MISMATCH,
	TLSRPT_CERT_EXPIRED,
	TLSRPT_CERT_NOT_TRUSTED,
	TLSRPT_VALIDATION_FAILURE,
	TLSRPT_TLSA_INVALID,
	TLSRPT_DNSSEC_INVALID,
	TLSRPT_DANE_REQUIRED,
	TLSRPT_STS_POLICY_FETCH_ERROR,
	TLSRPT_STS_POLICY_INVALID,
	TLSRPT_STS_WEBPKI_INVALID,
	TLSRPT_N_RESULTS
} tlsrpt_result;

/* The result-type string of RFC 8460 4.3 ("certificate-expired", ...);
 * "" for TLSRPT_OK. */
const char *tlsrpt_result_name(tlsrpt_result r);

/* Map an OpenSSL X509_V_ERR_* verify result to a result type (4.3.1):
 * host mismatch, expiry, trust, and validation-failure for the rest. */
tlsrpt_result tlsrpt_result_from_x509(long verify_result);

typedef enum tlsrpt_policy {
	TLSRPT_POLICY_STS,
	TLSRPT_POLICY_TLSA,
	TLSRPT_POLICY_NONE,
} tlsrpt_policy;

/* "sts", "tlsa", "no-policy-found" */
const char *tlsrpt_policy_name(tlsrpt_policy p);

/* One session that reached the TLS decision.  Strings may be NULL (absent);
 * policy_string holds the policy's lines separated by '\n' (the MTA-STS
 * policy text, or the TLSA records in presentation form). */
typedef struct tlsrpt_session {
	time_t when;
	const char *policy_domain;
	tlsrpt_policy type;
	const char *policy_string;
	tlsrpt_result result;
	const char *sending_ip;
	const char *receiving_mx;
	const char *receiving_ip;
	const char *reason; /* failure-reason-code, free text */
	const char *receiving_helo; /* receiving-mx-helo: the name in the MX's
	                             * EHLO reply (else its greeting), 4.4 */
} tlsrpt_session;

/* Bounds: a book holds at most this many policy entries, and an entry at
 * most this many distinct failure details and MX host names; what does not
 * fit is still counted in the summary, and dropped from the details. */
#define TLSRPT_MAX_ENTRIES 4096
#define TLSRPT_MAX_DETAILS 64
#define TLSRPT_MAX_MX 16

typedef struct tlsrpt_detail {
	tlsrpt_result result;
	char *sending_ip, *receiving_mx, *receiving_ip, *reason;
	char *receiving_helo;
	uint64_t count;
} tlsrpt_detail;

/* The counts for one (day, policy domain, policy type, policy string). */
typedef struct tlsrpt_entry {
	int64_t day; /* Unix time of the day's 00:00:00 UTC */
	char *domain;
	tlsrpt_policy type;
	char *policy_string;
	uint64_t ok, failed;
	char *mx[TLSRPT_MAX_MX];
	size_t n_mx;
	tlsrpt_detail details[TLSRPT_MAX_DETAILS];
	size_t n_details;
} tlsrpt_entry;

typedef struct tlsrpt_book {
	tlsrpt_entry *v;
	size_t n, cap;
	uint64_t dropped; /* sessions not counted: the book was full */
} tlsrpt_book;

void tlsrpt_book_init(tlsrpt_book *b);
void tlsrpt_book_free(tlsrpt_book *b);
/* Count one session.  False when the book is full (counted in dropped). */
bool tlsrpt_book_add(tlsrpt_book *b, const tlsrpt_session *s);
/* The same for n sessions alike (a book read back from storage). */
bool tlsrpt_book_add_n(tlsrpt_book *b, const tlsrpt_session *s, uint64_t n);
/* The UTC midnight at or before t. */
int64_t tlsrpt_day_start(time_t t);

/* What the report says about the sender (the config's tlsrpt block). */
typedef struct tlsrpt_sender {
	const char *org_name;  /* organization-name */
	const char *contact;   /* contact-info */
	const char *submitter; /* our domain: TLS-Report-Submitter, file names */
} tlsrpt_sender;

/* The RFC 8460 4 JSON for one day and one policy domain from the book's
 * matching entries (one policies[] member per entry); NULL when the book has
 * none.  Free with free(). */
char *tlsrpt_report_json(const tlsrpt_book *b, const tlsrpt_sender *s, int64_t day, const char *domain);

/* "2026-12-05T00:00:00Z_example.net@sender.example": the report-id. */
char *tlsrpt_report_id(const tlsrpt_sender *s, int64_t day, const char *domain);

/* The 5.1 file name: submitter!domain!begin!end!unique.json.gz, begin and end
 * in Unix seconds (the day's first and last second). */
char *tlsrpt_filename(const tlsrpt_sender *s, int64_t day, const char *domain, const char *unique);

/* gzip (RFC 1952 framing) of data; false on a zlib error.  *out_r is
 * malloc'd. */
bool tlsrpt_gzip(const void *data, size_t n, unsigned char **out_r, size_t *n_r);

/* The RFC 8460 5.3 message (RFC 6522 multipart/report; report-type=tlsrpt),
 * CRLF line ends, headers first, without any DKIM-Signature: from, to (the
 * rua addresses joined by ", "), the gzip'd report and the rest from the
 * arguments; now for Date.  Free with free(). */
char *tlsrpt_message(const tlsrpt_sender *s, const char *from, const char *to, int64_t day, const char *domain,
                     const unsigned char *gz, size_t n_gz, time_t now);

/* The addresses of a _smtp._tls TXT record set (RFC 8460 3): the records
 * that start with "v=TLSRPTv1;"; if not exactly one, no reporting (false).
 * mailto: URIs go to *mailto_r (the address, %-decoded; up to max), https:
 * ones are counted in *n_https_r. */
bool tlsrpt_parse_txt(const char *const *txt, size_t n_txt, char **mailto_r, size_t max, size_t *n_mailto_r,
                      size_t *n_https_r);
/* The same, with the https: URIs (RFC 8460 3: "https://" and the rest,
 * as written) into https_r (up to max_https, malloc'd). */
bool tlsrpt_parse_rua(const char *const *txt, size_t n_txt, char **mailto_r, size_t max, size_t *n_mailto_r,
                      char **https_r, size_t max_https, size_t *n_https_r);

#endif
