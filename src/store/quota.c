/* quota.c — quota arithmetic (see quota.h).  It must stay free of I/O so
 * that the unit tests can drive every edge: the limits, the thresholds,
 * and the CLI's values. */
#include "store/quota.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUOTA_VALUE_MAX (1LL << 50)   /* as limits.mailbox_quota's bound */

static uint64_t pick(int64_t own, int64_t def)
{
	if (own == ACC_QUOTA_DEFAULT)
		return def > 0 ? (uint64_t)def : 0;
	return own > 0 ? (uint64_t)own : 0; /* ACC_QUOTA_NONE: no limit */
}

quota_limits quota_effective(const accounts_quota *q, int64_t def_bytes, int64_t def_messages)
{
	int64_t ob = q ? q->storage : ACC_QUOTA_DEFAULT, om = q ? q->messages : ACC_QUOTA_DEFAULT;
	return (quota_limits){.bytes = pick(ob, def_bytes), .messages = pick(om, def_messages)};
}

bool quota_limited(quota_limits l)
{
	return l.bytes > 0 || l.messages > 0;
}

/* have + add > limit, without overflow */
static bool past(uint64_t limit, uint64_t have, uint64_t add)
{
	return limit > 0 && (have > limit || add > limit - have);
}

bool quota_over(quota_limits l, uint64_t have_bytes, uint64_t have_messages, uint64_t add_bytes,
                uint64_t add_messages)
{
	return past(l.bytes, have_bytes, add_bytes) || past(l.messages, have_messages, add_messages);
}

/* The new state of one resource's bit. */
static bool bit_state(uint64_t limit, uint64_t used, bool was)
{
	if (limit == 0)
		return false;
	if (used >= limit)
		return true;
	/* used < limit <= 2^50 (the values' bound), so neither side overflows;
	 * a default from the configuration is bounded the same way */
	if (used * 100 >= limit * QUOTA_WARN_PERCENT)
		return true;
	if (used * 100 < limit * QUOTA_REARM_PERCENT)
		return false;
	return was;
}

unsigned quota_warn_state(quota_limits l, uint64_t bytes, uint64_t messages, unsigned warned,
                          unsigned *send_r)
{
	unsigned now = 0;
	if (bit_state(l.bytes, bytes, warned & ACC_QUOTA_WARNED_STORAGE))
		now |= ACC_QUOTA_WARNED_STORAGE;
	if (bit_state(l.messages, messages, warned & ACC_QUOTA_WARNED_MESSAGES))
		now |= ACC_QUOTA_WARNED_MESSAGES;
	*send_r = now & ~warned;
	return now;
}

bool quota_parse_value(const char *s, bool sizes, int64_t *v_r, const char **err_r)
{
	if (strcmp(s, "default") == 0) {
		*v_r = ACC_QUOTA_DEFAULT;
		return true;
	}
	if (strcmp(s, "none") == 0) {
		*v_r = ACC_QUOTA_NONE;
		return true;
	}
	*err_r = sizes ? "must be a number of bytes (with K, M or G), none or default"
	               : "must be a number of messages, none or default";
	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	char *end;
	unsigned long long n = strtoull(s, &end, 10);
	unsigned long long mul = 1;
	if (sizes && end[0] != '\0' && end[1] == '\0') {
		const char *units = "KMG", *u = strchr(units, end[0] & ~0x20);
		if (u == NULL)
			return false;
		mul = 1ULL << (10 * (u - units + 1));
		end++;
	}
	if (errno != 0 || *end != '\0')
		return false;
	if (n == 0) {
		*err_r = "0 is not a limit: say none for no limit";
		return false;
	}
	if (n > (unsigned long long)QUOTA_VALUE_MAX / mul) {
		*err_r = "is too large";
		return false;
	}
	*v_r = (int64_t)(n * mul);
	return true;
}

void quota_format_value(int64_t v, bool sizes, char *out, size_t size)
{
	if (v == ACC_QUOTA_DEFAULT) {
		snprintf(out, size, "default");
	} else if (v == ACC_QUOTA_NONE) {
		snprintf(out, size, "none");
	} else {
		static const char *const suffixes[] = {"", "K", "M", "G"};
		size_t k = 0;
		while (sizes && k < 3 && v % 1024 == 0) {
			v /= 1024;
			k++;
		}
		snprintf(out, size, "%lld%s", (long long)v, suffixes[k]);
	}
}
