package store_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/store"
)

var wasmA = []byte("\x00asm\x01\x00\x00\x00 module A")
var wasmB = []byte("\x00asm\x01\x00\x00\x00 module B")

func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	s, err := store.Open(dir, store.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// checkErr fails unless err has the Kind and, when r != 0, names resource r.
func checkErr(t *testing.T, err error, kind host.Kind, r store.Resource) {
	t.Helper()
	if kind == host.KindInternal && err == nil {
		return
	}
	if err == nil {
		t.Fatalf("err = nil, want %v", kind)
	}
	if got := host.ErrorKind(err); got != kind {
		t.Fatalf("kind = %v, want %v (err %v)", got, kind, err)
	}
	if r != 0 {
		var re *store.ResourceError
		if !errors.As(err, &re) || re.Resource != r {
			t.Fatalf("err %v does not name a %v", err, r)
		}
	}
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestServices(t *testing.T) {
	s := openStore(t, t.TempDir())
	got, err := s.CreateService(host.Service{ServiceName: "demo", Description: "d", ServiceID: "ignored"})
	mustNil(t, err)
	if got.ServiceID == "" || got.ServiceID == "ignored" || got.CreatedTime != "2026-11-25T08:00:00Z" || got.LastModifiedTime != got.CreatedTime {
		t.Fatalf("created %+v", got)
	}
	get, err := s.GetService("demo")
	mustNil(t, err)
	if get != got {
		t.Fatalf("get %+v, want %+v", get, got)
	}
	up, err := s.UpdateService("demo", func(v *host.Service) error {
		v.Description = "new"
		v.ServiceID = "hijack"
		return nil
	})
	mustNil(t, err)
	if up.Description != "new" || up.ServiceID != got.ServiceID {
		t.Fatalf("updated %+v", up)
	}
	if _, err := s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: "f"}, wasmA); err != nil {
		t.Fatal(err)
	}

	errBoom := errors.New("boom")
	tests := []struct {
		name string
		do   func() error
		kind host.Kind
		res  store.Resource
	}{
		{"create existing", func() error { _, err := s.CreateService(host.Service{ServiceName: "demo"}); return err }, host.KindConflict, store.ResourceService},
		{"create invalid name", func() error { _, err := s.CreateService(host.Service{ServiceName: "1bad"}); return err }, host.KindInvalidArgument, 0},
		{"get missing", func() error { _, err := s.GetService("nope"); return err }, host.KindNotFound, store.ResourceService},
		{"get invalid name", func() error { _, err := s.GetService("a/b"); return err }, host.KindInvalidArgument, 0},
		{"update missing", func() error {
			_, err := s.UpdateService("nope", func(*host.Service) error { return nil })
			return err
		}, host.KindNotFound, store.ResourceService},
		{"delete missing", func() error { return s.DeleteService("nope") }, host.KindNotFound, store.ResourceService},
		{"delete not empty", func() error { return s.DeleteService("demo") }, host.KindNotEmpty, store.ResourceService},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkErr(t, tc.do(), tc.kind, tc.res) })
	}
	t.Run("mutate error aborts", func(t *testing.T) {
		_, err := s.UpdateService("demo", func(v *host.Service) error { v.Description = "x"; return errBoom })
		if !errors.Is(err, errBoom) {
			t.Fatalf("err = %v", err)
		}
		if v, _ := s.GetService("demo"); v.Description != "new" {
			t.Fatalf("description %q changed", v.Description)
		}
	})
	t.Run("message names the service", func(t *testing.T) {
		_, err := s.GetService("nope")
		if !strings.Contains(err.Error(), `service "nope" not found`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("delete after emptying", func(t *testing.T) {
		mustNil(t, s.DeleteFunction("demo", "f"))
		mustNil(t, s.DeleteService("demo"))
		_, err := s.GetService("demo")
		checkErr(t, err, host.KindNotFound, store.ResourceService)
	})
}

func TestFunctions(t *testing.T) {
	s := openStore(t, t.TempDir())
	_, err := s.CreateService(host.Service{ServiceName: "demo"})
	mustNil(t, err)
	f, err := s.CreateFunction(host.Function{
		ServiceName: "demo", FunctionName: "hello", Handler: "handle", MemorySize: 128, Timeout: 3,
		EnvironmentVariables: map[string]string{"K": "V"},
	}, wasmA)
	mustNil(t, err)
	if f.CodeChecksum != store.Checksum(wasmA) || f.CodeSize != int64(len(wasmA)) || f.Runtime != host.RuntimeWasm || f.FunctionID == "" {
		t.Fatalf("created %+v", f)
	}
	got, err := s.GetFunction("demo", "hello")
	mustNil(t, err)
	if got.ServiceName != "demo" || got.FunctionID != f.FunctionID || got.EnvironmentVariables["K"] != "V" || got.Handler != "handle" {
		t.Fatalf("get %+v", got)
	}
	up, err := s.UpdateFunction("demo", "hello", wasmB, func(v *host.Function) error {
		v.Timeout = 10
		v.EnvironmentVariables["K2"] = "V2"
		v.FunctionID = "hijack"
		return nil
	})
	mustNil(t, err)
	if up.Timeout != 10 || up.CodeChecksum != store.Checksum(wasmB) || up.FunctionID != f.FunctionID || up.EnvironmentVariables["K2"] != "V2" {
		t.Fatalf("updated %+v", up)
	}
	if _, err := s.GetModule(store.Checksum(wasmA)); host.ErrorKind(err) != host.KindNotFound {
		t.Fatalf("old module still stored after switching code: %v", err)
	}

	tests := []struct {
		name string
		do   func() error
		kind host.Kind
		res  store.Resource
	}{
		{"create existing", func() error {
			_, err := s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: "hello"}, wasmA)
			return err
		}, host.KindConflict, store.ResourceFunction},
		{"create in missing service", func() error {
			_, err := s.CreateFunction(host.Function{ServiceName: "nope", FunctionName: "x"}, wasmA)
			return err
		}, host.KindNotFound, store.ResourceService},
		{"create invalid name", func() error {
			_, err := s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: "-x"}, wasmA)
			return err
		}, host.KindInvalidArgument, 0},
		{"create without code", func() error {
			_, err := s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: "x"}, nil)
			return err
		}, host.KindInvalidArgument, 0},
		{"create with unknown checksum", func() error {
			_, err := s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: "x", CodeChecksum: strings.Repeat("0", 64)}, nil)
			return err
		}, host.KindInvalidArgument, 0},
		{"create with bad checksum", func() error {
			_, err := s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: "x", CodeChecksum: "abc"}, nil)
			return err
		}, host.KindInvalidArgument, 0},
		{"create other runtime", func() error {
			_, err := s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: "x", Runtime: "python3"}, wasmA)
			return err
		}, host.KindInvalidArgument, 0},
		{"create negative memory", func() error {
			_, err := s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: "x", MemorySize: -1}, wasmA)
			return err
		}, host.KindInvalidArgument, 0},
		{"get missing", func() error { _, err := s.GetFunction("demo", "nope"); return err }, host.KindNotFound, store.ResourceFunction},
		{"get in missing service", func() error { _, err := s.GetFunction("nope", "hello"); return err }, host.KindNotFound, store.ResourceService},
		{"update missing", func() error { _, err := s.UpdateFunction("demo", "nope", nil, nil); return err }, host.KindNotFound, store.ResourceFunction},
		{"update to bad runtime", func() error {
			_, err := s.UpdateFunction("demo", "hello", nil, func(v *host.Function) error { v.Runtime = "go"; return nil })
			return err
		}, host.KindInvalidArgument, 0},
		{"delete missing", func() error { return s.DeleteFunction("demo", "nope") }, host.KindNotFound, store.ResourceFunction},
		{"list in missing service", func() error { _, _, err := s.ListFunctions("nope", store.ListOptions{}); return err }, host.KindNotFound, store.ResourceService},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkErr(t, tc.do(), tc.kind, tc.res) })
	}
	t.Run("failed creates left nothing", func(t *testing.T) {
		fns, _, err := s.ListFunctions("demo", store.ListOptions{})
		mustNil(t, err)
		if len(fns) != 1 {
			t.Fatalf("functions %+v", fns)
		}
		if n, err := s.ModuleRefs(store.Checksum(wasmB)); err != nil || n != 1 {
			t.Fatalf("refs = %d, %v", n, err)
		}
		if _, err := s.GetModule(store.Checksum(wasmA)); host.ErrorKind(err) != host.KindNotFound {
			t.Fatalf("module A stored by a failed create: %v", err)
		}
	})
	t.Run("delete drops triggers and module", func(t *testing.T) {
		_, err := s.CreateTrigger(host.Trigger{ServiceName: "demo", FunctionName: "hello", TriggerName: "http"})
		mustNil(t, err)
		mustNil(t, s.DeleteFunction("demo", "hello"))
		_, err = s.GetFunction("demo", "hello")
		checkErr(t, err, host.KindNotFound, store.ResourceFunction)
		_, err = s.GetModule(store.Checksum(wasmB))
		checkErr(t, err, host.KindNotFound, store.ResourceModule)
		// Recreating the function must not resurrect the old trigger.
		_, err = s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: "hello"}, wasmB)
		mustNil(t, err)
		trs, _, err := s.ListTriggers("demo", "hello", store.ListOptions{})
		mustNil(t, err)
		if len(trs) != 0 {
			t.Fatalf("triggers survived their function: %+v", trs)
		}
	})
}

