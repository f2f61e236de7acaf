/*
 * life.h - wsproxy's lifecycle (life.c): signals through the poller,
 * drain, reload, restart with the listeners handed over, readiness for
 * systemd, and dropping privileges (wsproxy(1) SIGNALS, CONTAINERS).
 */
#ifndef WSPROXY_LIFE_H
#define WSPROXY_LIFE_H

#include <stdint.h>

/* Poller data of the signal source and of a restart's readiness pipe
 * (with proxy.c's listener bit; listeners use small indices). */
#define LIFE_TAG_SIGNAL 0xfffe
#define LIFE_TAG_RESTART 0xfffd

/*
 * Start-up, once the listeners are watched: the signals (SIGTERM,
 * SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD) come through the poller,
 * a process that restarted this one hears it is ready, systemd hears
 * READY=1, and --user takes effect.
 */
void life_start(uint64_t signal_data);

/* In a worker after fork(): let go of a restart's readiness pipe. */
void life_forget(void);

/* The signal source is readable: act on every signal that arrived. */
void life_signals(void);

/* A restart's new process wrote to (or closed) its readiness pipe. */
void life_restart_ready(void);

/* While draining, after each turn of the loop: close pairs as the
 * spread says, cut at the deadline, and stop when all are gone. */
void life_tick(void);

/* Milliseconds until life_tick() has something to do, -1 if never. */
int life_next_ms(void);

/* A pair ends while draining (pair_close()): counted for the summary. */
void life_pair_closed(int was_open, int clean);

/* The code a pair that opens while draining is closed with, 0 if none. */
unsigned life_drain_code(void);

#endif /* WSPROXY_LIFE_H */
