/* downgrade.h — the 7-bit copy of a queued message, for a server that does
 * not offer 8BITMIME (RFC 6152 3): the MIME conversion (mime/to7bit.h),
 * then our DKIM signatures made again over the converted bytes, since the
 * conversion breaks them (RFC 6376 5.3 signs what is sent).  A signature
 * is ours when its d= has a key in data_dir/dkim/; it is removed and the
 * domain's current keys sign again.  Other domains' signatures stay as
 * they are (they break; nothing can be done about that, and the sender
 * chose 8-bit).  Blocking (reads keys): call it on a worker. */
#ifndef YUBIN_DELIVERY_DOWNGRADE_H
#define YUBIN_DELIVERY_DOWNGRADE_H

#include <stdbool.h>
#include <stddef.h>


typedef struct downgrade {
	char *body;        /* the 7-bit message (LF line ends), or NULL */
	size_t len;
	char *refusal;     /* NULL, or when it cannot be converted the reply
	                    * for its recipients: "554 5.6.3 ..." */
	char *resigned;    /* domains whose signature was made again, "a,b", or NULL */
	char *sign_error;  /* a signature that could not be made again, or NULL */
} downgrade;

/* Fill d for msg[0, len) (LF line ends), which has 8-bit bytes.  max
 * bounds the converted copy. */
void downgrade_prepare(const char *data_dir, const char *msg, size_t len, size_t max, downgrade *d);
void downgrade_free(downgrade *d);

#endif
