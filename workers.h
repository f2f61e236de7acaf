/*
 * workers.h - --workers: a supervisor process and its workers
 * (workers.c, wsproxy(1) WORKERS).
 */
#ifndef WSPROXY_WORKERS_H
#define WSPROXY_WORKERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct met_gauges;

/* --workers auto: the CPUs this process may run on (sched_getaffinity),
 * at most PX_MAX_WORKERS. */
unsigned workers_auto(void);

/* After the command line, with --workers above 1: this process becomes
 * the supervisor, with the counters mapped for every worker.  0, or -1. */
int workers_init(void);

/* Is this process the supervisor?  A worker? (Both 0 with --workers 1.)
 * A build with WSPROXY_NO_WORKERS (make static: the size budget,
 * wsproxy(1) WORKERS) has neither, and the compiler drops their code. */
#ifdef WSPROXY_NO_WORKERS
#define workers_supervising() 0
#define workers_worker() 0
#else
int workers_supervising(void);
int workers_worker(void);
#endif

/* The supervisor, once its loop is set up: fork every worker.  A worker
 * returns from no fork: it runs px_worker() to its end. */
void workers_start(void);

/* SIGCHLD in the supervisor: pid ended with status; 1 if it was a
 * worker (logged, and restarted later unless draining). */
int workers_exited(pid_t pid, int status);

/* Send sig to every worker alive; how many there are. */
unsigned workers_signal(int sig);

/* The pairs open in all workers (the supervisor's drain line). */
uint32_t workers_open(void);

/* Workers alive. */
unsigned workers_alive(void);

/* The supervisor, after each turn: restarts that are due. */
void workers_tick(uint64_t now);

/* Milliseconds until workers_tick() has something to do, -1 if never. */
int workers_next_ms(uint64_t now);

/* A worker, after each turn: its gauges into its counters, for the
 * supervisor's /metrics. */
void workers_publish(void);

/* The supervisor's /metrics: the gauges summed over the workers, and
 * the per-worker series appended to out[len..cap); the new length, or
 * 0 if it does not fit. */
void workers_gauges(struct met_gauges *g);
size_t workers_render(char *out, size_t len, size_t cap);

/* The supervisor: worker i's pid, 0 if it is not running. */
pid_t workers_pid(unsigned i);

/* A worker: has another worker more than than free slots (it may step
 * back from the listeners when low)? */
int workers_others_free(uint64_t than);

/* proxy.c: a forked worker's life; never returns. */
_Noreturn void px_worker(unsigned index);

#endif /* WSPROXY_WORKERS_H */
