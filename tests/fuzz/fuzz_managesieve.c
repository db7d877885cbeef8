/* fuzz_managesieve.c — libFuzzer target for the ManageSieve command parser
 * (managesieve/parse.c), the literal announcement, the script check and
 * script names: every argument must lie inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sieve/upload.h"
#include "managesieve/parse.h"
#include "store/sievestore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	for (int verb = 0; verb < 2; verb++) {
		char *copy = malloc(size + 1);
		memcpy(copy, s, size + 1);
		msieve_cmd cmd;
		const char *err;
		if (msieve_parse(copy, size, verb == 1, &cmd, &err)) {
			for (int i = 0; i < cmd.nargs; i++) {
				const msieve_arg *a = &cmd.args[i];
				if (a->type == MSIEVE_ARG_STRING &&
				    (a->str < copy || a->str + a->len > copy + size))
					abort();
				const char *why;
				if (a->type == MSIEVE_ARG_STRING)
					(void)sievestore_name_valid(a->str, a->len, &why);
			}
		} else if (err == NULL) {
			abort();
		}
		free(copy);
	}
	uint64_t n;
	bool bad;
	(void)msieve_literal_at_end(s, size, &n, &bad);
	char *msg = NULL;
	(void)sieve_upload_check(s, size, &msg);
	free(msg);
	free(s);
	return 0;
}
