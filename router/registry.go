package router

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Factory makes a router. The server calls it once, when an environment
// first names the router, with everything the router needs bound in.
type Factory func() (Router, error)

// Registry maps a router's type, as an environment's spec names it
// (spec.kubernetes.router.type), to its factory, as backend.Registry does
// for backends.
type Registry map[string]Factory

// Names returns the registered types, sorted.
func (r Registry) Names() []string { return slices.Sorted(maps.Keys(r)) }

// Lookup returns the factory of the router of type name. An unknown type
// is an error that lists the known ones.
func (r Registry) Lookup(name string) (Factory, error) {
	if f, ok := r[name]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("router type %q is not available on this server; known router types: %s", name, strings.Join(r.Names(), ", "))
}
