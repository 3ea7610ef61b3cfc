package spec

import "testing"

func TestClosest(t *testing.T) {
	known := []string{"maxSurge", "maxUnavailable", "replicas", "workload"}
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"maxsurge", "maxSurge", true},
		{"replica", "replicas", true},
		{"maxUnavailble", "maxUnavailable", true},
		{"wrkload", "workload", true},
		{"image", "", false},
		{"x", "", false},
	}
	for _, tt := range tests {
		got, ok := closest(tt.in, known)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("closest(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestFieldError_Error(t *testing.T) {
	tests := []struct {
		e    FieldError
		want string
	}{
		{FieldError{File: "g.yaml", Line: 3, Column: 5, Path: "spec.replicas", Message: "bad"}, "g.yaml:3:5: spec.replicas: bad"},
		{FieldError{File: "g.yaml", Line: 3, Message: "bad"}, "g.yaml:3: bad"},
		{FieldError{Path: "kind", Message: "bad"}, "kind: bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
