// Go twin of bench/src/workloads/timers.rs.
package main

import (
	"runtime"
	"time"
)

func registerTimers(cells map[string]cell) {
	addMeasure(cells, "timer", "new+stop", "ns/op", func(n int) (float64, bool) {
		return nsPerOp(n, func(n int) int {
			ok := 0
			for i := 0; i < n; i++ {
				t := time.NewTimer(time.Hour)
				if t.Stop() {
					ok++
				}
			}
			return ok
		})
	})
}

// pendingTimers is timer_pending: live heap per pending time.NewTimer(1h).
func pendingTimers(n int) (float64, bool) {
	timers := make([]*time.Timer, 0, n)
	per := heapDelta(n, func() any {
		for i := 0; i < n; i++ {
			timers = append(timers, time.NewTimer(time.Hour))
		}
		return nil
	})
	ok := 0
	for _, t := range timers {
		if t.Stop() {
			ok++
		}
	}
	runtime.KeepAlive(timers)
	return per, ok == n
}
