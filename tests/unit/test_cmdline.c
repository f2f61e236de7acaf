/*
 * test_cmdline.c - cmdline.c against what getopt_long() (opterr 0, no
 * permutation: a leading '+') and getpwnam() give on the same input:
 * every command line of a table is scanned by both and must give the
 * same options, values and stopping point; a passwd file written here
 * is read for names present, absent and malformed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../cmdline.h"

static const struct option longs[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "check", no_argument, NULL, 1000 },
	{ "route", required_argument, NULL, 'r' },
	{ "verbose", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 },
};
static const char shorts[] = "l:r:vq";

static int passed, failed;

static void
check(int ok, const char *what, const char *line)
{
	if (ok)
		passed++;
	else {
		failed++;
		printf("FAIL %s: %s\n", what, line);
	}
}

/* Scan one command line with both; compare step by step. */
static void
both(const char *line)
{
	char buf[2][256], *argv[2][16], *tok;
	int argc = 0, k, c1, c2, i1, i2, missing = 0;
	struct cmd_scan s = { 1, NULL, NULL };
	char gshorts[32];

	for (k = 0; k < 2; k++) {
		snprintf(buf[k], sizeof(buf[k]), "wsproxy %s", line);
		argc = 0;
		for (tok = strtok(buf[k], " "); tok != NULL && argc < 15;
		    tok = strtok(NULL, " "))
			argv[k][argc++] = tok;
		argv[k][argc] = NULL;
	}
	snprintf(gshorts, sizeof(gshorts), "+:%s", shorts);
	optind = 0;		/* glibc: start over */
	opterr = 0;
	for (;;) {
		i1 = i2 = -1;
		c1 = cmd_next(&s, argc, argv[0], shorts, longs, &i1);
		optarg = NULL;	/* musl leaves the last one there */
		c2 = getopt_long(argc, argv[1], gshorts, longs, &i2);
		if (c2 == ':')
			missing = 1;
		if (c2 == ':' || c2 == '?')
			i2 = -1;	/* glibc leaves it unset or stale */
		if (c1 == '?' || c1 == ':')
			i1 = -1;
		check(c1 == c2, "option", line);
		check(i1 == i2, "long index", line);
		check((s.arg == NULL) == (optarg == NULL) &&
		    (s.arg == NULL || strcmp(s.arg, optarg) == 0), "value",
		    line);
		if (c1 != c2 || c1 == -1)
			break;
	}
	/* A missing argument: POSIX adds 2 to optind and reports it as
	 * past argc (musl); glibc stops at argc, as cmd_next does. */
	if (missing && optind == argc + 1)
		optind = argc;
	check(s.ind == optind, "where the options end", line);
}

static void
test_user(void)
{
	char path[] = "/tmp/test_cmdline.XXXXXX";
	unsigned uid = 0, gid = 0;
	int fd = mkstemp(path);
	static const char passwd[] =
	    "root:x:0:0:root:/root:/bin/sh\n"
	    "# a comment\n"
	    "short:x:5\n"
	    "bad:x:1x:2:::\n"
	    "big:x:4294967295:1:::\n"
	    "www-data:x:33:34:www-data:/var/www:/usr/sbin/nologin\n"
	    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin";

	if (fd < 0 || write(fd, passwd, sizeof(passwd) - 1) < 0) {
		failed++;
		return;
	}
	close(fd);
	check(cmd_user(path, "www-data", &uid, &gid) == 0 && uid == 33 &&
	    gid == 34, "user found", "www-data");
	check(cmd_user(path, "nobody", &uid, &gid) == 0 && uid == 65534,
	    "last line without newline", "nobody");
	check(cmd_user(path, "root", &uid, &gid) == 0 && uid == 0 &&
	    gid == 0, "uid 0", "root");
	check(cmd_user(path, "www", &uid, &gid) < 0, "no prefix match", "www");
	check(cmd_user(path, "short", &uid, &gid) < 0, "short line", "short");
	check(cmd_user(path, "bad", &uid, &gid) < 0, "bad uid", "bad");
	check(cmd_user(path, "big", &uid, &gid) < 0, "uid -1", "big");
	check(cmd_user("/nonexistent/passwd", "root", &uid, &gid) < 0,
	    "no file", "-");
	unlink(path);
}

int
main(void)
{
	static const char *const lines[] = {
		"", "-v", "-vq", "-qv -v", "-l :80", "-l:80", "-vl :80",
		"-vl", "-l", "--listen :80", "--listen=:80", "--listen",
		"--listen=", "--check", "--check=1", "--nope",
		"-x", "-v -x -q", "-- -v", "-v -- -q", "-v arg -q", "arg",
		"- -v", "--route /a=ws://b --check -v", "-r /a=ws://b=c",
		"-:", "-v:",
	};
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		both(lines[i]);
	{
		/* Unlike glibc, no abbreviations: "--chec" is unknown. */
		char a0[] = "wsproxy", a1[] = "--chec";
		char *av[] = { a0, a1, NULL };
		struct cmd_scan s = { 1, NULL, NULL };
		int ix;

		check(cmd_next(&s, 2, av, shorts, longs, &ix) == '?',
		    "no prefix match", "--chec");
	}
	test_user();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
