package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// ValueFrom is a secret given by reference, in the shape of a Kubernetes
// container's env[].valueFrom: the gantry server reads it only when it
// needs the value (an instance starts, a migration runs), so the spec, its
// revisions, events, API answers and logs hold only the reference. Exactly
// one field is set.
type ValueFrom struct {
	// SecretFile is a file on the gantry server's machine holding the
	// value, surrounding white space trimmed; a relative path is resolved
	// against the server's base directory. Keep it mode 0600.
	SecretFile string `json:"secretFile,omitempty"`
	// ServerEnv names an environment variable of the gantry server process.
	ServerEnv string `json:"serverEnv,omitempty"`
	// SecretKeyRef names a key of a Kubernetes Secret in the environment's
	// namespace; only the kubernetes backend resolves it (the kubelet
	// reads it when a pod starts; gantry never sees the value).
	SecretKeyRef *SecretKeyRef `json:"secretKeyRef,omitempty"`
}

// SecretKeyRef is one key of a Kubernetes Secret.
type SecretKeyRef struct {
	// Name is the Secret's name.
	Name string `json:"name"`
	// Key is the key within the Secret's data.
	Key string `json:"key"`
}

// Resolve reads the value the reference names. field is where the
// reference is, for errors (such as "env DB_PASSWORD"); errors never hold
// the value.
func (f *ValueFrom) Resolve(field, baseDir string) (string, error) {
	switch {
	case f == nil:
		return "", fmt.Errorf("%w: %s.valueFrom is empty", ErrNoSecret, field)
	case f.ServerEnv != "":
		return serverEnv(field+".valueFrom.serverEnv", f.ServerEnv)
	case f.SecretFile != "":
		return secretFile(field+".valueFrom.secretFile", f.SecretFile, baseDir)
	case f.SecretKeyRef != nil:
		return "", fmt.Errorf("%w: %s.valueFrom.secretKeyRef names Kubernetes Secret %s, which only the kubernetes backend reads; use secretFile or serverEnv for other backends",
			ErrNoSecret, field, f.SecretKeyRef.Name)
	}
	return "", fmt.Errorf("%w: %s.valueFrom sets neither secretFile nor serverEnv", ErrNoSecret, field)
}

// Resolve returns the variable's value: Value, or what ValueFrom names
// (read now). baseDir resolves a relative secretFile.
func (e EnvVar) Resolve(baseDir string) (string, error) {
	if e.ValueFrom == nil {
		return e.Value, nil
	}
	return e.ValueFrom.Resolve("env "+e.Name, baseDir)
}

func serverEnv(field, name string) (string, error) {
	v, ok := os.LookupEnv(name)
	if !ok || strings.TrimSpace(v) == "" {
		return "", fmt.Errorf("%w: %s names %s, which is not set in the gantry server's environment; export it before starting gantry server",
			ErrNoSecret, field, name)
	}
	return strings.TrimSpace(v), nil
}

func secretFile(field, path, baseDir string) (string, error) {
	if !filepath.IsAbs(path) && baseDir != "" {
		path = filepath.Join(baseDir, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrNoSecret, field, err)
	}
	if strings.TrimSpace(string(b)) == "" {
		return "", fmt.Errorf("%w: %s: %s is empty", ErrNoSecret, field, path)
	}
	return strings.TrimSpace(string(b)), nil
}

// valueFrom checks a reference at path (such as
// spec.workload.env[0].valueFrom).
func (v *validator) valueFrom(path string, f *ValueFrom) {
	set := 0
	for _, ok := range []bool{f.SecretFile != "", f.ServerEnv != "", f.SecretKeyRef != nil} {
		if ok {
			set++
		}
	}
	switch {
	case set > 1:
		v.add(path, "sets more than one of secretFile, serverEnv and secretKeyRef; keep exactly one")
	case set == 0:
		v.add(path, "sets none of secretFile, serverEnv and secretKeyRef; add {secretFile: /run/secrets/name}, {serverEnv: NAME} or (kubernetes) {secretKeyRef: {name: db, key: password}}")
	case f.SecretKeyRef != nil:
		r := f.SecretKeyRef
		for _, msg := range validation.IsDNS1123Subdomain(r.Name) {
			v.add(joinField(path, "secretKeyRef.name"), "%q is not a Secret name: %s", r.Name, msg)
		}
		for _, msg := range validation.IsConfigMapKey(r.Key) {
			v.add(joinField(path, "secretKeyRef.key"), "%q is not a Secret key: %s", r.Key, msg)
		}
	case f.ServerEnv != "" && !envVarName.MatchString(f.ServerEnv):
		v.add(joinField(path, "serverEnv"), "%q is not an environment variable name; use letters, digits and '_', such as DB_PASSWORD", f.ServerEnv)
	}
}
