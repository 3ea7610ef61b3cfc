package rollout

import (
	"fmt"
	"strings"
)

// ReasonsMarkdown renders Reasons as docs/reasons.md: one table per group,
// in list order. `go generate ./rollout` writes the file; a test fails
// when it is stale.
func ReasonsMarkdown() string {
	var b strings.Builder
	b.WriteString(`# Reasons

<!-- Generated from rollout.Reasons by "go generate ./rollout"; do not edit. -->

Every event and every rollout carries a **reason**: a CamelCase name that says what happened or why
the rollout is in its phase. Programs branch on the reason and read the facts from ` + "`details`" + `
(in the API and in ` + "`-o json`" + `); the ` + "`message`" + ` renders those facts for people and is never parsed.
An event that records a transition also has ` + "`from`" + ` and ` + "`to`" + `, the rollout's phases before and after.
`)
	group := ""
	for _, r := range Reasons {
		if r.Group != group {
			group = r.Group
			fmt.Fprintf(&b, "\n## %s\n\n| reason | type | meaning |\n|---|---|---|\n", group)
		}
		typ := string(r.Type)
		if typ == "" {
			typ = "either"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", r.Reason, typ, r.Meaning)
	}
	return b.String()
}
