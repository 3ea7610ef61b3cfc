package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const databaseDoc = `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  database:
    url: {fromEnv: API_DATABASE_URL}
    migrations: ./db/migrations
environments:
  - name: staging
  - name: production
    database:
      url: {file: /run/secrets/db-url}
      onFailure: undo
`

func TestParse_Database(t *testing.T) {
	app, err := Parse("gantry.yaml", []byte(databaseDoc))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		env        string
		url        SecretSource
		migrations string
		policy     MigrationFailurePolicy
	}{
		{"staging", SecretSource{FromEnv: "API_DATABASE_URL"}, "./db/migrations", OnFailureRestore},
		{"production", SecretSource{File: "/run/secrets/db-url"}, "./db/migrations", OnFailureUndo},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			d := mustResolve(t, app, tt.env).Database
			if d == nil {
				t.Fatal("database lost in Resolve")
			}
			if d.URL != tt.url || d.MigrationsDir() != tt.migrations || d.Policy() != tt.policy {
				t.Errorf("database = %+v, want url %+v, migrations %s, onFailure %s", d, tt.url, tt.migrations, tt.policy)
			}
		})
	}
	t.Run("resolving does not change the app", func(t *testing.T) {
		mustResolve(t, app, "production").Database.Migrations = "changed"
		if app.Spec.Database.Migrations != "./db/migrations" || app.Environments[1].Database.Migrations != "" {
			t.Errorf("Resolve shared the database with the app: %+v", app.Spec.Database)
		}
	})
}

