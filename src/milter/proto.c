/* proto.c — the milter protocol codec (see proto.h): packet framing with a
 * length bound, replies parsed and checked, commands written.  Owns no
 * connection and keeps no state beyond one packet being read. */
#include "milter/proto.h"

#include <ctype.h>
#include <string.h>

void milter_reader_init(milter_reader *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->data, MILTER_MAX_PACKET);
}

void milter_reader_free(milter_reader *r)
{
	buf_free(&r->data);
}

milter_read_status milter_reader_feed(milter_reader *r, const void *data, size_t n, size_t *used_r)
{
	const unsigned char *p = data;
	size_t used = 0;
	if (r->have_len == 4 && r->data.len == r->len) { /* the last packet was handed out */
		r->have_len = 0;
		buf_clear(&r->data);
	}
	while (r->have_len < 4 && used < n)
		r->len_bytes[r->have_len++] = p[used++];
	if (r->have_len < 4) {
		*used_r = used;
		return MILTER_READ_MORE;
	}
	r->len = (uint32_t)r->len_bytes[0] << 24 | (uint32_t)r->len_bytes[1] << 16 |
	         (uint32_t)r->len_bytes[2] << 8 | r->len_bytes[3];
	*used_r = used;
	if (r->len == 0)
		return MILTER_READ_EMPTY;
	if (r->len > MILTER_MAX_PACKET)
		return MILTER_READ_TOO_BIG;
	size_t take = r->len - r->data.len;
	if (take > n - used)
		take = n - used;
	if (take > 0 && !buf_append(&r->data, p + used, take))
		return MILTER_READ_TOO_BIG; /* cannot happen: len <= max */
	*used_r = used + take;
	return r->data.len == r->len ? MILTER_READ_PACKET : MILTER_READ_MORE;
}

char milter_reader_cmd(const milter_reader *r)
{
	return r->data.len > 0 ? r->data.data[0] : '\0';
}

const char *milter_reader_data(const milter_reader *r, size_t *len_r)
{
	*len_r = r->data.len > 0 ? r->data.len - 1 : 0;
	return r->data.len > 0 ? r->data.data + 1 : "";
}

/* ---- replies ---- */

/* A NUL-terminated string at data[*at, len): its start, *at moved past the NUL. */
static const char *take_str(const char *data, size_t len, size_t *at)
{
	if (*at >= len)
		return NULL;
	const char *s = data + *at;
	const char *nul = memchr(s, '\0', len - *at);
	if (nul == NULL)
		return NULL;
	*at = (size_t)(nul - data) + 1;
	return s;
}

static bool take_u32(const char *data, size_t len, size_t *at, uint32_t *v)
{
	if (len - *at < 4)
		return false;
	const unsigned char *p = (const unsigned char *)data + *at;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	*at += 4;
	return true;
}

static bool parse_optneg(const char *d, size_t len, milter_reply *r, const char **err_r)
{
	size_t at = 0;
	if (!take_u32(d, len, &at, &r->version) || !take_u32(d, len, &at, &r->actions) ||
	    !take_u32(d, len, &at, &r->protocol)) {
		*err_r = "the option negotiation reply is shorter than 12 bytes";
		return false;
	}
	while (at < len) { /* macro lists: stage, then a NUL-ended list */
		uint32_t stage;
		const char *list;
		if (!take_u32(d, len, &at, &stage) || (list = take_str(d, len, &at)) == NULL) {
			*err_r = "a macro list in the option negotiation is cut short";
			return false;
		}
		if (stage >= SMFIM_COUNT) {
			*err_r = "a macro list names an unknown stage";
			return false;
		}
		r->symlist[stage] = list;
	}
	return true;
}

