/* vacform.h — the dashboard's vacation form as a Sieve script and back
 * (RFC 5230 vacation, RFC 6609 include).  The form's fields become one
 * script whose first line marks it as the form's own; what the user typed
 * is written into Sieve strings so that no character can end a string or
 * start a command: quoted strings escape backslash and double quote
 * (RFC 5228 2.4.2), the message is a text: block with every line that
 * starts with a dot doubled (dot-stuffing, RFC 5228 2.4.2 / 8.1).  When
 * another script was active, the generated script answers first and then
 * includes that script (:personal :optional), so the user's own filters
 * go on working while the reply is on; turning the reply off makes that
 * script active again.  Reading a script back goes through the Sieve
 * compiler and interpreter themselves (sieve/sieve.h), so the form shows
 * exactly what delivery would do.  Pure: no I/O, no HTTP. */
#ifndef YUBIN_WEB_VACFORM_H
#define YUBIN_WEB_VACFORM_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/strutil.h"

/* The name the form stores its script under. */
#define VACFORM_SCRIPT "vacation"
/* Bounds of the form's fields (the script as a whole is also bounded by
 * managesieve.max_script_size when it is stored). */
#define VACFORM_DAYS_MIN 1
#define VACFORM_DAYS_MAX 365
#define VACFORM_DAYS_DEFAULT 7
#define VACFORM_SUBJECT_MAX 256     /* octets */
#define VACFORM_ADDRESSES_MAX 32    /* extra addresses */
#define VACFORM_ADDRESS_MAX 254     /* octets of one address (RFC 5321 4.5.3.1.3) */

typedef struct vacform {
	int days;           /* VACFORM_DAYS_MIN..MAX */
	char *subject;      /* NULL or "": the default "Auto: " + the original subject */
	char *message;      /* the reply's text, never empty; LF, CRLF or CR line ends */
	char *from;         /* NULL: the account's own address */
	strlist addresses;  /* the account's other addresses (:addresses) */
	char *include;      /* the script run after the reply (the one active before), or NULL */
} vacform;

void vacform_init(vacform *f);
void vacform_free(vacform *f);

/* Fields typed into the form.  Each returns NULL when the value is
 * acceptable, else a sentence for the user (static). */
/* "7": a whole number of days in bounds; "" gives the default. */
const char *vacform_parse_days(const char *s, int *days_r);
/* Addresses separated by commas, spaces or line ends, each a plain
 * local@domain (no quotes, brackets or display names); appended to out. */
const char *vacform_parse_addresses(const char *s, strlist *out);
/* The whole form: subject on one line, a message, sane addresses, a
 * script to include that an include can name (no "/"). */
const char *vacform_check(const vacform *f);

/* The script for f (checked with vacform_check first), malloc'd, CRLF
 * line ends; *len_r its length. */
char *vacform_script(const vacform *f, size_t *len_r);

/* Is text[0, len) a script made by vacform_script (its first line)? */
bool vacform_is_ours(const char *text, size_t len);
/* Fill f (initialised, empty) from a script of ours: compiled and run by
 * sieve/sieve.h against a plain message; false when it does not compile
 * or holds no vacation action. */
bool vacform_read(const char *text, size_t len, vacform *f);

#endif
