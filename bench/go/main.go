// Go twin of the gochan-bench workloads (bench/src/workloads): channels here, fan-in in
// merge.go, context in context.go, timers in timers.go. The harness builds this once with
// `go build` and runs it once per round, interleaved with the Rust rounds:
//
//	gochan-bench-go -nslow 4000 -nfast 40000 -cells spsc/0/8B,mpmc/1000/32B,ctx_tree/depth\ 10/ns/op@1000
//
// A cell may carry its size as "@n"; without it, n is -nslow at capacity 0 and 1, else
// -nfast. It prints one JSON object per line: first {"go": version, "gomaxprocs": n}, then
// one {"workload","cap","msg","n","ns_per_msg","ok"} per cell. For a channel cell "ok" is
// the delivery check (every message received exactly once: count, sum and sum of squares
// of 1..=n) and the figure is ns per message; a measurement cell reports its figure in
// its unit (msg: ns/op, ms, B/node, B/timer) and whether every operation passed its check.
// Go has no unbounded channel, so the "unb" cells are not run.
package main

import (
	"encoding/json"
	"flag"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	seqBatch = 1000 // seq sends a batch, then receives it
	fan      = 4    // senders of mpsc/mpmc, receivers of mpmc, channels of select_rx
)

// crowds are the parties of the contention rows mpmc_16x16 and mpmc_64x64 (that many
// senders and as many receivers), at capacity 1 and 1000 like the Rust rows.
var crowds = []int{16, 64}

type check struct{ count, sum, sumsq uint64 }

func (c *check) add(v uint64) {
	c.count++
	c.sum += v
	c.sumsq += v * v
}

func (c *check) merge(o check) {
	c.count += o.count
	c.sum += o.sum
	c.sumsq += o.sumsq
}

// codec makes the message carrying sequence number i, and folds a message back to it.
type codec[T any] struct {
	mk  func(uint64) T
	val func(T) uint64
}

const mix = 0x9E3779B97F4A7C15

var (
	c8  = codec[uint64]{func(i uint64) uint64 { return i }, func(m uint64) uint64 { return m }}
	c0  = codec[struct{}]{func(uint64) struct{} { return struct{}{} }, func(struct{}) uint64 { return 0 }}
	c32 = codec[[4]uint64]{
		func(i uint64) [4]uint64 { return [4]uint64{i, i ^ mix, ^i, i * 3} },
		func(m [4]uint64) uint64 {
			i := m[0]
			if m[1] == i^mix && m[2] == ^i && m[3] == i*3 {
				return i
			}
			return ^uint64(0) / 3
		},
	}
)

func expected[T any](cd codec[T], n int) check {
	var c check
	for i := 1; i <= n; i++ {
		c.add(cd.val(cd.mk(uint64(i))))
	}
	return c
}

// share is the range of sequence numbers party k of parts sends: together exactly 1..=n.
func share(n, parts, k int) (uint64, uint64) {
	return uint64(n*k/parts) + 1, uint64(n * (k + 1) / parts)
}

func seq[T any](cd codec[T], capacity, n int) check {
	ch := make(chan T, capacity)
	var c check
	for next := 1; next <= n; {
		end := next + seqBatch - 1
		if end > n {
			end = n
		}
		for i := next; i <= end; i++ {
			ch <- cd.mk(uint64(i))
		}
		for i := next; i <= end; i++ {
			c.add(cd.val(<-ch))
		}
		next = end + 1
	}
	return c
}

func pipes[T any](cd codec[T], capacity, n, senders, receivers int) check {
	ch := make(chan T, capacity)
	var wg sync.WaitGroup
	for k := 0; k < senders; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			lo, hi := share(n, senders, k)
			for i := lo; i <= hi; i++ {
				ch <- cd.mk(i)
			}
		}(k)
	}
	results := make(chan check, receivers)
	for r := 0; r < receivers; r++ {
		go func() {
			var c check
			for m := range ch {
				c.add(cd.val(m))
			}
			results <- c
		}()
	}
	wg.Wait()
	close(ch)
	var total check
	for r := 0; r < receivers; r++ {
		total.merge(<-results)
	}
	return total
}

