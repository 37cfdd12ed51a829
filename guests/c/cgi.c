/*
 * cgi: a WASI command (main, exports _start, no fnhost_v1 import) run in CGI
 * mode (ABI.md §8). It prints
 *
 *     Content-Type: text/plain
 *     Status: 200 OK              (or "Status: $CGI_STATUS" when that is set)
 *
 *     method=$REQUEST_METHOD
 *     path=$PATH_INFO
 *     query=$QUERY_STRING
 *     body=<stdin>
 *
 * with LF line ends (the body line ends with one LF after the stdin bytes),
 * and writes "cgi guest ran" to stderr.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int put(int fd, const char *s, size_t n) {
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int puts_fd(int fd, const char *s) { return put(fd, s, strlen(s)); }

static void line(const char *key, const char *env) {
	const char *v = getenv(env);
	puts_fd(1, key);
	puts_fd(1, v ? v : "");
	puts_fd(1, "\n");
}

int main(void) {
	const char *status = getenv("CGI_STATUS");
	char buf[4096];
	ssize_t n;

	puts_fd(2, "cgi guest ran\n");
	puts_fd(1, "Content-Type: text/plain\nStatus: ");
	puts_fd(1, status ? status : "200 OK");
	puts_fd(1, "\n\n");
	line("method=", "REQUEST_METHOD");
	line("path=", "PATH_INFO");
	line("query=", "QUERY_STRING");
	puts_fd(1, "body=");
	while ((n = read(0, buf, sizeof buf)) > 0)
		if (put(1, buf, (size_t)n) < 0)
			return 1;
	puts_fd(1, "\n");
	return 0;
}
