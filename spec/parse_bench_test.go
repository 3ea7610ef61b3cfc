package spec

import (
	"os"
	"testing"
)

func BenchmarkParse_Example(b *testing.B) {
	data, err := os.ReadFile("../examples/gemini-api/gantry.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("gantry.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkApp_Resolve(b *testing.B) {
	app, err := ParseFile("../examples/gemini-api/gantry.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := app.Resolve("production"); err != nil {
			b.Fatal(err)
		}
	}
}
