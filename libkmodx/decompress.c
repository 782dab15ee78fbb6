// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * In-memory decompression of whole module images, through libraries loaded on first
 * use (dl.h). Every decoder accepts concatenated streams, as the kernel's own
 * decompressors do, and stops at MODULE_MAX_SIZE.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dl.h"
#include "file.h"
#include "util/macro.h"

#ifdef HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef HAVE_XZ
#include <lzma.h>
#endif
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif

/* A growing output buffer shared by the streaming decoders. */
struct outbuf {
	uint8_t *p;
	size_t len, cap;
};

static int outbuf_grow(struct outbuf *o, size_t hint)
{
	size_t cap = o->cap ? o->cap * 2 : MAX(hint, (size_t)64 * 1024);
	uint8_t *p;

	if (o->cap >= MODULE_MAX_SIZE)
		return -EFBIG;
	if (cap > MODULE_MAX_SIZE)
		cap = MODULE_MAX_SIZE;
	p = realloc(o->p, cap);
	if (p == NULL)
		return -ENOMEM;
	o->p = p;
	o->cap = cap;
	return 0;
}

#ifdef HAVE_ZLIB
static int (*p_inflateInit2_)(z_streamp, int, const char *, int);
static int (*p_inflate)(z_streamp, int);
static int (*p_inflateEnd)(z_streamp);
static int (*p_inflateReset)(z_streamp);
static const struct dl_sym zlib_syms[] = {
	DL_SYM(inflateInit2_),
	DL_SYM(inflate),
	DL_SYM(inflateEnd),
	DL_SYM(inflateReset),
};
static struct dl_lib zlib_lib = DL_LIB(ZLIB_SONAME, zlib_syms);
DL_NOTE(zlib_note, "zlib", "Support for gzip-compressed modules", "recommended",
	ZLIB_SONAME);

static int gunzip(const uint8_t *in, size_t inlen, struct outbuf *o, const char **why)
{
	z_stream zs = {0};
	int r = 0, zr;

	if (!dl_load(&zlib_lib, why))
		return -ELIBACC;
	if (p_inflateInit2_(&zs, 15 + 16, ZLIB_VERSION, (int)sizeof(zs)) != Z_OK)
		return -ENOMEM;
	zs.next_in = (Bytef *)in;
	for (;;) {
		/* zlib counts in uInt: feed huge inputs in pieces */
		if (zs.avail_in == 0) {
			size_t left = inlen - (size_t)(zs.next_in - in);

			zs.avail_in = (uInt)MIN(left, (size_t)UINT32_MAX);
		}
		if (o->len == o->cap && (r = outbuf_grow(o, inlen * 4)) < 0)
			break;
		zs.next_out = o->p + o->len;
		zs.avail_out = (uInt)MIN(o->cap - o->len, (size_t)UINT32_MAX);
		zr = p_inflate(&zs, Z_NO_FLUSH);
		o->len = (size_t)(zs.next_out - o->p);
		if (zr == Z_STREAM_END) {
			size_t left = inlen - (size_t)(zs.next_in - in);

			/* another gzip member follows, or trailing bytes we ignore */
			if (left < 2 || zs.next_in[0] != 0x1f || zs.next_in[1] != 0x8b)
				break;
			p_inflateReset(&zs);
			continue;
		}
		if (zr == Z_OK)
			continue;
		if (zr == Z_BUF_ERROR && o->len < o->cap) {
			*why = "truncated data";
			r = -ENOEXEC;
			break;
		}
		if (zr == Z_BUF_ERROR)
			continue;
		*why = zs.msg ? zs.msg : "corrupt data";
		r = zr == Z_MEM_ERROR ? -ENOMEM : -ENOEXEC;
		break;
	}
	p_inflateEnd(&zs);
	return r;
}
#endif

#ifdef HAVE_XZ
static lzma_ret (*p_lzma_stream_decoder)(lzma_stream *, uint64_t, uint32_t);
static lzma_ret (*p_lzma_code)(lzma_stream *, lzma_action);
static void (*p_lzma_end)(lzma_stream *);
static const struct dl_sym xz_syms[] = {
	DL_SYM(lzma_stream_decoder),
	DL_SYM(lzma_code),
	DL_SYM(lzma_end),
};
static struct dl_lib xz_lib = DL_LIB(XZ_SONAME, xz_syms);
DL_NOTE(xz_note, "xz", "Support for xz-compressed modules", "recommended", XZ_SONAME);

