package spec

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"
)

// parseQuantity reads a Kubernetes quantity ("512Mi", "500m", "1.5") that
// must not be negative.
func parseQuantity(s string) (resource.Quantity, error) {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return q, fmt.Errorf("%q is not a Kubernetes quantity", s)
	}
	if q.Sign() < 0 {
		return q, fmt.Errorf("%q is negative", s)
	}
	return q, nil
}

// parseMemory returns a memory quantity in bytes, rounded up.
func parseMemory(s string) (int64, error) {
	q, err := parseQuantity(s)
	if err != nil {
		return 0, fmt.Errorf(`%w; use bytes with a suffix such as "256Mi" or "1Gi"`, err)
	}
	return q.Value(), nil
}

// parseCPU returns a CPU quantity in thousandths of a core, rounded up.
func parseCPU(s string) (int64, error) {
	q, err := parseQuantity(s)
	if err != nil {
		return 0, fmt.Errorf(`%w; use cores such as "0.5" or millicores such as "500m"`, err)
	}
	return q.MilliValue(), nil
}

// parse fills MemoryBytes and CPUMillis from Memory and CPU. A quantity that
// does not parse leaves its number at 0 and is reported in the error.
func (r *ResourceList) parse() error {
	var errs []error
	r.MemoryBytes, r.CPUMillis = 0, 0
	if r.Memory != "" {
		b, err := parseMemory(r.Memory)
		if err != nil {
			errs = append(errs, fmt.Errorf("memory: %w", err))
		}
		r.MemoryBytes = b
	}
	if r.CPU != "" {
		m, err := parseCPU(r.CPU)
		if err != nil {
			errs = append(errs, fmt.Errorf("cpu: %w", err))
		}
		r.CPUMillis = m
	}
	return errors.Join(errs...)
}

// Parsed returns r with MemoryBytes and CPUMillis filled from Memory and
// CPU, for a ResourceList that lost them (they are not serialized, so a
// spec read back from JSON has them at 0). An unparsable quantity reads 0.
func (r ResourceList) Parsed() ResourceList {
	_ = r.parse()
	return r
}
