/*
 * echo: responds 200, Content-Type: application/json, with a JSON object
 * describing the request:
 *
 *   {"path": "/a/b", "queries": {"x": ["1","2"], "y": [""]},
 *    "headers": {"accept": ["a","b"]}, "method": "POST", "body": "...",
 *    "url": "/a/b?x=1&x=2&y", "clientIP": "127.0.0.1"}
 *
 * path     request_path as received.
 * queries  each query key -> all its values in order of appearance; keys and
 *          values percent-decoded with '+' -> space; a key without '=' has
 *          the value ""; empty pairs ("&&") are skipped. A '%' not followed
 *          by two hex digits is kept as is; ';' is an ordinary byte.
 * headers  lower-cased (ASCII) header name -> all its values in arrival
 *          order; repeated names merged, keys in order of first appearance.
 * method   request_method.
 * body     the body bytes as a JSON string.
 * url      path, plus '?' and the raw query when the query is not empty.
 * clientIP request_client_ip.
 *
 * Strings are escaped as JSON: '"' and '\' and control bytes (< 0x20) are
 * escaped (\n \r \t \b \f short forms, else \u00XX); valid UTF-8 is
 * copied as is, and each byte that does not start a valid UTF-8 sequence
 * becomes \ufffd, and U+2028 and U+2029 are escaped, as Go's encoding/json
 * does, so the output is always valid JSON and matches the Go guest's.
 *
 * Bounds (static buffers, no allocator): body 1 MiB, path and query 64 KiB
 * each, header names 64 KiB in total, one header value 64 KiB, 8192 header
 * fields. Past a bound the guest responds 500 with a text/plain message and
 * writes nothing else.
 */
#include <stdint.h>
#include <string.h>

#include "fnhost.h"

#define BODY_MAX (1u << 20)
#define STR_MAX (64u << 10)
#define QUERY_ITEMS (STR_MAX / 2 + 1) /* most pairs a 64 KiB query can hold */
#define HEADER_ITEMS 8192
#define TAB_SIZE (1u << 16) /* > 2 * QUERY_ITEMS, power of two */
#define OUT_SIZE (16u << 10)

static char method[1024];
static char path[STR_MAX];
static char query[STR_MAX];
static char qdec[STR_MAX]; /* decoded query keys and values */
static char ip[256];
static char hnames[STR_MAX]; /* lower-cased header names */
static char hval[STR_MAX];   /* one header value at a time */
static char body[BODY_MAX];
static char out[OUT_SIZE];

/* ---- grouping of (key, value) items by key, in order of first appearance */

typedef struct {
	uint32_t koff, klen; /* key in the set's key arena */
	uint32_t voff, vlen; /* value (query: in qdec; headers: vlen only) */
	int32_t next;        /* next item of the same key, -1 at the end */
	int32_t tail;        /* for a group head: its last item */
	uint32_t slot;       /* for a group head: its hash table slot */
	uint8_t head;        /* first item of its key */
} item;

static item qitems[QUERY_ITEMS];
static item hitems[HEADER_ITEMS];
static int32_t tab[TAB_SIZE]; /* item index + 1, 0 = empty; kept all-zero between uses */

static uint32_t hash(const char *p, uint32_t n) {
	uint32_t h = 2166136261u;
	while (n--)
		h = (h ^ (uint8_t)*p++) * 16777619u;
	return h;
}

/* Links items[0..n) into groups of equal keys (keys in arena). */
static void group(item *items, uint32_t n, const char *arena) {
	for (uint32_t i = 0; i < n; i++) {
		item *it = &items[i];
		const char *k = arena + it->koff;
		uint32_t h = hash(k, it->klen) & (TAB_SIZE - 1);
		it->next = -1;
		it->head = 0;
		for (;;) {
			int32_t j = tab[h] - 1;
			if (j < 0) {
				tab[h] = (int32_t)i + 1;
				it->head = 1;
				it->tail = (int32_t)i;
				it->slot = h;
				break;
			}
			item *g = &items[j];
			if (g->klen == it->klen &&
			    memcmp(arena + g->koff, k, it->klen) == 0) {
				items[g->tail].next = (int32_t)i;
				g->tail = (int32_t)i;
				break;
			}
			h = (h + 1) & (TAB_SIZE - 1);
		}
	}
	for (uint32_t i = 0; i < n; i++)
		if (items[i].head)
			tab[items[i].slot] = 0;
}

/* ---- buffered JSON output */

static uint32_t outn;
static int out_failed;

static void flush(void) {
	if (outn > 0 && !out_failed && fnhost_write(out, outn) < 0)
		out_failed = 1;
	outn = 0;
}