static const char *lzma_why(lzma_ret lr)
{
	switch (lr) {
	case LZMA_MEM_ERROR:
		return "out of memory";
	case LZMA_FORMAT_ERROR:
		return "not in xz format";
	case LZMA_OPTIONS_ERROR:
		return "unsupported xz options";
	case LZMA_DATA_ERROR:
		return "corrupt data";
	case LZMA_BUF_ERROR:
		return "truncated data";
	default:
		return "decoder error";
	}
}

static int unxz(const uint8_t *in, size_t inlen, struct outbuf *o, const char **why)
{
	lzma_stream ls = LZMA_STREAM_INIT;
	lzma_ret lr;
	int r = 0;

	if (!dl_load(&xz_lib, why))
		return -ELIBACC;
	if (p_lzma_stream_decoder(&ls, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
		return -ENOMEM;
	ls.next_in = in;
	ls.avail_in = inlen;
	for (;;) {
		if (o->len == o->cap && (r = outbuf_grow(o, inlen * 4)) < 0)
			break;
		ls.next_out = o->p + o->len;
		ls.avail_out = o->cap - o->len;
		lr = p_lzma_code(&ls, LZMA_FINISH);
		o->len = (size_t)(ls.next_out - o->p);
		if (lr == LZMA_STREAM_END)
			break;
		if (lr == LZMA_OK)
			continue;
		if (lr == LZMA_BUF_ERROR && ls.avail_out == 0)
			continue;
		*why = lzma_why(lr);
		r = lr == LZMA_MEM_ERROR ? -ENOMEM : -ENOEXEC;
		break;
	}
	p_lzma_end(&ls);
	return r;
}
#endif

#ifdef HAVE_ZSTD
static unsigned long long (*p_ZSTD_getFrameContentSize)(const void *, size_t);
static size_t (*p_ZSTD_findFrameCompressedSize)(const void *, size_t);
static size_t (*p_ZSTD_decompress)(void *, size_t, const void *, size_t);
static unsigned (*p_ZSTD_isError)(size_t);
static const char *(*p_ZSTD_getErrorName)(size_t);
static ZSTD_DCtx *(*p_ZSTD_createDCtx)(void);
static size_t (*p_ZSTD_freeDCtx)(ZSTD_DCtx *);
static size_t (*p_ZSTD_decompressDCtx)(ZSTD_DCtx *, void *, size_t, const void *, size_t);
static ZSTD_DStream *(*p_ZSTD_createDStream)(void);
static size_t (*p_ZSTD_freeDStream)(ZSTD_DStream *);
static size_t (*p_ZSTD_decompressStream)(ZSTD_DStream *, ZSTD_outBuffer *, ZSTD_inBuffer *);
static const struct dl_sym zstd_syms[] = {
	DL_SYM(ZSTD_getFrameContentSize),
	DL_SYM(ZSTD_findFrameCompressedSize),
	DL_SYM(ZSTD_decompress),
	DL_SYM(ZSTD_isError),
	DL_SYM(ZSTD_getErrorName),
	DL_SYM(ZSTD_createDCtx),
	DL_SYM(ZSTD_freeDCtx),
	DL_SYM(ZSTD_decompressDCtx),
	DL_SYM(ZSTD_createDStream),
	DL_SYM(ZSTD_freeDStream),
	DL_SYM(ZSTD_decompressStream),
};
static struct dl_lib zstd_lib = DL_LIB(ZSTD_SONAME, zstd_syms);
DL_NOTE(zstd_note, "zstd", "Support for zstd-compressed modules", "recommended",
	ZSTD_SONAME);

/* Frames without a content size (zstd --no-content-size, streamed output), or several
 * frames: decode as a stream into a growing buffer. */
static int unzstd_stream(const uint8_t *in, size_t inlen, struct outbuf *o,
			 const char **why)
{
	ZSTD_DStream *ds = p_ZSTD_createDStream();
	ZSTD_inBuffer ib = {.src = in, .size = inlen, .pos = 0};
	size_t zr = 1;
	int r = 0;

	if (ds == NULL)
		return -ENOMEM;
	while (ib.pos < ib.size) {
		if (o->len == o->cap && (r = outbuf_grow(o, inlen * 4)) < 0)
			break;
		ZSTD_outBuffer ob = {.dst = o->p, .size = o->cap, .pos = o->len};
		zr = p_ZSTD_decompressStream(ds, &ob, &ib);
		o->len = ob.pos;
		if (p_ZSTD_isError(zr)) {
			*why = p_ZSTD_getErrorName(zr);
			r = -ENOEXEC;
			break;
		}
		if (zr != 0 && ib.pos == ib.size && o->len < o->cap) {
			*why = "truncated data";
			r = -ENOEXEC;
			break;
		}
	}
	if (r == 0 && zr != 0) {
		/* input used up with output still pending: drain what is buffered */
		while (zr != 0) {
			if (o->len == o->cap && (r = outbuf_grow(o, inlen * 4)) < 0)
				break;
			ZSTD_outBuffer ob = {.dst = o->p, .size = o->cap, .pos = o->len};
			size_t before = o->len;

			zr = p_ZSTD_decompressStream(ds, &ob, &ib);
			o->len = ob.pos;
			if (p_ZSTD_isError(zr) || (zr != 0 && o->len == before)) {
				*why = p_ZSTD_isError(zr) ? p_ZSTD_getErrorName(zr)
							  : "truncated data";
				r = -ENOEXEC;
				break;
			}
		}
	}
	p_ZSTD_freeDStream(ds);
	return r;
}

/*
 * One decompression context per thread, kept between modules: creating one costs more
 * than decompressing a small module (depmod meets thousands). Freed at thread exit.
 */
static pthread_key_t zstd_key;
static pthread_once_t zstd_key_once = PTHREAD_ONCE_INIT;

static void zstd_ctx_free(void *p)
{
	p_ZSTD_freeDCtx(p);
}

static void zstd_key_init(void)
{
	pthread_key_create(&zstd_key, zstd_ctx_free);
}

static ZSTD_DCtx *zstd_ctx(void)
{
	ZSTD_DCtx *c;

	pthread_once(&zstd_key_once, zstd_key_init);
	c = pthread_getspecific(zstd_key);
	if (c == NULL) {
		c = p_ZSTD_createDCtx();
		if (c != NULL && pthread_setspecific(zstd_key, c) != 0) {
			p_ZSTD_freeDCtx(c);
			c = NULL;
		}
	}
	return c;
}

static int unzstd(const uint8_t *in, size_t inlen, struct outbuf *o, const char **why)
{
	ZSTD_DCtx *dctx;
	unsigned long long size;
	size_t zr;

	if (!dl_load(&zstd_lib, why))
		return -ELIBACC;
	size = p_ZSTD_getFrameContentSize(in, inlen);
	if (size == ZSTD_CONTENTSIZE_ERROR) {
		*why = "not a zstd frame";
		return -ENOEXEC;
	}
	if (size == ZSTD_CONTENTSIZE_UNKNOWN || p_ZSTD_findFrameCompressedSize(in, inlen) != inlen)
		return unzstd_stream(in, inlen, o, why);
	if (size > MODULE_MAX_SIZE)
		return -EFBIG;
	o->p = malloc(size ? size : 1);
	if (o->p == NULL)
		return -ENOMEM;
	o->cap = size;
	dctx = zstd_ctx();
	zr = dctx ? p_ZSTD_decompressDCtx(dctx, o->p, size, in, inlen)
		  : p_ZSTD_decompress(o->p, size, in, inlen);
	if (p_ZSTD_isError(zr)) {
		*why = p_ZSTD_getErrorName(zr);
		return -ENOEXEC;
	}
	o->len = zr;
	return 0;
}
#endif

bool compression_supported(enum compression c)
{
	switch (c) {
	case COMPRESSION_NONE:
		return true;
#ifdef HAVE_ZLIB
	case COMPRESSION_GZIP:
		return true;
#endif
#ifdef HAVE_XZ
	case COMPRESSION_XZ:
		return true;
#endif
#ifdef HAVE_ZSTD
	case COMPRESSION_ZSTD:
		return true;
#endif
	default:
		return false;
	}
}

int decompress(enum compression c, const uint8_t *in, size_t inlen, uint8_t **out,
	       size_t *outlen, const char **why)
{
	struct outbuf o = {NULL, 0, 0};
	int r;

	*why = NULL;
	switch (c) {
#ifdef HAVE_ZLIB
	case COMPRESSION_GZIP:
		r = gunzip(in, inlen, &o, why);
		break;
#endif
#ifdef HAVE_XZ
	case COMPRESSION_XZ:
		r = unxz(in, inlen, &o, why);
		break;
#endif
#ifdef HAVE_ZSTD
	case COMPRESSION_ZSTD:
		r = unzstd(in, inlen, &o, why);
		break;
#endif
	default:
		*why = "support for this compression was not built in";
		r = -EPROTONOSUPPORT;
		(void)outbuf_grow;
		break;
	}
	if (r == -EFBIG)
		*why = "decompressed size exceeds the limit";
	if (r < 0) {
		free(o.p);
		return r;
	}
	*out = o.p;
	*outlen = o.len;
	return 0;
}
