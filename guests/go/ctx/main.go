// Command ctx answers with the invocation context as JSON. counter counts
// the invocations this instance has served, showing instance reuse.
package main

import (
	"encoding/json"

	"github.com/fnhost/fnhost/sdk/go/fnhost"
)

type info struct {
	RequestID     string `json:"requestId"`
	Service       string `json:"service"`
	Function      string `json:"function"`
	Qualifier     string `json:"qualifier"`
	InstanceID    string `json:"instanceId"`
	MemoryLimitMB int    `json:"memoryLimitMB"`
	RemainingMS   int64  `json:"remainingMs"`
	Attempt       int    `json:"attempt"`
	Counter       int    `json:"counter"`
}

var counter int

func init() {
	fnhost.Handle(func(w fnhost.ResponseWriter, r *fnhost.Request) {
		counter++
		b, err := json.Marshal(info{
			RequestID:     fnhost.RequestID(),
			Service:       fnhost.Service(),
			Function:      fnhost.Function(),
			Qualifier:     fnhost.Qualifier(),
			InstanceID:    fnhost.InstanceID(),
			MemoryLimitMB: fnhost.MemoryLimitMB(),
			RemainingMS:   fnhost.Remaining().Milliseconds(),
			Attempt:       fnhost.Attempt(),
			Counter:       counter,
		})
		if err != nil {
			w.SetStatus(500)
			w.WriteString(err.Error())
			return
		}
		w.AddHeader("Content-Type", "application/json")
		w.Write(b)
	})
}

func main() {}
