package routelabel

import (
	"strings"
	"testing"
)

func TestMatcher_Match(t *testing.T) {
	m, err := New([]string{"/users/{id}", "/users/me", "/users/{id}/orders", "/static/{file...}", "/", "/{page...}"})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/users/42":          "/users/{id}",
		"/users/42?x=1":      "/users/{id}",
		"/users/me":          "/users/me",
		"/users/me/orders":   "/users/{id}/orders",
		"/users/":            "/{page...}", // {id} needs a non-empty segment
		"/static/css/a.css":  "/static/{file...}",
		"/static/":           "/static/{file...}",
		"/":                  "/",
		"/about":             "/{page...}",
		"*":                  Other,
		"":                   Other,
		"/users/42/orders/7": "/{page...}",
	} {
		got := Other
		if i := m.Match([]byte(path)); i >= 0 {
			got = m.Templates()[i]
		}
		if got != want {
			t.Errorf("Match(%q) = %q, want %q", path, got, want)
		}
	}
	none, _ := New([]string{"/a/{x}"})
	if i := none.Match([]byte("/b/c")); i != -1 {
		t.Errorf("Match of an unmatched path = %d, want -1", i)
	}
}

func TestNew_Refuses(t *testing.T) {
	many := make([]string, MaxTemplates+1)
	for i := range many {
		many[i] = "/r" + strings.Repeat("x", i)
	}
	for _, tc := range []struct {
		templates []string
		want      string
	}{
		{[]string{"users/{id}"}, "starting with /"},
		{[]string{"/users/*"}, "glob"},
		{[]string{"/users?id=1"}, "query"},
		{[]string{"/users/id-{id}"}, "whole segment"},
		{[]string{"/files/{path...}/raw"}, "may only end"},
		{[]string{"/users/{}"}, "name the variable"},
		{[]string{"/users/{id-x}"}, "letters, digits"},
		{[]string{"/users/{id}", "/users/{uid}"}, "same paths"},
		{many, "at most 100"},
	} {
		_, err := New(tc.templates)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%.40q) = %v, want an error with %q", tc.templates, err, tc.want)
		}
	}
}

func BenchmarkMatcher_Match(b *testing.B) {
	ts := make([]string, 0, 20)
	for _, r := range []string{"users", "orders", "items", "carts", "sessions", "reports", "invoices", "products", "search", "health"} {
		ts = append(ts, "/api/"+r+"/{id}", "/api/"+r)
	}
	m, err := New(ts)
	if err != nil {
		b.Fatal(err)
	}
	path := []byte("/api/products/12345?full=1")
	b.ReportAllocs()
	for b.Loop() {
		if m.Match(path) < 0 {
			b.Fatal("no match")
		}
	}
}
