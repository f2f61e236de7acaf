/*
 * target_invariants.h - what every path target_normalise() accepts must
 * hold, shared by tests/unit/test_target.c and tests/fuzz/fuzz_target.c.
 */
#ifndef TARGET_INVARIANTS_H
#define TARGET_INVARIANTS_H

#include <stddef.h>
#include <string.h>
#include <strings.h>

static inline int
hexdig_upper(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* NULL when out[0..n) (a normalised path) is clean, else what is wrong. */
static inline const char *
target_path_clean(const char *p, size_t n)
{
	size_t i, s, e, k;

	if (n == 0 || p[0] != '/')
		return "does not start with '/'";
	for (i = 0; i < n; i++) {
		if (p[i] == '\\')
			return "backslash";
		if (p[i] == '%') {
			if (i + 2 >= n)
				return "short escape";
			if (!hexdig_upper(p[i + 1]) || !hexdig_upper(p[i + 2]))
				return "escape not upper-case hex";
			if (strncasecmp(p + i, "%2F", 3) == 0 ||
			    strncasecmp(p + i, "%5C", 3) == 0)
				return "encoded slash";
			if (strchr("2345679", p[i + 1]) != NULL &&
			    strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
			    "opqrstuvwxyz0123456789-._~", (p[i + 1] - '0') *
			    16 + (p[i + 2] >= 'A' ? p[i + 2] - 'A' + 10 :
			    p[i + 2] - '0')) != NULL)
				return "unreserved byte left encoded";
			if (strncmp(p + i, "%25", 3) == 0 && i + 4 < n &&
			    strchr("0123456789ABCDEFabcdef", p[i + 3]) &&
			    strchr("0123456789ABCDEFabcdef", p[i + 4]) &&
			    (strncasecmp(p + i + 3, "2E", 2) == 0 ||
			    strncasecmp(p + i + 3, "2F", 2) == 0 ||
			    strncasecmp(p + i + 3, "5C", 2) == 0 ||
			    strncasecmp(p + i + 3, "25", 2) == 0 ||
			    p[i + 3] == '0' || p[i + 3] == '1'))
				return "double encoding left";
		}
	}
	/* segments: name before ';' not dots (and blanks) only, not empty */
	for (s = 1; s <= n; s = e + 1) {
		e = s;
		while (e < n && p[e] != '/')
			e++;
		k = s;
		while (k < e && p[k] != ';' &&
		    !(e - k >= 3 && strncmp(p + k, "%3B", 3) == 0))
			k++;
		if (k == s && (e < n || e > s))
			return "empty segment";
		{
			size_t j = k, dots = 0;

			while (j > s) {
				if (p[j - 1] == '.') {
					dots++;
					j--;
				} else if (j - s >= 3 &&
				    memcmp(p + j - 3, "%20", 3) == 0)
					j -= 3;
				else
					break;
			}
			if (j == s && dots)
				return "dot segment";
		}
	}
	return NULL;
}

#endif
