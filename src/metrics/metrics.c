/* metrics.c — the counters, the gauge registry and the scrape (see
 * metrics.h).  Owns the list of metric families, their names, help texts
 * and label sets; the text format itself is expo.c's.  It must not include
 * anything above lib/: callers hand it roles, destinations and names from
 * fixed sets.  Increments are relaxed atomics (a scrape may see one
 * counter a moment ahead of another, never a torn value). */
#include "metrics/metrics.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "metrics/expo.h"
#include "metrics/procfacts.h"

#define ADD(x) atomic_fetch_add_explicit(&(x), 1, memory_order_relaxed)
#define SUB(x) atomic_fetch_sub_explicit(&(x), 1, memory_order_relaxed)
#define GET(x) atomic_load_explicit(&(x), memory_order_relaxed)

/* Delivery latency buckets, seconds from acceptance: the arrival time is
 * kept in whole seconds, so nothing finer than a second means anything;
 * the top is the default message lifetime (5 days). */
static const double latency_bounds[] = {1, 2, 5, 10, 30, 60, 300, 900, 1800, 3600, 14400, 86400, 432000};
#define N_BOUNDS (sizeof latency_bounds / sizeof latency_bounds[0])

static const char *const dest_names[METRICS_DEST_COUNT] = {"local", "remote"};
static const char *const dir_names[METRICS_DIR_COUNT] = {"inbound", "outbound"};
static const char *const proto_names[METRICS_PROTO_COUNT] = {"smtp", "imap", "pop3", "https",
                                                                   "managesieve"};
static const char *const tls_names[] = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "other"};
#define N_TLS (sizeof tls_names / sizeof tls_names[0])
static const char *const verdict_names[] = {"continue", "accept", "reject", "tempfail", "discard", "other"};
#define N_VERDICTS (sizeof verdict_names / sizeof verdict_names[0])
static const char *const route_names[] = {"direct", "relay"}; /* the OP25B route (delivery/probe25.h) */
static const char *const tlspol_names[METRICS_TLSPOL_COUNT] = {"dane", "sts", "none"};
static const char *const tlsres_names[] = {"failed", "verified"};
static const char *const sts_names[METRICS_STS_COUNT] = {"ok", "failed", "cached"};
/* The roles that take messages in, in the order they are shown. */
static const listener_role receiving_roles[] = {ROLE_SMTP, ROLE_SUBMISSION, ROLE_SUBMISSIONS, ROLE_HTTPS};
#define N_RECEIVING (sizeof receiving_roles / sizeof receiving_roles[0])

#define GAUGE_FNS_MAX 8 /* owners of one gauge: a bug past it */

typedef struct gauge_owner {
	metrics_gauge_fn *fn;
	void *arg;
} gauge_owner;

static struct {
	_Atomic uint64_t received[ROLE_COUNT];
	_Atomic uint64_t delivered[METRICS_DEST_COUNT];
	_Atomic uint64_t deferred[METRICS_DEST_COUNT];
	_Atomic uint64_t bounced[METRICS_DEST_COUNT];
	_Atomic uint64_t latency[METRICS_DEST_COUNT][N_BOUNDS + 1];
	_Atomic uint64_t latency_sum_ms[METRICS_DEST_COUNT];
	_Atomic int64_t open[ROLE_COUNT];
	_Atomic uint64_t tls[METRICS_DIR_COUNT][N_TLS];
	_Atomic uint64_t auth_failed[METRICS_PROTO_COUNT];
	_Atomic uint64_t verdicts[N_VERDICTS];
	_Atomic uint64_t route_changes[2];
	_Atomic int route_relay;   /* 1 while mail that would go direct goes through the relay */
	_Atomic uint64_t tls_verdicts[METRICS_TLSPOL_COUNT][2]; /* [policy][verified] */
	_Atomic uint64_t sts_fetches[METRICS_STS_COUNT];
	_Atomic int64_t started_ms;
	/* event loop only */
	gauge_owner gauges[METRICS_GAUGE_COUNT][GAUGE_FNS_MAX];
} m;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The index of name in names[0..n), the last ("other") when absent. */
static size_t lookup(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; name != NULL && i + 1 < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return n - 1;
}

