package prevalidate_test

import (
	"errors"
	"fmt"

	"github.com/fnhost/fnhost/host/internal/prevalidate"
)

// A 29-byte module whose one function declares 100 million locals costs
// wazero seconds and gigabytes; Check refuses it from the declaration, in
// under a microsecond.
func ExampleCheck() {
	wasm := []byte{
		0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00,
		0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type () -> ()
		0x03, 0x02, 0x01, 0x00, // one function of type 0
		0x0a, 0x09, 0x01, 0x07, // code: one body of 7 bytes
		0x01, 0x80, 0xc2, 0xd7, 0x2f, 0x7f, // 100,000,000 locals of type i32
		0x0b, // end
	}
	err := prevalidate.Check(wasm, prevalidate.Limits{})
	fmt.Println(err)
	var le *prevalidate.LimitError
	if errors.As(err, &le) {
		fmt.Println(le.Limit, le.Value, le.Max)
	}
	// Output:
	// code section: function 0 at offset 22: 100000000 exceeds the limit of 50000 locals per function
	// Locals 100000000 50000
}
