/* state.c — the rewriting state of a running server (see state.h): the
 * rules, the SRS domain and secrets.  Must not log a secret. */
#include "rewrite/state.h"

#include <stdlib.h>
#include <string.h>


char *rewrite_srs_secret_path(const config *cfg)
{
	return cfg->rewrite.srs_secret_file ? xstrdup(cfg->rewrite.srs_secret_file)
	                                    : xasprintf("%s/srs.secret", cfg->data_dir);
}

/* The forwarding domain, for SRS and ARC. */
static bool load_domain(rewrite_state *st, const config *cfg, const char *first_domain, strlist *errors)
{
	const char *dom = cfg->rewrite.srs_domain ? cfg->rewrite.srs_domain : first_domain;
	if (dom == NULL || *dom == '\0') {
		strlist_add(errors, "rewrite.srs.enable and rewrite.arc_seal need rewrite.srs.domain or a local domain");
		return false;
	}
	st->srs_domain = xstrdup(dom);
	str_ascii_lower(st->srs_domain);
	return true;
}

static bool load_srs(rewrite_state *st, const config *cfg, strlist *errors)
{
	char *path = rewrite_srs_secret_path(cfg), *err = NULL;
	bool created = false;
	bool ok = srs_secrets_create(path, &created, &err) && srs_secrets_load(path, &st->secrets, &err);
	if (!ok) {
		strlist_add_owned(errors, err);
	}
	free(path);
	st->srs = (srs_config){.secrets = &st->secrets, .domain = st->srs_domain, .max_age = cfg->rewrite.srs_max_age};
	st->srs_on = ok;
	return ok;
}

rewrite_state *rewrite_state_load(const config *cfg, const rw_rules *rules, const char *first_domain,
                                  strlist *errors)
{
	rewrite_state *st = xcalloc(1, sizeof(*st));
	rw_rules_init(&st->none);
	st->rules = rules != NULL ? rules : &st->none;
	strlist_init(&st->secrets);
	bool ok = true;
	if (cfg->rewrite.srs_enable || cfg->rewrite.arc_seal)
		ok = load_domain(st, cfg, first_domain, errors);
	if (ok && cfg->rewrite.srs_enable)
		ok = load_srs(st, cfg, errors);
	st->arc_on = ok && cfg->rewrite.arc_seal;
	if (!ok)
		rewrite_state_free(&st);
	return st;
}

void rewrite_state_free(rewrite_state **stp)
{
	rewrite_state *st = *stp;
	if (st == NULL)
		return;
	rw_rules_free(&st->none);
	for (size_t i = 0; i < st->secrets.n; i++)
		explicit_bzero(st->secrets.items[i], strlen(st->secrets.items[i]));
	strlist_free(&st->secrets);
	free(st->srs_domain);
	free(st);
	*stp = NULL;
}

bool rewrite_is_our_srs(const rewrite_state *st, const char *address)
{
	const char *at = address ? strrchr(address, '@') : NULL;
	return st != NULL && st->srs_on && at != NULL && srs_is_srs(address) && str_ascii_ieq(at + 1, st->srs_domain);
}
