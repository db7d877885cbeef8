/* addrkey.c — mapping a client address to its per-address key (see
 * addrkey.h).  Pure: parses and formats, keeps no state. */
#include "lib/addrkey.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

void addrkey_of(const char *ip, char key_r[ADDRKEY_MAX])
{
	struct in_addr v4;
	struct in6_addr v6;
	char text[INET6_ADDRSTRLEN];
	if (inet_pton(AF_INET, ip, &v4) == 1) {
		inet_ntop(AF_INET, &v4, key_r, ADDRKEY_MAX); /* canonical form */
		return;
	}
	if (inet_pton(AF_INET6, ip, &v6) != 1) {
		snprintf(key_r, ADDRKEY_MAX, "%s", ip);
		return;
	}
	if (IN6_IS_ADDR_V4MAPPED(&v6)) {
		memcpy(&v4, &v6.s6_addr[12], 4);
		inet_ntop(AF_INET, &v4, key_r, ADDRKEY_MAX);
		return;
	}
	memset(&v6.s6_addr[8], 0, 8); /* the /64 */
	inet_ntop(AF_INET6, &v6, text, sizeof text);
	snprintf(key_r, ADDRKEY_MAX, "%s/64", text);
}