static bool role_ok(listener_role r)
{
	return (int)r >= 0 && r < ROLE_COUNT;
}

void metrics_received(listener_role role)
{
	if (role_ok(role))
		ADD(m.received[role]);
}

void metrics_delivered(metrics_dest d, time_t accepted)
{
	assert(d < METRICS_DEST_COUNT);
	ADD(m.delivered[d]);
	int64_t ms = now_ms() - (int64_t)accepted * 1000;
	if (ms < 0)
		ms = 0; /* the clock went back */
	size_t b = 0;
	while (b < N_BOUNDS && (double)ms / 1000.0 > latency_bounds[b])
		b++;
	ADD(m.latency[d][b]);
	atomic_fetch_add_explicit(&m.latency_sum_ms[d], (uint64_t)ms, memory_order_relaxed);
}

void metrics_deferred(metrics_dest d)
{
	assert(d < METRICS_DEST_COUNT);
	ADD(m.deferred[d]);
}

void metrics_bounced(metrics_dest d)
{
	assert(d < METRICS_DEST_COUNT);
	ADD(m.bounced[d]);
}

void metrics_connection_opened(listener_role role)
{
	if (role_ok(role))
		ADD(m.open[role]);
}

void metrics_connection_closed(listener_role role)
{
	if (role_ok(role))
		SUB(m.open[role]);
}

void metrics_tls_seen(metrics_dir dir, const char *version)
{
	assert(dir < METRICS_DIR_COUNT);
	ADD(m.tls[dir][lookup(tls_names, N_TLS, version)]);
}

void metrics_auth_failed(metrics_proto p)
{
	assert(p < METRICS_PROTO_COUNT);
	ADD(m.auth_failed[p]);
}

void metrics_policy_verdict(const char *decision)
{
	ADD(m.verdicts[lookup(verdict_names, N_VERDICTS, decision)]);
}

void metrics_gauge_register(metrics_gauge g, metrics_gauge_fn *fn, void *arg)
{
	assert(g < METRICS_GAUGE_COUNT && fn != NULL);
	for (size_t i = 0; i < GAUGE_FNS_MAX; i++) {
		if (m.gauges[g][i].fn == NULL) {
			m.gauges[g][i] = (gauge_owner){fn, arg};
			return;
		}
	}
	assert(!"more owners of one gauge than GAUGE_FNS_MAX");
}

void metrics_gauge_unregister(metrics_gauge g, metrics_gauge_fn *fn, void *arg)
{
	assert(g < METRICS_GAUGE_COUNT);
	for (size_t i = 0; i < GAUGE_FNS_MAX; i++)
		if (m.gauges[g][i].fn == fn && m.gauges[g][i].arg == arg)
			m.gauges[g][i] = (gauge_owner){NULL, NULL};
}

static double gauge_value(metrics_gauge g)
{
	double sum = 0;
	for (size_t i = 0; i < GAUGE_FNS_MAX; i++)
		if (m.gauges[g][i].fn != NULL)
			sum += m.gauges[g][i].fn(m.gauges[g][i].arg, g);
	return sum;
}

void metrics_start(void)
{
	atomic_store(&m.started_ms, now_ms());
}

void metrics_reset(void)
{
	memset(&m, 0, sizeof m);
}

/* ---- the scrape: one function per family group ---- */

