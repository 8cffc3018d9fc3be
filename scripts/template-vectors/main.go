// Writes test/fixtures/template-vectors.json: spec.template.data cases rendered by Go's text/template with the sprig
// function map, exactly as the bitnami controller renders them (sprig.GenericFuncMap minus env, expandenv and
// getHostByName, executed over map[string]string of the decrypted values). Keelson's renderer is tested against it.
// The values hold no \b or \f: Go before 1.22 (Debian's 1.19) writes them as \u0008 / \u000c in toJson, newer Go
// (the bitnami controller's) as \b / \f, which Keelson follows (a unit test pins it).
// Regenerate (Debian: apt-get install golang-go golang-github-masterminds-sprig-dev):
//   GO111MODULE=off GOPATH=/usr/share/gocode go run scripts/template-vectors/main.go > test/fixtures/template-vectors.json
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"runtime"
	"text/template"

	"github.com/Masterminds/sprig"
)

type tcase struct {
	Template string `json:"template"`
	// Output is base64 of Go's output; empty when Go fails.
	Output string `json:"output,omitempty"`
	// GoError is true when Go refuses the template (parse or execution error).
	GoError bool `json:"goError,omitempty"`
	// KeelsonRefuses marks a case Go renders but Keelson refuses on purpose (the README says why): printing a
	// missing key ("<no value>"), b64dec of invalid input (sprig stores Go's error text as the value), and control
	// structures (if/range/with: not in the subset).
	KeelsonRefuses bool `json:"keelsonRefuses,omitempty"`
}

var values = map[string]string{
	"user":    "admin",
	"pass":    "p<w>&\"\n'",
	"empty":   "",
	"unicode": "Grüße İstanbul ǅ ß ﬀ Ωmega",
	"bin":     "\x00\xff\x80a\xe2\x82",
	"spaces":  " \t x y \u00a0\u3000\n",
	"b64":     "aGVsbG8gd29ybGQ=",
	"multi":   "line1\nline2\n\nline4",
	"my.key":  "dotted",
	"ctrl":    "\x01\x7f\u2028\u2029\t\r\u00ad\U0001F600",
	"json":    "{\"a\": [1, 2]}",
}

