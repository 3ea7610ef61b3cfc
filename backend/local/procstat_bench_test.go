package local

import "testing"

// BenchmarkScanGroups measures one /proc sweep, which the sampler makes
// every StatsInterval whatever the number of instances.
func BenchmarkScanGroups(b *testing.B) {
	for b.Loop() {
		if len(scanGroups()) == 0 {
			b.Fatal("no process groups in /proc")
		}
	}
}
