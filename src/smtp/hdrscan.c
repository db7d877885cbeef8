/* hdrscan.c — a field name at the start of a header line (see hdrscan.h). */
#include "smtp/hdrscan.h"

#include <string.h>

void hdrscan_init(hdrscan *h, const char *name)
{
	*h = (hdrscan){.name = name, .name_len = strlen(name), .matching = true, .in_header = true};
}

void hdrscan_feed(hdrscan *h, const char *data, size_t n)
{
	for (size_t i = 0; i < n && h->in_header && !h->found; i++) {
		char c = data[i];
		if (c == '\r')
			continue;
		if (c == '\n') {
			if (h->col == 0)
				h->in_header = false; /* the blank line: the body follows */
			h->col = 0;
			h->matching = true;
			continue;
		}
		if (h->matching) {
			if (h->col < h->name_len) {
				char lc = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
				h->matching = lc == h->name[h->col];
			} else {
				/* RFC 5322 field name, then optional white space (obsolete
				 * syntax), then the colon */
				if (c == ':')
					h->found = true;
				else
					h->matching = c == ' ' || c == '\t';
			}
		}
		h->col++;
	}
}

bool hdrscan_found(const hdrscan *h)
{
	return h->found;
}
