// Go twin of bench/src/workloads/merge.rs: fan-in of 8 input channels (capacity 1000,
// one producer goroutine each) into one consumer, with the merge of the Go blog's
// pipelines article (a goroutine per input forwarding into the output, closed once all
// are done). The cell's capacity is the output's.
package main

import (
	"strconv"
	"sync"
)

const mergeInputs = 8

func merge(outCap, n int) check {
	ins := make([]chan uint64, mergeInputs)
	for k := range ins {
		ins[k] = make(chan uint64, 1000)
		go func(k int) {
			lo, hi := share(n, mergeInputs, k)
			for i := lo; i <= hi; i++ {
				ins[k] <- i
			}
			close(ins[k])
		}(k)
	}
	out := make(chan uint64, outCap)
	var wg sync.WaitGroup
	wg.Add(len(ins))
	for _, in := range ins {
		go func(in chan uint64) {
			for v := range in {
				out <- v
			}
			wg.Done()
		}(in)
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	var c check
	for v := range out {
		c.add(v)
	}
	return c
}

func registerMerge(cells map[string]cell) {
	for _, oc := range []int{0, 1000} {
		oc := oc
		c := cell{"merge", "", "8B", oc, func(n int) check { return merge(oc, n) },
			func(n int) check { return expected(c8, n) }, nil}
		c.capLabel = strconv.Itoa(oc)
		cells[c.key()] = c
	}
}
