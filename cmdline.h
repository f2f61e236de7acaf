/*
 * cmdline.h - the command line's scanner and the user database
 * (cmdline.c), small stand-ins for getopt_long() and getpwnam().
 */
#ifndef WSPROXY_CMDLINE_H
#define WSPROXY_CMDLINE_H

#include <getopt.h>		/* struct option: the table's type only */

/* Where the scan is: argv[ind], and inside a group of short options. */
struct cmd_scan {
	int		 ind;		/* 1 to start */
	char		*sub;		/* the rest of "-vq" being read */
	char		*arg;		/* the option's value, or NULL */
};

/*
 * The next option of argv: its short letter or longs[]' val (with
 * *index set for a long one, else -1), '?' for an unknown one or a
 * value given to a flag that takes none, ':' for a missing value, -1
 * at the end of the options (s->ind is then the first argument left).
 */
int cmd_next(struct cmd_scan *s, int argc, char **argv, const char *shorts,
    const struct option *longs, int *index);

/* name's uid and gid from the passwd file at path: 0, or -1. */
int cmd_user(const char *path, const char *name, unsigned *uid,
    unsigned *gid);

#endif /* WSPROXY_CMDLINE_H */