var templates = []struct {
	t       string
	refuses bool
}{
	{t: "{{ .user }}"}, {t: "{{.user}}"}, {t: "x://{{ .user }}:{{ index . \"pass\" }}@h"}, {t: "{{ index . `my.key` }}"},
	{t: "a  {{- .user -}}  b"}, {t: "{{ .user | b64enc }}"}, {t: "{{ b64enc .pass }}"}, {t: "{{ .bin | b64enc }}"},
	{t: "{{ .b64 | b64dec }}"}, {t: "{{ .user | b64enc | b64dec }}"}, {t: "{{ .user | b64dec }}", refuses: true},
	{t: "{{ .pass | quote }}"}, {t: "{{ quote .user .pass }}"}, {t: "{{ .bin | quote }}"}, {t: "{{ .ctrl | quote }}"},
	{t: "{{ .unicode | quote }}"}, {t: "{{ quote .missing }}"}, {t: "{{ quote 3 true }}"}, {t: "{{ .pass | squote }}"},
	{t: "{{ squote .user 3 }}"}, {t: "{{ .unicode | upper }}"}, {t: "{{ .unicode | lower }}"}, {t: "{{ .user | upper }}"},
	{t: "{{ .bin | upper | b64enc }}"}, {t: "{{ .spaces | trim }}"}, {t: "[{{ trim .user }}]"}, {t: "{{ .bin | trim | b64enc }}"},
	{t: "{{ trimPrefix \"ad\" .user }}"}, {t: "{{ .user | trimSuffix \"in\" }}"}, {t: "{{ .user | trimPrefix \"x\" }}"},
	{t: "{{ replace \"d\" \"D\" .user }}"}, {t: "{{ .multi | replace \"\\n\" \",\" }}"}, {t: "{{ replace \"\" \"-\" .unicode }}"},
	{t: "{{ replace \"aa\" \"b\" \"aaaaa\" }}"}, {t: "{{ .missing | default \"fallback\" }}"}, {t: "{{ .empty | default \"fallback\" }}"},
	{t: "{{ .user | default \"fallback\" }}"}, {t: "{{ default \"d\" }}"}, {t: "{{ index . \"missing\" | default \"dd\" }}"},
	{t: "{{ .user | toJson }}"}, {t: "{{ toJson .pass }}"}, {t: "{{ toJson . }}"}, {t: "{{ .bin | toJson }}"},
	{t: "{{ .ctrl | toJson }}"}, {t: "{{ .unicode | toJson }}"}, {t: "{{ toJson 3 }}"}, {t: "{{ toJson .missing }}"},
	{t: "{{ .multi | indent 4 }}"}, {t: "key:{{ .multi | nindent 2 }}"}, {t: "{{ indent 0 .user }}"}, {t: "{{ .empty | nindent 3 }}"},
	{t: "{{ printf \"%s:%s\" .user .pass }}"}, {t: "{{ printf \"%v-%d-%q\" .user 42 .pass }}"}, {t: "{{ printf \"%x %X\" .user 255 }}"},
	{t: "{{ printf \"100%%\" }}"}, {t: "{{ printf \"%s\" (.user | upper) }}"}, {t: "{{ (printf \"%s-%s\" .user .user) | upper | b64enc }}"},
	{t: "{{ $.user }}{{ index $ \"user\" }}"}, {t: "{{/* a comment */}}x"}, {t: "a {{- /* trimmed */ -}} b"}, {t: "{{ \"\\x41\\u00e9\\101\\t\" }}"},
	{t: "{{ `raw\\n` }}"}, {t: "{{ 42 }}{{ -7 }}{{ true }}"}, {t: "user={{ .user }}\npass={{ .pass | quote }}\n"},
	{t: "{{ .json }}"}, {t: "{{ .user | printf \"<%s>\" }}"}, {t: "{{ .user | quote | b64enc }}"},
	{t: "{{ .missing }}", refuses: true}, {t: "{{ index . \"missing\" }}", refuses: true},
	// Go refuses these too.
	{t: "{{ .missing | upper }}"}, {t: "{{ .user | nosuchfunc }}"}, {t: "{{ .user.x }}"}, {t: "{{ if .user }}x{{ end }}", refuses: true},
	{t: "{{ .user"}, {t: "{{ }}"}, {t: "{{ upper }}"}, {t: "{{ upper .user .pass }}"}, {t: "{{ .user .pass }}"}, {t: "{{ indent \"x\" .user }}"},
	{t: "{{ ( .user }}"}, {t: "{{ .user ) }}"}, {t: "{{ | upper }}"}, {t: "{{ \"unterminated }}"},
}

func main() {
	funcs := sprig.GenericFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	delete(funcs, "getHostByName")
	enc := map[string]string{}
	for k, v := range values {
		enc[k] = base64.StdEncoding.EncodeToString([]byte(v))
	}
	var cases []tcase
	for _, c := range templates {
		tc := tcase{Template: c.t, KeelsonRefuses: c.refuses}
		t, err := template.New("k").Funcs(funcs).Parse(c.t)
		if err == nil {
			var out bytes.Buffer
			if err = t.Execute(&out, values); err == nil {
				tc.Output = base64.StdEncoding.EncodeToString(out.Bytes())
			}
		}
		tc.GoError = err != nil
		cases = append(cases, tc)
	}
	doc := map[string]interface{}{
		"generator": "scripts/template-vectors/main.go, " + runtime.Version() + ", Masterminds/sprig (Debian golang-github-masterminds-sprig-dev)",
		"values":    enc,
		"cases":     cases,
	}
	e := json.NewEncoder(os.Stdout)
	e.SetIndent("", "  ")
	e.SetEscapeHTML(false)
	if err := e.Encode(doc); err != nil {
		panic(err)
	}
}
