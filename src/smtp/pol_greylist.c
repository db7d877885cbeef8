/* pol_greylist.c — the greylisting step of the policy runner (see
 * pol_steps.h), at RCPT on port 25: a (client network, sender, recipient)
 * triplet seen for the first time, or retried too early, gets 451 4.7.1
 * with the seconds to wait.  Exempt: logged-in sessions, clients on a DNS
 * allowlist (a hit of negative weight), clients a rule accepted, and
 * policy.trusted_networks.  The database calls run on the worker pool; a
 * database error is a 451 or, with policy.greylist.on_error = "accept",
 * lets the mail through — never a 5xx.  The store and its rules are
 * policy/greylist.c's. */
#include "smtp/pol_steps.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "policy/greylist.h"

bool pol_greylist_open(server *srv, char **err_r)
{
	const config_greylist *gc = &srv->cfg->policy.greylist;
	if (!gc->enable)
		return true;
	char *path = xasprintf("%s/greylist.db", srv->cfg->data_dir);
	srv->greylist = greylist_open(path, err_r);
	free(path);
	return srv->greylist != NULL;
}

void pol_greylist_close(server *srv)
{
	greylist_close(&srv->greylist);
}

/* One check on a worker; the run is NULL once the session went away. */
typedef struct grey_job {
	policy_run *r;
	greylist *g;
	greylist_rules rules;
	char net[ADDRKEY_MAX];
	char *sender, *rcpt;
	time_t now;
	greylist_result res;
	int wait;
	char *err;
} grey_job;

static void grey_work(void *arg)
{
	grey_job *j = arg;
	j->res = greylist_check(j->g, &j->rules, j->net, j->sender, j->rcpt, j->now, &j->wait, &j->err);
}

static void grey_error(policy_run *r, grey_job *j)
{
	const config_greylist *gc = &r->s->srv->cfg->policy.greylist;
	bool accept = strcmp(gc->on_error, "accept") == 0;
	log_event(LOG_LVL_WARN, "greylist", "sid=%s client=%s from=%s to=%s error=%s result=%s", r->s->sid,
	          r->s->ip, j->sender, j->rcpt, j->err, accept ? "accepted without greylisting" : "deferred");
	if (!accept)
		policy_verdict_decide(&r->v, POLICY_TEMPFAIL, 451, "4.3.0",
		                      "Greylisting is not available right now; please try again later", "greylist");
}

static void grey_done(void *arg)
{
	grey_job *j = arg;
	policy_run *r = j->r;
	if (r != NULL) {
		if (j->res == GREYLIST_DEFER) {
			char *text = xasprintf("Greylisted: please try again in %d second%s", j->wait,
			                       j->wait == 1 ? "" : "s");
			policy_verdict_decide(&r->v, POLICY_TEMPFAIL, 451, "4.7.1", text, "greylist");
			free(text);
		} else if (j->res == GREYLIST_ERROR) {
			grey_error(r, j);
		}
	}
	free(j->sender);
	free(j->rcpt);
	free(j->err);
	free(j);
	if (r != NULL)
		policy_step_next(r);
}

static void cancel(policy_run *r)
{
	grey_job *j = r->wait;
	j->r = NULL; /* grey_done frees it */
}

/* On a DNS allowlist: a hit of negative weight. */
static bool allowlisted(const smtp_session *s)
{
	for (size_t i = 0; i < s->pol.n_dnsbl; i++)
		if (s->pol.dnsbl[i].weight < 0)
			return true;
	return false;
}

static char *lower(const char *s)
{
	char *c = xstrdup(s != NULL ? s : "");
	str_ascii_lower(c);
	return c;
}

void pol_greylist_step(policy_run *r)
{
	smtp_session *s = r->s;
	const config_greylist *gc = &s->srv->cfg->policy.greylist;
	if (r->stage != POLICY_RCPT || s->srv->greylist == NULL || s->lst->role != ROLE_SMTP ||
	    s->auth_user != NULL || s->pol.accepted || s->pol.txn_accepted || allowlisted(s) || pol_trusted_client(s)) {
		policy_step_next(r);
		return;
	}
	grey_job *j = xcalloc(1, sizeof(*j));
	j->r = r;
	j->g = s->srv->greylist;
	j->rules = (greylist_rules){.delay = gc->delay, .retry_window = gc->retry_window, .expire = gc->expire,
	                            .auto_allow = gc->auto_allow, .auto_allow_time = gc->auto_allow_time,
	                            .max_entries = (long)gc->max_entries};
	greylist_network(s->ip, j->net);
	j->sender = lower(s->txn.sender);
	j->rcpt = lower(r->facts.rcpt);
	j->now = time(NULL);
	r->wait = j;
	r->cancel = cancel;
	workers_submit(s->srv->wk, grey_work, grey_done, j);
}
