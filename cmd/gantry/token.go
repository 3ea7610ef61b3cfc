package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/server"
	"github.com/gantry-dev/gantry/store/postgres"
	"github.com/gantry-dev/gantry/store/sqlite"
)

func init() { register(newTokenCmd) }

func newTokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke API tokens",
		Long: `API tokens authenticate the CLI and other clients to gantry server. Each
token grants one role on one or more environments ("*": every one):
viewer < deployer < approver < admin.

A token's secret is shown once, when it is created; gantry stores only its
SHA-256. The CLI sends a token from --token, $GANTRY_TOKEN, or the config
file (~/.config/gantry/config.yaml or $GANTRY_CONFIG: "token: ...").

Managing tokens through the server needs role admin on every environment.
With --data (or --database) the commands work on the state store directly,
without a server: use that to recover when no admin token is left.`,
	}
	cmd.AddCommand(newTokenCreateCmd(), newTokenListCmd(), newTokenRevokeCmd())
	return cmd
}

// offline holds the flags of commands that can work on the store directly.
type offline struct {
	data     string
	database string
}

func (o *offline) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.data, "data", "", "work on the state store in this data directory directly, without a server")
	cmd.Flags().StringVar(&o.database, "database", "", "work on this state store directly (postgres://… or sqlite:///path), without a server")
}

func (o *offline) enabled() bool { return o.data != "" || o.database != "" }

// localStore is a state store opened by the CLI itself.
type localStore interface {
	auth.TokenStore
	Close() error
}

// open opens the store --data or --database names.
func (o *offline) open(ctx context.Context) (localStore, error) {
	data := o.data
	if data == "" {
		data = ".gantry"
	}
	d, err := server.ParseStateDatabase(o.database, data, "")
	if err != nil {
		return nil, err
	}
	switch d.Kind {
	case server.PostgreSQL:
		return postgres.Open(ctx, d.URL)
	default:
		if _, err := os.Stat(d.Path); err != nil {
			return nil, fmt.Errorf("no state store at %s (--data %s): %w", d.Path, data, err)
		}
		return sqlite.Open(ctx, d.Path)
	}
}

func newTokenCreateCmd() *cobra.Command {
	var (
		r       remote
		o       offline
		role    string
		envs    []string
		name    string
		expires time.Duration
	)
	cmd := &cobra.Command{
		Use:   "create --role ROLE --env ENV [--env ENV…]",
		Short: "Create a token and print its secret (shown only once)",
		Example: `  gantry token create --role deployer --env staging --env production --name ci --expires 720h
  gantry token create --role admin --env '*' --name ops --data .gantry   # without a server`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ro, err := auth.ParseRole(role)
			if err != nil {
				return fmt.Errorf("--role: %w", err)
			}
			if len(envs) == 0 {
				return errors.New(`--env is required: name an environment (repeat for more), or --env '*' for every environment`)
			}
			if expires < 0 {
				return fmt.Errorf("--expires %v is negative: give a duration such as 720h, or 0 for never", expires)
			}
			var res api.TokenCreateResponse
			if o.enabled() {
				if err := r.checkOutput(); err != nil {
					return err
				}
				s, err := o.open(cmd.Context())
				if err != nil {
					return err
				}
				defer s.Close()
				secret, t, err := auth.Issue(cmd.Context(), s, auth.IssueRequest{
					Name: name, Grants: auth.Grants(ro, envs...), TTL: expires, CreatedBy: "offline:" + os.Getenv("USER"),
				})
				if err != nil {
					return err
				}
				res = api.TokenCreateResponse{Token: api.TokenInfo{Token: t, State: t.State(time.Now())}, Secret: secret}
			} else {
				c, err := r.client()
				if err != nil {
					return err
				}
				req := api.TokenCreateRequest{Name: name, Role: ro, Envs: envs}
				if expires > 0 {
					req.ExpiresIn = expires.String()
				}
				if res, err = c.CreateToken(cmd.Context(), req); err != nil {
					return err
				}
			}
			if r.json() {
				return printJSON(cmd.OutOrStdout(), res)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "token %s (%s): %s, %s\n\n  %s\n\n", res.Token.Name, res.Token.ID, grantsText(res.Token.Grants), expiryText(res.Token.ExpiresAt), res.Secret)
			fmt.Fprintln(w, "This secret is shown only once: store it now (GANTRY_TOKEN, or token: in ~/.config/gantry/config.yaml).")
			return nil
		},
	}
	r.addFlags(cmd, false)
	o.addFlags(cmd)
	cmd.Flags().StringVar(&role, "role", "", "role to grant: viewer, deployer, approver or admin (required)")
	cmd.Flags().StringArrayVar(&envs, "env", nil, `environment the role applies to; repeat for more; '*' for every environment (required)`)
	cmd.Flags().StringVar(&name, "name", "token", "what the token is for, such as ci; shown in errors and the audit log")
	expires = 30 * 24 * time.Hour
	cmd.Flags().Var((*days)(&expires), "expires", "how long the token works, such as 30d, 12h or 90m; 0: never expires")
	return cmd
}

