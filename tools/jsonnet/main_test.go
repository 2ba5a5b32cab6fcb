package main

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"
	"testing"
)

func TestReadRequest(t *testing.T) {
	source, root := "{ s: root.s + 'é' }", `{"s":"😀"}`
	in := bufio.NewReader(strings.NewReader("7 100 " + strconv.Itoa(len(source)) + " " + strconv.Itoa(len(root)) + "\n" + source + root))
	req, err := readRequest(in)
	if err != nil || req.id != "7" || req.maxBytes != 100 || req.source != source || req.root != root {
		t.Fatalf("got %+v, %v", req, err)
	}
	if _, err := readRequest(in); err != io.EOF {
		t.Fatalf("after the last request: %v, want EOF", err)
	}
	for _, bad := range []string{"7 100 5\n", "7 100 -1 0\n", "7 100 x 0\n", "7 100 50 0\nshort"} {
		if _, err := readRequest(bufio.NewReader(strings.NewReader(bad))); err == nil || err == io.EOF {
			t.Errorf("%q: got %v, want a protocol error", bad, err)
		}
	}
}

func TestResponsesCountBytes(t *testing.T) {
	var buf bytes.Buffer
	r := &responder{w: bufio.NewWriter(&buf), started: make(chan struct{}, 1)}
	r.begin("1")
	r.finish("1", Result{OK: true, Output: `"é😀"`})
	r.finish("2", Result{Message: "boom", Line: 3, Column: 4})
	want := "1 ok 0 0 8\n\"é😀\"" + "2 error 3 4 4\nboom"
	if buf.String() != want {
		t.Fatalf("got %q, want %q", buf.String(), want)
	}
}