static bool parse_header_reply(char cmd, const char *d, size_t len, milter_reply *r, const char **err_r)
{
	size_t at = 0;
	if (cmd != SMFIR_ADDHEADER && !take_u32(d, len, &at, &r->index)) {
		*err_r = "a header change has no index";
		return false;
	}
	if ((r->name = take_str(d, len, &at)) == NULL || (r->value = take_str(d, len, &at)) == NULL) {
		*err_r = "a header change is not a name and a value, each ended by NUL";
		return false;
	}
	if (r->name[0] == '\0') {
		*err_r = "a header change has an empty field name";
		return false;
	}
	for (const char *p = r->name; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 127 || *p == ':') {
			*err_r = "a header change has a field name that is not printable ASCII without colon";
			return false;
		}
	return true;
}

static bool parse_addr_reply(char cmd, const char *d, size_t len, milter_reply *r, const char **err_r)
{
	size_t at = 0;
	if ((r->addr = take_str(d, len, &at)) == NULL || r->addr[0] == '\0') {
		*err_r = "an address change has no address";
		return false;
	}
	if ((cmd == SMFIR_ADDRCPT_PAR || cmd == SMFIR_CHGFROM) && at < len &&
	    (r->args = take_str(d, len, &at)) == NULL) {
		*err_r = "an address change has arguments not ended by NUL";
		return false;
	}
	return true;
}

static bool parse_text_reply(char cmd, const char *d, size_t len, milter_reply *r, const char **err_r)
{
	size_t at = 0;
	if ((r->text = take_str(d, len, &at)) == NULL) {
		*err_r = "a reply text is not ended by NUL";
		return false;
	}
	if (cmd == SMFIR_REPLYCODE && !milter_replycode_valid(r->text, &r->code)) {
		*err_r = "a reply code is not a valid 4xx or 5xx SMTP reply";
		return false;
	}
	return true;
}

bool milter_reply_parse(char cmd, const char *data, size_t len, milter_reply *r, const char **err_r)
{
	memset(r, 0, sizeof(*r));
	r->cmd = cmd;
	switch (cmd) {
	case SMFIC_OPTNEG:
		return parse_optneg(data, len, r, err_r);
	case SMFIR_ADDHEADER:
	case SMFIR_INSHEADER:
	case SMFIR_CHGHEADER:
		return parse_header_reply(cmd, data, len, r, err_r);
	case SMFIR_ADDRCPT:
	case SMFIR_ADDRCPT_PAR:
	case SMFIR_DELRCPT:
	case SMFIR_CHGFROM:
		return parse_addr_reply(cmd, data, len, r, err_r);
	case SMFIR_QUARANTINE:
	case SMFIR_REPLYCODE:
		return parse_text_reply(cmd, data, len, r, err_r);
	case SMFIR_REPLBODY:
		r->body = data;
		r->body_len = len;
		return true;
	case SMFIR_ACCEPT:
	case SMFIR_CONTINUE:
	case SMFIR_DISCARD:
	case SMFIR_REJECT:
	case SMFIR_TEMPFAIL:
	case SMFIR_SKIP:
	case SMFIR_PROGRESS:
	case SMFIR_SHUTDOWN:
	case SMFIR_CONN_FAIL:
		return true;
	default:
		*err_r = "an unknown reply command";
		return false;
	}
}

/* One line "ddd[- ]..." of a reply: its code and separator, or false. */
static bool reply_line(const char *p, size_t n, int *code_r, char *sep_r)
{
	if (n < 3 || !isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) ||
	    !isdigit((unsigned char)p[2]))
		return false;
	*code_r = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	*sep_r = n > 3 ? p[3] : ' ';
	if (*sep_r != ' ' && *sep_r != '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < ' ' && p[i] != '\t')
			return false;
	return true;
}

bool milter_replycode_valid(const char *text, int *code_r)
{
	int first = 0;
	const char *p = text;
	for (;;) {
		const char *eol = strstr(p, "\r\n");
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		int code;
		char sep;
		if (!reply_line(p, n, &code, &sep) || (first != 0 && code != first))
			return false;
		if (first == 0 && n > 4) { /* an enhanced status, if any, is of the same class */
			const char *st = p + 4;
			if (isdigit((unsigned char)st[0]) && st[1] == '.' && st[0] != p[0])
				return false;
		}
		first = code;
		if (eol == NULL) {
			if (sep != ' ' && n > 3)
				return false;
			break;
		}
		if (sep != '-')
			return false;
		p = eol + 2;
	}
	if (first < 400 || first > 599)
		return false;
	*code_r = first;
	return true;
}

