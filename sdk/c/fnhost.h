/*
 * fnhost.h - header-only C SDK for fnhost guest ABI v1.
 *
 * Build a function with clang and wasi-libc as a WASI reactor:
 *
 *     clang --target=wasm32-wasi -mexec-model=reactor -O2 -Wl,--strip-all \
 *           -I path/to/sdk/c -o hello.wasm hello.c
 *
 * and export the handler with FNHOST_HANDLER (see README.md):
 *
 *     #include "fnhost.h"
 *     FNHOST_HANDLER(handle) {
 *         fnhost_add_header("Content-Type", "text/plain");
 *         fnhost_write_str("hello world");
 *     }
 *
 * The normative specification is abi/ABI.md in the fnhost repository; the
 * names below mirror abi/abi.go.
 *
 * Buffer ownership, everywhere in this file: every buffer is owned by the
 * caller (the guest). The host copies bytes out of a guest buffer before the
 * call returns and copies bytes into a guest buffer only during the call; it
 * never keeps a pointer into guest memory, so a buffer may be reused or freed
 * as soon as a function returns. Nothing is allocated by this SDK.
 *
 * Results: >= 0 is success; a negative value is one of the FNHOST_ERR_*
 * codes (treat any other negative value as a failure too).
 */
#ifndef FNHOST_H
#define FNHOST_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if !defined(__wasm32__)
#error "fnhost.h targets wasm32 (clang --target=wasm32-wasi)"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Constants (ABI.md §4.3 and §5)                                            */

#define FNHOST_ABI_MODULE "fnhost_v1"

/* Error codes. */
#define FNHOST_ERR_FAULT     (-1) /* pointer/length pair outside linear memory */
#define FNHOST_ERR_NOT_FOUND (-2) /* no such header, env variable or index */
#define FNHOST_ERR_INVALID   (-3) /* argument outside its domain */
#define FNHOST_ERR_TOO_LARGE (-4) /* response would exceed a host limit */
#define FNHOST_ERR_STATE     (-5) /* not valid now (no invocation running) */

/* context_string keys. */
#define FNHOST_CTX_REQUEST_ID  1 /* the invocation's request id */
#define FNHOST_CTX_SERVICE     2 /* service name */
#define FNHOST_CTX_FUNCTION    3 /* function name */
#define FNHOST_CTX_QUALIFIER   4 /* qualifier ("LATEST" when none) */
#define FNHOST_CTX_INSTANCE_ID 5 /* instance id, stable for its life */

/* context_int keys. */
#define FNHOST_CTX_MEMORY_LIMIT_MB 1 /* memory limit in MiB */
#define FNHOST_CTX_REMAINING_MS    2 /* ms left before the deadline */
#define FNHOST_CTX_ATTEMPT         3 /* 1 for the first attempt */
#define FNHOST_CTX_TIMEOUT_MS      4 /* configured timeout in ms */

/* log levels. */
#define FNHOST_LOG_DEBUG 0
#define FNHOST_LOG_INFO  1
#define FNHOST_LOG_WARN  2
#define FNHOST_LOG_ERROR 3

/* ------------------------------------------------------------------------ */
/* Exporting the handler                                                     */

/*
 * FNHOST_EXPORT("name") exports the following function under that name.
 * FNHOST_HANDLER(fn) defines `void fn(void)` exported as "handle", the
 * default handler name:
 *
 *     FNHOST_HANDLER(handle) { ... }
 *
 * which is the same as writing
 *
 *     __attribute__((export_name("handle"))) void handle(void) { ... }
 *
 * For a function whose `handler` setting is another name, use
 * FNHOST_EXPORT("that_name") void my_fn(void) { ... }.
 *
 * Build as a reactor (-mexec-model=reactor): the module then exports
 * _initialize, which the host calls once per instance to run C constructors,
 * and has no main(). Globals and static buffers survive between invocations
 * of one instance: reset any per-request state at the start of the handler.
 */
#define FNHOST_EXPORT(name) __attribute__((export_name(name)))
#define FNHOST_HANDLER(fn) FNHOST_EXPORT("handle") void fn(void)

/* ------------------------------------------------------------------------ */
/* Raw imports (ABI.md §4), one per fnhost_v1 function                       */

/*
 * Only the imports a program actually calls end up in its .wasm. All
 * pointers are guest addresses; lengths and capacities are unsigned 32-bit.
 *
 * Copy-out functions take (buf, cap): the host copies min(len, cap) bytes of
 * the value to buf (not NUL-terminated) and returns len, the full length. A
 * result greater than cap means the value was truncated; cap = 0 only reports
 * the length.
 */
#define FNHOST_IMPORT_(name) \
	__attribute__((import_module("fnhost_v1"), import_name(name)))

