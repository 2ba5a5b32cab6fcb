package main

import (
	"os"
	"strings"
	"testing"
)

const slack = `
local inc = root.data.resource_data;
local colors = { triggered: '#d9534f', acknowledged: '#f0ad4e', resolved: '#5cb85c' };
{
  text: '[%s] %s' % [std.asciiUpper(inc.status), inc.message],
  attachments: [{
    color: std.get(colors, inc.status, '#777777'),
    fields: [
      { title: 'Service', value: inc.service.name, short: true },
      { title: 'Assigned to', value: if inc.assigned_to != null then inc.assigned_to.name else 'nobody', short: true },
    ] + (if inc.tags != null then [{ title: 'Tags', value: std.join(', ', [k + '=' + inc.tags[k].value for k in std.objectFields(inc.tags)]) }] else []),
    text: if std.get(inc, 'description', '') != '' then inc.description else null,
  }],
}
`

func fixture(t testing.TB) string {
	b, err := os.ReadFile("../../src/payloads/fixtures/v2/incident-triggered.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRender(t *testing.T) {
	e := NewEvaluator()
	r := e.Render(slack, fixture(t), 1<<20)
	if !r.OK || !strings.Contains(r.Output, `"text":"[TRIGGERED] test incident"`) {
		t.Fatalf("%+v", r)
	}
}

func TestErrors(t *testing.T) {
	e := NewEvaluator()
	cases := []struct {
		src          string
		line, column int
		msg          string
	}{
		{"{ a: foo }", 1, 6, "Unknown variable: foo"},
		{"{\n  a: root.nope,\n}", 2, 6, "Field does not exist: nope"},
		{"{\n  a: 1 +,\n}", 2, 9, "Unexpected"},
		{"local x = import 'a.libsonnet'; x", 1, 11, "imports are not allowed"},
		{"\n\n  error 'boom'", 3, 3, "boom"},
		{"std.split(1, ',')", 1, 1, "split"},
	}
	for _, c := range cases {
		r := e.Render(c.src, fixture(t), 1<<20)
		if r.OK || r.Line != c.line || r.Column != c.column || !strings.Contains(r.Message, c.msg) {
			t.Errorf("%q: %+v", c.src, r)
		}
	}
}

func BenchmarkSlack(b *testing.B) {
	e := NewEvaluator()
	root := fixture(b)
	for i := 0; i < b.N; i++ {
		if r := e.Render(slack, root, 1<<20); !r.OK {
			b.Fatal(r.Message)
		}
	}
}
