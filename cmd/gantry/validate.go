package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/spec"
)

func init() { register(newValidateCmd) }

// newValidateCmd checks a gantry.yaml locally, without a server.
func newValidateCmd() *cobra.Command {
	var file, output, baseDir string
	cmd := &cobra.Command{
		Use:   "validate [-f FILE] [-o json]",
		Short: "Check a gantry.yaml and report every problem with its file:line:column",
		Long: "Validate parses a gantry.yaml strictly (unknown fields, wrong types, out-of-range values,\n" +
			"impossible combinations) and prints every problem at once, or a one-line summary.\n" +
			"The exit code is 1 when the file is not valid.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "" && output != "json" && output != "text" {
				return fmt.Errorf("--output %q is not supported: use json, or leave it out for text", output)
			}
			rep := validateFile(file)
			if rep.Valid {
				app, _ := spec.ParseFile(file)
				rep.Warnings = commandWarnings(file, app, baseDir)
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else if rep.Valid {
				fmt.Fprintln(cmd.OutOrStdout(), rep.summary())
				for _, w := range rep.Warnings {
					fmt.Fprintln(cmd.ErrOrStderr(), w)
				}
			} else {
				for _, e := range rep.Errors {
					fmt.Fprintln(cmd.ErrOrStderr(), e)
				}
			}
			if !rep.Valid {
				return fmt.Errorf("%s is not valid: %s", file, countNoun(len(rep.Errors), "error"))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "gantry.yaml", "gantry.yaml to check")
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: json, or empty for text")
	cmd.Flags().StringVar(&baseDir, "base-dir", ".", "directory relative workload commands resolve from, as gantry server --base-dir")
	return cmd
}

// validateReport is what validate prints with -o json.
type validateReport struct {
	Valid bool `json:"valid"`
	// App and Environments are set when Valid.
	App          string             `json:"app,omitempty"`
	Environments []validatedEnv     `json:"environments,omitempty"`
	Errors       []*spec.FieldError `json:"errors"`
	// Warnings name what is valid but will not work here, such as a
	// workload command that is not found.
	Warnings []string `json:"warnings,omitempty"`
}

// validatedEnv is one environment as it resolves.
type validatedEnv struct {
	Name     string `json:"name"`
	Backend  string `json:"backend"`
	Strategy string `json:"strategy"`
	Replicas int    `json:"replicas"`
}

// validateFile parses and resolves file; a problem that is not about a
// field (an unreadable file) becomes an error with the file name only.
func validateFile(file string) validateReport {
	rep := validateReport{Errors: []*spec.FieldError{}}
	app, err := spec.ParseFile(file)
	if err != nil {
		var list spec.ErrorList
		if errors.As(err, &list) {
			rep.Errors = list
		} else {
			rep.Errors = []*spec.FieldError{{File: file, Message: err.Error()}}
		}
		return rep
	}
	rep.Valid, rep.App = true, app.Metadata.Name
	for _, name := range app.EnvironmentNames() {
		s, err := app.Resolve(name)
		if err != nil {
			rep.Valid = false
			rep.Errors = append(rep.Errors, &spec.FieldError{File: file, Message: err.Error()})
			continue
		}
		e, _ := app.Environment(name)
		rep.Environments = append(rep.Environments, validatedEnv{
			Name: name, Backend: e.BackendName(), Strategy: s.StrategyType().String(), Replicas: s.ReplicaCount(),
		})
	}
	return rep
}

// summary is the one line printed for a valid file, such as
// "gemini-api: valid; 3 environments: development (RollingUpdate, local, 3 replicas), ...".
func (r validateReport) summary() string {
	envs := make([]string, len(r.Environments))
	for i, e := range r.Environments {
		envs[i] = fmt.Sprintf("%s (%s, %s, %s)", e.Name, e.Strategy, e.Backend, countNoun(e.Replicas, "replica"))
	}
	return fmt.Sprintf("%s: valid; %s: %s", r.App, countNoun(len(envs), "environment"), strings.Join(envs, ", "))
}

func countNoun(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
