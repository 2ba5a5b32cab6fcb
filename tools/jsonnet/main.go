// Command jsonnet is hookrelay's Jsonnet evaluator process. The template engine
// (src/templates/engine.ts) runs a small pool of them and sends one render at a time over stdin;
// a render that runs too long is stopped by killing the process from outside.
//
// Protocol, in both directions a header line then raw UTF-8 bytes (no escaping):
//
//	start:    "ready <go-jsonnet version>\n"
//	request:  "<id> <maxBytes> <sourceBytes> <rootBytes>\n" <source> <root JSON>
//	response: "<id> <status> <line> <column> <bodyBytes>\n" <output JSON, or the error message>
//
// status is "ok", "error" (the template failed), or "fatal": the template failed and the process
// is exiting. While a render runs, a watchdog ends the process with a fatal response when the
// heap passes -max-heap-bytes or the render passes -max-render-ms (a backstop: the pool kills
// sooner), and without one when the parent process is gone. Idle, the process exits when stdin
// closes.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	maxHeap := flag.Int64("max-heap-bytes", 512<<20, "stop a render whose heap grows past this")
	maxRender := flag.Duration("max-render", 10*time.Second, "stop a render that runs longer than this")
	maxStack := flag.Int("max-stack-bytes", 64<<20, "deepest goroutine stack (deep tailstrict recursion)")
	flag.Parse()
	// Beyond this the Go runtime aborts with "stack overflow" on stderr, which the pool reports as
	// the template recursing too deeply (go-jsonnet counts frames, but not those of tailstrict calls).
	debug.SetMaxStack(*maxStack)
	// A render allocates ~0.4 MB of short-lived garbage over a live heap of ~10 MB. Measured with
	// the bench script (library Slack template): GOGC 400 against the default 100 took p95 from
	// 1.6 to 1.0 ms and CPU per render from 0.95 to 0.8 ms.
	debug.SetGCPercent(400)
	// Collect harder near the cap, so only a render whose live data is that large reaches it.
	debug.SetMemoryLimit(*maxHeap * 7 / 8)

	out := &responder{w: bufio.NewWriterSize(os.Stdout, 64<<10), started: make(chan struct{}, 1)}
	go out.watch(limits{heapBytes: uint64(*maxHeap), render: *maxRender, parent: os.Getppid()})
	out.ready(version())

	in := bufio.NewReaderSize(os.Stdin, 64<<10)
	evaluator := NewEvaluator()
	for {
		req, err := readRequest(in)
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "jsonnet evaluator:", err)
			os.Exit(2)
		}
		out.begin(req.id)
		out.finish(req.id, evaluator.Render(req.source, req.root, req.maxBytes))
	}
}

type request struct {
	id           string
	maxBytes     int
	source, root string
}

func readRequest(in *bufio.Reader) (request, error) {
	header, err := in.ReadString('\n')
	if err != nil {
		if err == io.EOF && header == "" {
			return request{}, io.EOF
		}
		return request{}, fmt.Errorf("reading a request header: %w", err)
	}
	f := strings.Fields(header)
	if len(f) != 4 {
		return request{}, fmt.Errorf("bad request header %q", header)
	}
	var n [3]int
	for i := range n {
		if n[i], err = strconv.Atoi(f[i+1]); err != nil || n[i] < 0 {
			return request{}, fmt.Errorf("bad request header %q", header)
		}
	}
	body := make([]byte, n[1]+n[2])
	if _, err := io.ReadFull(in, body); err != nil {
		return request{}, fmt.Errorf("reading a request body: %w", err)
	}
	return request{id: f[0], maxBytes: n[0], source: string(body[:n[1]]), root: string(body[n[1]:])}, nil
}

// responder writes responses; the watchdog may answer for the render in flight, so both go
// through its lock.
type responder struct {
	mu       sync.Mutex
	w        *bufio.Writer
	inFlight string
	since    time.Time
	started  chan struct{} // wakes the watchdog when a render begins
}

func (r *responder) ready(version string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.w, "ready %s\n", version)
	r.flush()
}

func (r *responder) begin(id string) {
	r.mu.Lock()
	r.inFlight, r.since = id, time.Now()
	r.mu.Unlock()
	select {
	case r.started <- struct{}{}:
	default: // already awake
	}
}

func (r *responder) finish(id string, res Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight = ""
	r.write(id, res, false)
}

func (r *responder) write(id string, res Result, exiting bool) {
	status, body := "ok", res.Output
	if !res.OK {
		status, body = "error", res.Message
	}
	if exiting {
		status = "fatal"
	}
	fmt.Fprintf(r.w, "%s %s %d %d %d\n", id, status, res.Line, res.Column, len(body))
	r.w.WriteString(body)
	r.flush()
}

func (r *responder) flush() {
	if err := r.w.Flush(); err != nil {
		os.Exit(0) // the parent is gone
	}
}

type limits struct {
	heapBytes uint64
	render    time.Duration
	parent    int
}

// watch checks the render in flight every few milliseconds, and sleeps while there is none. A
// template building an enormous value would otherwise take the machine's memory before the time
// limit stops it; and a render must not outlive a parent that died without killing it (stdin is
// only read between renders).
func (r *responder) watch(l limits) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	for range r.started {
		ticker := time.NewTicker(5 * time.Millisecond)
		for range ticker.C {
			r.mu.Lock()
			id, since := r.inFlight, r.since
			r.mu.Unlock()
			if id == "" {
				break
			}
			if os.Getppid() != l.parent {
				os.Exit(1)
			}
			metrics.Read(sample)
			if heap := sample[0].Value.Uint64(); heap > l.heapBytes {
				r.stop(id, fmt.Sprintf("the template used more than %d MiB of memory and was stopped", l.heapBytes>>20))
			}
			if time.Since(since) > l.render {
				r.stop(id, fmt.Sprintf("the template ran longer than %s and was stopped", l.render))
			}
		}
		ticker.Stop()
	}
}

// stop answers for render id and exits, unless that render has finished meanwhile.
func (r *responder) stop(id, message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inFlight != id {
		return
	}
	r.write(id, Result{Message: message}, true)
	os.Exit(3)
}