func selectRx[T any](cd codec[T], capacity, n int) check {
	var chs [fan]chan T
	var wg sync.WaitGroup
	for k := range chs {
		chs[k] = make(chan T, capacity)
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			lo, hi := share(n, fan, k)
			for i := lo; i <= hi; i++ {
				chs[k] <- cd.mk(i)
			}
		}(k)
	}
	var c check
	for int(c.count) < n {
		select {
		case m := <-chs[0]:
			c.add(cd.val(m))
		case m := <-chs[1]:
			c.add(cd.val(m))
		case m := <-chs[2]:
			c.add(cd.val(m))
		case m := <-chs[3]:
			c.add(cd.val(m))
		}
	}
	wg.Wait()
	return c
}

func selectBoth[T any](cd codec[T], capacity, n int) check {
	ab, ba := make(chan T, capacity), make(chan T, capacity)
	results := make(chan check, 2)
	party := func(tx chan<- T, rx <-chan T, lo, hi uint64, quota int) {
		var c check
		next := lo
		for next <= hi && int(c.count) < quota {
			select {
			case tx <- cd.mk(next):
				next++
			case m := <-rx:
				c.add(cd.val(m))
			}
		}
		for ; next <= hi; next++ {
			tx <- cd.mk(next)
		}
		for int(c.count) < quota {
			c.add(cd.val(<-rx))
		}
		results <- c
	}
	alo, ahi := share(n, 2, 0)
	blo, bhi := share(n, 2, 1)
	go party(ab, ba, alo, ahi, int(bhi-blo+1))
	go party(ba, ab, blo, bhi, int(ahi-alo+1))
	var total check
	total.merge(<-results)
	total.merge(<-results)
	return total
}

// cell is one runnable workload configuration: run returns what was received, want
// what a correct run receives. A measurement cell (context, timers: see context.go) has
// measure instead, which returns its figure in the cell's unit (msg) and whether every
// operation passed its check.
type cell struct {
	workload, capLabel, msg string
	capacity                int
	run, want               func(n int) check
	measure                 func(n int) (float64, bool)
}

func (c cell) key() string { return c.workload + "/" + c.capLabel + "/" + c.msg }

func register[T any](cells map[string]cell, msg string, cd codec[T]) {
	add := func(w string, capacity int, f func(n int) check) {
		c := cell{w, strconv.Itoa(capacity), msg, capacity, f, func(n int) check { return expected(cd, n) }, nil}
		cells[c.key()] = c
	}
	for _, c := range []int{0, 1, 1000} {
		c := c
		if c >= seqBatch {
			add("seq", c, func(n int) check { return seq(cd, c, n) })
		}
		add("spsc", c, func(n int) check { return pipes(cd, c, n, 1, 1) })
		add("mpsc", c, func(n int) check { return pipes(cd, c, n, fan, 1) })
		add("mpmc", c, func(n int) check { return pipes(cd, c, n, fan, fan) })
		add("select_rx", c, func(n int) check { return selectRx(cd, c, n) })
		add("select_both", c, func(n int) check { return selectBoth(cd, c, n) })
		if c >= 1 && msg == "8B" {
			for _, p := range crowds {
				p := p
				w := "mpmc_" + strconv.Itoa(p) + "x" + strconv.Itoa(p)
				add(w, c, func(n int) check { return pipes(cd, c, n, p, p) })
			}
		}
	}
}

type line struct {
	Workload string  `json:"workload"`
	Cap      string  `json:"cap"`
	Msg      string  `json:"msg"`
	N        int     `json:"n"`
	NsPerMsg float64 `json:"ns_per_msg"`
	Ok       bool    `json:"ok"`
}