func TestParse_BadDatabase(t *testing.T) {
	tests := []struct {
		name     string
		database string // spec.database, indented by 4
		env      string // environments[0].database, indented by 6; may be empty
		path     string
		fragment string
	}{
		{"bad onFailure suggests the closest", "url: {fromEnv: DB}\nonFailure: restor", "", "spec.database.onFailure", `"restor" is not a failure policy; did you mean restore?`},
		{"unknown onFailure lists the policies", "url: {fromEnv: DB}\nonFailure: pray", "", "spec.database.onFailure", "use restore (the default) or undo"},
		{"value and fromEnv", "url: {value: 'postgres://db/app', fromEnv: DB}", "", "spec.database.url", "sets 2 of value, fromEnv, file and valueFrom; keep exactly one"},
		{"no url", "migrations: ./migrations", "", "spec.database.url", "required; add url: {valueFrom: {serverEnv: DATABASE_URL}}"},
		{"value that is no connection string", "url: {value: 'mysql:db'}", "", "spec.database.url.value", "is not a PostgreSQL connection string"},
		{"fromEnv that is no variable name", "url: {fromEnv: 'db-url'}", "", "spec.database.url.fromEnv", `"db-url" is not an environment variable name`},
		{"override with both file and fromEnv", "url: {fromEnv: DB}", "url: {fromEnv: DB2, file: /x}", "environments[0].database.url", "sets 2 of value, fromEnv, file and valueFrom"},
		{"fromEnv and valueFrom", "url: {fromEnv: DB, valueFrom: {serverEnv: DB}}", "", "spec.database.url", "sets 2 of value, fromEnv, file and valueFrom"},
		{"valueFrom with both", "url: {valueFrom: {serverEnv: DB, secretFile: /x}}", "", "spec.database.url.valueFrom", "sets more than one of secretFile, serverEnv and secretKeyRef"},
		{"empty valueFrom", "url: {valueFrom: {}}", "", "spec.database.url.valueFrom", "sets none of secretFile, serverEnv and secretKeyRef"},
		{"serverEnv that is no variable name", "url: {valueFrom: {serverEnv: 'db-url'}}", "", "spec.database.url.valueFrom.serverEnv", `"db-url" is not an environment variable name`},
		{"unknown valueFrom field", "url: {valueFrom: {secretFiles: /x}}", "", "spec.database.url.valueFrom.secretFiles", `did you mean "secretFile"?`},
		{"unknown field", "url: {fromEnv: DB}\nmigration: ./m", "", "spec.database.migration", `did you mean "migrations"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "apiVersion: gantry.dev/v1\nkind: App\nmetadata: {name: api}\nspec:\n  workload: {command: ./server}\n  database:\n" +
				indent(tt.database, 4) + "environments:\n  - name: dev\n"
			if tt.env != "" {
				doc += "    database:\n" + indent(tt.env, 6)
			}
			_, err := Parse("gantry.yaml", []byte(doc))
			var list ErrorList
			if !errors.As(err, &list) || len(list) != 1 {
				t.Fatalf("Parse() = %v, want exactly one error", err)
			}
			if got := list[0]; got.Path != tt.path || !strings.Contains(got.Message, tt.fragment) {
				t.Errorf("got %s: %s, want %s: ...%s...", got.Path, got.Message, tt.path, tt.fragment)
			}
		})
	}
}

func indent(s string, n int) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		b.WriteString(strings.Repeat(" ", n) + l + "\n")
	}
	return b.String()
}

func TestSecretSource_Resolve(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "url"), []byte("postgres://db/app\n"), 0o600)
	t.Setenv("GANTRY_TEST_DB_URL", "postgres://env/app")
	tests := []struct {
		name    string
		src     SecretSource
		want    string
		wantErr string
	}{
		{"value", SecretSource{Value: "postgres://v/app"}, "postgres://v/app", ""},
		{"fromEnv", SecretSource{FromEnv: "GANTRY_TEST_DB_URL"}, "postgres://env/app", ""},
		{"file relative to the base directory, trimmed", SecretSource{File: "url"}, "postgres://db/app", ""},
		{"unset variable", SecretSource{FromEnv: "GANTRY_TEST_NO_SUCH_VAR"}, "", "GANTRY_TEST_NO_SUCH_VAR, which is not set"},
		{"missing file", SecretSource{File: "nope"}, "", "spec.database.url.file"},
		{"valueFrom.serverEnv", SecretSource{ValueFrom: &ValueFrom{ServerEnv: "GANTRY_TEST_DB_URL"}}, "postgres://env/app", ""},
		{"valueFrom.secretFile", SecretSource{ValueFrom: &ValueFrom{SecretFile: "url"}}, "postgres://db/app", ""},
		{"valueFrom.secretFile missing", SecretSource{ValueFrom: &ValueFrom{SecretFile: "nope"}}, "", "spec.database.url.valueFrom.secretFile"},
		{"nothing", SecretSource{}, "", "sets none of value, fromEnv, file or valueFrom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.src.Resolve("spec.database.url", dir)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrNoSecret) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Resolve() error = %v, want ErrNoSecret saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Resolve() = %q, %v, want %q", got, err, tt.want)
			}
		})
	}
}

func TestParse_EnvValueFrom(t *testing.T) {
	doc := func(env string) string {
		return "apiVersion: gantry.dev/v1\nkind: App\nmetadata: {name: api}\nspec:\n  workload:\n    command: ./server\n    env:\n" +
			indent(env, 6) + "environments:\n  - name: dev\n"
	}
	app, err := Parse("gantry.yaml", []byte(doc("- {name: DB_PASSWORD, valueFrom: {secretFile: /run/secrets/db}}\n- {name: API_KEY, valueFrom: {serverEnv: API_KEY}}")))
	if err != nil {
		t.Fatal(err)
	}
	if got := app.Spec.Workload.Env; len(got) != 2 || got[0].ValueFrom == nil || got[0].ValueFrom.SecretFile != "/run/secrets/db" ||
		got[1].ValueFrom == nil || got[1].ValueFrom.ServerEnv != "API_KEY" {
		t.Errorf("env = %+v, want the two references", got)
	}
	for _, tt := range []struct{ name, env, path, fragment string }{
		{"value and valueFrom", "- {name: A, value: x, valueFrom: {serverEnv: A}}", "spec.workload.env[0]", "sets both value and valueFrom"},
		{"both sources", "- {name: A, valueFrom: {serverEnv: A, secretFile: /x}}", "spec.workload.env[0].valueFrom", "sets more than one of secretFile, serverEnv and secretKeyRef"},
		{"no source", "- {name: A, valueFrom: {}}", "spec.workload.env[0].valueFrom", "sets none of secretFile, serverEnv and secretKeyRef"},
		{"bad variable name", "- {name: A, valueFrom: {serverEnv: 'a-b'}}", "spec.workload.env[0].valueFrom.serverEnv", "is not an environment variable name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("gantry.yaml", []byte(doc(tt.env)))
			var list ErrorList
			if !errors.As(err, &list) || len(list) != 1 || list[0].Path != tt.path || !strings.Contains(list[0].Message, tt.fragment) {
				t.Errorf("Parse() = %v, want one error at %s saying %q", err, tt.path, tt.fragment)
			}
		})
	}
}
