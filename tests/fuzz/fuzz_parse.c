/* fuzz_parse.c — libFuzzer target for the SMTP command-argument parser:
 * any line must parse or be refused without a crash, and a parsed address
 * must pass the mailbox check it was parsed with. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope/address.h"
#include "smtp/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	memcpy(line, data, size);
	line[size] = '\0';
	char verb[16];
	const char *args = smtp_split_verb(line, verb, sizeof verb);
	if (args != NULL) {
		smtp_path p;
		if (smtp_parse_mail(args, &p) == SP_OK && p.address[0] != '\0') {
			bool na;
			if (!envelope_valid_mailbox(p.address, p.smtputf8, &na))
				abort();
		}
		smtp_path_free(&p);
		if (smtp_parse_rcpt(args, size & 1, &p) == SP_OK && p.address[0] == '\0')
			abort(); /* RCPT never accepts the null path */
		smtp_path_free(&p);
		uint64_t n;
		bool last;
		smtp_parse_bdat(args, &n, &last);
	}
	free(line);
	return 0;
}
