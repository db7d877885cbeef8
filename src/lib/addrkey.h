/* addrkey.h — the key under which per-address limits count a client (the
 * failed-login throttle and the connections per address).  An IPv4 address
 * is its own key; an IPv6 address counts as its /64, since one subscriber
 * or host usually gets a whole /64 and can pick any address in it; an
 * IPv4-mapped IPv6 address (::ffff:192.0.2.7) is the IPv4 address. */
#ifndef YUBIN_NET_ADDRKEY_H
#define YUBIN_NET_ADDRKEY_H

/* Room for any key: INET6_ADDRSTRLEN, "/64" and some slack. */
#define ADDRKEY_MAX 64

/* The key of ip, an address in text form as inet_ntop writes it.  Text that
 * is no address (such as "?" for an unknown peer) is its own key, cut to
 * fit. */
void addrkey_of(const char *ip, char key_r[ADDRKEY_MAX]);

#endif
