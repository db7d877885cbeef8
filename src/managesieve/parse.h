/* parse.h — the syntax of one ManageSieve command or SASL response (RFC
 * 5804 §4): an atom (the command name) followed by arguments separated by
 * single spaces, each a quoted string (at most 1024 octets, UTF-8, only
 * \" and \\ escaped), a literal ({n+} or {n}, CRLF, n octets) or a number
 * (decimal, at most 4294967295).  Pure: it works on a command already
 * assembled whole by reader.c, and knows nothing about what the commands
 * mean. */
#ifndef YUBIN_MANAGESIEVE_PARSE_H
#define YUBIN_MANAGESIEVE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSIEVE_QUOTED_MAX 1024   /* octets of a quoted string (RFC 5804 §4) */
#define MSIEVE_ARGS_MAX 4        /* no command takes more than three */

typedef enum msieve_arg_type { MSIEVE_ARG_STRING, MSIEVE_ARG_NUMBER } msieve_arg_type;

typedef struct msieve_arg {
	msieve_arg_type type;
	const char *str;   /* into the command's bytes (unescaped in place); not NUL-terminated */
	size_t len;
	uint32_t num;      /* MSIEVE_ARG_NUMBER */
	bool literal;      /* the string came as a literal */
} msieve_arg;

typedef struct msieve_cmd {
	const char *verb;  /* the command name; not NUL-terminated */
	size_t verb_len;
	msieve_arg args[MSIEVE_ARGS_MAX];
	int nargs;
} msieve_cmd;

/* Parse data[0..len) (a command without its final CRLF, literals inline as
 * sent).  with_verb: a command (atom first); without: a SASL response (one
 * string, nothing else).  Quoted strings are unescaped in place.  False
 * with *err_r, a sentence for the client, when the syntax is wrong. */
bool msieve_parse(char *data, size_t len, bool with_verb, msieve_cmd *cmd_r, const char **err_r);

/* Whether a line ends with a literal's announcement "{n}" or "{n+}": true
 * with *n_r when it does (false also when n is past 4294967295, *bad_r
 * then set). */
bool msieve_literal_at_end(const char *line, size_t len, uint64_t *n_r, bool *bad_r);

#endif
