/* msgedit.h — a message as filters see it and change it: its header
 * fields in order and its body, with the changes milters ask for at the
 * end of a message (add, insert, change and delete header fields, replace
 * the body), and those changes turned into edits of the spooled message
 * (byte ranges replaced, in ascending order) so that the queue writes the
 * message once, changed.  Pure: no I/O, no protocol; milter/client.c
 * collects the changes, smtp/pol_milter.c applies them here and hands the
 * edits to the spool.
 *
 * Field values are kept as the message has them: the text after the
 * colon, leading white space included, LF line ends, no final LF. */
#ifndef YUBIN_MILTER_MSGEDIT_H
#define YUBIN_MILTER_MSGEDIT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct milter_field {
	char *name;
	char *value;
	size_t start, end;   /* the field in the original message (with its LF) */
	bool orig;           /* from the original message (else added by a filter) */
	bool changed;        /* value replaced by a filter */
	bool deleted;
} milter_field;

typedef struct milter_msg {
	const char *orig;    /* the original message (LF line ends), not owned */
	size_t orig_len;
	milter_field *f;
	size_t n, cap;
	size_t hdr_end;      /* where fields added at the end go (the blank line) */
	size_t body_start;   /* where the body starts (after the blank line) */
	char *body;          /* a replaced body (LF line ends), or NULL */
	size_t body_len;
	bool body_replaced;
	char *prev_body;     /* the body before the last milter_msg_body_start */
	size_t prev_len;
	bool prev_replaced;
} milter_msg;

/* Split msg[0, len) into fields and body.  The header ends at the first
 * empty line, or at a line that is neither a field nor a continuation. */
void milter_msg_parse(milter_msg *m, const char *msg, size_t len);
void milter_msg_free(milter_msg *m);

/* How many fields are there now (deleted ones not counted)? */
size_t milter_msg_count(const milter_msg *m);
/* The k-th field now (0-based, deleted ones skipped), or NULL. */
const milter_field *milter_msg_field(const milter_msg *m, size_t k);

/* A value a filter gave ("value", no leading space unless leadspc) made
 * into one we store: a leading space added when !leadspc, CR LF and lone
 * CR made LF, a line that does not start with white space indented by a
 * tab (a value never ends the field early), final line ends dropped.
 * malloc'd. */
char *milter_msg_value(const char *value, bool leadspc);

/* SMFIR_ADDHEADER: a field at the end of the header. */
void milter_msg_add(milter_msg *m, const char *name, const char *value);
/* SMFIR_INSHEADER: a field before the idx-th field now (0: at the top;
 * past the end: at the end). */
void milter_msg_insert(milter_msg *m, size_t idx, const char *name, const char *value);
/* SMFIR_CHGHEADER: the idx-th (from 1) field called name (any case) gets
 * value; an empty value deletes it; when there is no such field a
 * non-empty value is added at the end (as Sendmail does). */
void milter_msg_change(milter_msg *m, size_t idx, const char *name, const char *value);
/* SMFIR_REPLBODY: start a new body (first chunk of a filter's reply) or
 * add to it.  Chunks come with CR LF line ends and are stored with LF.
 * False when the new body would pass max bytes (nothing changed then). */
bool milter_msg_body_start(milter_msg *m);
bool milter_msg_body_add(milter_msg *m, const char *data, size_t len, size_t max);

/* Forget the body a filter started to replace: back to the one before
 * (the original, or an earlier filter's). */
void milter_msg_body_undo(milter_msg *m);

/* The body as it is now (LF line ends). */
const char *milter_msg_body(const milter_msg *m, size_t *len_r);

/* Has a filter changed anything? */
bool milter_msg_changed(const milter_msg *m);

/* The edits that make the original into the message now: edit(arg,
 * start, end, text, len) replaces original[start, end) with text (start ==
 * end inserts), called in ascending order of start, never overlapping. */
typedef void milter_edit_fn(void *arg, size_t start, size_t end, const char *text, size_t len);
void milter_msg_edits(const milter_msg *m, milter_edit_fn *edit, void *arg);

#endif
