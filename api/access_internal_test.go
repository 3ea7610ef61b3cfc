package api

import (
	"net/http"
	"strings"
	"testing"
)

func TestRouter_refusesRoutesWithoutAccess(t *testing.T) {
	for name, a := range map[string]Access{
		"zero":      {},
		"no scope":  {Role: 1, Action: "x"},
		"no role":   {Scope: ScopeEnv, Action: "x"},
		"no action": {Role: 1, Scope: ScopeEnv},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(r.(string), "no access rule") {
					t.Errorf("handle with %+v: panic %v, want one saying the route has no access rule", a, r)
				}
			}()
			rt := &router{mux: http.NewServeMux(), h: &handler{}}
			rt.handle("GET /x", a, func(http.ResponseWriter, *http.Request) {})
		})
	}
}
