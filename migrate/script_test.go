package migrate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseName(t *testing.T) {
	for _, tc := range []struct {
		name    string
		kind    Kind
		version string
		desc    string
		wantErr string
	}{
		{name: "V1__Init.sql", kind: Versioned, version: "1", desc: "Init"},
		{name: "V1.1__Add_users_table.sql", kind: Versioned, version: "1.1", desc: "Add users table"},
		{name: "V2_3__x.sql", kind: Versioned, version: "2.3", desc: "x"},
		{name: "U1.1__Drop_users.sql", kind: Undo, version: "1.1", desc: "Drop users"},
		{name: "R__Views.sql", kind: Repeatable, desc: "Views"},
		{name: "V1_Init.sql", wantErr: `no "__"`},
		{name: "v1__init.sql", wantErr: "must start with V, U or R"},
		{name: "V__init.sql", wantErr: "no version"},
		{name: "Va__init.sql", wantErr: "want numbers"},
		{name: "R1__x.sql", wantErr: "no version"},
		{name: "R__.sql", wantErr: "needs a description"},
		{name: "init.sql", wantErr: "must start with V"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind, v, desc, err := ParseName(tc.name)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "V<version>__<description>.sql") {
					t.Fatalf("err = %v, want one containing %q and the expected pattern", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if kind != tc.kind || v.String() != tc.version || desc != tc.desc {
				t.Errorf("got %v %q %q, want %v %q %q", kind, v, desc, tc.kind, tc.version, tc.desc)
			}
		})
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoad(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"V2__b.sql":          "select 2;",
		"V1.10__c.sql":       "select 3;",
		"V1.2__a.sql":        "select 1;",
		"sub/V1__init.sql":   "select 0;",
		"U1.2__a.sql":        "select -1;",
		"R__views.sql":       "select 'v';",
		"README.md":          "ignored",
		"V3__idx.sql":        "CREATE INDEX CONCURRENTLY i ON t (a);\n-- done\n",
		"notes/keep.txt.bak": "ignored",
	})
	set, err := Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range set.Versioned {
		got = append(got, s.Name)
	}
	if want := "sub/V1__init.sql V1.2__a.sql V1.10__c.sql V2__b.sql V3__idx.sql"; strings.Join(got, " ") != want {
		t.Errorf("versioned order = %v, want %s", got, want)
	}
	if len(set.Undo) != 1 || set.UndoFor(MustParseVersion("1.2")) == nil || len(set.Repeatable) != 1 {
		t.Errorf("undo %v repeatable %v", set.Undo, set.Repeatable)
	}
	if !set.Versioned[4].NonTransactional || set.Versioned[0].NonTransactional {
		t.Errorf("NonTransactional: V3 %v, V1 %v; want true, false", set.Versioned[4].NonTransactional, set.Versioned[0].NonTransactional)
	}
}

func TestLoad_Errors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		is    error
		want  []string
	}{
		{"malformed name", map[string]string{"V1_init.sql": "", "V2__ok.sql": ""}, ErrBadName,
			[]string{"V1_init.sql", "V<version>__<description>.sql"}},
		{"duplicate version", map[string]string{"V1.1__a.sql": "", "V1_1__b.sql": ""}, ErrDuplicate,
			[]string{"V1.1__a.sql", "V1_1__b.sql", "version 1.1"}},
		{"duplicate with trailing zero", map[string]string{"V1__a.sql": "", "V1.0__b.sql": ""}, ErrDuplicate,
			[]string{"V1__a.sql", "V1.0__b.sql"}},
		{"duplicate repeatable", map[string]string{"R__a.sql": "", "x/R__a.sql": ""}, ErrDuplicate,
			[]string{`repeatable migration "a"`}},
		{"mixed transactional", map[string]string{"V1__a.sql": "CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY i ON t (a);"}, nil,
			[]string{"CREATE INDEX CONCURRENTLY (line 2)", "line 1", "file of its own"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]string{writeFiles(t, tc.files)})
			if err == nil {
				t.Fatal("Load = nil error, want one")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want it to wrap %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to mention %q", err, w)
				}
			}
		})
	}
	if _, err := Load([]string{"/nonexistent/migrations"}); err == nil || !strings.Contains(err.Error(), "--locations") {
		t.Errorf("missing location: err = %v, want a hint about --locations", err)
	}
}