static void emit(const char *p, uint32_t n) {
	if (n >= OUT_SIZE / 4 && n > OUT_SIZE - outn) {
		/* A long run: write it directly rather than copy it through out
		 * (a copy loop in wasm is slow when the host checks for timeouts
		 * at every loop iteration). */
		flush();
		if (!out_failed && fnhost_write(p, n) < 0)
			out_failed = 1;
		return;
	}
	while (n > 0) {
		uint32_t room = OUT_SIZE - outn;
		uint32_t k = n < room ? n : room;
		memcpy(out + outn, p, k);
		outn += k;
		p += k;
		n -= k;
		if (outn == OUT_SIZE)
			flush();
	}
}

#define EMIT_LIT(s) emit(s, sizeof(s) - 1)

/* Whether any of the 8 bytes of w is < 0x20, '"', '\\' or >= 0x80 (SWAR:
 * the loop below then skips 8 plain ASCII bytes per iteration). */
static int needs_escape8(uint64_t w) {
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
	return ((((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b) | w) &
	        highs) != 0;
}

/* Length of the valid UTF-8 sequence starting at p[0] (a byte >= 0x80), or
 * 0 when it is not one: overlong forms, surrogates and code points past
 * U+10FFFF are invalid, as in Go's unicode/utf8. */
static uint32_t utf8_len(const uint8_t *p, uint32_t n) {
	uint8_t c = p[0], lo = 0x80, hi = 0xBF;
	uint32_t len, k;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (k = 2; k < len; k++)
		if (p[k] < 0x80 || p[k] > 0xBF)
			return 0;
	return len;
}

/* Emits the bytes of p escaped for the inside of a JSON string. */
static void emit_escaped(const char *p, uint32_t n) {
	static const char hex[] = "0123456789abcdef";
	uint32_t start = 0, i = 0;
	while (i < n) {
		uint8_t c;
		char esc[6];
		uint32_t en;
		if (n - i >= 8) {
			uint64_t w;
			memcpy(&w, p + i, 8);
			if (!needs_escape8(w)) {
				i += 8;
				continue;
			}
		}
		c = (uint8_t)p[i];
		if (c >= 0x80) {
			uint32_t ul = utf8_len((const uint8_t *)p + i, n - i);
			if (ul == 3 && c == 0xE2 && (uint8_t)p[i + 1] == 0x80 &&
			    ((uint8_t)p[i + 2] == 0xA8 || (uint8_t)p[i + 2] == 0xA9)) {
				/* U+2028, U+2029: escaped, as Go's encoding/json does. */
				emit(p + start, i - start);
				EMIT_LIT("\\u202");
				emit((uint8_t)p[i + 2] == 0xA8 ? "8" : "9", 1);
				i += 3;
				start = i;
				continue;
			}
			if (ul > 0) {
				i += ul;
				continue;
			}
			emit(p + start, i - start);
			EMIT_LIT("\\ufffd");
			start = ++i;
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		esc[0] = '\\';
		en = 2;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			en = 6;
		}
		emit(p + start, i - start);
		emit(esc, en);
		start = ++i;
	}
	emit(p + start, n - start);
}

static void emit_str(const char *p, uint32_t n) {
	EMIT_LIT("\"");
	emit_escaped(p, n);
	EMIT_LIT("\"");
}

/* ---- query parsing */

static int unhex(uint8_t c) {
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes src[0..n) into dst, returns the decoded length (<= n). */
static uint32_t decode(char *dst, const char *src, uint32_t n) {
	uint32_t o = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)src[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%' && i + 2 < n) {
			int hi = unhex((uint8_t)src[i + 1]), lo = unhex((uint8_t)src[i + 2]);
			if (hi >= 0 && lo >= 0) {
				c = (uint8_t)(hi << 4 | lo);
				i += 2;
			}
		}
		dst[o++] = (char)c;
	}
	return o;
}

/* Splits query[0..qn) into qitems; returns the number of items. */
static uint32_t parse_query(uint32_t qn) {
	uint32_t n = 0, pos = 0, s = 0;
	while (s <= qn) {
		uint32_t e = s, eq;
		while (e < qn && query[e] != '&')
			e++;
		if (e > s) {
			item *it = &qitems[n++];
			eq = s;
			while (eq < e && query[eq] != '=')
				eq++;
			it->koff = pos;
			it->klen = decode(qdec + pos, query + s, eq - s);
			pos += it->klen;
			it->voff = pos;
			it->vlen = eq < e ? decode(qdec + pos, query + eq + 1, e - eq - 1) : 0;
			pos += it->vlen;
		}
		s = e + 1;
	}
	return n;
}

/* ---- handler */

#define FAIL(msg) do { fail(msg); return; } while (0)

static void fail(const char *msg) {
	fnhost_log(FNHOST_LOG_ERROR, msg);
	fnhost_set_status(500);
	fnhost_add_header("Content-Type", "text/plain");
	fnhost_write_str(msg);
}

