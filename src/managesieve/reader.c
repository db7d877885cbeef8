/* reader.c — one ManageSieve command assembled from lines and literals,
 * within bounds (see reader.h). */
#include "managesieve/reader.h"

#include <stdlib.h>
#include <string.h>

#include "managesieve/parse.h"

void msieve_reader_init(msieve_reader *r, size_t line_max, size_t literal_max)
{
	*r = (msieve_reader){0};
	msieve_reader_set_limits(r, line_max, literal_max);
}

void msieve_reader_set_limits(msieve_reader *r, size_t line_max, size_t literal_max)
{
	r->line_max = line_max;
	r->literal_max = literal_max;
	/* room for the lines around two literals (RENAMESCRIPT sends two names) */
	buf_free(&r->cmd);
	buf_init(&r->cmd, 3 * line_max + literal_max);
}

void msieve_reader_free(msieve_reader *r)
{
	msieve_reader_reset(r);
	buf_free(&r->cmd);
}

void msieve_reader_reset(msieve_reader *r)
{
	if (r->cmd.data != NULL)
		explicit_bzero(r->cmd.data, r->cmd.len);
	buf_clear(&r->cmd);
	r->literal_left = 0;
	r->skipping = false;
	r->refused = false;
	r->refused_size = 0;
}

/* Literal octets: into the command, or dropped when skipping. */
static bool read_literal(msieve_reader *r, struct evbuffer *in)
{
	size_t avail = evbuffer_get_length(in);
	size_t n = r->literal_left < avail ? (size_t)r->literal_left : avail;
	if (n == 0)
		return false;
	if (r->skipping) {
		evbuffer_drain(in, n);
	} else {
		char tmp[4096];
		size_t left = n;
		while (left > 0) {
			size_t k = left < sizeof tmp ? left : sizeof tmp;
			evbuffer_remove(in, tmp, k);
			if (!buf_append(&r->cmd, tmp, k))
				abort(); /* room was checked when the literal was announced */
			left -= k;
		}
		explicit_bzero(tmp, sizeof tmp);
	}
	r->literal_left -= n;
	if (r->literal_left == 0)
		r->skipping = false;
	return true;
}

/* A line ending in a literal's announcement: get ready to read it. */
static msieve_read announce(msieve_reader *r, uint64_t n)
{
	if (n > r->literal_max || r->refused) {
		if (n > MSIEVE_SKIP_MAX)
			return MSIEVE_READ_HUGE;
		if (!r->refused || n > r->refused_size)
			r->refused_size = n;
		r->refused = true;
		r->skipping = true;
	} else if (r->cmd.len + n > r->cmd.max) {
		return MSIEVE_READ_TOO_LONG;
	}
	r->literal_left = n;
	return MSIEVE_READ_MORE;
}

msieve_read msieve_reader_feed(msieve_reader *r, conn *c, struct evbuffer *in)
{
	for (;;) {
		if (r->literal_left > 0) {
			if (!read_literal(r, in))
				return MSIEVE_READ_MORE;
			continue;
		}
		char *line = NULL;
		int st = conn_read_line(c, in, r->line_max, &line);
		if (st == 0)
			return MSIEVE_READ_MORE;
		if (st < 0)
			return MSIEVE_READ_TOO_LONG;
		size_t len = strlen(line);
		if (st == 2) {
			explicit_bzero(line, len);
			free(line);
			return MSIEVE_READ_BAD_LINE;
		}
		uint64_t n = 0;
		bool bad = false;
		bool lit = msieve_literal_at_end(line, len, &n, &bad);
		bool fits = r->refused || (buf_append(&r->cmd, line, len) && buf_append(&r->cmd, "\r\n", 2));
		explicit_bzero(line, len);
		free(line);
		if (!fits)
			return MSIEVE_READ_TOO_LONG;
		if (bad)
			return MSIEVE_READ_HUGE;
		if (!lit)
			return r->refused ? MSIEVE_READ_REFUSED : MSIEVE_READ_COMMAND;
		msieve_read a = announce(r, n);
		if (a != MSIEVE_READ_MORE)
			return a;
	}
}

char *msieve_reader_command(msieve_reader *r, size_t *len_r)
{
	/* every line was stored with its CRLF: the last one's is not part of it */
	*len_r = r->cmd.len >= 2 ? r->cmd.len - 2 : 0;
	if (r->cmd.data == NULL)
		return (char *)"";
	r->cmd.data[*len_r] = '\0';
	return r->cmd.data;
}
