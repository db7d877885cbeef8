/* mdname.h — the names of message files in a Maildir, the one place that
 * knows their grammar.  A message file in cur/ is named
 *
 *     <base>,U=<uid>,W=<size>:2,<flags>
 *
 * where <base> is the unique name delivery gave it (Maildir, as mutt and
 * every other Maildir tool expect), U= the IMAP UID the store gave it (so
 * that UIDs survive a rebuild of the index from the files alone), W= its
 * size with CRLF line ends (what IMAP and POP3 count), and the flags after
 * ":2," are the standard Maildir letters in ASCII order: D draft, F flagged,
 * P passed, R replied (\Answered), S seen, T trashed (\Deleted).  Names
 * other tools wrote, with other ",X=" fields or lower-case keyword letters,
 * are kept as they are; only the last comma-separated fields can be ours. */
#ifndef YUBIN_STORE_MDNAME_H
#define YUBIN_STORE_MDNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	MDF_DRAFT = 1 << 0,     /* D */
	MDF_FLAGGED = 1 << 1,   /* F */
	MDF_PASSED = 1 << 2,    /* P */
	MDF_ANSWERED = 1 << 3,  /* R */
	MDF_SEEN = 1 << 4,      /* S */
	MDF_DELETED = 1 << 5,   /* T */
};

#define MDNAME_MAX 255      /* a file name */

typedef struct mdname {
	char base[MDNAME_MAX + 1];   /* without our fields and the info; other ",X=" fields stay */
	uint32_t uid;                /* 0: none yet */
	uint64_t vsize;              /* CRLF size; valid when has_vsize */
	bool has_vsize;
	unsigned flags;              /* MDF_* */
	char other[27];              /* other info letters (keywords a-z), in order */
} mdname;

/* Parse a file name from new/ or cur/.  False for names that are no
 * message (empty, starting with '.', too long, or with '/'). */
bool mdname_parse(const char *name, mdname *out);
/* The file name for n in cur/ (always with ":2,"); false when it would
 * not fit MDNAME_MAX. */
bool mdname_format(const mdname *n, char out[MDNAME_MAX + 1]);

#endif