FNHOST_HANDLER(handle) {
	int32_t mn, pn, qn, in, hc;
	int64_t bn;
	uint32_t nq, hpos = 0;

	/* Read and check everything before writing any output. */
	mn = fnhost_v1_request_method(method, sizeof method);
	pn = fnhost_v1_request_path(path, sizeof path);
	qn = fnhost_v1_request_query(query, sizeof query);
	in = fnhost_v1_request_client_ip(ip, sizeof ip);
	if (mn < 0 || pn < 0 || qn < 0 || in < 0)
		FAIL("echo: reading the request failed");
	if ((uint32_t)mn > sizeof method || (uint32_t)pn > sizeof path ||
	    (uint32_t)qn > sizeof query || (uint32_t)in > sizeof ip)
		FAIL("echo: method, path, query or client ip too long");

	hc = fnhost_v1_request_header_count();
	if (hc < 0)
		FAIL("echo: reading the headers failed");
	if (hc > HEADER_ITEMS)
		FAIL("echo: too many header fields (max 8192)");
	for (int32_t i = 0; i < hc; i++) {
		item *it = &hitems[i];
		int32_t n = fnhost_v1_request_header_name((uint32_t)i, hnames + hpos,
		                                          sizeof hnames - hpos);
		int32_t v = fnhost_v1_request_header_value((uint32_t)i, hval, 0);
		if (n < 0 || v < 0)
			FAIL("echo: reading the headers failed");
		if ((uint32_t)n > sizeof hnames - hpos)
			FAIL("echo: header names too long (max 64 KiB in total)");
		if ((uint32_t)v > sizeof hval)
			FAIL("echo: header value too long (max 64 KiB)");
		for (int32_t k = 0; k < n; k++) {
			char c = hnames[hpos + k];
			if (c >= 'A' && c <= 'Z')
				hnames[hpos + k] = (char)(c - 'A' + 'a');
		}
		it->koff = hpos;
		it->klen = (uint32_t)n;
		it->vlen = (uint32_t)v;
		hpos += (uint32_t)n;
	}

	bn = fnhost_v1_request_body_size();
	if (bn < 0)
		FAIL("echo: reading the body failed");
	if (bn > BODY_MAX)
		FAIL("echo: request body too large (max 1048576 bytes)");
	for (uint32_t got = 0; got < (uint32_t)bn;) {
		int32_t n = fnhost_v1_request_body_read(body + got, (uint32_t)bn - got);
		if (n < 0)
			FAIL("echo: reading the body failed");
		if (n == 0) {
			bn = got; /* shorter than announced: echo what there is */
			break;
		}
		got += (uint32_t)n;
	}

	nq = parse_query((uint32_t)qn);
	group(qitems, nq, qdec);
	group(hitems, (uint32_t)hc, hnames);

	outn = 0;
	out_failed = 0;
	fnhost_set_status(200);
	fnhost_add_header("Content-Type", "application/json");

	EMIT_LIT("{\"path\":");
	emit_str(path, (uint32_t)pn);

	EMIT_LIT(",\"queries\":{");
	for (uint32_t i = 0, first = 1; i < nq; i++) {
		if (!qitems[i].head)
			continue;
		if (!first)
			EMIT_LIT(",");
		first = 0;
		emit_str(qdec + qitems[i].koff, qitems[i].klen);
		EMIT_LIT(":[");
		for (int32_t j = (int32_t)i; j >= 0; j = qitems[j].next) {
			if (j != (int32_t)i)
				EMIT_LIT(",");
			emit_str(qdec + qitems[j].voff, qitems[j].vlen);
		}
		EMIT_LIT("]");
	}

	EMIT_LIT("},\"headers\":{");
	for (uint32_t i = 0, first = 1; i < (uint32_t)hc; i++) {
		if (!hitems[i].head)
			continue;
		if (!first)
			EMIT_LIT(",");
		first = 0;
		emit_str(hnames + hitems[i].koff, hitems[i].klen);
		EMIT_LIT(":[");
		for (int32_t j = (int32_t)i; j >= 0; j = hitems[j].next) {
			int32_t v = fnhost_v1_request_header_value((uint32_t)j, hval,
			                                           sizeof hval);
			if (j != (int32_t)i)
				EMIT_LIT(",");
			if (v < 0 || (uint32_t)v > sizeof hval)
				v = 0; /* cannot happen: checked above */
			emit_str(hval, (uint32_t)v);
		}
		EMIT_LIT("]");
	}

	EMIT_LIT("},\"method\":");
	emit_str(method, (uint32_t)mn);
	EMIT_LIT(",\"body\":");
	emit_str(body, (uint32_t)bn);
	EMIT_LIT(",\"url\":\"");
	emit_escaped(path, (uint32_t)pn);
	if (qn > 0) {
		EMIT_LIT("?");
		emit_escaped(query, (uint32_t)qn);
	}
	EMIT_LIT("\",\"clientIP\":");
	emit_str(ip, (uint32_t)in);
	EMIT_LIT("}");
	flush();
}
