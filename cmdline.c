/*
 * cmdline.c - reading the command line and the user database without
 * libc's getopt_long() and getpwnam(), which with their name-service
 * and stdio machinery weigh more in the static binary than all of
 * wsproxy's routing (wsproxy(1) DESCRIPTION, --user).
 *
 * The scanner is getopt_long() with opterr 0 and without its GNU
 * extras: options are not permuted (the first argument that is not an
 * option ends them, and wsproxy takes none), and a long option is
 * matched by its whole name, never by a prefix.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"

int
cmd_next(struct cmd_scan *s, int argc, char **argv, const char *shorts,
    const struct option *longs, int *index)
{
	const char *spec;
	char *a, *eq;
	size_t n;
	int i;

	s->arg = NULL;
	*index = -1;
	if (s->sub == NULL) {
		if (s->ind >= argc || (a = argv[s->ind]) == NULL ||
		    a[0] != '-' || a[1] == '\0')
			return -1;
		if (strcmp(a, "--") == 0) {
			s->ind++;
			return -1;
		}
		if (a[1] == '-') {
			s->ind++;
			a += 2;
			eq = strchr(a, '=');
			n = eq != NULL ? (size_t)(eq - a) : strlen(a);
			for (i = 0; longs[i].name != NULL; i++)
				if (strlen(longs[i].name) == n &&
				    strncmp(longs[i].name, a, n) == 0)
					break;
			if (longs[i].name == NULL)
				return '?';
			*index = i;
			if (longs[i].has_arg == no_argument) {
				if (eq != NULL)
					return '?';
			} else if (eq != NULL)
				s->arg = eq + 1;
			else if (s->ind < argc)
				s->arg = argv[s->ind++];
			else
				return ':';
			return longs[i].val;
		}
		s->sub = argv[s->ind] + 1;
	}
	/* -x, -xVALUE, -x VALUE, -vq */
	i = (unsigned char)*s->sub++;
	spec = i != ':' ? strchr(shorts, i) : NULL;
	if (*s->sub == '\0') {
		s->sub = NULL;
		s->ind++;
	}
	if (spec == NULL)
		return '?';
	if (spec[1] != ':')
		return i;
	if (s->sub != NULL) {
		s->arg = s->sub;
		s->sub = NULL;
		s->ind++;
	} else if (s->ind < argc)
		s->arg = argv[s->ind++];
	else
		return ':';
	return i;
}

int
cmd_user(const char *path, const char *name, unsigned *uid, unsigned *gid)
{
	char line[1024], *f[4], *p, *end;
	unsigned long u, g;
	FILE *fp = fopen(path, "r");
	int k, c;

	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL) {
		if (strchr(line, '\n') == NULL)	/* too long: not a user line */
			while ((c = getc(fp)) != EOF && c != '\n')
				;
		/* name:password:uid:gid:... */
		for (p = line, k = 0; k < 4 && p != NULL; k++) {
			f[k] = p;
			if ((p = strchr(p, ':')) != NULL)
				*p++ = '\0';
		}
		if (k < 4 || p == NULL || strcmp(f[0], name) != 0)
			continue;
		u = strtoul(f[2], &end, 10);
		if (*end != '\0' || f[2][0] == '\0' || u > 0xfffffffeUL)
			continue;
		g = strtoul(f[3], &end, 10);
		if (*end != '\0' || f[3][0] == '\0' || g > 0xfffffffeUL)
			continue;
		fclose(fp);
		*uid = (unsigned)u;
		*gid = (unsigned)g;
		return 0;
	}
	if (fp != NULL)
		fclose(fp);
	return -1;
}