/* The counter families with one label over a fixed set of values. */
static const struct counter_family {
	const char *name, *help, *label;
	const char *const *values;
	_Atomic uint64_t *counts;
	size_t n;
} counter_families[] = {
	{"yubin_recipients_delivered_total",
	 "Recipients whose copy of a message was delivered, locally or to a remote server.",
	 "destination", dest_names, m.delivered, METRICS_DEST_COUNT},
	{"yubin_recipients_deferred_total",
	 "Delivery attempts that failed temporarily for a recipient (tried again later).",
	 "destination", dest_names, m.deferred, METRICS_DEST_COUNT},
	{"yubin_recipients_bounced_total",
	 "Recipients whose delivery failed for good (returned to the sender or expired).",
	 "destination", dest_names, m.bounced, METRICS_DEST_COUNT},
	{"yubin_auth_failures_total",
	 "Failed log-ins (wrong credentials or refused by the throttle), by protocol.",
	 "protocol", proto_names, m.auth_failed, METRICS_PROTO_COUNT},
	{"yubin_policy_verdicts_total",
	 "Verdicts of the policy layer that a rule or check made, by decision.",
	 "decision", verdict_names, m.verdicts, N_VERDICTS},
	{"yubin_outbound_route_changes_total",
	 "Changes of the outbound route that the port-25 probe made (OP25B), by the route taken.",
	 "to", route_names, m.route_changes, 2},
	{"yubin_mtasts_fetches_total",
	 "MTA-STS policy fetches that succeeded or failed, and uses of a cached policy instead of a fetch.",
	 "result", sts_names, m.sts_fetches, METRICS_STS_COUNT},
};

static void render_counters(buf *out)
{
	for (size_t f = 0; f < sizeof counter_families / sizeof counter_families[0]; f++) {
		const struct counter_family *c = &counter_families[f];
		expo_family(out, c->name, c->help, EXPO_COUNTER);
		for (size_t i = 0; i < c->n; i++) {
			expo_label l = {c->label, c->values[i]};
			expo_sample_u64(out, c->name, &l, 1, GET(c->counts[i]));
		}
	}
}

static void render_messages(buf *out)
{
	expo_family(out, "yubin_messages_received_total",
	            "Messages accepted into the queue, by the role of the listener they came through.",
	            EXPO_COUNTER);
	for (size_t i = 0; i < N_RECEIVING; i++) {
		expo_label l = {"role", config_role_name(receiving_roles[i])};
		expo_sample_u64(out, "yubin_messages_received_total", &l, 1, GET(m.received[receiving_roles[i]]));
	}
	render_counters(out);
}

static void render_latency(buf *out)
{
	const char *name = "yubin_delivery_latency_seconds";
	expo_family(out, name,
	            "Seconds from a message's acceptance to the delivery of a recipient's copy "
	            "(arrival kept in whole seconds).",
	            EXPO_HISTOGRAM);
	for (size_t d = 0; d < METRICS_DEST_COUNT; d++) {
		uint64_t counts[N_BOUNDS + 1];
		for (size_t b = 0; b <= N_BOUNDS; b++)
			counts[b] = GET(m.latency[d][b]);
		expo_label l = {"destination", dest_names[d]};
		expo_histogram(out, name, &l, 1, latency_bounds, counts, N_BOUNDS,
		               (double)GET(m.latency_sum_ms[d]) / 1000.0);
	}
}

static void render_queue(buf *out)
{
	static const char *const states[] = {"active", "deferred", "held"};
	static const metrics_gauge ids[] = {METRICS_QUEUE_ACTIVE, METRICS_QUEUE_DEFERRED, METRICS_QUEUE_HELD};
	expo_family(out, "yubin_queue_messages",
	            "Messages in the queue: active (being delivered or due now), deferred (waiting "
	            "for a retry), held (until released).",
	            EXPO_GAUGE);
	for (size_t i = 0; i < 3; i++) {
		expo_label l = {"state", states[i]};
		expo_sample(out, "yubin_queue_messages", &l, 1, gauge_value(ids[i]));
	}
	expo_family(out, "yubin_webhook_backlog", "Webhook events waiting to be delivered.", EXPO_GAUGE);
	expo_sample(out, "yubin_webhook_backlog", NULL, 0, gauge_value(METRICS_WEBHOOK_BACKLOG));
}

