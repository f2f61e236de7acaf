/*
 * mem.h - a small malloc for the static build (mem.c): what musl's
 * malloc, calloc, realloc and free are there.
 */
#ifndef WSPROXY_MEM_H
#define WSPROXY_MEM_H

#include <stddef.h>

/* As malloc(3), calloc(3), realloc(3) and free(3); NULL with ENOMEM.
 * One thread only. */
void *mem_malloc(size_t n);
void *mem_calloc(size_t m, size_t n);
void *mem_realloc(void *p, size_t n);
void mem_free(void *p);

#endif /* WSPROXY_MEM_H */
