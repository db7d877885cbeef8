/* fuzz_sasl.c — libFuzzer target for SASL PLAIN / LOGIN decoding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"
#include "lib/strutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	char *u, *p;
	if (sasl_plain_parse(s, &u, &p) == SASL_OK) {
		if (*u == '\0' || *p == '\0')
			abort();
		free(u);
		str_secure_free(p);
	}
	if (sasl_login_field(s, &u) == SASL_OK)
		free(u);
	free(s);
	return 0;
}
