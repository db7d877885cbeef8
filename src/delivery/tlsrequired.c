/* tlsrequired.c — the TLS-Required header field (see tlsrequired.h). */
#include "delivery/tlsrequired.h"

#include <stdlib.h>

#include "lib/strutil.h"
#include "mime/header.h"

bool tlsrequired_header_no(const char *msg, size_t len)
{
	char *v = mime_header_value(msg, 0, len, "TLS-Required");
	bool no = v != NULL && str_ascii_ieq(v, "No");
	free(v);
	return no;
}
