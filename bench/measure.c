/*
 * measure.c - what loadgen measures besides its own traffic: a latency
 * histogram (ns, about 0.1 % resolution), and the CPU time and RSS of other
 * processes from /proc (the proxy's, the echo's, the machine's, the kernel
 * threads').  See measure.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure.h"

#define HBUCKETS (2048 + 40 * 1024)
static uint64_t hist[HBUCKETS], hist_n;
uint64_t hist_max;

void hist_add(uint64_t v)
{
	unsigned idx;

	if (v < 2048) {
		idx = (unsigned)v;
	} else {
		int msb = 63 - __builtin_clzll(v);
		int shift = msb - 10;
		idx = 2048 + (unsigned)(shift - 1) * 1024 + (unsigned)((v >> shift) - 1024);
		if (idx >= HBUCKETS)
			idx = HBUCKETS - 1;
	}
	hist[idx]++;
	hist_n++;
	if (v > hist_max)
		hist_max = v;
}

static uint64_t hist_val(unsigned idx)
{
	unsigned shift;

	if (idx < 2048)
		return idx;
	shift = (idx - 2048) / 1024 + 1;
	return (((uint64_t)((idx - 2048) % 1024) + 1024) << shift) + ((1ull << shift) >> 1);
}

double hist_pct(double q)
{
	uint64_t want, acc = 0;
	unsigned i;

	if (!hist_n)
		return 0;
	want = (uint64_t)(q * (double)hist_n);
	if (want >= hist_n)
		want = hist_n - 1;
	for (i = 0; i < HBUCKETS; i++) {
		acc += hist[i];
		if (acc > want) {
			uint64_t v = hist_val(i);
			return (double)(v > hist_max ? hist_max : v);
		}
	}
	return (double)hist_max;
}

/* ---------------------------------------------------------------- /proc */

uint64_t read_cpu_ticks_of(const int *list, int n_list)
{
	uint64_t total = 0;
	int i;

	for (i = 0; i < n_list; i++) {
		char fn[64], buf[1024], *p;
		unsigned long ut = 0, st = 0;
		FILE *f;
		size_t n;

		snprintf(fn, sizeof fn, "/proc/%d/stat", list[i]);
		if (!(f = fopen(fn, "r")))
			continue;
		n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = 0;
		p = strrchr(buf, ')');
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				&ut, &st) == 2)
			total += ut + st;
	}
	return total;
}


/* busy ticks of the whole machine (all CPUs), steal included */
uint64_t read_machine_busy(void)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return 0;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7]) != 8)
		v[0] = v[1] = v[2] = v[5] = v[6] = v[7] = 0;
	fclose(f);
	/* user nice system, steal; irq and softirq are left out (network
	 * processing of the bench's own packets lands there) */
	return v[0] + v[1] + v[2] + v[7];
}

/* ticks used by kernel threads (ksoftirqd, kworkers, RCU): also not noise */
uint64_t read_kthread_ticks(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	uint64_t total = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char fn[300], buf[1024], *p;
		unsigned long flags = 0, ut = 0, st = 0;
		FILE *f;
		size_t n;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(fn, sizeof fn, "/proc/%s/stat", e->d_name);
		if (!(f = fopen(fn, "r")))
			continue;
		n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = 0;
		p = strrchr(buf, ')');
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %lu %*u %*u %*u %*u %lu %lu",
				&flags, &ut, &st) == 3 && (flags & 0x00200000))	/* PF_KTHREAD */
			total += ut + st;
	}
	closedir(d);
	return total;
}

long read_rss_kib_of(const int *list, int n_list)
{
	long total = 0;
	int i;

	for (i = 0; i < n_list; i++) {
		char fn[64], line[256];
		FILE *f;

		snprintf(fn, sizeof fn, "/proc/%d/status", list[i]);
		if (!(f = fopen(fn, "r")))
			continue;
		while (fgets(line, sizeof line, f))
			if (!strncmp(line, "VmRSS:", 6)) {
				total += atol(line + 6);
				break;
			}
		fclose(f);
	}
	return total;
}