func TestTriggers(t *testing.T) {
	s := openStore(t, t.TempDir())
	_, err := s.CreateService(host.Service{ServiceName: "demo"})
	mustNil(t, err)
	_, err = s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: "hello"}, wasmA)
	mustNil(t, err)
	tr, err := s.CreateTrigger(host.Trigger{ServiceName: "demo", FunctionName: "hello", TriggerName: "web",
		TriggerConfig: host.HTTPTriggerConfig{Methods: []string{"GET", "POST"}}})
	mustNil(t, err)
	if tr.TriggerType != host.TriggerTypeHTTP || tr.TriggerConfig.AuthType != host.AuthFunction || tr.TriggerID == "" {
		t.Fatalf("created %+v", tr)
	}
	got, err := s.GetTrigger("demo", "hello", "web")
	mustNil(t, err)
	if got.ServiceName != "demo" || got.FunctionName != "hello" || !slices.Equal(got.TriggerConfig.Methods, []string{"GET", "POST"}) {
		t.Fatalf("get %+v", got)
	}
	up, err := s.UpdateTrigger("demo", "hello", "web", func(v *host.Trigger) error {
		v.TriggerConfig.AuthType = host.AuthAnonymous
		v.TriggerConfig.DisableURLInternet = true
		v.TriggerType = "timer" // immutable; kept
		return nil
	})
	mustNil(t, err)
	if up.TriggerConfig.AuthType != host.AuthAnonymous || !up.TriggerConfig.DisableURLInternet || up.TriggerType != host.TriggerTypeHTTP {
		t.Fatalf("updated %+v", up)
	}

	tests := []struct {
		name string
		do   func() error
		kind host.Kind
		res  store.Resource
	}{
		{"create existing", func() error {
			_, err := s.CreateTrigger(host.Trigger{ServiceName: "demo", FunctionName: "hello", TriggerName: "web"})
			return err
		}, host.KindConflict, store.ResourceTrigger},
		{"create on missing function", func() error {
			_, err := s.CreateTrigger(host.Trigger{ServiceName: "demo", FunctionName: "nope", TriggerName: "web"})
			return err
		}, host.KindNotFound, store.ResourceFunction},
		{"create in missing service", func() error {
			_, err := s.CreateTrigger(host.Trigger{ServiceName: "nope", FunctionName: "hello", TriggerName: "web"})
			return err
		}, host.KindNotFound, store.ResourceService},
		{"create bad type", func() error {
			_, err := s.CreateTrigger(host.Trigger{ServiceName: "demo", FunctionName: "hello", TriggerName: "t", TriggerType: "oss"})
			return err
		}, host.KindInvalidArgument, 0},
		{"create bad auth", func() error {
			_, err := s.CreateTrigger(host.Trigger{ServiceName: "demo", FunctionName: "hello", TriggerName: "t",
				TriggerConfig: host.HTTPTriggerConfig{AuthType: "oauth"}})
			return err
		}, host.KindInvalidArgument, 0},
		{"create bad method", func() error {
			_, err := s.CreateTrigger(host.Trigger{ServiceName: "demo", FunctionName: "hello", TriggerName: "t",
				TriggerConfig: host.HTTPTriggerConfig{Methods: []string{"get"}}})
			return err
		}, host.KindInvalidArgument, 0},
		{"create invalid name", func() error {
			_, err := s.CreateTrigger(host.Trigger{ServiceName: "demo", FunctionName: "hello", TriggerName: ""})
			return err
		}, host.KindInvalidArgument, 0},
		{"get missing", func() error { _, err := s.GetTrigger("demo", "hello", "nope"); return err }, host.KindNotFound, store.ResourceTrigger},
		{"update missing", func() error {
			_, err := s.UpdateTrigger("demo", "hello", "nope", func(*host.Trigger) error { return nil })
			return err
		}, host.KindNotFound, store.ResourceTrigger},
		{"update bad method", func() error {
			_, err := s.UpdateTrigger("demo", "hello", "web", func(v *host.Trigger) error {
				v.TriggerConfig.Methods = append(v.TriggerConfig.Methods, "FETCH")
				return nil
			})
			return err
		}, host.KindInvalidArgument, 0},
		{"delete missing", func() error { return s.DeleteTrigger("demo", "hello", "nope") }, host.KindNotFound, store.ResourceTrigger},
		{"list on missing function", func() error { _, _, err := s.ListTriggers("demo", "nope", store.ListOptions{}); return err }, host.KindNotFound, store.ResourceFunction},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkErr(t, tc.do(), tc.kind, tc.res) })
	}
	t.Run("delete", func(t *testing.T) {
		mustNil(t, s.DeleteTrigger("demo", "hello", "web"))
		_, err := s.GetTrigger("demo", "hello", "web")
		checkErr(t, err, host.KindNotFound, store.ResourceTrigger)
	})
}

