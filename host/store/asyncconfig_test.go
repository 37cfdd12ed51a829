package store_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fnhost/fnhost/host"
	"github.com/fnhost/fnhost/host/store"
)

func TestAsyncConfig(t *testing.T) {
	var clock atomic.Int64
	clock.Store(t0.Unix())
	s, err := store.Open(t.TempDir(), store.Options{Now: func() time.Time { return time.Unix(clock.Load(), 0) }})
	mustNil(t, err)
	defer s.Close()
	retries, age := 1, int64(600)
	c := host.AsyncConfig{ServiceName: "demo", FunctionName: "hello",
		MaxAsyncRetryAttempts: &retries, MaxAsyncEventAgeInSeconds: &age, StatefulInvocation: true,
		DestinationConfig: &host.DestinationConfig{OnFailure: &host.Destination{Destination: "fnhost:demo/dlq"}}}

	_, err = s.PutAsyncConfig(c)
	checkErr(t, err, host.KindNotFound, store.ResourceService)
	_, err = s.CreateService(host.Service{ServiceName: "demo"})
	mustNil(t, err)
	_, err = s.PutAsyncConfig(c)
	checkErr(t, err, host.KindNotFound, store.ResourceFunction)
	_, err = s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: "hello"}, wasmA)
	mustNil(t, err)

	_, err = s.GetAsyncConfig("demo", "hello")
	checkErr(t, err, host.KindNotFound, store.ResourceAsyncConfig)
	var re *store.ResourceError
	if errors.As(err, &re); re.Name != "demo/hello" || re.Resource.String() != "AsyncConfig" {
		t.Fatalf("resource error %+v", re)
	}
	list, err := s.ListAsyncConfigs("demo", "hello")
	mustNil(t, err)
	if list == nil || len(list) != 0 {
		t.Fatalf("list %+v", list)
	}

	created, err := s.PutAsyncConfig(c)
	mustNil(t, err)
	if created.Qualifier != "LATEST" || created.CreatedTime != "2026-11-25T08:00:00Z" || created.LastModifiedTime != created.CreatedTime ||
		*created.MaxAsyncRetryAttempts != 1 || created.DestinationConfig.OnFailure.Destination != "fnhost:demo/dlq" {
		t.Fatalf("created %+v", created)
	}
	got, err := s.GetAsyncConfig("demo", "hello")
	mustNil(t, err)
	if got.CreatedTime != created.CreatedTime || *got.MaxAsyncEventAgeInSeconds != 600 || got.ServiceName != "demo" || got.Qualifier != "LATEST" {
		t.Fatalf("got %+v", got)
	}

	clock.Add(60)
	replaced, err := s.PutAsyncConfig(host.AsyncConfig{ServiceName: "demo", FunctionName: "hello", Qualifier: "LATEST"})
	mustNil(t, err)
	if replaced.CreatedTime != created.CreatedTime || replaced.LastModifiedTime != "2026-11-25T08:01:00Z" ||
		replaced.MaxAsyncRetryAttempts != nil || replaced.DestinationConfig != nil {
		t.Fatalf("replaced %+v", replaced)
	}
	list, err = s.ListAsyncConfigs("demo", "hello")
	mustNil(t, err)
	if len(list) != 1 || list[0].LastModifiedTime != replaced.LastModifiedTime {
		t.Fatalf("list %+v", list)
	}

	mustNil(t, s.DeleteAsyncConfig("demo", "hello"))
	checkErr(t, s.DeleteAsyncConfig("demo", "hello"), host.KindNotFound, store.ResourceAsyncConfig)
	_, err = s.GetAsyncConfig("demo", "hello")
	checkErr(t, err, host.KindNotFound, store.ResourceAsyncConfig)
	clock.Add(60)
	again, err := s.PutAsyncConfig(c)
	mustNil(t, err)
	if again.CreatedTime != "2026-11-25T08:02:00Z" {
		t.Fatalf("recreated %+v", again)
	}

	t.Run("invalid", func(t *testing.T) {
		neg, big, zero, huge := -1, 9, int64(0), int64(604801)
		tests := []struct {
			name string
			edit func(*host.AsyncConfig)
		}{
			{"bad service", func(c *host.AsyncConfig) { c.ServiceName = "1x" }},
			{"bad function", func(c *host.AsyncConfig) { c.FunctionName = "" }},
			{"qualifier", func(c *host.AsyncConfig) { c.Qualifier = "1" }},
			{"negative retries", func(c *host.AsyncConfig) { c.MaxAsyncRetryAttempts = &neg }},
			{"too many retries", func(c *host.AsyncConfig) { c.MaxAsyncRetryAttempts = &big }},
			{"zero age", func(c *host.AsyncConfig) { c.MaxAsyncEventAgeInSeconds = &zero }},
			{"too old", func(c *host.AsyncConfig) { c.MaxAsyncEventAgeInSeconds = &huge }},
			{"empty destination", func(c *host.AsyncConfig) {
				c.DestinationConfig = &host.DestinationConfig{OnSuccess: &host.Destination{}}
			}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				bad := c
				tc.edit(&bad)
				_, err := s.PutAsyncConfig(bad)
				checkErr(t, err, host.KindInvalidArgument, 0)
			})
		}
		_, err := s.GetAsyncConfig("demo", "a/b")
		checkErr(t, err, host.KindInvalidArgument, 0)
		checkErr(t, s.DeleteAsyncConfig("", "x"), host.KindInvalidArgument, 0)
		_, err = s.ListAsyncConfigs("demo", "-")
		checkErr(t, err, host.KindInvalidArgument, 0)
	})

	t.Run("other functions", func(t *testing.T) {
		_, err := s.CreateFunction(host.Function{ServiceName: "demo", FunctionName: "hello2"}, wasmA)
		mustNil(t, err)
		list, err := s.ListAsyncConfigs("demo", "hello2")
		mustNil(t, err)
		if len(list) != 0 {
			t.Fatalf("hello2 lists %+v", list)
		}
	})
}
