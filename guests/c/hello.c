/* hello: 200, Content-Type: text/plain, body "hello world". */
#include "fnhost.h"

FNHOST_HANDLER(handle) {
	fnhost_set_status(200);
	fnhost_add_header("Content-Type", "text/plain");
	fnhost_write_str("hello world");
}