static void render_sessions(buf *out)
{
	expo_family(out, "yubin_connections_open", "Client connections open now, by listener role.",
	            EXPO_GAUGE);
	for (int r = 0; r < ROLE_COUNT; r++) {
		expo_label l = {"role", config_role_name((listener_role)r)};
		expo_sample(out, "yubin_connections_open", &l, 1, (double)GET(m.open[r]));
	}
	expo_family(out, "yubin_tls_connections_total",
	            "TLS connections established, by direction (inbound: accepted by a listener; "
	            "outbound: remote delivery) and protocol version.",
	            EXPO_COUNTER);
	for (size_t d = 0; d < METRICS_DIR_COUNT; d++)
		for (size_t v = 0; v < N_TLS; v++) {
			expo_label l[] = {{"direction", dir_names[d]}, {"version", tls_names[v]}};
			expo_sample_u64(out, "yubin_tls_connections_total", l, 2, GET(m.tls[d][v]));
		}
}

static void render_process(buf *out)
{
	int64_t started = GET(m.started_ms);
	uint64_t v;
	expo_family(out, "process_start_time_seconds", "Start time of the server since the Unix epoch in seconds.",
	            EXPO_GAUGE);
	expo_sample(out, "process_start_time_seconds", NULL, 0, (double)(started / 1000));
	expo_family(out, "yubin_uptime_seconds", "Seconds since the server started.", EXPO_GAUGE);
	expo_sample(out, "yubin_uptime_seconds", NULL, 0, started ? (double)(now_ms() - started) / 1000.0 : 0);
	if (procfacts_resident_bytes(&v)) {
		expo_family(out, "process_resident_memory_bytes", "Resident memory size in bytes.", EXPO_GAUGE);
		expo_sample_u64(out, "process_resident_memory_bytes", NULL, 0, v);
	}
	if (procfacts_open_fds(&v)) {
		expo_family(out, "process_open_fds", "Number of open file descriptors.", EXPO_GAUGE);
		expo_sample_u64(out, "process_open_fds", NULL, 0, v);
	}
	if (procfacts_max_fds(&v)) {
		expo_family(out, "process_max_fds", "Maximum number of open file descriptors.", EXPO_GAUGE);
		expo_sample_u64(out, "process_max_fds", NULL, 0, v);
	}
}

void metrics_route_changed(bool to_relay)
{
	ADD(m.route_changes[to_relay ? 1 : 0]);
	atomic_store_explicit(&m.route_relay, to_relay ? 1 : 0, memory_order_relaxed);
}

static void render_route(buf *out)
{
	int relay = GET(m.route_relay);
	expo_family(out, "yubin_outbound_route",
	            "The route of mail that would go direct: 1 for the one in use (relay while the port-25 "
	            "probe finds port 25 blocked).",
	            EXPO_GAUGE);
	for (int i = 0; i < 2; i++) {
		expo_label l = {"route", route_names[i]};
		expo_sample(out, "yubin_outbound_route", &l, 1, (double)(i == relay));
	}
}

void metrics_tls_verdict(metrics_tls_policy p, bool verified)
{
	if (p < METRICS_TLSPOL_COUNT)
		ADD(m.tls_verdicts[p][verified ? 1 : 0]);
}

void metrics_mtasts(metrics_sts_fetch r)
{
	if (r < METRICS_STS_COUNT)
		ADD(m.sts_fetches[r]);
}

static void render_tls_policy(buf *out)
{
	static const char name[] = "yubin_outbound_tls_verdicts_total";
	expo_family(out, name,
	            "Outbound attempts that reached a server, by the TLS policy that applied (DANE, MTA-STS or "
	            "none) and whether the server was authenticated.",
	            EXPO_COUNTER);
	for (size_t p = 0; p < METRICS_TLSPOL_COUNT; p++)
		for (size_t v = 0; v < 2; v++) {
			expo_label l[2] = {{"policy", tlspol_names[p]}, {"result", tlsres_names[v]}};
			expo_sample_u64(out, name, l, 2, GET(m.tls_verdicts[p][v]));
		}
}

void metrics_render(buf *out)
{
	render_messages(out);
	render_latency(out);
	render_queue(out);
	render_route(out);
	render_tls_policy(out);
	render_sessions(out);
	render_process(out);
}