func newTokenListCmd() *cobra.Command {
	var (
		r remote
		o offline
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ts []api.TokenInfo
			if o.enabled() {
				if err := r.checkOutput(); err != nil {
					return err
				}
				s, err := o.open(cmd.Context())
				if err != nil {
					return err
				}
				defer s.Close()
				list, err := s.ListTokens(cmd.Context())
				if err != nil {
					return err
				}
				for _, t := range list {
					ts = append(ts, api.TokenInfo{Token: t, State: t.State(time.Now())})
				}
			} else {
				c, err := r.client()
				if err != nil {
					return err
				}
				if ts, err = c.Tokens(cmd.Context()); err != nil {
					return err
				}
			}
			if r.json() {
				if ts == nil {
					ts = []api.TokenInfo{}
				}
				return printJSON(cmd.OutOrStdout(), ts)
			}
			printTokens(cmd.OutOrStdout(), ts)
			return nil
		},
	}
	r.addFlags(cmd, false)
	o.addFlags(cmd)
	return cmd
}

func newTokenRevokeCmd() *cobra.Command {
	var (
		r remote
		o offline
	)
	cmd := &cobra.Command{
		Use: "revoke ID|NAME",
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			c, err := r.client()
			if err != nil || len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			ts, err := c.Tokens(cmd.Context())
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			var out []string
			for _, t := range ts {
				if t.RevokedAt.IsZero() {
					out = append(out, t.Name+"\t"+t.ID, t.ID+"\t"+t.Name)
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		Short: "Revoke a token, named by its ID or its name: it stops working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var t api.TokenInfo
			if o.enabled() {
				if err := r.checkOutput(); err != nil {
					return err
				}
				s, err := o.open(cmd.Context())
				if err != nil {
					return err
				}
				defer s.Close()
				list, err := s.ListTokens(cmd.Context())
				if err != nil {
					return err
				}
				id, err := tokenID(list, args[0])
				if err != nil {
					return err
				}
				tok, err := s.RevokeToken(cmd.Context(), id, time.Now())
				if errors.Is(err, auth.ErrNotFound) {
					return fmt.Errorf("no token %q: list them with gantry token list", args[0])
				}
				if err != nil {
					return err
				}
				t = api.TokenInfo{Token: tok, State: tok.State(time.Now())}
			} else {
				c, err := r.client()
				if err != nil {
					return err
				}
				infos, err := c.Tokens(cmd.Context())
				if err != nil {
					return err
				}
				list := make([]auth.Token, len(infos))
				for i, ti := range infos {
					list[i] = ti.Token
				}
				id, err := tokenID(list, args[0])
				if err != nil {
					return err
				}
				if t, err = c.RevokeToken(cmd.Context(), id); err != nil {
					return err
				}
			}
			if r.json() {
				return printJSON(cmd.OutOrStdout(), t)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "token %s (%s) revoked at %s\n", t.Name, t.ID, t.RevokedAt.Local().Format(time.DateTime))
			return nil
		},
	}
	r.addFlags(cmd, false)
	o.addFlags(cmd)
	return cmd
}

// tokenID returns the ID of the token arg names: its ID, or the name of
// exactly one token that is not revoked yet.
func tokenID(list []auth.Token, arg string) (string, error) {
	var named []string
	for _, t := range list {
		if t.ID == arg {
			return t.ID, nil
		}
		if t.Name == arg && t.RevokedAt.IsZero() {
			named = append(named, t.ID)
		}
	}
	switch len(named) {
	case 0:
		return "", fmt.Errorf("no token with ID or name %q: list them with gantry token list", arg)
	case 1:
		return named[0], nil
	}
	return "", fmt.Errorf("%d tokens are named %q (%s): revoke one by its ID", len(named), arg, strings.Join(named, ", "))
}

func printTokens(w io.Writer, ts []api.TokenInfo) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tGRANTS\tSTATE\tEXPIRES\tCREATED\tBY")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, grantsText(t.Grants), t.State,
			expiryText(t.ExpiresAt), t.CreatedAt.Local().Format(time.DateTime), t.CreatedBy)
	}
	tw.Flush()
}

// grantsText writes grants as "deployer on staging, production".
func grantsText(gs []auth.Grant) string {
	var parts []string
	byRole := map[auth.Role][]string{}
	var order []auth.Role
	for _, g := range gs {
		if _, seen := byRole[g.Role]; !seen {
			order = append(order, g.Role)
		}
		byRole[g.Role] = append(byRole[g.Role], g.Env)
	}
	for _, r := range order {
		parts = append(parts, r.String()+" on "+strings.Join(byRole[r], ", "))
	}
	return strings.Join(parts, "; ")
}

func expiryText(t time.Time) string {
	if t.IsZero() {
		return "never expires"
	}
	return "expires " + t.Local().Format(time.DateTime)
}
