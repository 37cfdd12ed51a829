package jobs_test

import (
	"fmt"

	"github.com/fnhost/fnhost/host/jobs"
)

func ExampleValidDestination() {
	for _, d := range []string{
		"https://example.com/hook",
		"acs:fc:cn-hangzhou:123:services/svc.LATEST/functions/fn",
		"fnhost:svc/fn",
		"acs:mns:cn-hangzhou:123:/queues/q/messages",
	} {
		fmt.Println(d, jobs.ValidDestination(d) == nil)
	}
	// Output:
	// https://example.com/hook true
	// acs:fc:cn-hangzhou:123:services/svc.LATEST/functions/fn true
	// fnhost:svc/fn true
	// acs:mns:cn-hangzhou:123:/queues/q/messages false
}

func ExampleValidInvocationID() {
	fmt.Println(jobs.ValidInvocationID("order-42_retry"), jobs.ValidInvocationID("42"))
	// Output: true false
}
