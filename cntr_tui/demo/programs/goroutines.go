// cntr-tui demo program: goroutines parked in known functions, for the goroutine list.
//
//	waitForOrders  blocked on a channel receive  (waiting, "chan receive")
//	sleeper        in time.Sleep                 (waiting, "sleep")
//	spinner        counting in a loop            (running or runnable)
//	main           blocked in a select           (waiting, "select")
//
// It prints `ready` once each goroutine is parked where it should be (checked with
// runtime.Stack, no sleep), and exits on SIGTERM or SIGINT.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	orders = make(chan int)
	spins  uint64
)

//go:noinline
func waitForOrders(started chan<- string) {
	started <- "waitForOrders"
	for order := range orders {
		fmt.Println("order", order)
	}
}

//go:noinline
func sleeper(started chan<- string) {
	started <- "sleeper"
	for {
		time.Sleep(time.Hour)
	}
}

//go:noinline
func spinner(started chan<- string) {
	started <- "spinner"
	for {
		atomic.AddUint64(&spins, 1)
	}
}

// parked: every goroutine of `waits` ("[chan receive]" -> "main.waitForOrders(") is
// listed by runtime.Stack in that state and function.
func parked(waits map[string]string) bool {
	buffer := make([]byte, 1<<16)
	dump := buffer[:runtime.Stack(buffer, true)]
	for state, function := range waits {
		found := false
		for _, block := range bytes.Split(dump, []byte("\n\n")) {
			if bytes.Contains(block, []byte(state)) && bytes.Contains(block, []byte(function)) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	started := make(chan string)
	go waitForOrders(started)
	go sleeper(started)
	go spinner(started)
	for i := 0; i < 3; i++ {
		<-started
	}
	waits := map[string]string{
		"[chan receive]:": "main.waitForOrders(",
		"[sleep]:":        "main.sleeper(",
	}
	for !parked(waits) {
		runtime.Gosched()
	}
	fmt.Println("ready 4 goroutines")
	quit := make(chan struct{})
	select {
	case <-stop:
	case <-quit:
	}
}
