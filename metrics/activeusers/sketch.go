package activeusers

import (
	"fmt"
	"math"
	"math/bits"
)

const (
	// Precision is the number of hash bits that choose a register.
	Precision = 12
	// Registers is the number of registers of a sketch (2^Precision).
	Registers = 1 << Precision
	// maxRank is the largest register value: the rank of the first set bit
	// among the 64-Precision bits left, or one past them when none is set.
	maxRank = 64 - Precision + 1
)

// StdError is the estimate's relative standard error: 1.04/sqrt(Registers),
// about 1.6%. About 99.7% of estimates fall within 3 StdErrors.
var StdError = 1.04 / math.Sqrt(Registers)

// position returns the register a hash updates and the rank it offers.
func position(h uint64) (index int, rank uint8) {
	index = int(h >> (64 - Precision))
	rest := h<<Precision | 1<<(Precision-1) // the sentinel caps the rank at maxRank
	return index, uint8(bits.LeadingZeros64(rest) + 1)
}

// Sketch is a HyperLogLog sketch in its mergeable form: Registers bytes,
// each the highest rank seen; nil or empty is the sketch of no user. It
// encodes in JSON as base64.
type Sketch []byte

// Add records the user whose hash is h, allocating the registers of an
// empty sketch.
func (s *Sketch) Add(h uint64) {
	if len(*s) == 0 {
		*s = make(Sketch, Registers)
	}
	i, r := position(h)
	(*s)[i] = max((*s)[i], r)
}

// Merge adds o's users to s: the union of both sets' users, each counted
// once. An empty o changes nothing.
func (s *Sketch) Merge(o Sketch) {
	if len(o) == 0 {
		return
	}
	if len(*s) == 0 {
		*s = make(Sketch, Registers)
	}
	for i, r := range o {
		(*s)[i] = max((*s)[i], r)
	}
}

// Validate reports a sketch that did not come from this package: a length
// other than 0 or Registers, or a register above the largest rank.
func (s Sketch) Validate() error {
	if len(s) != 0 && len(s) != Registers {
		return fmt.Errorf("active users sketch has %d registers; want %d", len(s), Registers)
	}
	for i, r := range s {
		if r > maxRank {
			return fmt.Errorf("active users sketch register %d is %d; at most %d", i, r, maxRank)
		}
	}
	return nil
}

// Estimate returns the estimated number of distinct users added (0 for
// an empty sketch), with Ertl's improved raw estimator.
func (s Sketch) Estimate() float64 {
	if len(s) != Registers {
		return 0
	}
	var c [maxRank + 1]int // registers per value
	for _, r := range s {
		c[min(int(r), maxRank)]++
	}
	if c[0] == Registers {
		return 0
	}
	const m = float64(Registers)
	z := m * tau(1-float64(c[maxRank])/m)
	for k := maxRank - 1; k >= 1; k-- {
		z = 0.5 * (z + float64(c[k]))
	}
	z += m * sigma(float64(c[0])/m)
	return m * m / (2 * math.Ln2 * z)
}

// sigma corrects for the registers still at zero (Ertl, eq. 43).
func sigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		prev := z
		z += x * y
		y += y
		if z == prev {
			return z
		}
	}
}

// tau corrects for the registers at the largest rank (Ertl, eq. 40).
func tau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		prev := z
		y *= 0.5
		z -= (1 - x) * (1 - x) * y
		if z == prev {
			return z / 3
		}
	}
}
