/* cmd_serve.c — `yubin serve`: the start-up order that the security model
 * depends on (read the TLS key and bind ports as root, then drop to the
 * service user before touching any mail), recovery, the event loop, and an
 * orderly stop on SIGTERM / SIGINT. */
#include "store/quotabook.h"
#include "api/api.h"
#include "cli/cli.h"
#include "store/view.h"
#include "store/watch.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/password.h"
#include "auth/throttle.h"
#include "api/hooks.h"
#include "audit/audit.h"
#include "cli/control.h"
#include "cli/devmode.h"
#include "policy/polconf.h"
#include "rewrite/state.h"
#include "delivery/outbound.h"
#include "delivery/report.h"
#include "delivery/sievedeliver.h"
#include "dns/resolver.h"
#include "lib/lru.h"
#include "metrics/metrics.h"
#include "msgauth/dmarc.h"
#include "lib/log.h"
#include "lib/workers.h"
#include "queue/queue.h"
#include "net/server.h"
#include "smtp/pol_steps.h"
#include "policy/polconf.h"
#include "policy/ratelimit.h"
#include "policy/ratesync.h"
#include "tls/tls.h"
#include "web/web.h"

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	server *srv = arg;
	log_event(LOG_LVL_INFO, "stop", "signal=%d sessions=%d", (int)sig, srv->n_sessions);
	server_stop(srv);
}

/* yubin_webhook_backlog (metrics/metrics.h): the sender's own count. */
static double webhook_backlog(void *h, metrics_gauge g)
{
	return (double)hooks_webhook_backlog(h);
}

static void on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
	queue_retry_deferred(arg);
}

/* Remote delivery: the resolver and the scheduler, fed by the queue. */
static bool open_outbound(cli_ctx *ctx, server *srv, dns_resolver **dns_r, outbound **ob_r)
{
	char *err = NULL;
	*dns_r = dns_new_validating(srv->base, ctx->cfg->dns_resolver, ctx->cfg->dns_timeout,
	                     dns_anchor_file(ctx->cfg->dns_trust_anchor, ctx->cfg->dns_resolver), &err);
	if (*dns_r != NULL)
		dns_selftest(*dns_r); /* DNSSEC usable with these servers? (logs) */
	if (*dns_r != NULL)
		*ob_r = outbound_new(srv->base, ctx->cfg, *dns_r, srv->wk, srv->q, srv->acc, &err);
	if (*dns_r == NULL || *ob_r == NULL) {
		cli_error("%s", err);
		free(err);
		return false;
	}
	queue_set_remote_handler(srv->q, outbound_on_remote, *ob_r);
	outbound_set_rewrite(*ob_r, srv->rewrite);
	return true;
}

/* Reports of local deliveries (NOTIFY=SUCCESS, a mailbox full for too
 * long) go back through the queue; rep must live as long as the queue does. */
static void open_reports(server *srv, report_ctx *rep)
{
	*rep = (report_ctx){.q = srv->q, .acc = srv->acc, .hostname = srv->cfg->hostname};
	queue_set_report_handler(srv->q, report_on_queue, rep);
}

/* Canonical maps, masquerading and SRS (the secret file is made here when
 * it is missing: it belongs to the service user). */
static bool open_rewrite(cli_ctx *ctx, server *srv)
{
	strlist domains, errors;
	strlist_init(&domains);
	strlist_init(&errors);
	accounts_domain_list(srv->acc, &domains);
	srv->rewrite = rewrite_state_load(ctx->cfg, ctx->policy ? ctx->policy->rewrite : NULL,
	                                  domains.n ? domains.items[0] : NULL, &errors);
	for (size_t i = 0; i < errors.n; i++)
		cli_error("%s", errors.items[i]);
	if (srv->rewrite != NULL && srv->rewrite->srs_on)
		log_event(LOG_LVL_INFO, "srs", "domain=%s secrets=%zu max_age=%d", srv->rewrite->srs_domain,
		          srv->rewrite->secrets.n, ctx->cfg->rewrite.srs_max_age);
	strlist_free(&domains);
	strlist_free(&errors);
	return srv->rewrite != NULL;
}