func TestListPaging(t *testing.T) {
	s := openStore(t, t.TempDir())
	names := []string{"b1", "a1", "a3", "a2", "c1", "a10"} // sorted: a1 a10 a2 a3 b1 c1
	for _, n := range names {
		_, err := s.CreateService(host.Service{ServiceName: n})
		mustNil(t, err)
	}
	for _, n := range names {
		_, err := s.CreateFunction(host.Function{ServiceName: "a1", FunctionName: "f" + n}, wasmA)
		mustNil(t, err)
	}
	tests := []struct {
		name string
		o    store.ListOptions
		want []string
		next string
	}{
		{"all", store.ListOptions{}, []string{"a1", "a10", "a2", "a3", "b1", "c1"}, ""},
		{"limit", store.ListOptions{Limit: 2}, []string{"a1", "a10"}, "a2"},
		{"next token", store.ListOptions{Limit: 2, NextToken: "a2"}, []string{"a2", "a3"}, "b1"},
		{"last page", store.ListOptions{Limit: 2, NextToken: "b1"}, []string{"b1", "c1"}, ""},
		{"exact fit has no token", store.ListOptions{Limit: 6}, []string{"a1", "a10", "a2", "a3", "b1", "c1"}, ""},
		{"prefix", store.ListOptions{Prefix: "a"}, []string{"a1", "a10", "a2", "a3"}, ""},
		{"prefix limit", store.ListOptions{Prefix: "a", Limit: 3}, []string{"a1", "a10", "a2"}, "a3"},
		{"prefix last page", store.ListOptions{Prefix: "a", Limit: 3, NextToken: "a3"}, []string{"a3"}, ""},
		{"start key inclusive", store.ListOptions{StartKey: "a3"}, []string{"a3", "b1", "c1"}, ""},
		{"start key between", store.ListOptions{StartKey: "a25"}, []string{"a3", "b1", "c1"}, ""},
		{"later of start key and token", store.ListOptions{StartKey: "b", NextToken: "a2"}, []string{"b1", "c1"}, ""},
		{"start key before prefix", store.ListOptions{StartKey: "a", Prefix: "b"}, []string{"b1"}, ""},
		{"no match", store.ListOptions{Prefix: "z"}, []string{}, ""},
		{"token past end", store.ListOptions{NextToken: "zz"}, []string{}, ""},
		{"huge limit capped", store.ListOptions{Limit: 1 << 20}, []string{"a1", "a10", "a2", "a3", "b1", "c1"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, next, err := s.ListServices(tc.o)
			mustNil(t, err)
			var gotNames []string
			for _, v := range got {
				gotNames = append(gotNames, v.ServiceName)
			}
			if !slices.Equal(gotNames, tc.want) || next != tc.next {
				t.Fatalf("got %v next %q, want %v next %q", gotNames, next, tc.want, tc.next)
			}
		})
	}
	t.Run("negative limit", func(t *testing.T) {
		_, _, err := s.ListServices(store.ListOptions{Limit: -1})
		checkErr(t, err, host.KindInvalidArgument, 0)
	})
	t.Run("functions are scoped to their service", func(t *testing.T) {
		got, _, err := s.ListFunctions("a1", store.ListOptions{})
		mustNil(t, err)
		var gotNames []string
		for _, f := range got {
			if f.ServiceName != "a1" {
				t.Errorf("function %q has service %q", f.FunctionName, f.ServiceName)
			}
			gotNames = append(gotNames, f.FunctionName)
		}
		want := []string{"fa1", "fa10", "fa2", "fa3", "fb1", "fc1"}
		if !slices.Equal(gotNames, want) {
			t.Fatalf("got %v, want %v", gotNames, want)
		}
		// "a10" shares the prefix "a1" of the key "v1/fn/a1/…" but not "v1/fn/a1/".
		got, _, err = s.ListFunctions("a10", store.ListOptions{})
		mustNil(t, err)
		if len(got) != 0 {
			t.Fatalf("a10 has %d functions", len(got))
		}
	})
	t.Run("full walk with tokens", func(t *testing.T) {
		var all []string
		o := store.ListOptions{Limit: 1}
		for range 10 {
			got, next, err := s.ListServices(o)
			mustNil(t, err)
			for _, v := range got {
				all = append(all, v.ServiceName)
			}
			if next == "" {
				break
			}
			o.NextToken = next
		}
		if want := []string{"a1", "a10", "a2", "a3", "b1", "c1"}; !slices.Equal(all, want) {
			t.Fatalf("walk %v, want %v", all, want)
		}
	})
}

