/* spfaddr.c — client addresses for SPF: parsing (an IPv4-mapped IPv6
 * address counts as IPv4, RFC 7208 5), prefix matching for ip4/ip6/a/mx,
 * and the reverse name for PTR look-ups and %{i}.  No DNS here. */
#include "msgauth/spfint.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "lib/strutil.h"

static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool spf_ip_parse(const char *text, spf_ip *ip_r)
{
	memset(ip_r, 0, sizeof(*ip_r));
	if (inet_pton(AF_INET, text, ip_r->addr) == 1) {
		ip_r->family = 4;
		return true;
	}
	if (inet_pton(AF_INET6, text, ip_r->addr) != 1)
		return false;
	ip_r->family = 6;
	if (memcmp(ip_r->addr, v4mapped, sizeof v4mapped) == 0) {
		memmove(ip_r->addr, ip_r->addr + 12, 4);
		memset(ip_r->addr + 4, 0, 12);
		ip_r->family = 4;
	}
	return true;
}

bool spf_ip_in(const spf_ip *ip, const spf_ip *net, int prefix)
{
	if (ip->family != net->family)
		return false;
	int whole = prefix / 8, rest = prefix % 8;
	if (memcmp(ip->addr, net->addr, (size_t)whole) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (ip->addr[whole] & mask) == (net->addr[whole] & mask);
}

char *spf_ip_reverse_name(const spf_ip *ip)
{
	const unsigned char *a = ip->addr;
	if (ip->family == 4)
		return xasprintf("%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
	char *s = xmalloc(16 * 4 + sizeof "ip6.arpa");
	size_t o = 0;
	static const char hex[] = "0123456789abcdef";
	for (int i = 15; i >= 0; i--) {
		s[o++] = hex[a[i] & 0xf];
		s[o++] = '.';
		s[o++] = hex[a[i] >> 4];
		s[o++] = '.';
	}
	memcpy(s + o, "ip6.arpa", sizeof "ip6.arpa");
	return s;
}
