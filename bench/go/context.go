// Go twin of bench/src/workloads/context.rs, after Go's context/benchmark_test.go. Every
// operation is checked (a cancelled child reports an error, a value is found).
package main

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// addMeasure registers a measurement cell "workload/param/unit".
func addMeasure(cells map[string]cell, workload, param, unit string, f func(n int) (float64, bool)) {
	c := cell{workload: workload, capLabel: param, msg: unit, capacity: 1000, measure: f}
	cells[c.key()] = c
}

// nsPerOp times f, which returns how many of its n operations passed their check.
func nsPerOp(n int, f func(n int) int) (float64, bool) {
	start := time.Now()
	ok := f(n)
	return float64(time.Since(start).Nanoseconds()) / float64(n), ok == n
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

type rootKey struct{}

func registerContext(cells map[string]cell) {
	addMeasure(cells, "ctx_child", "create+cancel", "ns/op", func(n int) (float64, bool) {
		parent, pc := context.WithCancel(context.Background())
		defer pc()
		return nsPerOp(n, func(n int) int {
			ok := 0
			for i := 0; i < n; i++ {
				ctx, cancel := context.WithCancel(parent)
				cancel()
				if ctx.Err() == context.Canceled {
					ok++
				}
			}
			return ok
		})
	})

	for _, depth := range []int{1, 10, 100, 1000} {
		depth := depth
		addMeasure(cells, "ctx_tree", fmt.Sprintf("depth %d", depth), "ns/op", func(n int) (float64, bool) {
			return nsPerOp(n, func(n int) int {
				ok := 0
				for i := 0; i < n; i++ {
					root, cancel := context.WithCancel(context.Background())
					leaf := root
					for d := 0; d < depth; d++ {
						leaf, _ = context.WithCancel(leaf) // as buildContextTree
					}
					cancel()
					if leaf.Err() == context.Canceled {
						ok++
					}
				}
				return ok
			})
		})
	}

	addMeasure(cells, "ctx_check", "err() live", "ns/op", func(n int) (float64, bool) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		return nsPerOp(n, func(n int) int {
			ok := 0
			for i := 0; i < n; i++ {
				if ctx.Err() == nil {
					ok++
				}
			}
			return ok
		})
	})
	addMeasure(cells, "ctx_check", "done() live", "ns/op", func(n int) (float64, bool) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		return nsPerOp(n, func(n int) int {
			ok := 0
			for i := 0; i < n; i++ {
				select {
				case <-ctx.Done():
				default:
					ok++
				}
			}
			return ok
		})
	})

	for _, depth := range []int{10, 100} {
		depth := depth
		addMeasure(cells, "ctx_value", fmt.Sprintf("depth %d", depth), "ns/op", func(n int) (float64, bool) {
			ctx := context.WithValue(context.Background(), rootKey{}, 7)
			for i := 1; i < depth; i++ {
				ctx = context.WithValue(ctx, i, i)
			}
			return nsPerOp(n, func(n int) int {
				ok := 0
				for i := 0; i < n; i++ {
					if v, _ := ctx.Value(rootKey{}).(int); v == 7 {
						ok++
					}
				}
				return ok
			})
		})
	}

	registerBytes(cells)
}

// withTimeout is BenchmarkWithTimeout: live other timeout contexts (made on GOMAXPROCS
// goroutines), then GOMAXPROCS goroutines each create 10 WithTimeout(root, 1h) children
// and cancel them, until n children in all; ns per child.
func withTimeout(live, n int) (float64, bool) {
	procs := runtime.GOMAXPROCS(0)
	root := context.Background()
	var wg sync.WaitGroup
	others := make([][]context.CancelFunc, procs)
	for p := range others {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			cf := make([]context.CancelFunc, live/procs)
			for j := range cf {
				_, cf[j] = context.WithTimeout(root, time.Hour)
			}
			others[p] = cf
		}(p)
	}
	wg.Wait()
	var ok int64
	start := time.Now()
	for p := 0; p < procs; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			lo, hi := share(n, procs, p)
			left := int(hi - lo + 1)
			var ctxs [10]context.Context
			var cfs [10]context.CancelFunc
			mine := int64(0)
			for left > 0 {
				m := left
				if m > 10 {
					m = 10
				}
				for i := 0; i < m; i++ {
					ctxs[i], cfs[i] = context.WithTimeout(root, time.Hour)
				}
				for i := 0; i < m; i++ {
					cfs[i]()
					if ctxs[i].Err() == context.Canceled {
						mine++
					}
				}
				left -= m
			}
			atomic.AddInt64(&ok, mine)
		}(p)
	}
	wg.Wait()
	el := time.Since(start)
	for _, cf := range others {
		for _, f := range cf {
			f()
		}
	}
	return float64(el.Nanoseconds()) / float64(n), int(ok) == n
}

