/* parse.h — an IMAP command (as imap/reader.c frames it) read into a tag, a
 * command name and a tree of arguments (RFC 9051 9): atoms, NIL, quoted
 * strings, literals, literal8 and parenthesized lists.  The tree is generic;
 * the typed readers (args.h, seqset.h, mailbox.h, flags.h, date.h, fetch.h,
 * search.h, store.h) give it meaning per command.  Pure code: no I/O.
 *
 * Guarantees: never reads outside data[0..len), allocates O(len) memory, and
 * nests lists without recursion up to max_depth (deeper is a clean error).
 * Every error is a sentence for a tagged (or, without a tag, untagged) BAD. */
#ifndef YUBIN_IMAP_PARSE_H
#define YUBIN_IMAP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define IMAP_PARSE_MAX_DEPTH 64

typedef enum imap_arg_type {
	IMAP_ARG_ATOM,      /* any run of atom bytes: words, \Flags, 1:*, and in
	                     * FETCH "BODY[HEADER.FIELDS (A B)]<0.10>" as one atom */
	IMAP_ARG_NIL,       /* the atom NIL, in any case (str is as sent) */
	IMAP_ARG_QUOTED,    /* a quoted string, escapes removed */
	IMAP_ARG_LITERAL,   /* {n} or {n+}: any byte but NUL */
	IMAP_ARG_LITERAL8,  /* ~{n} or ~{n+}: any byte (RFC 3516) */
	IMAP_ARG_LIST,      /* ( ... ) */
} imap_arg_type;

typedef struct imap_arg imap_arg;
struct imap_arg {
	imap_arg_type type;
	const char *str;        /* NUL-terminated text (not for LIST); literal8 may hold NULs */
	size_t len;             /* bytes in str */
	const imap_arg *child;  /* LIST: first element, NULL when empty */
	size_t count;           /* LIST: number of elements */
	const imap_arg *next;   /* the following sibling, NULL at the end */
};

typedef struct imap_parse_opts {
	bool utf8;              /* UTF-8 allowed in quoted strings (IMAP4rev2, UTF8=ACCEPT) */
	unsigned max_depth;     /* list nesting; 0 means IMAP_PARSE_MAX_DEPTH */
} imap_parse_opts;

typedef struct imap_command {
	const char *tag;        /* NULL when the command has no usable tag */
	const char *name;       /* upper-cased: "FETCH"; NULL when not reached */
	bool uid;               /* the command came as "UID <name>" */
	const imap_arg *args;   /* first argument, NULL when there is none */
	size_t nargs;
	/* private: */
	imap_arg *nodes_;
	char *arena_;
} imap_command;

/* Parse data[0..len), one command without its final CRLF.  On success fills
 * *cmd and returns true.  On failure returns false, sets *error_r to a
 * sentence, and leaves cmd->tag (and cmd->name) set when they were read, so
 * the BAD can be tagged.  Either way call imap_command_free afterwards.
 * "UID" must be followed by COPY, MOVE, FETCH, SEARCH, STORE or EXPUNGE.
 * Bracketed sections of atoms ("BODY[...]") are read only for FETCH. */
bool imap_command_parse(const char *data, size_t len, const imap_parse_opts *opts,
                        imap_command *cmd, const char **error_r);

/* Free what a parse left in cmd (the tree and its strings). */
void imap_command_free(imap_command *cmd);

#endif
