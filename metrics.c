/*
 * metrics.c - the Prometheus text of what wsproxy counts (wsproxy(1)
 * METRICS, see metrics.h).  Rendered only when /metrics is asked for;
 * nothing here runs per frame.
 */
#include <sys/mman.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "metrics.h"
#include "pair.h"

_Static_assert(MET_STATES == PAIR_STATES, "a gauge for each pair state");
_Static_assert(MET_INITIATORS == CLOSED_BY_PROXY, "closed_by initiators");
_Static_assert(sizeof(struct px_counters) % sizeof(uint64_t) == 0,
    "counters are summed as an array of uint64_t");

static struct px_counters one_process;
struct px_counters *px_stats = &one_process;
static struct px_counters *all;
static unsigned nall = 1;

int
metrics_init(unsigned n)
{
	void *m;

	if (all != NULL)
		return 0;
	m = mmap(NULL, n * sizeof(struct px_counters),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	all = m;
	nall = n;
	all[0] = *px_stats;	/* what start-up counted already */
	px_stats = &all[0];
	return 0;
}

void
metrics_use(unsigned i)
{
	if (all != NULL && i < nall)
		px_stats = &all[i];
}

const struct px_counters *
metrics_entry(unsigned i)
{
	return all != NULL && i < nall ? &all[i] : px_stats;
}

void
metrics_reset_gauges(unsigned i)
{
	struct px_counters *e;

	if (all == NULL || i >= nall)
		return;
	e = &all[i];
	memset(e->pairs, 0, sizeof(e->pairs));
	memset(e->member_open, 0, sizeof(e->member_open));
	e->w_buffers_in_use = e->w_buffers_max = e->w_buffer_bytes = 0;
	e->w_tls_in_use = e->w_tls_bytes = 0;
}

/* wsproxy_handshakes_total's status buckets: what wsproxy answers, and
 * the common answers of applications; anything else is "other". */
static const unsigned statuses[MET_STATUS] = {
	0, 101, 400, 401, 403, 404, 405, 408, 426, 429, 431, 500, 502, 503,
	504, 200, 301, 1000
};

unsigned
met_status(unsigned status)
{
	unsigned i;

	for (i = 0; i < MET_STATUS - 1; i++)
		if (statuses[i] == status)
			return i;
	return MET_STATUS - 1;		/* other */
}

unsigned
met_code(unsigned code)
{
	return code >= 1000 && code <= 1015 ? code - 1000 : MET_CODES - 1;
}

/* Upper bounds in microseconds; the last bucket is +Inf. */
static const uint64_t fast_us[MET_BUCKETS - 1] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000
};
static const uint64_t slow_us[MET_BUCKETS - 1] = {
	1000000, 5000000, 10000000, 30000000, 60000000, 300000000,
	600000000, 1800000000, 3600000000ULL, 7200000000ULL,
	21600000000ULL, 43200000000ULL, 86400000000ULL, 604800000000ULL
};

void
met_observe(struct met_hist *h, uint64_t us, int slow)
{
	const uint64_t *b = slow ? slow_us : fast_us;
	unsigned i;

	for (i = 0; i < MET_BUCKETS - 1 && us > b[i]; i++)
		;
	h->bucket[i]++;
	h->count++;
	h->sum_us += us;
}

/* ------------------------------------------------------------------ */
/* Counting at the chokepoints                                         */
/* ------------------------------------------------------------------ */

static uint64_t
clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The handshake ended with p->status (0: no answer), counted once. */
static void
met_handshake(struct pair *p)
{
	unsigned b = met_status(p->status);

	if (p->hs_counted)
		return;
	p->hs_counted = 1;
	if (p->routed)
		px_count.route[p->route].handshakes[b]++;
	else
		px_count.handshakes_unrouted[b]++;
}

