// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * In-memory compression of whole module images, for signing a compressed module inside
 * its compression. The settings are those of kbuild's modules_install, which the
 * kernel's own decompressors (CONFIG_MODULE_DECOMPRESS) are built to accept:
 *
 *   gzip  deflate level 6, gzip header without name or time (gzip -n)
 *   xz    LZMA2 preset 6 with a 1 MiB dictionary, CRC32 check (xz --check=crc32
 *         --lzma2=dict=1MiB): the kernel's xz decoder knows CRC32 only and its
 *         dictionary must fit its preallocated buffer
 *   zstd  level 3, content size and checksum in the frame header (zstd -q)
 *
 * The libraries are loaded on first use, as for decompression (dl.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

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

#ifdef HAVE_ZLIB
static int (*p_deflateInit2_)(z_streamp, int, int, int, int, int, const char *, int);
static int (*p_deflate)(z_streamp, int);
static int (*p_deflateEnd)(z_streamp);
static uLong (*p_deflateBound)(z_streamp, uLong);
static const struct dl_sym zlib_syms[] = {
	DL_SYM(deflateInit2_),
	DL_SYM(deflate),
	DL_SYM(deflateEnd),
	DL_SYM(deflateBound),
};
static struct dl_lib zlib_lib = DL_LIB(ZLIB_SONAME, zlib_syms);

static int gzip(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen,
		const char **why)
{
	z_stream zs = {0};
	uint8_t *buf;
	size_t cap;
	int zr;

	if (!dl_load(&zlib_lib, why))
		return -ELIBACC;
	if (inlen > UINT32_MAX)
		return -EFBIG; /* one deflate() call: zlib counts in uInt */
	if (p_deflateInit2_(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
			    ZLIB_VERSION, (int)sizeof(zs)) != Z_OK)
		return -ENOMEM;
	cap = p_deflateBound(&zs, (uLong)inlen);
	buf = malloc(cap);
	if (buf == NULL) {
		p_deflateEnd(&zs);
		return -ENOMEM;
	}
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)inlen;
	zs.next_out = buf;
	zs.avail_out = (uInt)cap;
	zr = p_deflate(&zs, Z_FINISH);
	*outlen = zs.total_out;
	p_deflateEnd(&zs);
	if (zr != Z_STREAM_END) {
		free(buf);
		*why = "deflate failed";
		return -EIO;
	}
	*out = buf;
	return 0;
}
#endif

#ifdef HAVE_XZ
static lzma_bool (*p_lzma_lzma_preset)(lzma_options_lzma *, uint32_t);
static size_t (*p_lzma_stream_buffer_bound)(size_t);
static lzma_ret (*p_lzma_stream_buffer_encode)(lzma_filter *, lzma_check,
					       const lzma_allocator *, const uint8_t *,
					       size_t, uint8_t *, size_t *, size_t);
static const struct dl_sym xz_syms[] = {
	DL_SYM(lzma_lzma_preset),
	DL_SYM(lzma_stream_buffer_bound),
	DL_SYM(lzma_stream_buffer_encode),
};
static struct dl_lib xz_lib = DL_LIB(XZ_SONAME, xz_syms);

static int xz(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen,
	      const char **why)
{
	lzma_options_lzma opt;
	lzma_filter filters[2];
	size_t cap, pos = 0;
	uint8_t *buf;
	lzma_ret lr;

	if (!dl_load(&xz_lib, why))
		return -ELIBACC;
	if (p_lzma_lzma_preset(&opt, 6))
		return -EINVAL;
	opt.dict_size = 1u << 20;
	filters[0] = (lzma_filter){.id = LZMA_FILTER_LZMA2, .options = &opt};
	filters[1] = (lzma_filter){.id = LZMA_VLI_UNKNOWN, .options = NULL};
	cap = p_lzma_stream_buffer_bound(inlen);
	if (cap == 0)
		return -EFBIG;
	buf = malloc(cap);
	if (buf == NULL)
		return -ENOMEM;
	lr = p_lzma_stream_buffer_encode(filters, LZMA_CHECK_CRC32, NULL, in, inlen, buf,
					 &pos, cap);
	if (lr != LZMA_OK) {
		free(buf);
		*why = "xz encoder failed";
		return lr == LZMA_MEM_ERROR ? -ENOMEM : -EIO;
	}
	*out = buf;
	*outlen = pos;
	return 0;
}
#endif

#ifdef HAVE_ZSTD
static size_t (*p_ZSTD_compressBound)(size_t);
static ZSTD_CCtx *(*p_ZSTD_createCCtx)(void);
static size_t (*p_ZSTD_freeCCtx)(ZSTD_CCtx *);
static size_t (*p_ZSTD_CCtx_setParameter)(ZSTD_CCtx *, ZSTD_cParameter, int);
static size_t (*p_ZSTD_compress2)(ZSTD_CCtx *, void *, size_t, const void *, size_t);
static unsigned (*p_ZSTD_isError)(size_t);
static const char *(*p_ZSTD_getErrorName)(size_t);
static const struct dl_sym zstd_syms[] = {
	DL_SYM(ZSTD_compressBound),	DL_SYM(ZSTD_createCCtx), DL_SYM(ZSTD_freeCCtx),
	DL_SYM(ZSTD_CCtx_setParameter), DL_SYM(ZSTD_compress2),	 DL_SYM(ZSTD_isError),
	DL_SYM(ZSTD_getErrorName),
};
static struct dl_lib zstd_lib = DL_LIB(ZSTD_SONAME, zstd_syms);

static int zstd(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen,
		const char **why)
{
	size_t cap, zr;
	ZSTD_CCtx *cctx;
	uint8_t *buf;

	if (!dl_load(&zstd_lib, why))
		return -ELIBACC;
	cap = p_ZSTD_compressBound(inlen);
	cctx = p_ZSTD_createCCtx();
	buf = malloc(cap ? cap : 1);
	if (cctx == NULL || buf == NULL) {
		p_ZSTD_freeCCtx(cctx);
		free(buf);
		return -ENOMEM;
	}
	p_ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 3);
	p_ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
	p_ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	zr = p_ZSTD_compress2(cctx, buf, cap, in, inlen);
	p_ZSTD_freeCCtx(cctx);
	if (p_ZSTD_isError(zr)) {
		*why = p_ZSTD_getErrorName(zr);
		free(buf);
		return -EIO;
	}
	*out = buf;
	*outlen = zr;
	return 0;
}
#endif

int compress_image(enum compression c, const uint8_t *in, size_t inlen, uint8_t **out,
		   size_t *outlen, const char **why)
{
	*why = NULL;
	switch (c) {
#ifdef HAVE_ZLIB
	case COMPRESSION_GZIP:
		return gzip(in, inlen, out, outlen, why);
#endif
#ifdef HAVE_XZ
	case COMPRESSION_XZ:
		return xz(in, inlen, out, outlen, why);
#endif
#ifdef HAVE_ZSTD
	case COMPRESSION_ZSTD:
		return zstd(in, inlen, out, outlen, why);
#endif
	default:
		*why = "support for this compression was not built in";
		return -EPROTONOSUPPORT;
	}
}
