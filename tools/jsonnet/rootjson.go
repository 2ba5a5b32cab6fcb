package main

import (
	"encoding/json"
	"fmt"

	"github.com/google/go-jsonnet/ast"
)

// jsonToNode turns a JSON document into the desugared Jsonnet AST of the same value, to be bound
// with VM.ExtNode. Binding the event with ExtCode instead would run it through the Jsonnet lexer,
// parser, desugarer and static analyser at every render, which measured as the largest single
// cost of a small template. Object fields stay lazy thunks, so the parts of the event a template
// never reads cost little.
func jsonToNode(doc string) (ast.Node, error) {
	p := jsonParser{s: doc}
	p.space()
	node, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, p.errorf("unexpected %q after the document", p.s[p.i])
	}
	return node, nil
}

const maxJSONDepth = 1000

type jsonParser struct {
	s string
	i int
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid root JSON at offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *jsonParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) literal(word string) bool {
	if len(p.s)-p.i >= len(word) && p.s[p.i:p.i+len(word)] == word {
		p.i += len(word)
		return true
	}
	return false
}

func (p *jsonParser) value(depth int) (ast.Node, error) {
	if depth > maxJSONDepth {
		return nil, p.errorf("nested deeper than %d", maxJSONDepth)
	}
	if p.i >= len(p.s) {
		return nil, p.errorf("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &ast.LiteralString{Value: s, Kind: ast.StringDouble}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.i
		for p.i < len(p.s) && isNumberByte(p.s[p.i]) {
			p.i++
		}
		return &ast.LiteralNumber{OriginalString: p.s[start:p.i]}, nil
	case p.literal("true"):
		return &ast.LiteralBoolean{Value: true}, nil
	case p.literal("false"):
		return &ast.LiteralBoolean{Value: false}, nil
	case p.literal("null"):
		return &ast.LiteralNull{}, nil
	default:
		return nil, p.errorf("unexpected %q", c)
	}
}

func isNumberByte(c byte) bool {
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

func (p *jsonParser) str() (string, error) {
	start := p.i
	p.i++ // opening quote
	escaped := false
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '\\':
			escaped = true
			p.i += 2
			continue
		case '"':
			p.i++
			if !escaped {
				return p.s[start+1 : p.i-1], nil
			}
			var s string
			if err := json.Unmarshal([]byte(p.s[start:p.i]), &s); err != nil {
				return "", p.errorf("%v", err)
			}
			return s, nil
		}
		p.i++
	}
	return "", p.errorf("unterminated string")
}

func (p *jsonParser) object(depth int) (ast.Node, error) {
	p.i++ // {
	obj := &ast.DesugaredObject{}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return obj, nil
	}
	for {
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, p.errorf("expected a field name")
		}
		name, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, p.errorf("expected ':'")
		}
		p.i++
		p.space()
		body, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		obj.Fields = append(obj.Fields, ast.DesugaredObjectField{
			Name: &ast.LiteralString{Value: name, Kind: ast.StringDouble},
			Body: body,
			Hide: ast.ObjectFieldInherit,
		})
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return obj, nil
		}
		return nil, p.errorf("expected ',' or '}'")
	}
}

func (p *jsonParser) array(depth int) (ast.Node, error) {
	p.i++ // [
	arr := &ast.Array{}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return arr, nil
	}
	for {
		p.space()
		el, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		arr.Elements = append(arr.Elements, ast.CommaSeparatedExpr{Expr: el})
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return arr, nil
		}
		return nil, p.errorf("expected ',' or ']'")
	}
}