void
met_state(struct pair *p, unsigned s)
{
	struct met_route *r = &px_count.route[p->route];
	uint64_t now;

	px_count.pairs[p->state]--;
	px_count.pairs[s]++;
	if (p->state == PAIR_FREE)
		px_count.accepted++;
	switch (s) {
	case PAIR_CONNECT:
		p->mark_us = clock_us();
		break;
	case PAIR_UPGRADE:
		now = clock_us();
		met_observe(&r->connect, now - p->mark_us, 0);
		p->mark_us = now;
		break;
	case PAIR_OPEN:
	case PAIR_RESPONSE:
		if (s == PAIR_OPEN)
			px_count.opened++;
		if (p->state == PAIR_UPGRADE)
			met_observe(&r->upgrade, clock_us() - p->mark_us, 0);
		met_handshake(p);
		break;
	case PAIR_REJECT:
		met_handshake(p);
		break;
	default:
		break;
	}
}

void
met_close(struct pair *p)
{
	struct met_route *r = &px_count.route[p->route];
	unsigned who;

	px_count.pairs[p->state]--;
	px_count.pairs[PAIR_FREE]++;
	px_count.closed++;
	if (p->status != 0 && p->status != 101)
		px_count.rejected++;
	met_handshake(p);
	if (p->status != 101)
		return;
	/* Who closed first; a pair that ended with nothing said is the
	 * proxy's doing. */
	who = p->closed_by == CLOSED_BY_NONE ? CLOSED_BY_PROXY : p->closed_by;
	r->closes[met_code(p->close_code)][who - 1]++;
	met_observe(&r->duration, (px_now() - p->started) * 1000, 1);
}

void
met_upstream_error(const struct pair *p, enum met_reason reason)
{
	px_count.route[p->route].errors[reason]++;
}

void
met_member_failed(const struct pair *p, enum met_reason reason)
{
	px_count.member_failures[pair_member(p) - px_cfg.upstream][reason]++;
}

/* ------------------------------------------------------------------ */
/* Rendering                                                           */
/* ------------------------------------------------------------------ */

/* What is rendered: the sum of every process's counters. */
static struct px_counters sum;
static const struct px_counters *cur = &sum;

static uint64_t
met_now_ms(void)
{
	return clock_us() / 1000;
}

static void
add_up(void)
{
	const uint64_t *from;
	uint64_t *to = (uint64_t *)(void *)&sum;
	size_t i, k, n = sizeof(sum) / sizeof(uint64_t);

	if (all == NULL) {
		sum = *px_stats;
		return;
	}
	memset(&sum, 0, sizeof(sum));
	for (k = 0; k < nall; k++) {
		from = (const uint64_t *)(const void *)&all[k];
		for (i = 0; i < n; i++)
			to[i] += from[i];
	}
}

struct text {
	char		*buf;
	size_t		 len;
	size_t		 cap;
	int		 overflow;
};

static void add(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->overflow)
		return;
	va_start(ap, fmt);
	/* va_start is right above; the analyzer loses it (false positive). */
	n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);	/* NOLINT(clang-analyzer-valist.Uninitialized) */
	va_end(ap);
	if (n < 0 || (size_t)n >= t->cap - t->len) {
		t->overflow = 1;
		return;
	}
	t->len += (size_t)n;
}

