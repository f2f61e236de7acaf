/*
 * measure.h - loadgen's latency histogram and /proc readers (measure.c).
 */
#ifndef BENCH_MEASURE_H
#define BENCH_MEASURE_H

#include <stdint.h>

/* latencies in ns: add one, read a quantile (0..1) and the maximum */
void hist_add(uint64_t v);
double hist_pct(double q);
extern uint64_t hist_max;

/* utime+stime ticks of the listed processes (gone ones count 0) */
uint64_t read_cpu_ticks_of(const int *list, int n_list);
/* busy ticks of the whole machine (all CPUs), steal included */
uint64_t read_machine_busy(void);
/* ticks used by kernel threads */
uint64_t read_kthread_ticks(void);
/* the summed VmRSS of the listed processes, KiB */
long read_rss_kib_of(const int *list, int n_list);

#endif