/* Everything after the privilege drop that can fail at start-up. */
static bool open_state(cli_ctx *ctx, server *srv, char **demo_pw_r)
{
	srv->acc = cli_open_accounts(ctx);
	if (srv->acc == NULL)
		return false;
	if (ctx->cfg->dev) {
		*demo_pw_r = devmode_demo_account(ctx->cfg, srv->acc);
		if (*demo_pw_r == NULL) {
			cli_error("cannot create the demo account");
			return false;
		}
	}
	char *err = NULL;
	srv->q = queue_open(ctx->cfg, srv->wk, &err);
	if (srv->q == NULL) {
		cli_error("%s", err);
		free(err);
		return false;
	}
	srv->quota = quota_book_open(ctx->cfg, &err);
	if (srv->quota == NULL) {
		cli_error("cannot open the account database for quotas: %s", err);
		free(err);
		return false;
	}
	queue_set_quota(srv->q, srv->quota);
	srv->sieve = sieve_delivery_open(ctx->cfg, srv->q, &err);
	if (srv->sieve == NULL) {
		cli_error("cannot open what Sieve needs at delivery: %s", err);
		free(err);
		return false;
	}
	queue_set_sieve(srv->q, srv->sieve);
	srv->dummy_hash = password_hash("yubin-timing-equaliser");
	if (srv->dummy_hash == NULL) {
		cli_error("libcrypt cannot make a yescrypt hash");
		return false;
	}
	if (!open_rewrite(ctx, srv))
		return false;
	srv->thr = throttle_new(&ctx->cfg->auth);
	srv->watch = folder_watch_new(srv->base); /* NULL: open folders are looked at on NOOP and SELECT */
	srv->views = store_views_new(srv->base, srv->wk, srv->watch);
	srv->login_gate = login_gate_new(ctx->cfg->auth.max_checks);
	const rate_rules *limits = ctx->policy != NULL ? ctx->policy->ratelimits : NULL;
	if (limits != NULL && limits->n > 0) {
		char *path = xasprintf("%s/ratelimit.db", ctx->cfg->data_dir);
		srv->rate = rate_sync_open(srv->base, srv->wk, limits->items, limits->n, path);
		free(path);
	}
	char *dbpath = config_path_db(ctx->cfg);
	selfdb *self = selfdb_open(dbpath, &err);
	free(dbpath);
	if (self == NULL) {
		cli_error("%s", err);
		free(err);
		return false;
	}
	srv->login = (login_ctx){.base = srv->base, .acc = srv->acc, .thr = srv->thr, .wk = srv->wk,
	                         .gate = srv->login_gate, .dummy_hash = srv->dummy_hash, .self = self};
	return true;
}

/* Threads of the workers' quick lane (CPU-bound jobs a client waits for):
 * one per processor, at least 2 and at most 8. */
static int quick_lane_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 2 ? 2 : n > 8 ? 8 : (int)n;
}