/* Request (§4.1). */
FNHOST_IMPORT_("request_method")
int32_t fnhost_v1_request_method(void *buf, size_t cap);
FNHOST_IMPORT_("request_path")
int32_t fnhost_v1_request_path(void *buf, size_t cap);
FNHOST_IMPORT_("request_query")
int32_t fnhost_v1_request_query(void *buf, size_t cap);
FNHOST_IMPORT_("request_client_ip")
int32_t fnhost_v1_request_client_ip(void *buf, size_t cap);
FNHOST_IMPORT_("request_header_count")
int32_t fnhost_v1_request_header_count(void);
FNHOST_IMPORT_("request_header_name")
int32_t fnhost_v1_request_header_name(uint32_t index, void *buf, size_t cap);
FNHOST_IMPORT_("request_header_value")
int32_t fnhost_v1_request_header_value(uint32_t index, void *buf, size_t cap);
FNHOST_IMPORT_("request_header_get")
int32_t fnhost_v1_request_header_get(const void *name, size_t name_len,
                                     void *buf, size_t cap);
FNHOST_IMPORT_("request_body_size")
int64_t fnhost_v1_request_body_size(void);
FNHOST_IMPORT_("request_body_read")
int32_t fnhost_v1_request_body_read(void *buf, size_t cap);

/* Response (§4.2). */
FNHOST_IMPORT_("response_set_status")
int32_t fnhost_v1_response_set_status(int32_t status);
FNHOST_IMPORT_("response_add_header")
int32_t fnhost_v1_response_add_header(const void *name, size_t name_len,
                                      const void *value, size_t value_len);
FNHOST_IMPORT_("response_write")
int32_t fnhost_v1_response_write(const void *buf, size_t len);

/* Context, environment, log (§4.3). */
FNHOST_IMPORT_("context_string")
int32_t fnhost_v1_context_string(int32_t key, void *buf, size_t cap);
FNHOST_IMPORT_("context_int")
int64_t fnhost_v1_context_int(int32_t key);
FNHOST_IMPORT_("env_get")
int32_t fnhost_v1_env_get(const void *name, size_t name_len, void *buf,
                          size_t cap);
FNHOST_IMPORT_("log")
int32_t fnhost_v1_log(int32_t level, const void *buf, size_t len);

#undef FNHOST_IMPORT_

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

/*
 * String getters: fnhost_method, fnhost_path, fnhost_query,
 * fnhost_client_ip, fnhost_header_get, fnhost_header_name,
 * fnhost_header_value, fnhost_env_get, fnhost_context_string.
 *
 * They follow snprintf: the caller owns buf (cap bytes); at most cap - 1
 * bytes of the value are stored, always followed by a NUL when cap > 0, and
 * the full length of the value is returned (not counting the NUL). A result
 * >= cap means the value was truncated; call again with a buffer of at least
 * result + 1 bytes. A negative result is an FNHOST_ERR_* code (then buf holds
 * an empty string if cap > 0). Values may contain NUL bytes of their own;
 * use the returned length, not strlen, when that matters.
 */
static inline int32_t fnhost__terminate(char *buf, size_t cap, int32_t n) {
	if (cap > 0) {
		size_t end = n < 0 ? 0 : ((size_t)n < cap ? (size_t)n : cap - 1);
		buf[end] = '\0';
	}
	return n;
}

/* The request method, e.g. "GET". */
static inline int32_t fnhost_method(char *buf, size_t cap) {
	return fnhost__terminate(buf, cap,
	                         fnhost_v1_request_method(buf, cap ? cap - 1 : 0));
}

/* The path after the function's prefix, starting with "/", not decoded. */
static inline int32_t fnhost_path(char *buf, size_t cap) {
	return fnhost__terminate(buf, cap,
	                         fnhost_v1_request_path(buf, cap ? cap - 1 : 0));
}

/* The raw query string without "?", empty when there is none. */
static inline int32_t fnhost_query(char *buf, size_t cap) {
	return fnhost__terminate(buf, cap,
	                         fnhost_v1_request_query(buf, cap ? cap - 1 : 0));
}

/* The client's IP address in text form. */
static inline int32_t fnhost_client_ip(char *buf, size_t cap) {
	return fnhost__terminate(
	    buf, cap, fnhost_v1_request_client_ip(buf, cap ? cap - 1 : 0));
}

/*
 * The value of the first request header named `name` (NUL-terminated,
 * compared ignoring ASCII case); FNHOST_ERR_NOT_FOUND if there is none.
 */
static inline int32_t fnhost_header_get(const char *name, char *buf,
                                        size_t cap) {
	return fnhost__terminate(
	    buf, cap,
	    fnhost_v1_request_header_get(name, strlen(name), buf,
	                                 cap ? cap - 1 : 0));
}

/* Number of request header fields; a repeated header counts once per field. */
static inline int32_t fnhost_header_count(void) {
	return fnhost_v1_request_header_count();
}

