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
// is exiting, which it does when that render's heap passes -max-heap-bytes. It also exits when
// stdin closes (its parent is gone).
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

// exitOutOfMemory is the exit status after the heap watchdog stopped a render.
const exitOutOfMemory = 3

func main() {
	maxHeap := flag.Int64("max-heap-bytes", 512<<20, "stop a render whose heap grows past this")
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

	out := &responder{w: bufio.NewWriterSize(os.Stdout, 64<<10)}
	go out.watchHeap(uint64(*maxHeap))
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

// responder writes responses; the heap watchdog may answer for the render in flight, so both
// go through its lock.
type responder struct {
	mu       sync.Mutex
	w        *bufio.Writer
	inFlight string
}

func (r *responder) ready(version string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.w, "ready %s\n", version)
	r.flush()
}

func (r *responder) begin(id string) {
	r.mu.Lock()
	r.inFlight = id
	r.mu.Unlock()
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

// watchHeap stops the process when the heap passes limit: a template building an enormous value
// would otherwise take the machine's memory before the time limit stops it.
func (r *responder) watchHeap(limit uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	for range time.Tick(5 * time.Millisecond) {
		metrics.Read(sample)
		if sample[0].Value.Uint64() <= limit {
			continue
		}
		r.mu.Lock()
		if r.inFlight != "" {
			r.write(r.inFlight, Result{Message: fmt.Sprintf("the template used more than %d MiB of memory and was stopped", limit>>20)}, true)
		}
		os.Exit(exitOutOfMemory)
	}
}
