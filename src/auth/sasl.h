/* sasl.h — decoding of SASL PLAIN (RFC 4616) and LOGIN responses, and the
 * base64 they travel in (RFC 4954).  Shared by SMTP, POP3 and IMAP.  Pure
 * functions: checking the password is password.h's job. */
#ifndef YUBIN_SASL_H
#define YUBIN_SASL_H

#include <stdbool.h>
#include <stddef.h>

typedef enum sasl_status {
	SASL_OK = 0,
	SASL_BAD_BASE64,    /* not valid base64 */
	SASL_MALFORMED,     /* decoded, but not a valid message for the mechanism */
} sasl_status;

/* Decode strict base64 (padding required, no whitespace) into a malloc'd
 * NUL-terminated buffer; *len_r excludes the NUL. */
bool sasl_b64_decode(const char *in, char **out_r, size_t *len_r);
/* Encode n bytes as base64 (malloc'd). */
char *sasl_b64_encode(const void *data, size_t n);

/* PLAIN: base64 of "authzid NUL authcid NUL passwd".  authzid must be empty
 * or equal to authcid (no proxy login).  On success the caller owns
 * *authcid_r and *password_r (free the password with str_secure_free). */
sasl_status sasl_plain_parse(const char *b64, char **authcid_r, char **password_r);
/* LOGIN: one base64 field (user name or password), no NUL bytes allowed. */
sasl_status sasl_login_field(const char *b64, char **field_r);

#endif