int cmd_serve(cli_ctx *ctx, int argc, char **argv)
{
	config *cfg = ctx->cfg;
	if (argc > 1) {
		fprintf(stderr, "usage: yubin [--config FILE | --dev] serve\n");
		return 2;
	}
	log_use_syslog(strcmp(cfg->log, "syslog") == 0);
	/* SIGTERM / SIGINT wait until the loop can handle them in order (they
	 * are unblocked once their events exist); threads inherit the mask, so
	 * only the loop thread ever takes them. */
	sigset_t stop_signals;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	if (cfg->dev && !devmode_prepare_tls(cfg))
		return 1;
	signal(SIGPIPE, SIG_IGN);
	server srv = {.cfg = cfg, .policy = ctx->policy};
	char *err = NULL, *demo_pw = NULL;
	int rc = 1;
	dns_resolver *dns = NULL;
	outbound *ob = NULL;
	control *ctl = NULL;
	report_ctx rep;
	srv.tls = tls_server_ctx_new(cfg->tls_cert, cfg->tls_key, &err);
	if (srv.tls == NULL) {
		cli_error("%s", err);
		free(err);
		return 1;
	}
	srv.base = event_base_new();
	if (!server_bind(&srv, &err)) {
		cli_error("%s", err);
		free(err);
		goto out;
	}
	ctx->serving = true;
	if (!cli_drop_privileges(ctx))
		goto out;
	srv.wk = workers_new(srv.base, cfg->workers, quick_lane_threads());
	if (!audit_open(cfg, &err)) { /* before anything that emits records */
		cli_error("%s", err);
		free(err);
		goto out;
	}
	if (!open_state(ctx, &srv, &demo_pw) || !open_outbound(ctx, &srv, &dns, &ob))
		goto out;
	srv.dns = dns;
	srv.outbound = ob;
	srv.web = web_new(&srv);
	if (!pol_dnsbl_open(&srv, &err) || !pol_greylist_open(&srv, &err)) {
		cli_error("%s", err);
		free(err);
		goto out;
	}
	if (!api_open(&srv, &err)) { /* the HTTPS API's keys (api/api.h) */
		cli_error("%s", err);
		free(err);
		goto out;
	}
	srv.psl = dmarc_psl_open(&err); /* NULL: no DMARC, said once here */
	if (srv.psl == NULL) {
		log_event(LOG_LVL_WARN, "dmarc", "error=%s result=\"DMARC checks are off\"", err);
		free(err);
		err = NULL;
	}
	open_reports(&srv, &rep);
	srv.hooks = hooks_open(&srv, ctx->policy ? ctx->policy->webhooks : NULL, &err);
	if (srv.hooks == NULL) {
		cli_error("%s", err);
		free(err);
		goto out;
	}
	ctl = control_open(srv.base, cfg, ob, srv.q, &err);
	if (ctl == NULL) {
		cli_error("%s", err);
		free(err);
		goto out;
	}
	queue_recover(srv.q);
	metrics_start();
	metrics_gauge_register(METRICS_WEBHOOK_BACKLOG, webhook_backlog, srv.hooks);
	struct event *sigterm = evsignal_new(srv.base, SIGTERM, on_signal, &srv);
	struct event *sigint = evsignal_new(srv.base, SIGINT, on_signal, &srv);
	event_add(sigterm, NULL);
	event_add(sigint, NULL);
	pthread_sigmask(SIG_UNBLOCK, &stop_signals, NULL);
	struct event *retry = event_new(srv.base, -1, EV_PERSIST, on_retry_timer, srv.q);
	struct timeval every = {QUEUE_RETRY_AGE, 0};
	event_add(retry, &every);
	log_event(LOG_LVL_INFO, "ready", "hostname=%s data_dir=%s listeners=%d", cfg->hostname,
	          cfg->data_dir, cfg->n_listeners);
	if (cfg->dev)
		devmode_banner(cfg, demo_pw);
	event_base_dispatch(srv.base);
	event_free(sigterm);
	event_free(sigint);
	event_free(retry);
	rc = 0;
out:
	server_close_listeners(&srv);
	control_close(&ctl);
	login_gate_stop(srv.login_gate); /* no password check starts while the workers finish */
	metrics_gauge_unregister(METRICS_WEBHOOK_BACKLOG, webhook_backlog, srv.hooks);
	hooks_stop(srv.hooks); /* no follower step starts; the webhook sender stops */
	workers_free(&srv.wk); /* finishes commits and deliveries in flight */
	hooks_free(&srv.hooks); /* after the workers: a follower step in flight has ended */
	server_free_sessions(&srv);
	rate_sync_close(&srv.rate); /* after the workers: no save in flight */
	api_close(&srv);       /* after the workers and the requests that used it */
	web_free(&srv.web);
	outbound_free(&ob);    /* drops attempts in flight: their files stay queued */
	pol_dnsbl_close(&srv); /* after the sessions: none asks any more */
	pol_greylist_close(&srv); /* after the workers that wrote to it */
	dns_free(&dns);
	dmarc_psl_free(&srv.psl);
	queue_close(&srv.q);
	quota_book_free(&srv.quota); /* after the workers and the sessions that used it */
	sieve_delivery_free(&srv.sieve); /* after the queue: no delivery runs */
	audit_close(); /* after every emitter: stores what is left */
	throttle_free(&srv.thr);
	store_views_free(&srv.views); /* after the sessions that held them */
	folder_watch_free(&srv.watch);
	accounts_close(&srv.acc);
	selfdb_close(&srv.login.self); /* after the workers that record log-ins */
	rewrite_state_free(&srv.rewrite);
	free(srv.dummy_hash);
	login_gate_free(&srv.login_gate);
	free(srv.ip_counts);
	lru_free(&srv.smtp_passed);
	str_secure_free(demo_pw);
	SSL_CTX_free(srv.tls);
	if (srv.base)
		event_base_free(srv.base);
	return rc;
}