func TestModuleDedup(t *testing.T) {
	s := openStore(t, t.TempDir())
	sumA, err := s.PutModule(wasmA)
	mustNil(t, err)
	again, err := s.PutModule(slices.Clone(wasmA))
	mustNil(t, err)
	if again != sumA || sumA != store.Checksum(wasmA) || len(sumA) != 64 {
		t.Fatalf("checksums %q %q", sumA, again)
	}
	got, err := s.GetModule(sumA)
	mustNil(t, err)
	if !slices.Equal(got, wasmA) {
		t.Fatalf("GetModule = %q", got)
	}
	got[0] = 'X' // the caller owns the copy
	if again, _ := s.GetModule(sumA); again[0] != 0 {
		t.Fatal("GetModule returned shared memory")
	}

	refs := func(want int) {
		t.Helper()
		n, err := s.ModuleRefs(sumA)
		if want < 0 {
			checkErr(t, err, host.KindNotFound, store.ResourceModule)
			return
		}
		mustNil(t, err)
		if n != want {
			t.Fatalf("refs = %d, want %d", n, want)
		}
	}
	refs(0)
	_, err = s.CreateService(host.Service{ServiceName: "demo"})
	mustNil(t, err)
	_, err = s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: "one", CodeChecksum: sumA}, nil)
	mustNil(t, err)
	f2, err := s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: "two"}, wasmA)
	mustNil(t, err)
	if f2.CodeChecksum != sumA {
		t.Fatalf("checksum %q", f2.CodeChecksum)
	}
	refs(2)
	// Updating with the same bytes keeps the count.
	_, err = s.UpdateFunction("demo", "two", wasmA, nil)
	mustNil(t, err)
	refs(2)
	if deleted, err := s.DeleteModuleIfUnused(sumA); err != nil || deleted {
		t.Fatalf("DeleteModuleIfUnused on a used module = %v, %v", deleted, err)
	}
	mustNil(t, s.DeleteFunction("demo", "one"))
	refs(1)
	if _, err := s.GetModule(sumA); err != nil {
		t.Fatalf("module dropped while still used: %v", err)
	}
	mustNil(t, s.DeleteFunction("demo", "two"))
	refs(-1)

	t.Run("unused module", func(t *testing.T) {
		sum, err := s.PutModule(wasmB)
		mustNil(t, err)
		deleted, err := s.DeleteModuleIfUnused(sum)
		if err != nil || !deleted {
			t.Fatalf("DeleteModuleIfUnused = %v, %v", deleted, err)
		}
		deleted, err = s.DeleteModuleIfUnused(sum)
		if err != nil || deleted {
			t.Fatalf("second DeleteModuleIfUnused = %v, %v", deleted, err)
		}
	})
	t.Run("bad arguments", func(t *testing.T) {
		_, err := s.PutModule(nil)
		checkErr(t, err, host.KindInvalidArgument, 0)
		_, err = s.GetModule("ABC")
		checkErr(t, err, host.KindInvalidArgument, 0)
		_, err = s.GetModule(strings.Repeat("a", 64))
		checkErr(t, err, host.KindNotFound, store.ResourceModule)
		_, err = s.DeleteModuleIfUnused("../x")
		checkErr(t, err, host.KindInvalidArgument, 0)
	})
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir, store.Options{SyncWrites: true})
	mustNil(t, err)
	_, err = s.CreateService(host.Service{ServiceName: "demo", Description: "kept"})
	mustNil(t, err)
	_, err = s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: "hello", MaxInstances: 4}, wasmA)
	mustNil(t, err)
	_, err = s.CreateTrigger(host.Trigger{ServiceName: "demo", FunctionName: "hello", TriggerName: "web"})
	mustNil(t, err)
	mustNil(t, s.Close())

	s = openStore(t, dir)
	svc, err := s.GetService("demo")
	mustNil(t, err)
	f, err := s.GetFunction("demo", "hello")
	mustNil(t, err)
	_, err = s.GetTrigger("demo", "hello", "web")
	mustNil(t, err)
	wasm, err := s.GetModule(f.CodeChecksum)
	mustNil(t, err)
	if svc.Description != "kept" || f.MaxInstances != 4 || !slices.Equal(wasm, wasmA) {
		t.Fatalf("after reopen: %+v %+v %q", svc, f, wasm)
	}
}

