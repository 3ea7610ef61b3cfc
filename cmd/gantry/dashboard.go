package main

import (
	"fmt"
	"os/exec"
	"runtime"

	"github.com/spf13/cobra"
)

func init() { register(newDashboardCmd) }

func newDashboardCmd() *cobra.Command {
	var r remote
	var print bool
	cmd := &cobra.Command{
		Use:   "dashboard",
		Short: "Open the web dashboard, signed in with a one-time link",
		Long: `Open gantry's web dashboard in the browser. The server makes a one-time
sign-in link for your token (valid 2 minutes); the browser then keeps a
session cookie, never the token. The link is printed too, for a browser on
another machine (tunnel the server's port) or when none can be started.`,
		Example: "  gantry dashboard\n  gantry dashboard --print --server http://10.0.0.5:7070",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			link, err := c.DashboardLink(cmd.Context())
			if err != nil {
				return fmt.Errorf("make a sign-in link: %w", err)
			}
			u := c.ServerURL() + link.Path
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Dashboard: %s/\nOne-time sign-in link (valid %ds): %s\n", c.ServerURL(), link.ExpiresInSeconds, u)
			if print {
				return nil
			}
			if err := openBrowser(u); err != nil {
				fmt.Fprintf(out, "could not start a browser (%v): open the link above\n", err)
			}
			return nil
		},
	}
	r.addFlags(cmd, false)
	cmd.Flags().BoolVar(&print, "print", false, "print the link only; do not start a browser")
	return cmd
}

// openBrowser starts the system's browser on u.
func openBrowser(u string) error {
	var c *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		c = exec.Command("open", u)
	case "windows":
		c = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		c = exec.Command("xdg-open", u)
	}
	if err := c.Start(); err != nil {
		return err
	}
	go c.Wait() // reap it; the browser outlives gantry
	return nil
}
