/*
 * num.h - the static build's strtol family (num.c).
 */
#ifndef WSPROXY_NUM_H
#define WSPROXY_NUM_H

/* As strtoull(3), strtoul(3), strtoll(3) and strtol(3). */
unsigned long long num_strtoull(const char *s, char **end, int base);
unsigned long num_strtoul(const char *s, char **end, int base);
long long num_strtoll(const char *s, char **end, int base);
long num_strtol(const char *s, char **end, int base);

#endif /* WSPROXY_NUM_H */
