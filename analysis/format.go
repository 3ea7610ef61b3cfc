package analysis

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// count formats n with thousands separators: 22840 → "22,840".
func count[T ~int | ~int64 | ~uint64](n T) string {
	s := strconv.FormatUint(uint64(max(n, 0)), 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	lead := len(s) % 3
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// pct formats a share as a percentage with up to two decimals: 0.079 → "7.9%".
func pct(share float64) string {
	s := strconv.FormatFloat(share*100, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + "%"
}

// num formats a ratio or e-value compactly: 2.31 → "2.3", 1234 → "1.2e3".
func num(v float64) string {
	switch {
	case math.IsInf(v, 1) || v > 1e300:
		return "∞"
	case v >= 1000:
		exp := int(math.Floor(math.Log10(v)))
		mant := v / math.Pow(10, float64(exp))
		if mant >= 9.95 {
			mant, exp = 1, exp+1
		}
		return strconv.FormatFloat(mant, 'f', 1, 64) + "e" + strconv.Itoa(exp)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// eValue turns a log e-value into a number for Reason.Observed, capped so
// that it stays finite in JSON.
func eValue(logE float64) float64 {
	return math.Exp(min(logE, 700))
}

// bytesIEC formats a byte count: 1610612736 → "1.5GiB".
func bytesIEC(b int64) string {
	const unit = 1024
	if b < unit {
		return strconv.FormatInt(b, 10) + "B"
	}
	div, exp := int64(unit), 0
	for n := b / unit; n >= unit && exp < 4; n /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(b)/float64(div), 'f', 1, 64) + string("KMGTP"[exp]) + "iB"
}

// ms formats a duration in milliseconds: "48ms", "1.25ms".
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'g', 3, 64) + "ms"
}