func main() {
	nslow := flag.Int("nslow", 4000, "messages per run at capacity 0 and 1")
	nfast := flag.Int("nfast", 40000, "messages per run at capacity 1000")
	rounds := flag.Int("rounds", 1, "rounds")
	only := flag.String("cells", "", "comma-separated workload/cap/msg cells to run (default: all)")
	flag.Parse()

	cells := map[string]cell{}
	register(cells, "8B", c8)
	register(cells, "0B", c0)
	register(cells, "32B", c32)
	registerMerge(cells)
	registerContext(cells)
	registerTimers(cells)
	var keys []string
	sizes := map[string]int{} // from "workload/cap/msg@n"
	if *only == "" {
		for _, w := range []string{"seq", "spsc", "mpsc", "mpmc", "mpmc_16x16", "mpmc_64x64", "select_rx", "select_both"} {
			for _, c := range []string{"0", "1", "1000"} {
				if _, ok := cells[w+"/"+c+"/8B"]; ok {
					keys = append(keys, w+"/"+c+"/8B")
				}
			}
		}
	} else {
		for _, k := range strings.Split(*only, ",") {
			if at := strings.LastIndex(k, "@"); at >= 0 {
				if n, err := strconv.Atoi(k[at+1:]); err == nil && n > 0 {
					sizes[k[:at]] = n
				}
				k = k[:at]
			}
			if _, ok := cells[k]; !ok {
				if c, ok := dynamicCell(k); ok {
					cells[k] = c
				}
			}
			if _, ok := cells[k]; ok {
				keys = append(keys, k) // cells Go cannot run (unbounded) are skipped
			}
		}
	}

	enc := json.NewEncoder(os.Stdout)
	_ = enc.Encode(map[string]any{"go": runtime.Version(), "gomaxprocs": runtime.GOMAXPROCS(0)})
	n := func(c cell) int {
		if m, ok := sizes[c.key()]; ok {
			return m
		}
		if c.capacity <= 1 {
			return *nslow
		}
		return *nfast
	}
	for _, k := range keys { // warm-up at a tenth of the messages
		c := cells[k]
		w := n(c) / 10
		if w < 100 {
			w = 100
		}
		if c.measure != nil {
			c.measure(w)
		} else {
			c.run(w)
		}
	}
	for r := 0; r < *rounds; r++ {
		for _, k := range keys {
			c := cells[k]
			m := n(c)
			if c.measure != nil {
				fig, ok := c.measure(m)
				_ = enc.Encode(line{c.workload, c.capLabel, c.msg, m, fig, ok})
				continue
			}
			start := time.Now()
			got := c.run(m)
			el := time.Since(start)
			_ = enc.Encode(line{c.workload, c.capLabel, c.msg, m,
				float64(el.Nanoseconds()) / float64(m), got == c.want(m)})
		}
	}
}

// dynamicCell makes the cells whose parameter is a number ("ctx_fanout/create
// n=100000/ms", "ctx_timeout/4000 live/ns/op", "timer_pending/n=1000000/B/timer"); the
// run's size itself comes with "@n".
func dynamicCell(key string) (cell, bool) {
	parts := strings.SplitN(key, "/", 3)
	if len(parts) != 3 {
		return cell{}, false
	}
	var f func(n int) (float64, bool)
	switch {
	case parts[0] == "ctx_fanout" && parts[2] == "ms":
		what, _, _ := strings.Cut(parts[1], " ")
		f = fanoutCell(what)
	case parts[0] == "ctx_timeout" && parts[2] == "ns/op" && strings.HasSuffix(parts[1], " live"):
		live, err := strconv.Atoi(strings.TrimSuffix(parts[1], " live"))
		if err == nil && live >= 0 {
			f = func(n int) (float64, bool) { return withTimeout(live, n) }
		}
	case parts[0] == "timer_pending" && parts[2] == "B/timer" && strings.HasPrefix(parts[1], "n="):
		f = pendingTimers
	}
	if f == nil {
		return cell{}, false
	}
	return cell{workload: parts[0], capLabel: parts[1], msg: parts[2], capacity: 1000, measure: f}, true
}
