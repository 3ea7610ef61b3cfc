package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

func init() { register(newVersionCmd) }

// Set at build time, for example:
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse HEAD) -X main.date=$(date -u +%FT%TZ)" ./cmd/gantry
//
// Left empty, commit and date come from the Go toolchain's VCS stamp
// (go build in a git checkout), and version from the module version.
var (
	version = "dev"
	commit  = ""
	date    = ""
)

// buildInfo is what `gantry version` says of one binary.
type buildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Date    string `json:"date,omitempty"`
	// Modified: built from a checkout with uncommitted changes.
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go,omitempty"`
}

// clientBuild describes this binary.
func clientBuild() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: date, Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if b.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		b.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if b.Commit == "" {
				b.Commit = s.Value
			}
		case "vcs.time":
			if b.Date == "" {
				b.Date = s.Value
			}
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String renders "v1.2.3 (commit 0fe15d2, built 2026-11-28T23:19:27Z)".
func (b buildInfo) String() string {
	s := b.Version
	var parts []string
	if b.Commit != "" {
		c := b.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		if b.Modified {
			c += "+changes"
		}
		parts = append(parts, "commit "+c)
	}
	if b.Date != "" {
		parts = append(parts, "built "+b.Date)
	}
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}

// gantryVersion is the one-line version the server reports of itself.
func gantryVersion() string { return clientBuild().String() }

func newVersionCmd() *cobra.Command {
	var r remote
	var clientOnly bool
	cmd := &cobra.Command{
		Use:   "version [--client]",
		Short: "Print the version, commit and build date of this gantry and of the server it talks to",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := r.checkOutput(); err != nil {
				return err
			}
			out := map[string]any{"client": clientBuild()}
			var serverErr error
			if !clientOnly {
				c, err := r.client()
				if err != nil {
					return err
				}
				v, err := c.Version(cmd.Context())
				if err != nil {
					serverErr = err
				} else {
					out["server"] = v
				}
			}
			if r.json() {
				if err := printJSON(cmd.OutOrStdout(), out); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "client: gantry %s, %s\n", clientBuild(), runtime.Version())
				if v, ok := out["server"].(map[string]string); ok {
					fmt.Fprintf(cmd.OutOrStdout(), "server: gantry %s (API %s)\n", v["version"], v["api"])
				}
			}
			if serverErr != nil {
				return fmt.Errorf("server version: %w (gantry version --client prints this binary's only)", serverErr)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&clientOnly, "client", false, "print this binary's version only; do not ask the server")
	r.addFlags(cmd, false)
	return cmd
}
