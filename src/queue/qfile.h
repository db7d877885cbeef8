/* qfile.h — the queue file format.  A queue file is self-validating text:
 *
 *   YUBIN-QUEUE 2           (version 1: written before checksums, still read)
 *   id <qid>                time <unix seconds>
 *   from <sender or empty>  client <ip>   helo <name>   auth <user or ->
 *   utf8 <0|1>              nonce <16 hex digits, random per file>
 *   rcpt <L|R> <address>    (one per recipient: L local mailbox, R remote)
 *   ret <FULL|HDRS>         (RFC 3461 RET=, when given)
 *   envid <xtext>           (RFC 3461 ENVID=, when given)
 *   notify <index> <NEVER | SUCCESS,FAILURE,DELAY>   (NOTIFY=, when given)
 *   orcpt <index> <rfc822|utf-8>;<xtext of the address>  (ORCPT=, or the
 *                           address before alias expansion)
 *   requiretls              (RFC 8689: MAIL had REQUIRETLS; only when set)
 *   body
 *   <message bytes, LF line ends, Received: header first>
 *   end <body length> <nonce> <checksum>   (version 1: no checksum)
 *   done <recipient index> (appended after delivery, one per recipient)
 *   fail <index> <status> <reply>   (permanent failure: bounced)
 *   defer <index> <reply>           (last temporary failure, for `queue list`)
 *   next <unix time> <attempts>     (when to try the remote recipients again)
 *   warned                          (the delay warning went out)
 *   held / released                 (`yubin queue hold|release`)
 *   junk                            (DMARC said quarantine: local copies go
 *                                    to the recipient's Junk folder)
 *
 * (one record per line).  A file without a matching "end" record is torn and
 * is refused.  The nonce is what makes that check sound: a sender cannot
 * put a valid-looking "end" record inside the body, since it cannot know
 * the nonce.  The checksum (SHA-256, 64 lower-case hex digits) covers every
 * byte before the end record, so a changed byte anywhere in the envelope or
 * the message is found: such a file is refused, never delivered.  Records
 * after the end record are not covered; each is checked on its own.  A
 * torn last "done" line (no newline) is ignored.  The DSN records (ret,
 * envid, notify, orcpt) are optional, so files written before them still
 * parse; their values are stored as RFC 3461 xtext, which is
 * printable ASCII and therefore always one line.  This module only formats
 * and parses; queue.c and commit.c do the I/O. */
#ifndef YUBIN_QFILE_H
#define YUBIN_QFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/buf.h"
#include "envelope/dsnparam.h"

#define QFILE_NONCE_LEN 16
#define QFILE_SUM_HEX 64

/* The running checksum of a file being written (opaque; thread-safe per
 * object, not shared). */
typedef struct qfile_sum qfile_sum;
qfile_sum *qfile_sum_new(void);
/* Add the next n bytes of the file. */
void qfile_sum_update(qfile_sum *s, const void *data, size_t n);
void qfile_sum_free(qfile_sum **s);

typedef struct qrcpt {
	char *address;
	char kind;          /* 'L' local mailbox, 'R' remote */
	bool done;          /* delivered */
	bool failed;        /* failed for good (bounced) */
	char *status;       /* failed: the RFC 3463 status */
	char *last_reply;   /* failed or deferred: the last reply */
	unsigned notify;    /* NOTIFY= mask (dsnparam.h); 0 when absent */
	char *orcpt;        /* "rfc822;<address>" or "utf-8;<address>", decoded; or NULL */
} qrcpt;

typedef struct qenvelope {
	char *id;
	time_t time;
	char *sender;       /* "" for <> */
	char *client;
	char *helo;
	char *auth_user;    /* NULL when not authenticated */
	bool utf8;
	char nonce[QFILE_NONCE_LEN + 1];  /* "" when the file has none */
	time_t next_attempt;              /* 0: as soon as possible */
	int attempts;                     /* remote delivery attempts so far */
	bool warned;                      /* the delay DSN was sent */
	bool held;                        /* no remote attempts until released */
	bool junk;                        /* local delivery into the Junk folder */
	dsn_ret ret;                      /* RET=: what a failure report returns */
	char *envid;                      /* ENVID= decoded, NULL when absent */
	bool requiretls;                  /* RFC 8689: sent on only over verified
	                                   * TLS to a server offering REQUIRETLS */
	qrcpt *rcpts;
	size_t n_rcpts;
} qenvelope;

/* Append a recipient (no NOTIFY, no ORCPT: set them on the result, the
 * orcpt malloc'd); the pointer is valid until the next add. */
qrcpt *qenvelope_add_rcpt(qenvelope *env, const char *address, char kind);
/* Free the recipients only (for envelopes whose other fields are borrowed). */
void qenvelope_free_rcpts(qenvelope *env);
/* Keep only the first n recipients. */
void qenvelope_truncate_rcpts(qenvelope *env, size_t n);
void qenvelope_free(qenvelope *env);

/* A fresh random nonce for env (thread-safe). */
void qfile_new_nonce(qenvelope *env);
/* Append the records up to and including "body\n" to out. */
bool qfile_format_header(const qenvelope *env, buf *out);
/* Append the "\n" and the "end" record for a body of body_len bytes, with
 * the nonce that the header carried ("" when it had none) and the checksum:
 * sum must have seen every byte written before this trailer (header and
 * body); it is finished here and takes no more bytes. */
bool qfile_format_trailer(const char *nonce, uint64_t body_len, qfile_sum *sum, buf *out);

/* Append a delivery-state record "kind idx [a [b]]" (control bytes in a and
 * b become spaces, so a remote reply cannot add records). */
bool qfile_format_state(buf *out, const char *kind, size_t idx, const char *a, const char *b);

/* Parse a whole file.  On success fills env_r (caller frees) and points
 * *body_r into data.  On failure returns false and sets *err_r to a static
 * sentence (a damaged file: it is quarantined with that reason). */
bool qfile_parse(const char *data, size_t len, qenvelope *env_r,
                 const char **body_r, size_t *body_len_r, const char **err_r);

#endif