func TestSchemaVersion(t *testing.T) {
	tests := []struct {
		name    string
		version string
		wantErr bool
	}{
		{"current", "1", false},
		{"older", "0", false},
		{"newer", "2", true},
		{"garbage", "x", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := store.Open(dir, store.Options{})
			mustNil(t, err)
			mustNil(t, s.Close())
			db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
			mustNil(t, err)
			mustNil(t, db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("schema"), []byte(tc.version)) }))
			mustNil(t, db.Close())

			s, err = store.Open(dir, store.Options{})
			if !tc.wantErr {
				mustNil(t, err)
				mustNil(t, s.Close())
				return
			}
			if err == nil {
				s.Close()
				t.Fatal("Open accepted it")
			}
			if tc.version == "2" && !errors.Is(err, store.ErrSchemaTooNew) {
				t.Fatalf("err = %v, want ErrSchemaTooNew", err)
			}
			// The directory must be usable again (Open released the lock).
			db, err = badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
			mustNil(t, err)
			db.Close()
		})
	}
}

func TestInMemory(t *testing.T) {
	s, err := store.Open("", store.Options{InMemory: true})
	mustNil(t, err)
	defer s.Close()
	_, err = s.CreateService(host.Service{ServiceName: "m"})
	mustNil(t, err)
	if _, err := s.GetService("m"); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentCreate: 8 goroutines create functions (sharing one module)
// in one service; every write lands, the reference count is exact, and
// concurrent deletes of the service never leave orphans.
func TestConcurrentCreate(t *testing.T) {
	s := openStore(t, t.TempDir())
	_, err := s.CreateService(host.Service{ServiceName: "demo"})
	mustNil(t, err)
	// A seed function keeps the service non-empty for the racing deleter.
	_, err = s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: "seed"}, wasmB)
	mustNil(t, err)
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*2)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				_, err := s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: fmt.Sprintf("f%d_%d", w, i)}, wasmA)
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Go(func() { // a deleter racing the creators: must always see "not empty"
		for range 50 {
			if err := s.DeleteService("demo"); err != nil && host.ErrorKind(err) != host.KindNotEmpty && host.ErrorKind(err) != host.KindConflict {
				errs <- err
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := 0
	for next := ""; ; {
		page, n, err := s.ListFunctions("demo", store.ListOptions{Limit: store.MaxListLimit, NextToken: next})
		mustNil(t, err)
		total += len(page)
		if n == "" {
			break
		}
		next = n
	}
	if total != workers*each+1 {
		t.Fatalf("%d functions, want %d", total, workers*each)
	}
	if n, err := s.ModuleRefs(store.Checksum(wasmA)); err != nil || n != workers*each {
		t.Fatalf("refs = %d, %v; want %d", n, err, workers*each)
	}

	// Now delete them all concurrently; the module goes with the last one.
	var wg2 sync.WaitGroup
	for w := range workers {
		wg2.Go(func() {
			for i := range each {
				if err := s.DeleteFunction("demo", fmt.Sprintf("f%d_%d", w, i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg2.Wait()
	mustNil(t, s.DeleteFunction("demo", "seed"))
	if _, err := s.GetModule(store.Checksum(wasmA)); host.ErrorKind(err) != host.KindNotFound {
		t.Fatalf("module after deleting every function: %v", err)
	}
	mustNil(t, s.DeleteService("demo"))
}

// TestConcurrentDeleteServiceVsCreateFunction: either the service is deleted
// and the create fails with not found, or the create wins and the delete
// fails with not empty — never a function without its service.
func TestConcurrentDeleteServiceVsCreateFunction(t *testing.T) {
	s := openStore(t, t.TempDir())
	for i := range 50 {
		name := fmt.Sprintf("s%d", i)
		_, err := s.CreateService(host.Service{ServiceName: name})
		mustNil(t, err)
		var wg sync.WaitGroup
		var createErr, deleteErr error
		wg.Go(func() { _, createErr = s.CreateFunction(host.Function{ServiceName: name, FunctionName: "f"}, wasmA) })
		wg.Go(func() { deleteErr = s.DeleteService(name) })
		wg.Wait()
		_, svcErr := s.GetService(name)
		_, fnErr := s.GetFunction(name, "f")
		switch {
		case createErr == nil && deleteErr != nil:
			checkErr(t, deleteErr, host.KindNotEmpty, store.ResourceService)
			mustNil(t, svcErr)
			mustNil(t, fnErr)
		case createErr != nil && deleteErr == nil:
			checkErr(t, createErr, host.KindNotFound, store.ResourceService)
			checkErr(t, svcErr, host.KindNotFound, store.ResourceService)
		default:
			t.Fatalf("round %d: create %v, delete %v", i, createErr, deleteErr)
		}
	}
}

func TestHTTPTrigger(t *testing.T) {
	s := openStore(t, t.TempDir())
	_, err := s.CreateService(host.Service{ServiceName: "demo"})
	mustNil(t, err)
	for _, fn := range []string{"hello", "bare"} {
		_, err = s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: fn}, wasmA)
		mustNil(t, err)
	}
	web, err := s.CreateTrigger(host.Trigger{ServiceName: "demo", FunctionName: "hello", TriggerName: "web",
		TriggerConfig: host.HTTPTriggerConfig{AuthType: host.AuthAnonymous, Methods: []string{"GET"}}})
	mustNil(t, err)

	got, err := s.HTTPTrigger("demo", "hello")
	mustNil(t, err)
	if got.TriggerName != "web" || got.ServiceName != "demo" || got.FunctionName != "hello" || got.TriggerID != web.TriggerID ||
		got.TriggerConfig.AuthType != host.AuthAnonymous || !slices.Equal(got.TriggerConfig.Methods, []string{"GET"}) {
		t.Fatalf("HTTPTrigger = %+v, want %+v", got, web)
	}

	tests := []struct {
		name     string
		svc, fn  string
		kind     host.Kind
		res      store.Resource
		resource string // ResourceError.Name
	}{
		{"no trigger", "demo", "bare", host.KindNotFound, store.ResourceTrigger, "demo/bare"},
		{"missing function", "demo", "nope", host.KindNotFound, store.ResourceFunction, "demo/nope"},
		{"missing service", "nope", "hello", host.KindNotFound, store.ResourceService, "nope"},
		{"invalid service", "a/b", "hello", host.KindInvalidArgument, 0, ""},
		{"invalid function", "demo", "", host.KindInvalidArgument, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.HTTPTrigger(tc.svc, tc.fn)
			checkErr(t, err, tc.kind, tc.res)
			var re *store.ResourceError
			if tc.resource != "" && (!errors.As(err, &re) || re.Name != tc.resource) {
				t.Fatalf("err %v, want resource %q", err, tc.resource)
			}
		})
	}

	t.Run("second HTTP trigger", func(t *testing.T) {
		_, err := s.CreateTrigger(host.Trigger{ServiceName: "demo", FunctionName: "hello", TriggerName: "web2"})
		checkErr(t, err, host.KindConflict, store.ResourceTrigger)
		var re *store.ResourceError
		if errors.As(err, &re); re.Name != "demo/hello/web" {
			t.Fatalf("conflict names %q, want the existing trigger", re.Name)
		}
		if !strings.Contains(err.Error(), `already has HTTP trigger "web"`) {
			t.Fatalf("message does not name the existing trigger: %v", err)
		}
		if _, err := s.GetTrigger("demo", "hello", "web2"); host.ErrorKind(err) != host.KindNotFound {
			t.Fatalf("refused trigger stored: %v", err)
		}
	})
	t.Run("replace after delete", func(t *testing.T) {
		mustNil(t, s.DeleteTrigger("demo", "hello", "web"))
		_, err := s.HTTPTrigger("demo", "hello")
		checkErr(t, err, host.KindNotFound, store.ResourceTrigger)
		_, err = s.CreateTrigger(host.Trigger{ServiceName: "demo", FunctionName: "hello", TriggerName: "web2"})
		mustNil(t, err)
		got, err := s.HTTPTrigger("demo", "hello")
		mustNil(t, err)
		if got.TriggerName != "web2" {
			t.Fatalf("HTTPTrigger = %+v", got)
		}
	})
	t.Run("message says which is missing", func(t *testing.T) {
		_, err := s.HTTPTrigger("demo", "bare")
		if want := `trigger "demo/bare" not found`; !strings.Contains(err.Error(), want) {
			t.Fatalf("err %q lacks %q", err, want)
		}
	})
}

// TestConcurrentHTTPTriggers: of creates racing to give one function an
// HTTP trigger, exactly one wins.
func TestConcurrentHTTPTriggers(t *testing.T) {
	s := openStore(t, t.TempDir())
	_, err := s.CreateService(host.Service{ServiceName: "demo"})
	mustNil(t, err)
	for round := range 20 {
		fn := fmt.Sprintf("f%d", round)
		_, err := s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: fn}, wasmA)
		mustNil(t, err)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = s.CreateTrigger(host.Trigger{ServiceName: "demo", FunctionName: fn, TriggerName: fmt.Sprintf("t%d", i)})
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else {
				checkErr(t, err, host.KindConflict, store.ResourceTrigger)
			}
		}
		trs, _, err := s.ListTriggers("demo", fn, store.ListOptions{})
		mustNil(t, err)
		if won != 1 || len(trs) != 1 {
			t.Fatalf("round %d: %d creates won, %d triggers stored", round, won, len(trs))
		}
	}
}

// BenchmarkHTTPTrigger: the lookup the HTTP layer makes per request,
// beside GetTrigger (by name) for scale, among 1000 functions.
func BenchmarkHTTPTrigger(b *testing.B) {
	s := openStore(b, b.TempDir())
	if _, err := s.CreateService(host.Service{ServiceName: "demo"}); err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		fn := fmt.Sprintf("f%d", i)
		if _, err := s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: fn}, wasmA); err != nil {
			b.Fatal(err)
		}
		if _, err := s.CreateTrigger(host.Trigger{ServiceName: "demo", FunctionName: fn, TriggerName: "web"}); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("HTTPTrigger", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.HTTPTrigger("demo", "f500"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetTrigger", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.GetTrigger("demo", "f500", "web"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestDeleteFunctionDropsAsyncConfig: a function re-created under the same
// name does not inherit the deleted one's async config.
func TestDeleteFunctionDropsAsyncConfig(t *testing.T) {
	s, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateService(host.Service{ServiceName: "s"}); err != nil {
		t.Fatal(err)
	}
	wasm := []byte("\x00asm\x01\x00\x00\x00")
	f := host.Function{ServiceName: "s", FunctionName: "f", MemorySize: 64, Timeout: 3}
	if _, err := s.CreateFunction(f, wasm); err != nil {
		t.Fatal(err)
	}
	two := 2
	if _, err := s.PutAsyncConfig(host.AsyncConfig{ServiceName: "s", FunctionName: "f", MaxAsyncRetryAttempts: &two}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteFunction("s", "f"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateFunction(f, wasm); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAsyncConfig("s", "f"); host.ErrorKind(err) != host.KindNotFound {
		t.Fatalf("async config survived the function: %v", err)
	}
}
