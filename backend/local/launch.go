package local

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// launchFor renders rev's workload for instance id listening on port.
// The process's environment is gantry's, plus PORT, GANTRY_INSTANCE (which
// adoption checks), GANTRY_APP, GANTRY_ENV, GANTRY_REVISION and
// GANTRY_VERSION, plus the workload's own variables, which win.
func (b *Backend) launchFor(rev rollout.Revision, id string, port int) (launch, error) {
	w, err := rev.Spec.Workload.Render(spec.TemplateVars{
		Version: rev.Version, App: rev.App, Env: rev.Env, Instance: id, Port: port, Revision: rev.Number,
	})
	if err != nil {
		return launch{}, fmt.Errorf("workload: %w", err)
	}
	dir := b.opts.BaseDir
	if w.WorkingDir != "" {
		dir = b.resolve(w.WorkingDir)
	}
	path := commandPath(b.opts.BaseDir, w.Command)
	env := append(os.Environ(),
		"PORT="+strconv.Itoa(port),
		"GANTRY_INSTANCE="+id,
		"GANTRY_APP="+rev.App,
		"GANTRY_ENV="+rev.Env,
		"GANTRY_REVISION="+strconv.Itoa(rev.Number),
		"GANTRY_VERSION="+rev.Version,
	)
	for _, e := range w.Env {
		v, err := e.Resolve(b.opts.BaseDir) // a secret by reference is read only now
		if err != nil {
			return launch{}, fmt.Errorf("workload: %w", err)
		}
		env = append(env, e.Name+"="+v)
	}
	return launch{path: path, args: w.Args, dir: dir, env: env}, nil
}

func (b *Backend) resolve(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(b.opts.BaseDir, p)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago. If
// another process takes it before the instance binds it, the instance
// exits and is restarted on a new port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
