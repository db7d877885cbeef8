/* cidr.c — IP networks and membership (see cidr.h). */
#include "lib/cidr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Text to bytes; an IPv4-mapped IPv6 address becomes IPv4. */
static bool parse_addr(const char *text, int *family_r, unsigned char out[16])
{
	if (strchr(text, ':') == NULL) {
		*family_r = AF_INET;
		return inet_pton(AF_INET, text, out) == 1;
	}
	if (inet_pton(AF_INET6, text, out) != 1)
		return false;
	*family_r = AF_INET6;
	if (memcmp(out, v4mapped, sizeof v4mapped) == 0) {
		memmove(out, out + 12, 4);
		*family_r = AF_INET;
	}
	return true;
}

bool cidr_parse(const char *text, cidr *out)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	if (n == 0 || n >= sizeof addr)
		return false;
	memcpy(addr, text, n);
	addr[n] = '\0';
	memset(out, 0, sizeof(*out));
	bool mapped = strchr(addr, ':') != NULL;
	if (!parse_addr(addr, &out->family, out->addr))
		return false;
	int max = out->family == AF_INET ? 32 : 128;
	out->bits = max;
	if (slash == NULL)
		return true;
	char *end;
	long bits = strtol(slash + 1, &end, 10);
	if (slash[1] < '0' || slash[1] > '9' || *end != '\0')
		return false;
	if (mapped && out->family == AF_INET)
		bits -= 96; /* ::ffff:192.0.2.0/120 is 192.0.2.0/24 */
	if (bits < 0 || bits > max)
		return false;
	out->bits = (int)bits;
	return true;
}

bool cidr_contains(const cidr *net, const char *ip)
{
	int family;
	unsigned char a[16];
	if (!parse_addr(ip, &family, a) || family != net->family)
		return false;
	int full = net->bits / 8, rest = net->bits % 8;
	if (memcmp(a, net->addr, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (net->addr[full] & mask);
}