static void
family(struct text *t, const char *name, const char *type, const char *help)
{
	add(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A route's label value: [HOST]PATH[...] as wsproxy(1) ROUTING spells
 * it ("/" for the root). */
static const char *
route_label(int i)
{
	return px_cfg.route[i].label;
}

static void
status_label(char *out, size_t len, unsigned bucket)
{
	if (bucket == MET_STATUS - 1)
		snprintf(out, len, "other");
	else if (statuses[bucket] == 0)
		snprintf(out, len, "none");
	else
		snprintf(out, len, "%u", statuses[bucket]);
}

/*
 * n units of 10^-places as a decimal ("%.6f" of n / 1e6 for places 6),
 * by integer arithmetic: no floating point in the metrics, so the static
 * build's printf (fmt.c) needs none.  trim drops trailing zeros and a
 * bare point, as %g did for the bucket bounds (all below %g's switch to
 * an exponent).
 */
static const char *
decimal(char *out, size_t len, uint64_t n, unsigned places, int trim)
{
	uint64_t unit = 1;
	size_t end;
	unsigned i;

	for (i = 0; i < places; i++)
		unit *= 10;
	snprintf(out, len, "%llu.%0*llu", (unsigned long long)(n / unit),
	    (int)places, (unsigned long long)(n % unit));
	end = strlen(out);
	while (trim && out[end - 1] == '0')
		out[--end] = '\0';
	if (trim && out[end - 1] == '.')
		out[--end] = '\0';
	return out;
}

static void
histogram(struct text *t, const char *name, const char *route,
    const struct met_hist *h, int slow)
{
	const uint64_t *b = slow ? slow_us : fast_us;
	uint64_t cum = 0;
	unsigned i;
	char num[32];

	for (i = 0; i < MET_BUCKETS; i++) {
		cum += h->bucket[i];
		if (i < MET_BUCKETS - 1)
			add(t, "%s_bucket{route=\"%s\",le=\"%s\"} %llu\n", name,
			    route, decimal(num, sizeof(num), b[i], 6, 1),
			    (unsigned long long)cum);
		else
			add(t, "%s_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
			    name, route, (unsigned long long)cum);
	}
	add(t, "%s_sum{route=\"%s\"} %s\n%s_count{route=\"%s\"} %llu\n",
	    name, route, decimal(num, sizeof(num), h->sum_us, 6, 0), name,
	    route, (unsigned long long)h->count);
}

static void
render_pairs(struct text *t, const struct met_gauges *g)
{
	static const char *const states[MET_STATES] = {
		"free", "request", "connect", "upgrade", "response", "open",
		"closing", "reject", "linger", "proxy"
	};
	unsigned i;

	family(t, "wsproxy_pairs", "gauge", "Slab slots in each pair state.");
	for (i = 0; i < MET_STATES; i++)
		add(t, "wsproxy_pairs{state=\"%s\"} %llu\n", states[i],
		    (unsigned long long)cur->pairs[i]);
	family(t, "wsproxy_pairs_max", "gauge",
	    "Pairs that may be connected to upstreams at once (--max-conns).");
	add(t, "wsproxy_pairs_max %llu\n", (unsigned long long)g->pairs_max);
}

static void
render_handshakes(struct text *t)
{
	char s[16];
	unsigned b;
	int i;

	family(t, "wsproxy_handshakes_total", "counter",
	    "Client requests ended, by route and the status answered"
	    " (none: no answer).");
	for (b = 0; b < MET_STATUS; b++) {
		if (cur->handshakes_unrouted[b] == 0)
			continue;
		status_label(s, sizeof(s), b);
		add(t, "wsproxy_handshakes_total{route=\"none\",status=\"%s\"}"
		    " %llu\n", s,
		    (unsigned long long)cur->handshakes_unrouted[b]);
	}
	for (i = 0; i < px_cfg.nroute; i++)
		for (b = 0; b < MET_STATUS; b++) {
			if (cur->route[i].handshakes[b] == 0)
				continue;
			status_label(s, sizeof(s), b);
			add(t, "wsproxy_handshakes_total{route=\"%s\","
			    "status=\"%s\"} %llu\n", route_label(i), s,
			    (unsigned long long)cur->route[i].handshakes[b]);
		}
}

static void
render_upstreams(struct text *t)
{
	static const char *const reasons[MET_REASONS] = {
		"none", "unresolved", "refused", "timeout", "tls",
		"bad_response", "closed", "no_fd"
	};
	unsigned r;
	int i;

	family(t, "wsproxy_upstream_connect_seconds", "histogram",
	    "Time from the first connect to the upstream to a usable"
	    " connection (TLS handshake included).");
	for (i = 0; i < px_cfg.nroute; i++)
		histogram(t, "wsproxy_upstream_connect_seconds",
		    route_label(i), &cur->route[i].connect, 0);
	family(t, "wsproxy_upstream_upgrade_seconds", "histogram",
	    "Time from the upgrade request to the upstream's answer.");
	for (i = 0; i < px_cfg.nroute; i++)
		histogram(t, "wsproxy_upstream_upgrade_seconds",
		    route_label(i), &cur->route[i].upgrade, 0);
	family(t, "wsproxy_upstream_errors_total", "counter",
	    "Pairs an upstream failed before its 101, by reason.");
	for (i = 0; i < px_cfg.nroute; i++)
		for (r = 1; r < MET_REASONS; r++)
			if (cur->route[i].errors[r] != 0)
				add(t, "wsproxy_upstream_errors_total{route=\"%s\","
				    "reason=\"%s\"} %llu\n", route_label(i),
				    reasons[r], (unsigned long long)
				    cur->route[i].errors[r]);
	family(t, "wsproxy_upstream_failures_total", "counter",
	    "Tries at a pool member that failed before any answer, by"
	    " reason.");
	for (i = 0; i < px_cfg.nupstream; i++)
		for (r = 1; r < MET_REASONS; r++)
			if (cur->member_failures[i][r] != 0)
				add(t, "wsproxy_upstream_failures_total{route="
				    "\"%s\",upstream=\"%s\",reason=\"%s\"} %llu\n",
				    px_cfg.upstream[i].route->label,
				    px_cfg.upstream[i].uri, reasons[r],
				    (unsigned long long)
				    cur->member_failures[i][r]);
	family(t, "wsproxy_upstream_up", "gauge",
	    "1 while a pool member takes new pairs: not in a failure"
	    " back-off and not failing its health checks.");
	for (i = 0; i < px_cfg.nupstream; i++)
		add(t, "wsproxy_upstream_up{route=\"%s\",upstream=\"%s\"} %d\n",
		    px_cfg.upstream[i].route->label, px_cfg.upstream[i].uri,
		    !px_cfg.upstream[i].probe_down &&
		    px_cfg.upstream[i].naddr > 0 &&
		    px_cfg.upstream[i].down_until <= met_now_ms());
	family(t, "wsproxy_upstream_open_pairs", "gauge",
	    "Pairs each pool member holds, from its connect on.");
	for (i = 0; i < px_cfg.nupstream; i++)
		add(t, "wsproxy_upstream_open_pairs{route=\"%s\",upstream="
		    "\"%s\"} %llu\n", px_cfg.upstream[i].route->label,
		    px_cfg.upstream[i].uri,
		    (unsigned long long)cur->member_open[i]);
}

static void
render_closes(struct text *t)
{
	static const char *const who[MET_INITIATORS] = {
		"client", "upstream", "proxy"
	};
	unsigned c, w;
	int i;

	family(t, "wsproxy_closes_total", "counter",
	    "WebSocket pairs ended, by route, close code (1000-1015, or"
	    " other) and who sent the first close.");
	for (i = 0; i < px_cfg.nroute; i++)
		for (c = 0; c < MET_CODES; c++)
			for (w = 0; w < MET_INITIATORS; w++) {
				char code[8];

				if (cur->route[i].closes[c][w] == 0)
					continue;
				if (c == MET_CODES - 1)
					snprintf(code, sizeof(code), "other");
				else
					snprintf(code, sizeof(code), "%u",
					    1000 + c);
				add(t, "wsproxy_closes_total{route=\"%s\","
				    "code=\"%s\",initiator=\"%s\"} %llu\n",
				    route_label(i), code, who[w],
				    (unsigned long long)
				    cur->route[i].closes[c][w]);
			}
	family(t, "wsproxy_pair_duration_seconds", "histogram",
	    "How long WebSocket pairs lived, from accept to close.");
	for (i = 0; i < px_cfg.nroute; i++)
		histogram(t, "wsproxy_pair_duration_seconds", route_label(i),
		    &cur->route[i].duration, 1);
}

/* One counter per direction of the relay. */
static void
directions(struct text *t, const char *name, const char *help,
    const uint64_t v[2])
{
	family(t, name, "counter", help);
	add(t, "%s{direction=\"client_to_upstream\"} %llu\n"
	    "%s{direction=\"upstream_to_client\"} %llu\n", name,
	    (unsigned long long)v[0], name, (unsigned long long)v[1]);
}

static void
one(struct text *t, const char *name, const char *type, const char *help,
    uint64_t v)
{
	family(t, name, type, help);
	add(t, "%s %llu\n", name, (unsigned long long)v);
}

size_t
metrics_render_workers(char *out, size_t len, size_t cap, unsigned n,
    const uint64_t *up, const uint64_t *restarts)
{
	struct text t = { out, len, cap, 0 };
	unsigned i;

	family(&t, "wsproxy_worker_up", "gauge",
	    "1 while the worker process runs.");
	for (i = 0; i < n; i++)
		add(&t, "wsproxy_worker_up{worker=\"%u\"} %llu\n", i,
		    (unsigned long long)up[i]);
	family(&t, "wsproxy_worker_restarts_total", "counter",
	    "Times the supervisor forked the worker again.");
	for (i = 0; i < n; i++)
		add(&t, "wsproxy_worker_restarts_total{worker=\"%u\"} %llu\n",
		    i, (unsigned long long)restarts[i]);
	family(&t, "wsproxy_worker_pairs_open", "gauge",
	    "WebSocket pairs open in the worker.");
	for (i = 0; i < n; i++)
		add(&t, "wsproxy_worker_pairs_open{worker=\"%u\"} %llu\n", i,
		    (unsigned long long)metrics_entry(i + 1)->pairs[PAIR_OPEN]);
	return t.overflow ? 0 : t.len;
}

size_t
metrics_render(const struct met_gauges *g, char *out, size_t cap)
{
	struct text t = { out, 0, cap, 0 };
	char num[32];

	add_up();
	render_pairs(&t, g);
	render_handshakes(&t);
	render_upstreams(&t);
	render_closes(&t);
	directions(&t, "wsproxy_frames_total", "WebSocket frames relayed.",
	    cur->frames);
	directions(&t, "wsproxy_messages_total",
	    "WebSocket data messages relayed.", cur->messages);
	directions(&t, "wsproxy_bytes_total",
	    "Bytes of WebSocket frames read.", cur->bytes);
	one(&t, "wsproxy_pings_sent_total", "counter",
	    "Pings wsproxy sent to silent legs (--ping-interval).",
	    cur->pings_sent);
	one(&t, "wsproxy_ping_timeouts_total", "counter",
	    "Legs that did not answer a ping within --ping-timeout.",
	    cur->ping_timeouts);
	one(&t, "wsproxy_buffers_in_use", "gauge",
	    "I/O buffers holding bytes in flight.", g->buffers_in_use);
	one(&t, "wsproxy_buffers_max", "gauge",
	    "I/O buffers there are.", g->buffers_max);
	one(&t, "wsproxy_tls_sessions_in_use", "gauge",
	    "TLS ends open (client and upstream sides).", g->tls_in_use);
	family(&t, "wsproxy_pool_bytes", "gauge",
	    "Address space the pools hold.");
	add(&t, "wsproxy_pool_bytes{pool=\"buffers\"} %llu\n"
	    "wsproxy_pool_bytes{pool=\"tls\"} %llu\n",
	    (unsigned long long)g->buffer_bytes,
	    (unsigned long long)g->tls_bytes);
	if (g->address_space > 0)
		one(&t, "process_virtual_memory_bytes", "gauge",
		    "Address space in bytes.", g->address_space);
	one(&t, "wsproxy_accept_paused_total", "counter",
	    "Times accepting paused for want of descriptors or memory.",
	    cur->accept_paused);
	one(&t, "wsproxy_ready", "gauge",
	    "1 while accepting clients, 0 while starting or draining.",
	    (uint64_t)(g->ready != 0));
	family(&t, "wsproxy_start_time_seconds", "gauge",
	    "When the process started, in seconds since the epoch.");
	add(&t, "wsproxy_start_time_seconds %s\n",
	    decimal(num, sizeof(num), g->start_ms, 3, 0));
	family(&t, "wsproxy_build_info", "gauge",
	    "The version, and whether TLS is built in.");
	add(&t, "wsproxy_build_info{version=\"%s\",tls=\"%s\"} 1\n",
	    WSPROXY_VERSION, g->tls ? "yes" : "no");
	return t.overflow ? 0 : t.len;
}
