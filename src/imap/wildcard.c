/* wildcard.c — LIST pattern matching (see wildcard.h): dynamic programming
 * over the name; no recursion, no allocation. */
#include "imap/wildcard.h"

#include <string.h>

bool imap_wildcard_match(const char *p, const char *name)
{
	size_t m = strlen(name);
	/* ok[j]: the pattern so far matches name[0, j) */
	bool ok[IMAP_WILDCARD_NAME_MAX + 2], next[IMAP_WILDCARD_NAME_MAX + 2];
	if (m > IMAP_WILDCARD_NAME_MAX)
		return false;
	ok[0] = true;
	for (size_t j = 1; j <= m; j++)
		ok[j] = false;
	for (; *p != '\0'; p++) {
		bool run = false;
		for (size_t j = 0; j <= m; j++) {
			if (*p == '*') {
				run = run || ok[j];
				next[j] = run;
			} else if (*p == '%') {
				if (j > 0 && name[j - 1] == '.')
					run = false;
				run = run || ok[j];
				next[j] = run;
			} else {
				next[j] = j > 0 && ok[j - 1] && name[j - 1] == *p;
			}
		}
		memcpy(ok, next, (m + 1) * sizeof(bool));
	}
	return ok[m];
}
