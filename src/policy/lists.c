/* lists.c — the named lists as the rules see them (see lists.h): an IP
 * address is looked up among a list's networks, anything else among its
 * names (policy/table.h). */
#include "policy/lists.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include "policy/table.h"

bool policy_lists_has(const struct policy_lists *l, const char *name)
{
	return policy_list_find(l, name) != NULL;
}

static bool is_ip(const char *v)
{
	unsigned char a[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, v, a) == 1 || inet_pton(AF_INET6, v, a) == 1;
}

bool policy_lists_match(const struct policy_lists *l, const char *name, const char *value)
{
	table *t = policy_list_find(l, name);
	if (t == NULL || value == NULL)
		return false;
	return is_ip(value) ? table_contains_ip(t, value) : table_contains(t, value);
}
