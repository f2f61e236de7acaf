/*
 * metrics.h - what wsproxy counts (wsproxy(1) METRICS), and its
 * Prometheus text (metrics.c).
 *
 * The counters are one flat struct of integers with no pointers, so
 * that they can live in a mapping shared by worker processes and be
 * summed.  They are written at few places only: pair_set_state() and
 * pair_close() for everything about a pair's life, the relay for the
 * frame, message and byte totals (one increment each), and accept for
 * its pauses.  Label values are bounded: routes by index, statuses and
 * close codes bucketed to fixed lists.
 */
#ifndef WSPROXY_METRICS_H
#define WSPROXY_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define MET_STATES 10		/* enum pair_state, PAIR_FREE to PAIR_PROXY */
#define MET_ROUTES 64		/* PX_MAX_ROUTES */
#define MET_UPSTREAMS 128	/* PX_MAX_UPSTREAMS */
#define MET_STATUS 18		/* status buckets, see metrics.c */
#define MET_CODES 17		/* close code buckets: 1000..1015, other */
#define MET_BUCKETS 15		/* histogram buckets, +Inf included */

/* Why an upstream failed a pair (wsproxy_upstream_errors_total). */
enum met_reason {
	MET_ERR_NONE,
	MET_ERR_UNRESOLVED,	/* the name has no address */
	MET_ERR_REFUSED,	/* every address refused or failed */
	MET_ERR_TIMEOUT,	/* connect, TLS or upgrade timeout */
	MET_ERR_TLS,		/* TLS handshake or verification */
	MET_ERR_BAD_RESPONSE,	/* malformed, bad 101, ambiguous framing */
	MET_ERR_CLOSED,		/* closed during the upgrade */
	MET_ERR_NO_FD,		/* wsproxy had no descriptor for it */
	MET_REASONS
};

/* Who sent the first close (enum closed_by without "none"). */
#define MET_INITIATORS 3

struct met_hist {
	uint64_t	 bucket[MET_BUCKETS];	/* cumulative when rendered */
	uint64_t	 count;
	uint64_t	 sum_us;
};

struct met_route {
	uint64_t	 handshakes[MET_STATUS];
	uint64_t	 errors[MET_REASONS];
	uint64_t	 closes[MET_CODES][MET_INITIATORS];
	struct met_hist	 connect;	/* TCP (and TLS) connect to upstream */
	struct met_hist	 upgrade;	/* upgrade request to its answer */
	struct met_hist	 duration;	/* an open pair's life */
};

struct px_counters {
	uint64_t	 pairs[MET_STATES];	/* gauge: slots in each state */
	uint64_t	 accepted;		/* clients taken into a slot */
	uint64_t	 opened;		/* pairs that reached PAIR_OPEN */
	uint64_t	 rejected;		/* ended with a non-101 answer */
	uint64_t	 closed;		/* pairs ended, all kinds */
	uint64_t	 frames[2];		/* [0] client to upstream, [1] back */
	uint64_t	 messages[2];
	uint64_t	 bytes[2];
	uint64_t	 pings_sent;
	uint64_t	 ping_timeouts;
	uint64_t	 accept_paused;
	uint64_t	 handshakes_unrouted[MET_STATUS];
	struct met_route route[MET_ROUTES];
	/* pool members, by index in px_cfg.upstream */
	uint64_t	 member_failures[MET_UPSTREAMS][MET_REASONS];
	uint64_t	 member_open[MET_UPSTREAMS];	/* gauge */
	/* a worker's gauges, for the supervisor's /metrics (workers.c) */
	uint64_t	 w_buffers_in_use;
	uint64_t	 w_buffers_max;
	uint64_t	 w_buffer_bytes;
	uint64_t	 w_tls_in_use;
	uint64_t	 w_tls_bytes;
};

/*
 * This process's counters: one entry of an array in a shared mapping
 * (metrics_init()), so that worker processes can each write their own
 * and /metrics can add them up.
 */
extern struct px_counters *px_stats;
#define px_count (*px_stats)

/* Start-up: the shared mapping, n entries (1 per worker process);
 * px_stats is entry 0.  0, or -1; nothing once it is mapped. */
int metrics_init(unsigned n);

/* Use entry i from now on (a worker process after its fork). */
void metrics_use(unsigned i);

/* Entry i of the mapping (px_stats if there is none). */
const struct px_counters *metrics_entry(unsigned i);

/* Entry i's gauges to 0 (its worker ended; the totals stay). */
void metrics_reset_gauges(unsigned i);

struct pair;

/* A pair moves to state s (pair_set_state()): gauges, the handshake's
 * status, the connect and upgrade times. */
void met_state(struct pair *p, unsigned s);

/* A pair ends (pair_close()): its handshake if it had no answer, its
 * close code and initiator, how long it lived. */
void met_close(struct pair *p);

/* An upstream failed the pair before its 101, for reason. */
void met_upstream_error(const struct pair *p, enum met_reason reason);

/* A try at p's pool member failed for reason (wsproxy(1) UPSTREAMS). */
void met_member_failed(const struct pair *p, enum met_reason reason);

/* The bucket of an HTTP status for wsproxy_handshakes_total. */
unsigned met_status(unsigned status);

/* The bucket of a close code for wsproxy_closes_total. */
unsigned met_code(unsigned code);

/* Count one observation of us microseconds (seconds buckets: fast for
 * connect and upgrade, slow for durations). */
void met_observe(struct met_hist *h, uint64_t us, int slow);

/* Gauges read when rendering: what the loop and the pools hold now. */
struct met_gauges {
	uint64_t	 pairs_max;
	uint64_t	 buffers_in_use;
	uint64_t	 buffers_max;
	uint64_t	 tls_in_use;
	uint64_t	 buffer_bytes;		/* address space of the pools */
	uint64_t	 tls_bytes;
	uint64_t	 address_space;		/* the process's; 0: unknown */
	uint64_t	 start_ms;		/* milliseconds since the epoch */
	int		 ready;			/* accepting */
	int		 tls;			/* TLS is built in */
};

/*
 * The Prometheus text exposition format 0.0.4 of px_count and g into
 * out: # HELP and # TYPE for every family.  Returns its length, or 0 if
 * it did not fit in cap.
 */
size_t metrics_render(const struct met_gauges *g, char *out, size_t cap);

/* A supervisor's per-worker series (wsproxy(1) WORKERS) appended to
 * out[len..cap): up and restarts[i] for worker i of n, its open pairs
 * from entry i + 1.  The new length, or 0 if it did not fit. */
size_t metrics_render_workers(char *out, size_t len, size_t cap, unsigned n,
    const uint64_t *up, const uint64_t *restarts);

#endif /* WSPROXY_METRICS_H */
