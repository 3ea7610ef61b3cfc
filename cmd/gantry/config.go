package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
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
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, fmt.Errorf("config %s: %w (it takes server: and token:)", path, err)
	}
	return c, nil
}
