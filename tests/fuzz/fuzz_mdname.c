/* fuzz_mdname.c — libFuzzer target for Maildir file names: any name must
 * parse or be refused without a crash, and a parsed name written back and
 * parsed again must say the same (UID, size, flags, base). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/mdname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[512];
	if (size >= sizeof name)
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	mdname a, b;
	char out[MDNAME_MAX + 1];
	if (!mdname_parse(name, &a) || !mdname_format(&a, out))
		return 0;
	if (!mdname_parse(out, &b))
		abort();
	if (a.uid != b.uid || a.has_vsize != b.has_vsize || (a.has_vsize && a.vsize != b.vsize) ||
	    a.flags != b.flags || strcmp(a.other, b.other) != 0 || strcmp(a.base, b.base) != 0)
		abort();
	return 0;
}
