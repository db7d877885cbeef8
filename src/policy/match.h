/* match.h — one value pattern of a policy rule, compiled once when the
 * configuration is read:
 *   "text"         the value itself (ASCII case ignored), or, for header
 *                  and body conditions, text the value contains;
 *   "*.example"    a wildcard (* and ?), over the whole value, case ignored;
 *   "/regex/i"     a PCRE2 regular expression (flags: i, m, s, x);
 *   "list:NAME"    the value is in the named list (policy.lists);
 *   "192.0.2.0/24" for client addresses: a network or one address.
 * Pure apart from PCRE2; a matcher is read-only once compiled, so threads
 * may share it. */
#ifndef YUBIN_POLICY_MATCH_H
#define YUBIN_POLICY_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/cidr.h"

struct policy_lists;

typedef enum policy_match_kind {
	PM_EXACT,
	PM_CONTAINS,
	PM_GLOB,
	PM_REGEX,
	PM_LIST,
	PM_NETWORK,
} policy_match_kind;

/* What values a matcher will see. */
typedef enum policy_match_domain {
	PMD_WORD,     /* addresses, domains, names: exact by default */
	PMD_TEXT,     /* header values, body text: contains by default */
	PMD_IP,       /* client addresses: networks */
} policy_match_domain;

typedef struct policy_match {
	policy_match_kind kind;
	char *text;              /* the pattern as written (lists: the name) */
	struct pcre2_real_code_8 *re;
	cidr net;
} policy_match;

/* Compile pattern for values of the domain; false with *err_r (a malloc'd
 * sentence) when it does not compile. */
bool policy_match_compile(const char *pattern, policy_match_domain dom, policy_match *m, char **err_r);
/* Does value[0, len) match?  lists: the configured lists (for list:NAME). */
bool policy_match_test(const policy_match *m, const char *value, size_t len, const struct policy_lists *lists);
void policy_match_free(policy_match *m);

#endif
