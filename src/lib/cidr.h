/* cidr.h — IP networks ("192.0.2.0/24", "2001:db8::/32", or one address)
 * and whether an address is in one.  An IPv4-mapped IPv6 address
 * (::ffff:192.0.2.7) is taken as the IPv4 address, on both sides. */
#ifndef YUBIN_LIB_CIDR_H
#define YUBIN_LIB_CIDR_H

#include <stdbool.h>

typedef struct cidr {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char addr[16];  /* network bytes (4 used for IPv4) */
	int bits;                /* prefix length */
} cidr;

/* Parse text; false when it is not a network or an address. */
bool cidr_parse(const char *text, cidr *out);
/* Is the address ip (text) inside net?  False for text that is no address. */
bool cidr_contains(const cidr *net, const char *ip);

#endif
