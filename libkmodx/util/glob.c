// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The fast path handles what module aliases and modprobe.d names use: literal bytes,
 * '*', '?' and well-formed bracket expressions of plain ASCII characters and ranges
 * ("[07]", "[!0-9A-F]", "[a-]"). Anything else (backslash escapes, unterminated or
 * nested brackets, character classes, dangling or chained ranges, bytes >= 0x80 in a
 * bracket) is passed to fnmatch(), whose corner cases are then answered by glibc itself.
 */
#include <fnmatch.h>
#include <string.h>

#include "glob.h"

enum bracket { BR_NOMATCH, BR_MATCH, BR_COMPLEX };

static bool plain(unsigned char c)
{
	return c != '\0' && c != '[' && c != '\\' && c < 0x80;
}

/*
 * Match byte c against the bracket expression after the '[' at p. On BR_MATCH or
 * BR_NOMATCH, *end points past the closing ']'.
 */
static enum bracket match_bracket(const char *p, unsigned char c, const char **end)
{
	bool negate = false, matched = false;

	if (*p == '!' || *p == '^') {
		negate = true;
		p++;
	}
	for (bool first = true;; first = false) {
		unsigned char lo = (unsigned char)*p, hi;

		if (lo == ']' && !first)
			break;
		if (!plain(lo))
			return BR_COMPLEX;
		p++;
		hi = lo;
		if (*p == '-' && p[1] != ']') {
			hi = (unsigned char)p[1];
			if (!plain(hi) || hi == ']' || p[2] == '-')
				return BR_COMPLEX;
			p += 2;
		}
		if (lo <= c && c <= hi)
			matched = true;
	}
	*end = p + 1;
	return matched != negate ? BR_MATCH : BR_NOMATCH;
}

/*
 * After a '*', the first place in s where the rest of the pattern (p) may start: when it
 * starts with literal bytes, their next occurrence (NULL if none), found with strchr() or
 * memmem() rather than byte by byte. A cpu: modalias of 600 bytes against the aliases
 * "cpu:type:x86,ven*fam*mod*:feature:*0081*" spends most of its time here.
 */
static const char *next_start(const char *p, const char *s)
{
	size_t n = strcspn(p, "*?[\\");

	if (n == 0)
		return s;
	if (n == 1)
		return strchr(s, *p);
	return memmem(s, strlen(s), p, n);
}

bool glob_match(const char *pattern, const char *s)
{
	const char *p = pattern, *subject = s, *star_p = NULL, *star_s = NULL;

	for (;;) {
		unsigned char c = (unsigned char)*s;
		const char *next = p + 1;
		bool ok;

		if (*p == '*') {
			while (*p == '*')
				p++;
			if (*p == '\0')
				return true;
			star_p = p;
			star_s = s = next_start(p, s);
			if (s == NULL)
				return false;
			continue;
		}
		if (c == '\0' && *p == '\0')
			return true;
		switch (*p) {
		case '\0':
			ok = false;
			break;
		case '\\':
			return fnmatch(pattern, subject, 0) == 0;
		case '?':
			ok = c != '\0';
			break;
		case '[':
			if (c == '\0') {
				ok = false;
				break;
			}
			switch (match_bracket(p + 1, c, &next)) {
			case BR_COMPLEX:
				return fnmatch(pattern, subject, 0) == 0;
			case BR_MATCH:
				ok = true;
				break;
			default:
				ok = false;
				break;
			}
			break;
		default:
			ok = (unsigned char)*p == c;
			break;
		}
		if (ok) {
			p = next;
			s++;
			continue;
		}
		/* a mismatch: let the last '*' take one more byte */
		if (star_p == NULL || *star_s == '\0')
			return false;
		star_s = next_start(star_p, star_s + 1);
		if (star_s == NULL)
			return false;
		p = star_p;
		s = star_s;
	}
}

int glob_bracket(const char *p, unsigned char c, const char **end)
{
	switch (match_bracket(p, c, end)) {
	case BR_MATCH:
		return 1;
	case BR_NOMATCH:
		return 0;
	default:
		return -1;
	}
}

bool glob_is_pattern(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}
