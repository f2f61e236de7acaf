/*
 * pairlog.h - each pair's one log line (pairlog.c), wsproxy(1) LOGGING.
 */
#ifndef WSPROXY_PAIRLOG_H
#define WSPROXY_PAIRLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct pair;
struct http_head;
struct hs_request;

/* Start-up: a note for each of n slab slots. */
int pairlog_init(uint32_t n);

/* The id pairlog_request() kept for p, into rq (a retry's request). */
void pairlog_id(const struct pair *p, struct hs_request *rq);

/* The request of p was parsed: keep its Host, path and id for the log;
 * without a safe X-Request-Id from the client, rq->id is made here. */
void pairlog_request(struct pair *p, const struct http_head *h,
    struct hs_request *rq);

/* The upstream address p connects to (the last one tried). */
void pairlog_upstream(struct pair *p, const struct sockaddr *sa, size_t len);

/* The line of a pair that ends ('why' as pair_close() has it). */
void pairlog_end(struct pair *p, const char *why, uint64_t now_ms);

#endif /* WSPROXY_PAIRLOG_H */
