package migrate

import (
	"os"
	"path/filepath"
	"testing"
)

// The reference vectors are Flyway's own test resources with the checksums
// Flyway's tests assert for them.
func TestChecksum_FlywayVectors(t *testing.T) {
	dir := "../../shared/testdata/flyway"
	if _, err := os.Stat(dir); err != nil {
		dir = "/work/shared/testdata/flyway"
	}
	for _, tc := range []struct {
		file string
		want int32
	}{
		{"V1__First.sql", 454910647},
		{"V1.1__View.sql", -133051733},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, tc.file))
			if err != nil {
				t.Skipf("Flyway reference vectors not found: %v", err)
			}
			if got := Checksum(b); got != tc.want {
				t.Errorf("Checksum(%s) = %d, want %d", tc.file, got, tc.want)
			}
		})
	}
}

func TestChecksum_LineEndingsAndBOM(t *testing.T) {
	lf := Checksum([]byte("CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n"))
	for name, in := range map[string]string{
		"crlf":             "CREATE TABLE a (id int);\r\nINSERT INTO a VALUES (1);\r\n",
		"cr":               "CREATE TABLE a (id int);\rINSERT INTO a VALUES (1);\r",
		"bom":              "\uFEFFCREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n",
		"no final newline": "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);",
	} {
		t.Run(name, func(t *testing.T) {
			if got := Checksum([]byte(in)); got != lf {
				t.Errorf("Checksum = %d, want %d (same as LF)", got, lf)
			}
		})
	}
	if edited := Checksum([]byte("CREATE TABLE a (id bigint);\nINSERT INTO a VALUES (1);\n")); edited == lf {
		t.Errorf("an edited file has the same checksum %d", edited)
	}
}
