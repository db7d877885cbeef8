/* statuscount.c — the numbers of a STATUS (and of LIST's RETURN (STATUS)):
 * counted on the loop from the folder's shared view, opened for the moment
 * (see status.h). */
#include "imap/status.h"

#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"
#include "store/mdname.h"

typedef struct count_job {
	store_view *v;
	imap_status_fn *fn;
	void *arg;
	bool keep;
} count_job;

static void count_ready(void *arg)
{
	count_job *j = arg;
	const mbox *mb = j->v->mb;
	if (mb == NULL) {
		j->fn(j->arg, NULL);
	} else {
		imap_status_counts c = {.messages = mb->n, .uidnext = mb->uidnext,
		                        .uidvalidity = mb->uidvalidity, .highestmodseq = j->v->highestmodseq};
		for (size_t i = 0; i < mb->n; i++) {
			c.unseen += !(mb->msgs[i].flags & MDF_SEEN);
			c.deleted += (mb->msgs[i].flags & MDF_DELETED) != 0;
			c.size += mb->msgs[i].vsize;
			c.recent += mb->msgs[i].uid >= j->v->recent_floor;
		}
		j->fn(j->arg, &c);
	}
	if (j->keep)
		store_view_close(&j->v);
	else
		store_view_release(&j->v);
	free(j);
}

void imap_status_count(store_views *views, const char *root, const char *path, bool keep,
                       imap_status_fn *fn, void *arg)
{
	size_t n = strlen(root);
	const char *key = strncmp(path, root, n) == 0 && path[n] == '/' ? path + n + 1 : "";
	count_job *j = xcalloc(1, sizeof(*j));
	*j = (count_job){.v = store_view_open(views, root, key), .fn = fn, .arg = arg, .keep = keep};
	store_view_check(j->v);
	store_view_run(j->v, STORE_READ, NULL, count_ready, j);
}