/* ---- commands ---- */

void milter_put(buf *out, char cmd, const void *data, size_t len)
{
	uint32_t n = (uint32_t)len + 1;
	unsigned char hdr[5] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8),
	                        (unsigned char)n, (unsigned char)cmd};
	BUF_APPEND(out, hdr, sizeof(hdr));
	if (len > 0)
		BUF_APPEND(out, data, len);
}

static void put_u32(buf *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
	                      (unsigned char)v};
	BUF_APPEND(b, x, 4);
}

/* The data of a packet is built in d, then framed into out. */
static void put_framed(buf *out, char cmd, buf *d)
{
	milter_put(out, cmd, d->data, d->len);
	buf_free(d);
}

static void put_str0(buf *d, const char *s)
{
	BUF_APPEND(d, s ? s : "", strlen(s ? s : "") + 1);
}

void milter_put_optneg(buf *out, uint32_t actions, uint32_t protocol)
{
	buf d;
	buf_init(&d, BUF_UNBOUNDED);
	put_u32(&d, MILTER_VERSION);
	put_u32(&d, actions);
	put_u32(&d, protocol);
	put_framed(out, SMFIC_OPTNEG, &d);
}

void milter_put_connect(buf *out, const char *hostname, char family, uint16_t port, const char *addr)
{
	buf d;
	buf_init(&d, BUF_UNBOUNDED);
	put_str0(&d, hostname);
	BUF_PUTC(&d, family);
	if (family != 'U') {
		unsigned char p[2] = {(unsigned char)(port >> 8), (unsigned char)port};
		BUF_APPEND(&d, p, 2);
		put_str0(&d, addr);
	}
	put_framed(out, SMFIC_CONNECT, &d);
}

void milter_put_helo(buf *out, const char *helo)
{
	buf d;
	buf_init(&d, BUF_UNBOUNDED);
	put_str0(&d, helo);
	put_framed(out, SMFIC_HELO, &d);
}

void milter_put_args(buf *out, char cmd, const char *addr, const char *const *args, size_t n_args)
{
	buf d;
	buf_init(&d, BUF_UNBOUNDED);
	BUF_PRINTF(&d, "<%s>", addr ? addr : "");
	BUF_PUTC(&d, '\0');
	for (size_t i = 0; i < n_args; i++)
		put_str0(&d, args[i]);
	put_framed(out, cmd, &d);
}

void milter_put_header(buf *out, const char *name, const char *value)
{
	buf d;
	buf_init(&d, BUF_UNBOUNDED);
	put_str0(&d, name);
	put_str0(&d, value);
	put_framed(out, SMFIC_HEADER, &d);
}

void milter_put_macros(buf *out, char cmd, const char *const *pairs, size_t n)
{
	buf d;
	buf_init(&d, BUF_UNBOUNDED);
	BUF_PUTC(&d, cmd);
	for (size_t i = 0; i < n; i++) {
		put_str0(&d, pairs[2 * i]);
		put_str0(&d, pairs[2 * i + 1]);
	}
	put_framed(out, SMFIC_MACRO, &d);
}

/* name without its braces: its start and length */
static void bare_name(const char *name, size_t n, const char **s_r, size_t *n_r)
{
	if (n >= 2 && name[0] == '{' && name[n - 1] == '}') {
		name++;
		n -= 2;
	}
	*s_r = name;
	*n_r = n;
}

bool milter_macro_wanted(const char *list, const char *name)
{
	if (list == NULL)
		return true;
	const char *want;
	size_t want_n;
	bare_name(name, strlen(name), &want, &want_n);
	const char *p = list;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t n = strcspn(p, " ,");
		const char *s;
		size_t sn;
		bare_name(p, n, &s, &sn);
		if (n > 0 && sn == want_n && memcmp(s, want, sn) == 0)
			return true;
		p += n;
	}
	return false;
}
