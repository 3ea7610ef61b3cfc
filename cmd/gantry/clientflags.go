package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/client"
)

// remote holds the flags every command that talks to a server shares.
type remote struct {
	server string
	token  string
	output string
	env    string
}

func (r *remote) addFlags(cmd *cobra.Command, withEnv bool) {
	cmd.Flags().StringVar(&r.server, "server", "", "gantry server URL (default $GANTRY_SERVER, the config file's server:, or "+client.DefaultServer+")")
	cmd.Flags().StringVar(&r.token, "token", "", "API token (default $GANTRY_TOKEN, or the config file's token: in ~/.config/gantry/config.yaml or $GANTRY_CONFIG)")
	cmd.Flags().StringVarP(&r.output, "output", "o", "", "output format: json, or empty for text")
	if withEnv {
		cmd.Flags().StringVarP(&r.env, "env", "e", "", "environment (may be left out when the app has only one)")
		// Shell completion (gantry completion bash|zsh|fish) asks the server.
		cmd.ValidArgsFunction = r.completeApps
		_ = cmd.RegisterFlagCompletionFunc("env", r.completeEnvs)
	}
}

// completeApps completes an APP argument with the server's apps.
func (r *remote) completeApps(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c, err := r.client()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	apps, err := c.Apps(cmd.Context())
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var names []string
	for _, a := range apps {
		names = append(names, a.Name)
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// completeEnvs completes --env with the environments of the app named
// first, or of every app.
func (r *remote) completeEnvs(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	c, err := r.client()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	apps, err := c.Apps(cmd.Context())
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	seen := map[string]bool{}
	var envs []string
	for _, a := range apps {
		if len(args) > 0 && a.Name != args[0] {
			continue
		}
		for _, e := range a.Environments {
			if !seen[e] {
				seen[e] = true
				envs = append(envs, e)
			}
		}
	}
	return envs, cobra.ShellCompDirectiveNoFileComp
}

func (r *remote) client() (*client.Client, error) {
	if err := r.checkOutput(); err != nil {
		return nil, err
	}
	cfg, err := loadConfig()
	if err != nil {
		return nil, err
	}
	srv := cmp.Or(r.server, os.Getenv("GANTRY_SERVER"), cfg.Server)
	token := cmp.Or(r.token, os.Getenv("GANTRY_TOKEN"), cfg.Token)
	actor := os.Getenv("GANTRY_ACTOR")
	if actor == "" {
		actor = os.Getenv("USER")
	}
	return client.New(client.Options{Server: srv, Actor: actor, Token: strings.TrimSpace(token)})
}

// target connects to the server and resolves the environment of app.
func (r *remote) target(ctx context.Context, app string) (*client.Client, string, error) {
	c, err := r.client()
	if err != nil {
		return nil, "", err
	}
	env, err := r.environment(ctx, c, app)
	if err != nil {
		return nil, "", err
	}
	return c, env, nil
}

func (r *remote) checkOutput() error {
	switch r.output {
	case "", "json", "text":
		return nil
	}
	return fmt.Errorf("--output %q is not supported: use json, or leave it out for text", r.output)
}

func (r *remote) json() bool { return r.output == "json" }

// environment returns --env, or the app's only environment when it has one.
func (r *remote) environment(ctx context.Context, c *client.Client, app string) (string, error) {
	if r.env != "" {
		return r.env, nil
	}
	apps, err := c.Apps(ctx)
	if err != nil {
		return "", err
	}
	for _, a := range apps {
		if a.Name != app {
			continue
		}
		if len(a.Environments) == 1 {
			return a.Environments[0], nil
		}
		return "", fmt.Errorf("app %s has several environments (%s): choose one with --env", app, strings.Join(a.Environments, ", "))
	}
	return "", fmt.Errorf("app %q is not applied: run gantry apply -f gantry.yaml first", app)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
