/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every configuration format of the library shares (modprobe.d, depmod.d,
 * modules-load.d): finding the files in a list of directories, with the precedence
 * they all have, and splitting a file into numbered logical lines.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/array.h"
#include "util/strbuf.h"

struct kmodx_ctx;

/* ---- files ---- */

struct conf_file {
	const char *name; /* basename: the sort key */
	char *path;
};

/*
 * Add every regular (or followed-link) file of dir whose name ends in suffix and does
 * not start with '.', unless files already has that name: an earlier directory hides
 * the same name in later ones. A missing directory adds nothing; an unreadable one or a
 * subdirectory is logged. 0 or -ENOMEM.
 */
int conf_files_add_dir(struct kmodx_ctx *ctx, struct ptrarray *files, const char *dir,
		       const char *suffix);
/* Add one file by path (dir NULL) or by dir and name, unless the name is taken. */
int conf_files_add(struct ptrarray *files, const char *dir, const char *name);
/* Add the file at path under another name (static), unless that name is taken. */
int conf_files_add_as(struct ptrarray *files, const char *path, const char *name);
/* Sort by name, the order in which every format reads its files. */
void conf_files_sort(struct ptrarray *files);
void conf_files_release(struct ptrarray *files);

/* ---- lines ---- */

enum conf_reader_flags {
	CONF_CONTINUATION = 1 << 0, /* a trailing backslash joins the next line */
	CONF_STRIP = 1 << 1, /* leading and trailing blanks go before the comment test */
};

struct conf_reader {
	const char *p, *end;
	const char *comments; /* characters that start a comment line */
	unsigned flags;
	unsigned linenum; /* of the last physical line read */
	size_t max;
	bool cut; /* the line last returned was longer than max and has been cut */
	struct strbuf line;
};

/*
 * Read text (len bytes, not necessarily NUL-terminated) a logical line at a time.
 * A logical line longer than max bytes is cut there, and r->cut says so.
 */
void conf_reader_init(struct conf_reader *r, const char *text, size_t len, size_t max,
		      const char *comments, unsigned flags);
/*
 * The next line that is neither empty nor a comment: 1 with *line (owned by the reader,
 * writable, valid until the next call; an embedded NUL ends it) and *linenum (the last
 * physical line it took, as kmod numbers its messages); 0 at the end; -ENOMEM.
 */
int conf_reader_next(struct conf_reader *r, char **line, unsigned *linenum);
void conf_reader_release(struct conf_reader *r);

/* ---- words ---- */

/* The next blank-separated word of *p, NUL-terminated in place; NULL at the end. */
char *conf_next_word(char **p);
/*
 * A copy of s fit for a terminal, cut to size: a binary or hostile file must not send
 * control sequences through a message. Bytes below 0x20 and 0x7f become '?'.
 */
void conf_printable(char *buf, size_t size, const char *s);
