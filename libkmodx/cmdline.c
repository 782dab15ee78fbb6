// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel command line. kmod's reading of it is the reference (kmod 30 and 34 agree):
 * a quote protects blanks inside a word, only the value of MODULE.PARAM=VALUE may be
 * quoted, and GRUB, which quotes a whole argument that holds a blank, is undone by
 * moving its quote behind the '='. Everything else with a quote in the wrong place names
 * no module: psmouse."invalid option", " notamodule" and "psmouse".foo=1 are ignored.
 */
#include <string.h>

#include "cmdline.h"

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r';
}

int cmdline_foreach_word(char *line, int (*fn)(void *data, char *word), void *data)
{
	char *p = line;

	for (;;) {
		bool quoted = false;
		char *word;
		int r;

		while (is_space(*p))
			p++;
		if (*p == '\0')
			return 0;
		for (word = p; *p != '\0' && (quoted || !is_space(*p)); p++) {
			if (*p == '"')
				quoted = !quoted;
		}
		if (quoted)
			return 0; /* the quote runs to the end of the line */
		if (*p != '\0')
			*p++ = '\0';
		r = fn(data, word);
		if (r != 0)
			return r;
	}
}

bool cmdline_module_option(char *word, struct cmdline_option *opt)
{
	bool grub = word[0] == '"';
	char *eq, *dot;
	size_t head;

	if (grub)
		word++;
	eq = strchr(word, '=');
	head = eq ? (size_t)(eq - word) : strlen(word);
	if (strcspn(word, "\" \t\n\v\f\r") < head)
		return false;
	dot = memchr(word, '.', head);
	if (dot == NULL || dot == word || dot + 1 == word + head ||
	    memchr(dot + 1, '.', head - (size_t)(dot + 1 - word)))
		return false;
	if (grub && eq) {
		/* "mod.param=a b" -> mod.param="a b": the head moves back over the quote */
		memmove(word - 1, word, head + 1);
		*eq = '"';
		word--;
		dot--;
	}
	*dot = '\0';
	opt->module = word;
	opt->param = dot + 1;
	opt->has_value = eq != NULL;
	return true;
}
