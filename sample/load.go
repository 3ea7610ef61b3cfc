package sample

import (
	"context"
	"sync/atomic"
	"time"
)

// sink keeps burnCPU's arithmetic from being optimised away.
var sink atomic.Uint64

// growMemory allocates bytesPerSecond, in ten steps a second, and writes to
// every page so the memory is resident, not just reserved. It keeps
// everything until ctx is done.
func growMemory(ctx context.Context, bytesPerSecond int64) {
	const steps = 10
	chunk := max(bytesPerSecond/steps, 1)
	var held [][]byte
	t := time.NewTicker(time.Second / steps)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		b := make([]byte, chunk)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		held = append(held, b)
	}
}

// burnCPU keeps fraction of one core busy: in every 10ms period it spins
// for fraction of it and sleeps for the rest.
func burnCPU(ctx context.Context, fraction float64) {
	const period = 10 * time.Millisecond
	busy := time.Duration(float64(period) * fraction)
	x := uint64(1)
	for ctx.Err() == nil {
		start := time.Now()
		for time.Since(start) < busy {
			for range 1000 {
				x = x*6364136223846793005 + 1442695040888963407
			}
		}
		if idle := period - time.Since(start); idle > 0 {
			time.Sleep(idle)
		}
	}
	sink.Store(x)
}
