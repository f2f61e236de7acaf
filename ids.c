/*
 * ids.c - setgroups, setgid and setuid for the static build (--user).
 *
 * musl changes the ids of every thread at once: __synccall stops each
 * thread with a signal and semaphores, 2.8 KiB of the static binary.
 * wsproxy has one thread, and for one thread that is exactly the
 * system call, made here directly.  Built with WSPROXY_IDS_LIBC (make
 * static: Linux and musl), these are linked instead of musl's.
 */
#include <sys/syscall.h>

#include <grp.h>
#include <unistd.h>

/* 32-bit x86 and ARM: the calls without "32" take 16-bit ids. */
#ifdef SYS_setuid32
#define IDS_SETGROUPS	SYS_setgroups32
#define IDS_SETGID	SYS_setgid32
#define IDS_SETUID	SYS_setuid32
#else
#define IDS_SETGROUPS	SYS_setgroups
#define IDS_SETGID	SYS_setgid
#define IDS_SETUID	SYS_setuid
#endif

#ifdef WSPROXY_IDS_LIBC
int
setgroups(size_t n, const gid_t *list)
{
	return (int)syscall(IDS_SETGROUPS, n, list);
}

int
setgid(gid_t gid)
{
	return (int)syscall(IDS_SETGID, gid);
}

int
setuid(uid_t uid)
{
	return (int)syscall(IDS_SETUID, uid);
}
#endif
