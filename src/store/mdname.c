/* mdname.c — Maildir message file names (see mdname.h). */
#include "store/mdname.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	char letter;
	unsigned flag;
} letters[] = {{'D', MDF_DRAFT}, {'F', MDF_FLAGGED}, {'P', MDF_PASSED},
               {'R', MDF_ANSWERED}, {'S', MDF_SEEN}, {'T', MDF_DELETED}};

static bool parse_u64(const char *p, size_t n, uint64_t max, uint64_t *out)
{
	if (n == 0 || n > 20)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		unsigned d = (unsigned)(p[i] - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static void parse_info(const char *info, mdname *out)
{
	size_t o = 0;
	for (const char *p = info; *p != '\0'; p++) {
		bool known = false;
		for (size_t i = 0; i < sizeof(letters) / sizeof(letters[0]); i++) {
			if (*p == letters[i].letter) {
				out->flags |= letters[i].flag;
				known = true;
			}
		}
		if (!known && *p >= 'a' && *p <= 'z' && strchr(out->other, *p) == NULL &&
		    o + 1 < sizeof out->other) {
			out->other[o++] = *p;
			out->other[o] = '\0';
		}
	}
	/* keep keyword letters in ASCII order, as the Maildir convention asks */
	for (size_t i = 1; i < o; i++)
		for (size_t k = i; k > 0 && out->other[k - 1] > out->other[k]; k--) {
			char t = out->other[k];
			out->other[k] = out->other[k - 1];
			out->other[k - 1] = t;
		}
}

bool mdname_parse(const char *name, mdname *out)
{
	memset(out, 0, sizeof(*out));
	size_t len = strlen(name);
	if (len == 0 || len > MDNAME_MAX || name[0] == '.' || strchr(name, '/') != NULL)
		return false;
	size_t base_len = len;
	const char *colon = strrchr(name, ':');
	if (colon != NULL && strncmp(colon, ":2,", 3) == 0) {
		base_len = (size_t)(colon - name);
		parse_info(colon + 3, out);
	}
	/* our fields are the last comma-separated parts (where mdname_format
	 * puts them); everything before them is the base, kept as it is */
	for (;;) {
		const char *comma = NULL;
		for (size_t i = base_len; i > 0; i--)
			if (name[i - 1] == ',') {
				comma = name + i - 1;
				break;
			}
		if (comma == NULL || comma == name)
			break;
		const char *seg = comma + 1;
		size_t n = base_len - (size_t)(seg - name);
		uint64_t v;
		if (n > 2 && seg[0] == 'U' && seg[1] == '=' && out->uid == 0 &&
		    parse_u64(seg + 2, n - 2, UINT32_MAX, &v) && v > 0)
			out->uid = (uint32_t)v;
		else if (n > 2 && seg[0] == 'W' && seg[1] == '=' && !out->has_vsize &&
		         parse_u64(seg + 2, n - 2, UINT64_MAX, &v)) {
			out->vsize = v;
			out->has_vsize = true;
		} else
			break;
		base_len = (size_t)(comma - name);
	}
	size_t o = base_len;
	memcpy(out->base, name, o);
	out->base[o] = '\0';
	return o > 0;
}

bool mdname_format(const mdname *n, char out[MDNAME_MAX + 1])
{
	char fields[64] = "";
	int f = 0;
	if (n->uid != 0)
		f += snprintf(fields + f, sizeof fields - (size_t)f, ",U=%u", n->uid);
	if (n->has_vsize)
		snprintf(fields + f, sizeof fields - (size_t)f, ",W=%llu", (unsigned long long)n->vsize);
	char flags[sizeof(letters) / sizeof(letters[0]) + 1];
	size_t k = 0;
	for (size_t i = 0; i < sizeof(letters) / sizeof(letters[0]); i++)
		if (n->flags & letters[i].flag)
			flags[k++] = letters[i].letter;
	flags[k] = '\0';
	int w = snprintf(out, MDNAME_MAX + 1, "%s%s:2,%s%s", n->base, fields, flags, n->other);
	return w > 0 && w <= MDNAME_MAX;
}