func children(parent context.Context, n int) ([]context.Context, []context.CancelFunc) {
	kids := make([]context.Context, 0, n)
	cfs := make([]context.CancelFunc, 0, n)
	for i := 0; i < n; i++ {
		ctx, cf := context.WithCancel(parent)
		kids = append(kids, ctx)
		cfs = append(cfs, cf)
	}
	return kids, cfs
}

// fanoutCell is the ctx_fanout cell "what n=N" (its parameter carries the size, so
// these cells are made on request: see dynamicCell).
func fanoutCell(what string) func(n int) (float64, bool) {
	switch what {
	case "create":
		return func(n int) (float64, bool) {
			parent, pc := context.WithCancel(context.Background())
			defer pc()
			kids := make([]context.Context, 0, n)
			cfs := make([]context.CancelFunc, 0, n)
			start := time.Now()
			for i := 0; i < n; i++ {
				ctx, cf := context.WithCancel(parent)
				kids = append(kids, ctx)
				cfs = append(cfs, cf)
			}
			el := time.Since(start)
			ok := 0
			for _, k := range kids {
				if k.Err() == nil {
					ok++
				}
			}
			runtime.KeepAlive(cfs)
			return ms(el), ok == n
		}
	case "cancel":
		return func(n int) (float64, bool) {
			parent, pc := context.WithCancel(context.Background())
			kids, cfs := children(parent, n)
			start := time.Now()
			pc()
			ok := 0
			for _, k := range kids {
				if k.Err() != nil {
					ok++
				}
			}
			el := time.Since(start)
			runtime.KeepAlive(cfs)
			return ms(el), ok == n
		}
	case "wake":
		return func(n int) (float64, bool) {
			parent, pc := context.WithCancel(context.Background())
			kids, cfs := children(parent, n)
			var ready, woke, ok int64
			end := make(chan time.Time, 1)
			for _, k := range kids {
				go func(ctx context.Context) {
					done := ctx.Done()
					atomic.AddInt64(&ready, 1)
					<-done
					if ctx.Err() != nil {
						atomic.AddInt64(&ok, 1)
					}
					if atomic.AddInt64(&woke, 1) == int64(n) {
						end <- time.Now()
					}
				}(k)
			}
			for atomic.LoadInt64(&ready) < int64(n) {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(10 * time.Millisecond) // the last ones reach <-done
			start := time.Now()
			pc()
			e := <-end
			runtime.KeepAlive(cfs)
			return ms(e.Sub(start)), int(atomic.LoadInt64(&ok)) == n
		}
	}
	return nil
}

// settleTimers lets every P drop the stopped timers earlier cells left in its timer heap
// (the runtime removes them lazily, when a P schedules or adds a timer), so that their
// memory is not freed in the middle of a measurement.
func settleTimers() {
	var wg sync.WaitGroup
	for p := 0; p < 2*runtime.GOMAXPROCS(0); p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				time.Sleep(50 * time.Microsecond)
				runtime.Gosched()
			}
		}()
	}
	wg.Wait()
}

// heapDelta reports the live heap per item that build leaves behind (HeapAlloc delta
// after GC), keeping what build returns alive until measured.
func heapDelta(n int, build func() any) float64 {
	var a, b runtime.MemStats
	settleTimers()
	runtime.GC()
	runtime.ReadMemStats(&a)
	keep := build()
	runtime.GC()
	runtime.ReadMemStats(&b)
	runtime.KeepAlive(keep)
	return float64(int64(b.HeapAlloc)-int64(a.HeapAlloc)) / float64(n)
}

func registerBytes(cells map[string]cell) {
	for _, v := range []struct {
		param         string
		timeout, done bool
	}{
		{"cancel child", false, false},
		{"cancel child+done", false, true},
		{"timeout child", true, false},
		{"timeout child+done", true, true},
	} {
		v := v
		addMeasure(cells, "ctx_bytes", v.param, "B/node", func(n int) (float64, bool) {
			parent, pc := context.WithCancel(context.Background())
			defer pc()
			kids := make([]context.Context, 0, n)
			cfs := make([]context.CancelFunc, 0, n)
			per := heapDelta(n, func() any {
				for i := 0; i < n; i++ {
					var ctx context.Context
					var cf context.CancelFunc
					if v.timeout {
						ctx, cf = context.WithTimeout(parent, time.Hour)
					} else {
						ctx, cf = context.WithCancel(parent)
					}
					if v.done {
						ctx.Done()
					}
					kids = append(kids, ctx)
					cfs = append(cfs, cf)
				}
				return nil
			})
			ok := 0
			for _, k := range kids {
				if k.Err() == nil {
					ok++
				}
			}
			for _, cf := range cfs {
				cf()
			}
			return per, ok == n
		})
	}
}
