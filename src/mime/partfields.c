/* partfields.c — the Content-* fields of one part (see partfields.h).  Must
 * not look at the body or the tree: mime.c does that. */
#include "mime/partfields.h"

#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"
#include "mime/header.h"

/* First token of a value, lower-cased (Content-Transfer-Encoding). */
static char *first_token(const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	size_t n = strcspn(v, " \t;(");
	char *t = xstrndup(v, n);
	str_ascii_lower(t);
	return t;
}

static void set_once(char **slot, const char *data, const mime_field *f)
{
	if (*slot == NULL)
		*slot = mime_field_value(data, f);
}

static void set_type(mime_part *p, const char *value)
{
	char *type, *subtype;
	mime_params params;
	mime_parse_content_type(value, &type, &subtype, &params);
	if (type == NULL) {
		mime_params_free(&params);  /* invalid: RFC 2045 5.2 default */
		return;
	}
	p->type = type;
	p->subtype = subtype;
	p->params = params;
	p->type_given = true;
}

static void set_default_type(mime_part *p, bool in_digest)
{
	p->type = xstrdup(in_digest ? "message" : "text");
	p->subtype = xstrdup(in_digest ? "rfc822" : "plain");
}

/* Each Content-* field once: the first occurrence wins. */
static void read_field(const char *data, mime_part *p, const mime_field *f, bool *seen_ct)
{
	if (f->name_end - f->name_start < 8 ||
	    !str_ascii_nieq(data + f->name_start, "content-", 8))
		return;
	if (mime_field_is(data, f, "content-type")) {
		if (!*seen_ct) {
			char *v = mime_field_value(data, f);
			set_type(p, v);
			free(v);
		}
		*seen_ct = true;
	} else if (mime_field_is(data, f, "content-transfer-encoding")) {
		if (p->encoding == NULL) {
			char *v = mime_field_value(data, f);
			p->encoding = first_token(v);
			free(v);
		}
	} else if (mime_field_is(data, f, "content-disposition")) {
		if (p->disposition == NULL) {
			char *v = mime_field_value(data, f);
			mime_parse_disposition(v, &p->disposition, &p->disp_params);
			free(v);
			if (p->disposition == NULL)
				mime_params_free(&p->disp_params);
		}
	} else if (mime_field_is(data, f, "content-id")) {
		set_once(&p->id, data, f);
	} else if (mime_field_is(data, f, "content-description")) {
		set_once(&p->description, data, f);
	} else if (mime_field_is(data, f, "content-md5")) {
		set_once(&p->md5, data, f);
	} else if (mime_field_is(data, f, "content-language")) {
		set_once(&p->language, data, f);
	} else if (mime_field_is(data, f, "content-location")) {
		set_once(&p->location, data, f);
	}
}

void mime_part_read_fields(const char *data, mime_part *p, bool in_digest)
{
	size_t pos = p->hdr_start;
	mime_field f;
	bool seen_ct = false;
	while (mime_header_next(data, p->hdr_end, &pos, &f))
		read_field(data, p, &f, &seen_ct);
	if (p->type == NULL)
		set_default_type(p, in_digest);
}

void mime_part_free_fields(mime_part *p)
{
	free(p->type);
	free(p->subtype);
	mime_params_free(&p->params);
	free(p->encoding);
	free(p->id);
	free(p->description);
	free(p->md5);
	free(p->language);
	free(p->location);
	free(p->disposition);
	mime_params_free(&p->disp_params);
}
