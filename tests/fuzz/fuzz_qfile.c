/* fuzz_qfile.c — libFuzzer target for the queue file parser: any bytes
 * must be accepted or refused without a crash, and an accepted body must
 * lie inside the input. */
#include <stdint.h>
#include <stdlib.h>

#include "queue/qfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	qenvelope env;
	const char *body, *err;
	size_t body_len;
	if (qfile_parse((const char *)data, size, &env, &body, &body_len, &err)) {
		if (body < (const char *)data || body + body_len > (const char *)data + size)
			abort();
		qenvelope_free(&env);
	}
	return 0;
}
