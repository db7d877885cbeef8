/* dkimhash.h — what a DKIM signature covers (RFC 6376 3.7): the message's
 * header fields and body located in the stored bytes, the body hash (with
 * an l= limit), and the header hash over the fields named in h= plus the
 * signature field itself.  Shared by the signer and the verifier, so both
 * hash exactly the same bytes.  SHA-256 only. */
#ifndef YUBIN_MSGAUTH_DKIMHASH_H
#define YUBIN_MSGAUTH_DKIMHASH_H

#include <stdint.h>

#include "lib/strutil.h"
#include "mime/header.h"
#include "msgauth/dkimtags.h"

#define DKIM_HASH_LEN 32

/* A message as stored (LF or CRLF line ends); points into the caller's
 * bytes, which must outlive it. */
typedef struct dkim_msg {
	const char *data;
	size_t len;
	mime_field *fields;   /* the header fields, top to bottom */
	size_t n_fields;
	size_t body;          /* offset of the body; len when there is none */
} dkim_msg;

void dkim_msg_parse(dkim_msg *m, const char *data, size_t len);
void dkim_msg_free(dkim_msg *m);
/* The field's bytes from its name to the end of its last line, without
 * that line end (what dkim_canon_header takes). */
size_t dkim_msg_field_len(const dkim_msg *m, const mime_field *f);

/* SHA-256 of the canonical body, cut at limit bytes (-1: no limit).
 * *canon_len_r gets the full canonical length, so a caller can tell an l=
 * longer than the body. */
void dkim_body_hash(const dkim_msg *m, dkim_canon c, int64_t limit,
		    unsigned char out[DKIM_HASH_LEN], uint64_t *canon_len_r);

/* SHA-256 of the canonical header fields named in h (each name takes the
 * lowest instance not used yet; a name with none left adds nothing), then
 * the signature field sig[0, sig_len) (name to value end, b= already
 * empty), canonicalized without its final CRLF. */
void dkim_header_hash(const dkim_msg *m, dkim_canon c, const strlist *h,
		      const char *sig, size_t sig_len, unsigned char out[DKIM_HASH_LEN]);

/* The DKIM-Signature field f of m with its b= value (and the blanks around
 * it) removed, for hashing; malloc'd, *len_r its length. */
char *dkim_sig_without_b(const dkim_msg *m, const mime_field *f, size_t *len_r);

#endif
