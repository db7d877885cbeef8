/* qid.c — queue id generation and validation (see qid.h). */
#include "queue/qid.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

static const char alphabet[] = "0123456789BCDFGHJKLMNPQRSTVWXZ"; /* no vowels */
#define BASE 30

static _Atomic uint64_t last_id;

void qid_new(char out[QID_LEN + 1])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	uint64_t prev = atomic_load(&last_id), v;
	do {
		v = now > prev ? now : prev + 1;
	} while (!atomic_compare_exchange_weak(&last_id, &prev, v));
	for (int i = QID_LEN - 1; i >= 0; i--) {
		out[i] = alphabet[v % BASE];
		v /= BASE;
	}
	out[QID_LEN] = '\0';
}

bool qid_valid(const char *s)
{
	if (strlen(s) != QID_LEN)
		return false;
	for (const char *p = s; *p; p++)
		if (strchr(alphabet, *p) == NULL)
			return false;
	return true;
}
