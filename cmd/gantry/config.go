package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/spec"
)

// cliConfig is the CLI's config file: ~/.config/gantry/config.yaml, or
// the file $GANTRY_CONFIG names.
//
//	server: http://gantry.internal:7070
//	token: gantry_...
type cliConfig struct {
	Server string `yaml:"server"`
	Token  string `yaml:"token"`
}

// configPath returns $GANTRY_CONFIG, else ~/.config/gantry/config.yaml
// (under $XDG_CONFIG_HOME when set), and whether it was named explicitly.
func configPath() (string, bool) {
	if p := os.Getenv("GANTRY_CONFIG"); p != "" {
		return p, true
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", false
	}
	return filepath.Join(dir, "gantry", "config.yaml"), false
}

// loadConfig reads the config file. A missing default file is an empty
// config; a missing $GANTRY_CONFIG file, or a malformed one, is an error.
func loadConfig() (cliConfig, error) {
	var c cliConfig
	path, explicit := configPath()
	if path == "" {
		return c, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read config %s: %w", path, err)
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return c, nil
		}
		return c, fmt.Errorf("config %s: %s (it takes server: and token:)", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return c, fmt.Errorf("config %s:%d: want keys server: and token:, such as\n  server: %s\n  token: gantry_...", path, root.Line, client.DefaultServer)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		var dst *string
		switch k.Value {
		case "server":
			dst = &c.Server
		case "token":
			dst = &c.Token
		default:
			hint := "it takes server: and token:"
			if s, ok := spec.Closest(k.Value, []string{"server", "token"}); ok {
				hint = fmt.Sprintf("did you mean %q?", s)
			}
			return c, fmt.Errorf("config %s:%d: unknown key %q; %s", path, k.Line, k.Value, hint)
		}
		if v.Kind != yaml.ScalarNode {
			return c, fmt.Errorf("config %s:%d: %s: want a string", path, v.Line, k.Value)
		}
		*dst = v.Value
	}
	return c, nil
}
