/*
 * health.c - active health checks of pool members (wsproxy(1)
 * UPSTREAMS): for a route with health=tcp or health=ws:PATH, one probe
 * per member every health-interval, on the loop like everything else.
 *
 * A probe is a non-blocking connect (health=tcp), then for health=ws
 * an upgrade request for PATH whose answer must start "HTTP/1.1 101".
 * Two failed probes in a row take a member out (no new pairs; with
 * on-down=close its open pairs also get 1001); one good probe brings it
 * back.  A probe lasts at most its interval or --connect-timeout,
 * whichever is shorter.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ev.h"
#include "health.h"
#include "log.h"
#include "pair.h"
#include "sock.h"

#define HEALTH_FALL 2		/* failed probes in a row that take it out */

enum probe_state { PROBE_IDLE, PROBE_CONNECT, PROBE_ANSWER };

static uint64_t tag_base;
static uint64_t next_due = UINT64_MAX;	/* the earliest probe_at */

static uint64_t
probe_limit(const struct px_route *r)
{
	return r->health_interval < px_cfg.connect_timeout ?
	    r->health_interval : px_cfg.connect_timeout;
}

static void
probe_end(struct px_upstream *u, uint64_t now)
{
	if (u->probe_fd >= 0) {
		px_fd_close(u->probe_fd);
		u->probe_fd = -1;
	}
	u->probe_state = PROBE_IDLE;
	u->probe_at = now + u->route->health_interval;
	if (u->probe_at < next_due)
		next_due = u->probe_at;
}

static void
probe_ok(struct px_upstream *u, uint64_t now)
{
	u->probe_fails = 0;
	if (u->probe_down) {
		u->probe_down = 0;
		px_log(PX_LOG_WARN, "event=upstream_up route=%s upstream=%s",
		    u->route->label, u->uri);
	}
	probe_end(u, now);
}

static void
probe_failed(struct px_upstream *u, const char *why, uint64_t now)
{
	probe_end(u, now);
	if (u->probe_fails < 255)
		u->probe_fails++;
	if (u->probe_down || u->probe_fails < HEALTH_FALL)
		return;
	u->probe_down = 1;
	u->fail_why = "health check failed";
	px_log(PX_LOG_WARN, "event=upstream_down route=%s upstream=%s"
	    " error=\"%s\" open_pairs=%u", u->route->label, u->uri, why,
	    u->open);
	if (u->route->on_down_close)
		pair_close_member(u);
}

/* The upgrade request a health=ws probe sends. */
static int
probe_send(struct px_upstream *u)
{
	char req[1024];
	int n;
	ssize_t w;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: d3Nwcm94eS1oZWFsdGgxNg==\r\n"
	    "Sec-WebSocket-Version: 13\r\nUser-Agent: wsproxy-health\r\n\r\n",
	    u->route->health_path, u->host_header);
	if (n < 0 || (size_t)n >= sizeof(req))
		return -1;
	w = send(u->probe_fd, req, (size_t)n, MSG_NOSIGNAL);
	return w == n ? 0 : -1;
}

static void
probe_start(struct px_upstream *u, uint64_t now)
{
	const struct sockaddr *sa = (const struct sockaddr *)&u->addr[0];
	int fd;

	if (u->naddr == 0) {
		probe_failed(u, "upstream name not resolved", now);
		return;
	}
	if ((fd = sock_new(sa->sa_family)) < 0) {
		/* Our shortage, not the member's: try again later. */
		probe_end(u, now);
		return;
	}
	px_fd_opened();
	u->probe_fd = fd;
	u->probe_got = 0;
	if (connect(fd, sa, u->addr_len[0]) < 0 && errno != EINPROGRESS) {
		probe_failed(u, strerror(errno), now);
		return;
	}
	if (ev_add(fd, tag_base + (uint64_t)(u - px_cfg.upstream)) < 0) {
		probe_end(u, now);
		return;
	}
	u->probe_state = PROBE_CONNECT;
	u->probe_at = now + probe_limit(u->route);
	if (u->probe_at < next_due)
		next_due = u->probe_at;
}

void
health_event(unsigned i, unsigned flags, uint64_t now)
{
	static const char want[] = "HTTP/1.1 101";
	struct px_upstream *u;
	char buf[16];
	int err = 0;
	socklen_t el = sizeof(err);
	ssize_t n;

	if (i >= (unsigned)px_cfg.nupstream)
		return;
	u = &px_cfg.upstream[i];
	if (u->probe_fd < 0 || u->probe_state == PROBE_IDLE)
		return;
	if (u->probe_state == PROBE_CONNECT) {
		if (!(flags & (EV_WRITE | EV_HUP)))
			return;
		(void)getsockopt(u->probe_fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err != 0) {
			probe_failed(u, strerror(err), now);
			return;
		}
		if (u->route->health == HEALTH_TCP) {
			probe_ok(u, now);
			return;
		}
		if (probe_send(u) < 0) {
			probe_failed(u, "cannot send the probe", now);
			return;
		}
		u->probe_state = PROBE_ANSWER;
	}
	/* "HTTP/1.1 101" is all that is read of the answer. */
	while (u->probe_got < 12) {
		n = recv(u->probe_fd, buf, 12 - u->probe_got, 0);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0 || memcmp(buf, &want[u->probe_got], (size_t)n) != 0) {
			probe_failed(u, n <= 0 ? "closed before its answer" :
			    "answered without 101", now);
			return;
		}
		u->probe_got += (uint32_t)n;
	}
	probe_ok(u, now);
}

void
health_tick(uint64_t now)
{
	int i;

	if (now < next_due)
		return;
	for (i = 0; i < px_cfg.nupstream; i++) {
		struct px_upstream *u = &px_cfg.upstream[i];

		if (u->route->health == HEALTH_NONE || u->probe_at > now)
			continue;
		if (u->probe_state == PROBE_IDLE)
			probe_start(u, now);
		else
			probe_failed(u, "probe timeout", now);
	}
	next_due = UINT64_MAX;
	for (i = 0; i < px_cfg.nupstream; i++)
		if (px_cfg.upstream[i].route->health != HEALTH_NONE &&
		    px_cfg.upstream[i].probe_at < next_due)
			next_due = px_cfg.upstream[i].probe_at;
}

uint64_t
health_next(void)
{
	return next_due;
}

void
health_init(uint64_t data, uint64_t now)
{
	int i;

	tag_base = data;
	for (i = 0; i < px_cfg.nupstream; i++) {
		px_cfg.upstream[i].probe_fd = -1;
		px_cfg.upstream[i].probe_at = now;
		if (px_cfg.upstream[i].route->health != HEALTH_NONE)
			next_due = now;
	}
}
