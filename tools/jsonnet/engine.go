// Package main is hookrelay's Jsonnet evaluator: go-jsonnet behind a small stdin/stdout protocol
// (main.go). This file holds the evaluation itself, which `go test` exercises and benchmarks.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-jsonnet"
	"github.com/google/go-jsonnet/ast"
)

// templateFile is the name errors use for the user's template.
const templateFile = "template"

// prelude binds the free variable `root` to the event. It sits alone on the first line, so every
// position in the user's template is one line further down; errors are shifted back (userLocation).
const prelude = "local root = std.extVar('root');\n"
const preludeLines = 1

// Result is one evaluation's outcome: the compact JSON text of the value, or an error located in
// the user's template (Line and Column are 0 when the error has no place in it).
type Result struct {
	OK      bool
	Output  string
	Message string
	Line    int
	Column  int
}

// refuseImports is the importer: templates may not read files (or anything else).
type refuseImports struct{}

func (refuseImports) Import(_, importedPath string) (jsonnet.Contents, string, error) {
	return jsonnet.Contents{}, "", fmt.Errorf("imports are not allowed in templates (tried to import %q)", importedPath)
}

type parsed struct {
	node ast.Node
	err  error
}

// Evaluator keeps one VM and the parsed form of the templates it has seen: a webhook renders the
// same template for every event, so parsing and desugaring it once saves most of the work.
type Evaluator struct {
	vm    *jsonnet.VM
	cache map[string]parsed
}

const maxCachedTemplates = 256

func NewEvaluator() *Evaluator {
	vm := jsonnet.MakeVM()
	vm.Importer(refuseImports{})
	vm.SetTraceOut(io.Discard)
	vm.OutputNewline = false
	return &Evaluator{vm: vm, cache: make(map[string]parsed)}
}

func (e *Evaluator) parse(source string) (ast.Node, error) {
	if p, ok := e.cache[source]; ok {
		return p.node, p.err
	}
	node, err := jsonnet.SnippetToAST(templateFile, prelude+source)
	if len(e.cache) >= maxCachedTemplates {
		clear(e.cache)
	}
	e.cache[source] = parsed{node, err}
	return node, err
}

// Render evaluates source with `root` bound to the JSON document rootJSON, and refuses output of
// more than maxBytes bytes (compact JSON).
func (e *Evaluator) Render(source, rootJSON string, maxBytes int) Result {
	node, err := e.parse(source)
	if err != nil {
		return failure(err)
	}
	rootNode, err := jsonToNode(rootJSON)
	if err != nil {
		return Result{Message: err.Error()}
	}
	e.vm.ExtNode("root", rootNode)
	out, err := e.vm.Evaluate(node)
	if err != nil {
		return failure(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(out)); err != nil {
		return Result{Message: "the template's output is not valid JSON: " + err.Error()}
	}
	if compact.Len() > maxBytes {
		return Result{Message: fmt.Sprintf("the rendered payload is %d bytes, over the limit of %d bytes", compact.Len(), maxBytes)}
	}
	return Result{OK: true, Output: compact.String()}
}

// failure turns a go-jsonnet error into a message and the position in the user's template.
func failure(err error) Result {
	var runtimeErr jsonnet.RuntimeError
	if errors.As(err, &runtimeErr) {
		r := Result{Message: runtimeErr.Msg}
		// The innermost frame inside the template (the trace runs outermost first): an error raised
		// in the standard library is reported where the template called it.
		for i := len(runtimeErr.StackTrace) - 1; i >= 0; i-- {
			if line, col, ok := userLocation(runtimeErr.StackTrace[i].Loc); ok {
				r.Line, r.Column = line, col
				break
			}
		}
		return r
	}
	// Parse and static-analysis errors (go-jsonnet's internal StaticError) carry one location.
	if located, ok := err.(interface{ Loc() ast.LocationRange }); ok {
		loc := located.Loc()
		msg := strings.TrimPrefix(err.Error(), loc.String()+" ")
		r := Result{Message: msg}
		r.Line, r.Column, _ = userLocation(loc)
		return r
	}
	return Result{Message: err.Error()}
}

func userLocation(loc ast.LocationRange) (line, column int, ok bool) {
	if loc.FileName != templateFile || !loc.IsSet() || loc.Begin.Line <= preludeLines {
		return 0, 0, false
	}
	return loc.Begin.Line - preludeLines, loc.Begin.Column, true
}