/* Name / value of header field `index` (0-based, arrival order);
 * FNHOST_ERR_NOT_FOUND when index >= fnhost_header_count(). */
static inline int32_t fnhost_header_name(uint32_t index, char *buf,
                                         size_t cap) {
	return fnhost__terminate(
	    buf, cap, fnhost_v1_request_header_name(index, buf, cap ? cap - 1 : 0));
}
static inline int32_t fnhost_header_value(uint32_t index, char *buf,
                                          size_t cap) {
	return fnhost__terminate(
	    buf, cap,
	    fnhost_v1_request_header_value(index, buf, cap ? cap - 1 : 0));
}

/* The function's environment variable `name` (NUL-terminated, exact case);
 * FNHOST_ERR_NOT_FOUND if unset. getenv() works too. */
static inline int32_t fnhost_env_get(const char *name, char *buf, size_t cap) {
	return fnhost__terminate(
	    buf, cap,
	    fnhost_v1_env_get(name, strlen(name), buf, cap ? cap - 1 : 0));
}

/* A FNHOST_CTX_* string value (request id, service, function, ...). */
static inline int32_t fnhost_context_string(int32_t key, char *buf,
                                            size_t cap) {
	return fnhost__terminate(
	    buf, cap, fnhost_v1_context_string(key, buf, cap ? cap - 1 : 0));
}

/* A FNHOST_CTX_* integer value (memory limit, remaining ms, ...). */
static inline int64_t fnhost_context_int(int32_t key) {
	return fnhost_v1_context_int(key);
}

/* Body ------------------------------------------------------------------- */

/* Total request body size in bytes. */
static inline int64_t fnhost_body_size(void) {
	return fnhost_v1_request_body_size();
}

/*
 * Streaming read: copies the next min(remaining, cap) body bytes into the
 * caller's buf and returns how many; 0 once the body is exhausted.
 */
static inline int32_t fnhost_body_read(void *buf, size_t cap) {
	return fnhost_v1_request_body_read(buf, cap);
}

/*
 * Reads the whole (remaining) body into the caller's buf, up to cap bytes,
 * and returns the total body size (fnhost_body_size()). The body is binary:
 * no NUL is added. If the result is > cap, only the first cap bytes were
 * stored and the rest is still unread. Call it before any other body read
 * of the invocation (the returned total does not subtract bytes already
 * consumed). Negative: an FNHOST_ERR_* code.
 */
static inline int64_t fnhost_read_body(void *buf, size_t cap) {
	int64_t total = fnhost_v1_request_body_size();
	size_t got = 0;
	if (total < 0)
		return total;
	while (got < cap) {
		int32_t n = fnhost_v1_request_body_read((char *)buf + got, cap - got);
		if (n < 0)
			return n;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return total;
}

/* Response --------------------------------------------------------------- */

/* Sets the status (100-599, the last call wins, default 200). 0 or
 * FNHOST_ERR_INVALID. */
static inline int32_t fnhost_set_status(int32_t status) {
	return fnhost_v1_response_set_status(status);
}

/* Adds one response header field; name and value are NUL-terminated. Adding
 * a name twice gives two fields. 0, FNHOST_ERR_INVALID (bad name, or CR/LF/
 * NUL in the value) or FNHOST_ERR_TOO_LARGE. */
static inline int32_t fnhost_add_header(const char *name, const char *value) {
	return fnhost_v1_response_add_header(name, strlen(name), value,
	                                     strlen(value));
}

/* The same with explicit lengths. */
static inline int32_t fnhost_add_header_n(const void *name, size_t name_len,
                                          const void *value,
                                          size_t value_len) {
	return fnhost_v1_response_add_header(name, name_len, value, value_len);
}

/*
 * Appends len bytes from the caller's buf to the response body (the host
 * copies them before returning). Returns len, or FNHOST_ERR_TOO_LARGE when
 * the body would pass the host's limit: nothing is appended and the
 * invocation fails whatever the handler does next. Writing 0 bytes still
 * counts as a response (an empty 200).
 */
static inline int32_t fnhost_write(const void *buf, size_t len) {
	return fnhost_v1_response_write(buf, len);
}

/* Appends a NUL-terminated string to the response body. */
static inline int32_t fnhost_write_str(const char *s) {
	return fnhost_v1_response_write(s, strlen(s));
}

/* Log -------------------------------------------------------------------- */

/* Appends one line (NUL-terminated msg) at an FNHOST_LOG_* level to the
 * invocation log. A trailing newline is removed by the host. */
static inline int32_t fnhost_log(int32_t level, const char *msg) {
	return fnhost_v1_log(level, msg, strlen(msg));
}

/* The same with an explicit length. */
static inline int32_t fnhost_log_n(int32_t level, const void *msg,
                                   size_t len) {
	return fnhost_v1_log(level, msg, len);
}

#ifdef __cplusplus
}
#endif

#endif /* FNHOST_H */
