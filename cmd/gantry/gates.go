package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/gate"
)

// gateFlags are the flags of commands that deploy behind gates.
type gateFlags struct {
	dryRun   bool
	override string
}

func (g *gateFlags) addFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&g.dryRun, "dry-run", false, "check the environment's gates and show each result; deploy nothing (exit 6 when a gate would refuse)")
	cmd.Flags().StringVar(&g.override, "override-reason", "", "emergency override: deploy past a failing release window, freeze or promotion gate; the reason is kept in the audit log")
}

func (g *gateFlags) request(version string) api.DeployRequest {
	return api.DeployRequest{Version: version, DryRun: g.dryRun, OverrideReason: g.override}
}

// report prints a gated deploy's answer. done says the command ends
// here (a dry run, a refusal, an error) with err; otherwise res.Rollout
// is the started rollout.
func (g *gateFlags) report(out io.Writer, res api.DeployResult, err error, asJSON bool) (done bool, _ error) {
	var ce *client.Error
	if errors.As(err, &ce) && ce.Body.Code == api.CodeRefusedByGate {
		if asJSON {
			printJSON(out, api.DeployResult{Passed: false, Gates: ce.Body.Gates})
		}
		return true, &codedError{exitRefused, err}
	}
	if err != nil {
		return true, err
	}
	if g.dryRun {
		if asJSON {
			return true, printJSON(out, res)
		}
		fmt.Fprint(out, res.Gates.String())
		if !res.Passed {
			return true, &codedError{exitRefused, fmt.Errorf("dry run: a gate would refuse this deploy: %s", res.Gates.Refusal())}
		}
		fmt.Fprintln(out, "dry run: every gate passes; nothing was deployed")
		return true, nil
	}
	if res.Rollout == nil {
		return true, fmt.Errorf("the server answered without a rollout")
	}
	if !asJSON {
		printOverrides(out, res.Gates)
	}
	return false, nil
}

// printOverrides says which gates an override let through.
func printOverrides(out io.Writer, list gate.Checklist) {
	for _, r := range list {
		if r.Status == gate.Overridden {
			fmt.Fprintf(out, "override: gate %s: %s\n", r.Gate, r.Reason)
		}
	}
}
