/* fuzz_sieve.c — libFuzzer target for the Sieve compiler and interpreter:
 * any bytes are a script (with an include loader that serves the same
 * bytes under every name, so include and recursion are reached); a script
 * that compiles is run on a fixed multipart message.  A compile error must
 * carry a position inside the script; a run must end with a result whose
 * error, if any, leaves only the implicit keep. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sieve/sieve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char MSG[] =
	"From: A <a@example.com>\nTo: b+x@example.org, c@example.net\n"
	"Subject: =?UTF-8?Q?caf=C3=A9?= report\nDate: Tue, 03 Mar 2026 10:00:00 +0900\n"
	"X-N: 1\nX-N: 2\nContent-Type: multipart/mixed; boundary=B\n\n"
	"--B\nContent-Type: text/plain\n\nhello body\n--B--\n";

typedef struct input {
	const char *data;
	size_t size;
} input;

static bool load(void *ctx, const char *name, bool global, char **text_r, size_t *len_r)
{
	const input *in = ctx;
	if (strcmp(name, "missing") == 0)
		return false;
	*text_r = malloc(in->size + 1);
	memcpy(*text_r, in->data, in->size);
	(*text_r)[in->size] = '\0';
	*len_r = in->size;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	input in = {(const char *)data, size};
	sieve_loader loader = {load, &in};
	sieve_script *s;
	sieve_error err;
	if (!sieve_compile(in.data, size, &loader, &s, &err)) {
		if (err.msg == NULL || err.line == 0 || err.col == 0)
			abort();
		sieve_error_free(&err);
		return 0;
	}
	sieve_message m = {MSG, sizeof(MSG) - 1};
	sieve_envelope env = {"a@example.com", "b+x@example.org", NULL};
	sieve_result r;
	sieve_run(s, &m, &env, NULL, &r);
	if (r.error != NULL && (r.n != 0 || !r.implicit_keep))
		abort();
	sieve_result_free(&r);
	sieve_script_free(&s);
	return 0;
}
