/* dkimtags.h — the tag=value lists of RFC 6376 3.2 and the two grammars
 * built on them: the DKIM-Signature header field (3.5) and the DNS key
 * record (3.6.1).  Pure: parsing only, no crypto, no I/O.  Every refusal
 * comes back as a sentence for the report. */
#ifndef YUBIN_MSGAUTH_DKIMTAGS_H
#define YUBIN_MSGAUTH_DKIMTAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strutil.h"

/* One tag-spec; name and value point into the parsed text.  The value is
 * trimmed of the blanks and folding around it (inner whitespace kept). */
typedef struct dkim_tag {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
} dkim_tag;

typedef struct dkim_taglist {
	dkim_tag *tags;
	size_t n;
} dkim_taglist;

/* Parse text[0, len) as a tag-list: names ALPHA *(ALPHA / DIGIT / "_"),
 * values printable ASCII except ";" with folding whitespace inside, one
 * optional ";" at the end, no tag twice.  False with *err_r (malloc'd) when
 * malformed; the list is then empty. */
bool dkim_tags_parse(const char *text, size_t len, dkim_taglist *l, char **err_r);
/* The tag called name (case-sensitive, as RFC 6376 3.2 says), or NULL. */
const dkim_tag *dkim_tags_get(const dkim_taglist *l, const char *name);
void dkim_tags_free(dkim_taglist *l);
/* The value with every blank and line end removed (base64, h= lists).
 * malloc'd. */
char *dkim_tag_compact(const dkim_tag *t);

typedef enum dkim_alg {
	DKIM_ALG_RSA_SHA256,
	DKIM_ALG_ED25519_SHA256,
	DKIM_ALG_RSA_SHA1,       /* recognised only to be refused (RFC 8301) */
} dkim_alg;

typedef enum dkim_canon {
	DKIM_CANON_SIMPLE,
	DKIM_CANON_RELAXED,
} dkim_canon;

/* What a DKIM-Signature parse found. */
typedef enum dkim_sig_status {
	DKIM_SIG_OK,
	DKIM_SIG_SYNTAX,       /* malformed or missing tag: permerror */
	DKIM_SIG_UNSUPPORTED,  /* well formed, but a version, algorithm or
	                        * method we do not implement: neutral */
	DKIM_SIG_WEAK,         /* a=rsa-sha1: refused, RFC 8301 (fail) */
} dkim_sig_status;

typedef struct dkim_sig {
	/* Filled whenever the tags parse, even when the status is not OK, so
	 * that a report can name the signature (NULL when absent). */
	char *domain;        /* d=, lower-cased */
	char *selector;      /* s= */
	char *alg_name;      /* a= as written */
	char *b64;           /* b= without whitespace */
	/* Valid only with DKIM_SIG_OK: */
	dkim_alg alg;
	dkim_canon hcanon, bcanon;
	char *identity;      /* i=, or NULL */
	strlist headers;     /* h=, in order, as written */
	unsigned char *bh;   /* bh= decoded */
	size_t bh_len;
	unsigned char *b;    /* b= decoded */
	size_t b_len;
	int64_t length;      /* l=, or -1 */
	int64_t timestamp;   /* t=, or -1 */
	int64_t expire;      /* x=, or -1 */
} dkim_sig;

/* Parse the value of a DKIM-Signature field (after the colon).  *err_r
 * (malloc'd) says why when the status is not OK.  Free with
 * dkim_sig_free in every case. */
dkim_sig_status dkim_sig_parse(const char *value, size_t len, dkim_sig *sig, char **err_r);
void dkim_sig_free(dkim_sig *sig);

typedef enum dkim_keytype {
	DKIM_KEY_RSA,
	DKIM_KEY_ED25519,
	DKIM_KEY_UNKNOWN,
} dkim_keytype;

typedef struct dkim_keyrec {
	dkim_keytype type;   /* k=, default rsa */
	bool sha256_ok;      /* h= absent or lists sha256 */
	bool email_ok;       /* s= absent or lists * or email */
	bool testing;        /* t=y */
	bool strict;         /* t=s: i= must be exactly d= */
	unsigned char *key;  /* p= decoded; NULL when empty (revoked) */
	size_t key_len;
} dkim_keyrec;

/* Parse a key record (the TXT strings joined).  False with *err_r
 * (malloc'd) when it is not a DKIM key record or is malformed. */
bool dkim_keyrec_parse(const char *text, dkim_keyrec *k, char **err_r);
void dkim_keyrec_free(dkim_keyrec *k);

/* A d= or s= we accept (and use in file names and DNS names): dot-separated
 * labels of letters, digits and hyphens (any case), at most 253 bytes. */
bool dkim_name_valid(const char *name);

/* Algorithm names as in a= ("rsa-sha256", ...). */
const char *dkim_alg_name(dkim_alg alg);

#endif
