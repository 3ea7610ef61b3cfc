package spec

import (
	"fmt"
	"slices"
	"strings"
)

// smokeTests checks a blue-green strategy's smoke tests: each is an HTTP
// request (path) or a command, never both.
func (v *validator) smokeTests(path string, tests []SmokeTest) {
	first := map[string]int{}
	for i, t := range tests {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		if t.Name != "" {
			if j, dup := first[t.Name]; dup {
				v.add(joinField(ipath, "name"), "%q is already the name of %s[%d]; give each smoke test its own name", t.Name, path, j)
			} else {
				first[t.Name] = i
			}
		}
		hasPath, hasCommand := t.Path != "", t.Command != nil
		switch {
		case !hasPath && !hasCommand:
			v.add(ipath, "a smoke test sets exactly one of path or command, and this one sets neither; add path: /health or command: [./smoke.sh]")
		case hasPath && hasCommand:
			v.add(ipath, "a smoke test sets exactly one of path or command, and this one sets both; split it into two smoke tests")
		}
		if hasPath && !strings.HasPrefix(t.Path, "/") {
			v.add(joinField(ipath, "path"), "%q must start with '/', such as %q", t.Path, "/"+t.Path)
		}
		if hasCommand {
			if len(t.Command) == 0 || t.Command[0] == "" {
				v.add(joinField(ipath, "command"), "must start with the program to run, such as command: [./smoke.sh]")
			}
			// An HTTP field on a command test would be silently ignored.
			for _, f := range []struct {
				name string
				set  bool
			}{{"method", t.Method != ""}, {"body", t.Body != ""}, {"expectStatus", t.ExpectStatus != 0}, {"expectBody", t.ExpectBody != ""}} {
				if f.set && !hasPath {
					v.add(joinField(ipath, f.name), "only applies to an HTTP smoke test (one with path); a command passes on exit status 0; remove %s", f.name)
				}
			}
		}
		if t.Method != "" {
			v.method(joinField(ipath, "method"), t.Method)
		}
		if s := t.ExpectStatus; s != 0 && (s < 100 || s > 599) {
			v.add(joinField(ipath, "expectStatus"), "must be an HTTP status between 100 and 599, got %d; leave it out for %d", s, DefaultSmokeTestStatus)
		}
		if s := t.TimeoutSeconds; s < 0 || s > MaxSmokeTestTimeoutSeconds {
			v.add(joinField(ipath, "timeoutSeconds"), "must be between 0 and %d, got %d; leave it out for %d", MaxSmokeTestTimeoutSeconds, s, DefaultSmokeTestTimeoutSeconds)
		}
	}
}

// method accepts one of SmokeTestMethods, written in capitals.
func (v *validator) method(path, m string) {
	if slices.Contains(SmokeTestMethods, m) {
		return
	}
	if up := strings.ToUpper(m); slices.Contains(SmokeTestMethods, up) {
		v.add(path, "%q must be written in capitals: %s", m, up)
		return
	}
	msg := fmt.Sprintf("%q is not an HTTP method a smoke test can send", m)
	if c, ok := closest(m, SmokeTestMethods); ok {
		msg += fmt.Sprintf("; did you mean %s?", c)
	} else {
		msg += "; use one of " + strings.Join(SmokeTestMethods, ", ")
	}
	v.add(path, "%s", msg)
}
