//go:build !wasip1

package fnhost

import "github.com/fnhost/fnhost/sdk/go/fnhost/internal/fake"

// In native builds there is no host: the platform layer talks to an
// in-process fake (internal/fake), which package fnhosttest drives. This lets
// guests and the SDK build, vet and test on any GOOS.

func init() { fake.Dispatch = dispatch }

func requestMethod(buf []byte) int32               { return fake.Current.RequestMethod(buf) }
func requestPath(buf []byte) int32                 { return fake.Current.RequestPath(buf) }
func requestQuery(buf []byte) int32                { return fake.Current.RequestQuery(buf) }
func requestClientIP(buf []byte) int32             { return fake.Current.RequestClientIP(buf) }
func requestHeaderCount() int32                    { return fake.Current.RequestHeaderCount() }
func requestHeaderName(i int32, buf []byte) int32  { return fake.Current.RequestHeaderName(i, buf) }
func requestHeaderValue(i int32, buf []byte) int32 { return fake.Current.RequestHeaderValue(i, buf) }
func requestHeaderGet(name string, buf []byte) int32 {
	return fake.Current.RequestHeaderGet(name, buf)
}
func requestBodySize() int64                     { return fake.Current.RequestBodySize() }
func requestBodyRead(buf []byte) int32           { return fake.Current.RequestBodyRead(buf) }
func responseSetStatus(status int32) int32       { return fake.Current.ResponseSetStatus(status) }
func responseAddHeader(name, value string) int32 { return fake.Current.ResponseAddHeader(name, value) }
func responseWrite(b []byte) int32               { return fake.Current.ResponseWrite(b) }
func responseWriteString(s string) int32         { return fake.Current.ResponseWrite([]byte(s)) }
func contextString(key int32, buf []byte) int32  { return fake.Current.ContextString(key, buf) }
func contextInt(key int32) int64                 { return fake.Current.ContextInt(key) }
func envGet(name string, buf []byte) int32       { return fake.Current.EnvGet(name, buf) }
func logLine(level int32, msg string) int32      { return fake.Current.Log(level, msg) }
