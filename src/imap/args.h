/* args.h — typed reads of single arguments of the tree from imap/parse.h:
 * astring, string, nstring, number and number64 (RFC 9051 9), and the
 * character classes they use.  Each returns false when the argument is not of
 * that kind; callers choose the BAD sentence. */
#ifndef YUBIN_IMAP_ARGS_H
#define YUBIN_IMAP_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/parse.h"

/* The largest number64 (RFC 9051: 63 bits). */
#define IMAP_NUMBER64_MAX ((uint64_t)INT64_MAX)

/* ATOM-CHAR: CHAR except atom-specials ( ) { SP CTL % * " \ ]. */
bool imap_is_atom_char(unsigned char c);
/* ASTRING-CHAR: ATOM-CHAR or "]". */
bool imap_is_astring_char(unsigned char c);

/* a is an atom (not NIL) equal to word, ignoring ASCII case. */
bool imap_arg_atom_is(const imap_arg *a, const char *word);

/* astring: an atom of ASTRING-CHARs (NIL counts as the text "NIL"), a quoted
 * string or a literal (not literal8, whose bytes may include NUL). */
bool imap_arg_astring(const imap_arg *a, const char **s_r, size_t *len_r);
/* list-mailbox (LIST / LSUB patterns): like astring, but atoms may also hold
 * the wildcards "%" and "*". */
bool imap_arg_list_mailbox(const imap_arg *a, const char **s_r, size_t *len_r);
/* string: quoted or literal. */
bool imap_arg_string(const imap_arg *a, const char **s_r, size_t *len_r);
/* nstring: NIL (sets *s_r NULL) or a string. */
bool imap_arg_nstring(const imap_arg *a, const char **s_r, size_t *len_r);

/* number (0..4294967295) and number64 (0..2^63-1): digits only, as an atom. */
bool imap_arg_number(const imap_arg *a, uint32_t *n_r);
bool imap_arg_number64(const imap_arg *a, uint64_t *n_r);

/* The same reads of s[0..len) (not NUL-terminated). */
bool imap_parse_number(const char *s, size_t len, uint32_t *n_r);
bool imap_parse_number64(const char *s, size_t len, uint64_t *n_r);

#endif
