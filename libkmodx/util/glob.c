// SPDX-License-Identifier: LGPL-2.1-or-later
#include <fnmatch.h>
#include <string.h>

#include "glob.h"

enum bracket_result { BR_NOMATCH, BR_MATCH, BR_LITERAL, BR_COMPLEX };

/*
 * Match one subject byte c against the bracket expression starting after '[' at p.
 * On BR_MATCH/BR_NOMATCH *end points just past the closing ']'. BR_LITERAL means the
 * bracket is unterminated and '[' is an ordinary character; BR_COMPLEX asks the caller
 * to defer to fnmatch().
 */
static enum bracket_result match_bracket(const char *p, unsigned char c, const char **end)
{
	bool negate = false, matched = false, first = true;

	if (*p == '!' || *p == '^') {
		negate = true;
		p++;
	}
	for (;;) {
		unsigned char lo, hi;

		if (*p == '\0')
			return BR_LITERAL;
		if (*p == ']' && !first)
			break;
		first = false;
		if (*p == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.'))
			return BR_COMPLEX;
		if (*p == '\\') {
			p++;
			if (*p == '\0')
				return BR_LITERAL;
		}
		lo = (unsigned char)*p++;
		if (lo >= 0x80)
			return BR_COMPLEX;
		hi = lo;
		if (*p == '-' && p[1] != ']' && p[1] != '\0') {
			p++;
			if (*p == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.'))
				return BR_COMPLEX;
			if (*p == '\\') {
				p++;
				if (*p == '\0')
					return BR_LITERAL;
			}
			hi = (unsigned char)*p++;
			if (hi >= 0x80)
				return BR_COMPLEX;
		}
		if (lo <= c && c <= hi)
			matched = true;
	}
	*end = p + 1;
	return matched != negate ? BR_MATCH : BR_NOMATCH;
}

enum step { STEP_MATCH, STEP_FAIL, STEP_COMPLEX };

/* Match one non-'*' pattern element at *pp against the byte c; advance *pp past it. */
static enum step match_one(const char **pp, unsigned char c)
{
	const char *p = *pp, *end;

	switch (*p) {
	case '?':
		*pp = p + 1;
		return STEP_MATCH;
	case '[':
		switch (match_bracket(p + 1, c, &end)) {
		case BR_MATCH:
			*pp = end;
			return STEP_MATCH;
		case BR_NOMATCH:
			return STEP_FAIL;
		case BR_COMPLEX:
			return STEP_COMPLEX;
		case BR_LITERAL:
			break;
		}
		*pp = p + 1;
		return c == '[' ? STEP_MATCH : STEP_FAIL;
	case '\\':
		if (p[1] == '\0')
			return STEP_FAIL; /* a trailing backslash never matches */
		*pp = p + 2;
		return (unsigned char)p[1] == c ? STEP_MATCH : STEP_FAIL;
	default:
		*pp = p + 1;
		return (unsigned char)*p == c ? STEP_MATCH : STEP_FAIL;
	}
}

bool glob_match(const char *pattern, const char *s)
{
	const char *p = pattern, *subject = s, *star_p = NULL, *star_s = NULL;

	for (;;) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (*p == '\0')
				return true;
			star_p = p;
			star_s = s;
			continue;
		}
		if (*s == '\0') {
			if (*p == '\0')
				return true;
		} else if (*p != '\0') {
			switch (match_one(&p, (unsigned char)*s)) {
			case STEP_MATCH:
				s++;
				continue;
			case STEP_COMPLEX:
				return fnmatch(pattern, subject, 0) == 0;
			case STEP_FAIL:
				break;
			}
		}
		/* mismatch: let the last '*' absorb one more byte */
		if (star_p == NULL || *star_s == '\0')
			return false;
		p = star_p;
		s = ++star_s;
	}
}

bool glob_is_pattern(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}
