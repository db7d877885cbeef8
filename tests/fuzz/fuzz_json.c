/* fuzz_json.c — libFuzzer target for lib/jsonstrict.c, checked against
 * jansson (JSON_REJECT_DUPLICATES), the strict parser it replaced on the
 * API's hot path: whatever we take, jansson takes; on short texts (no
 * nesting or number long enough for the two to part ways on purpose) we
 * refuse exactly what jansson refuses, but for numbers jansson cannot
 * hold, which cJSON keeps as a double (none of our members is a number),
 * and for a NUL byte, which jansson may take as the end of the text. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jsonstrict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_strict_error e;
	cJSON *ours = json_strict_parse((const char *)data, size, &e);
	json_error_t je;
	json_t *ref = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (ours != NULL && ref == NULL && strstr(je.text, "overflow") == NULL && strstr(je.text, "too big") == NULL)
		abort();
	if (ours == NULL && ref != NULL && size < 60 && memchr(data, '\0', size) == NULL)
		abort();
	if (ours == NULL && (e.text[0] == '\0' || (e.line > 0 && e.offset > size)))
		abort();
	cJSON_Delete(ours);
	json_decref(ref);
	return 0;
}
