package dataplane

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/metrics/activeusers"
	"github.com/gantry-dev/gantry/proxy"
)

// The counters read, version 2: a compact binary form of Counters that a
// reader asks for with Accept: CountersMediaType (version 1, JSON, stays
// the default: a data plane that does not know version 2 answers JSON,
// and a reader that does not ask gets JSON, so any mix of old and new
// processes during an upgrade reads counters).
//
// A message is the data plane's Boot (JSON), the series index (every
// environment's revisions, rejection reasons and routes by name) and the
// values, in the index's order. The index is named by a hash of its
// bytes; a reader that sends the name of the index it holds
// (CountersIndexHeader) gets the values alone while the series stay the
// same, whichever process serves them. Counters stay cumulative since
// Boot, so a new Boot.ID still tells a reader they started again.
//
//	message := magic "GCv2" · uvarint len · Boot JSON · uvarint buckets
//	           · index ID (16 bytes) · byte 1 · uvarint len · index   (or byte 0: index omitted)
//	           · values
//	index   := uvarint envs · per env: str app · str env
//	           · uvarint n · n × (zigzag revision · str group · str version)
//	           · uvarint n · n × byte reason
//	           · uvarint n · n × (zigzag revision · str group · str version · str route)
//	values  := per env: uvarint epoch · uvarint dropped route labels
//	           · per revision: 7 × uvarint (requests, 2xx..5xx, client closed, proxy errors) · zigzag in flight · histogram
//	           · per reason: uvarint count
//	           · per route: 6 × uvarint (requests, 2xx..5xx, client closed) · histogram
//	           · uvarint n · n × (zigzag revision · str group · str version · zigzag window ns · sketch)
//	histogram := zigzag sum ns · byte 0 · uvarint n · n × (uvarint gap · uvarint count)   (the buckets counted)
//	           | zigzag sum ns · byte 1 · buckets × uvarint count
//	sketch  := uvarint registers (0 or activeusers.Registers) · byte 0 · uvarint n · n × (uvarint gap · byte)
//	           | … · byte 1 · the registers
//	str     := uvarint len · bytes
const (
	// CountersMediaType is the media type of the counters read, version 2.
	CountersMediaType = "application/vnd.gantry.counters.v2"
	// CountersIndexHeader names, in a request for version 2, the series
	// index the reader holds (hex); the answer then leaves it out if the
	// series are still the same.
	CountersIndexHeader = "Gantry-Counters-Index"
)

const countersMagic = "GCv2"

// countersIndex is a decoded series index: the series' names, no values.
type countersIndex struct {
	id   [16]byte
	envs []indexEnv
}

// indexEnv is one environment's series.
type indexEnv struct {
	app, env  string
	revisions []proxy.RevisionStats // Revision, Group and Version only
	reasons   []proxy.Reason
	routes    []proxy.RouteStats // Revision, Group, Version and Route only
}

// hexID returns the index ID as sent in CountersIndexHeader.
func (x *countersIndex) hexID() string { return hex.EncodeToString(x.id[:]) }

// acceptsCountersV2 reports whether an Accept header asks for version 2.
func acceptsCountersV2(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, _ := strings.Cut(part, ";")
		if strings.EqualFold(strings.TrimSpace(mt), CountersMediaType) {
			return true
		}
	}
	return false
}

// encodeCounters returns c as a version 2 message; the index is left out
// when its ID is heldIndex.
func encodeCounters(c Counters, heldIndex string) ([]byte, error) {
	boot, err := json.Marshal(c.Boot)
	if err != nil {
		return nil, err
	}
	var idx []byte
	idx = binary.AppendUvarint(idx, uint64(len(c.Environments)))
	for i := range c.Environments {
		e := &c.Environments[i]
		idx = appendStr(appendStr(idx, e.App), e.Env)
		idx = binary.AppendUvarint(idx, uint64(len(e.Revisions)))
		for _, s := range e.Revisions {
			idx = appendStr(appendStr(binary.AppendVarint(idx, int64(s.Revision)), s.Group), s.Version)
		}
		idx = binary.AppendUvarint(idx, uint64(len(e.Rejections)))
		for _, r := range e.Rejections {
			idx = append(idx, byte(r.Reason))
		}
		idx = binary.AppendUvarint(idx, uint64(len(e.Routes)))
		for _, s := range e.Routes {
			idx = appendStr(appendStr(appendStr(binary.AppendVarint(idx, int64(s.Revision)), s.Group), s.Version), s.Route)
		}
	}
	sum := sha256.Sum256(idx)
	id := sum[:16]

	b := make([]byte, 0, len(idx)+64*1024)
	b = append(b, countersMagic...)
	b = appendStr(b, string(boot))
	b = binary.AppendUvarint(b, proxy.HistogramBuckets)
	b = append(b, id...)
	if heldIndex == hex.EncodeToString(id) {
		b = append(b, 0)
	} else {
		b = appendStr(append(b, 1), string(idx))
	}
	for i := range c.Environments {
		e := &c.Environments[i]
		b = binary.AppendUvarint(binary.AppendUvarint(b, e.Epoch), e.DroppedRouteLabels)
		for j := range e.Revisions {
			s := &e.Revisions[j]
			for _, n := range [...]uint64{s.Requests, s.Status2xx, s.Status3xx, s.Status4xx, s.Status5xx, s.ClientClosed, s.ProxyErrors} {
				b = binary.AppendUvarint(b, n)
			}
			b = appendHistogram(binary.AppendVarint(b, s.InFlight), &s.Latency)
		}
		for _, r := range e.Rejections {
			b = binary.AppendUvarint(b, r.Count)
		}
		for j := range e.Routes {
			s := &e.Routes[j]
			for _, n := range [...]uint64{s.Requests, s.Status2xx, s.Status3xx, s.Status4xx, s.Status5xx, s.ClientClosed} {
				b = binary.AppendUvarint(b, n)
			}
			b = appendHistogram(b, &s.Latency)
		}
		b = binary.AppendUvarint(b, uint64(len(e.Users)))
		for _, u := range e.Users {
			b = appendStr(appendStr(binary.AppendVarint(b, int64(u.Revision)), u.Group), u.Version)
			b = appendSketch(binary.AppendVarint(b, int64(u.Window)), u.Users)
		}
	}
	return b, nil
}

func appendStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// appendHistogram writes the buckets counted (gap from the previous one,
// count) or, when most are, every bucket.
func appendHistogram(b []byte, h *proxy.Histogram) []byte {
	b = binary.AppendVarint(b, int64(h.Sum))
	n := 0
	for _, c := range h.Counts {
		if c != 0 {
			n++
		}
	}
	if 2*n > len(h.Counts) {
		b = append(b, 1)
		for _, c := range h.Counts {
			b = binary.AppendUvarint(b, c)
		}
		return b
	}
	b = binary.AppendUvarint(append(b, 0), uint64(n))
	last := -1
	for i, c := range h.Counts {
		if c != 0 {
			b = binary.AppendUvarint(binary.AppendUvarint(b, uint64(i-last-1)), c)
			last = i
		}
	}
	return b
}

// appendSketch writes the registers set (gap, value) or, when more than a
// third are, all of them.
func appendSketch(b []byte, s activeusers.Sketch) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	if len(s) == 0 {
		return b
	}
	n := 0
	for _, r := range s {
		if r != 0 {
			n++
		}
	}
	if 3*n > len(s) {
		return append(append(b, 1), s...)
	}
	b = binary.AppendUvarint(append(b, 0), uint64(n))
	last := -1
	for i, r := range s {
		if r != 0 {
			b = append(binary.AppendUvarint(b, uint64(i-last-1)), r)
			last = i
		}
	}
	return b
}

// errIndexNotHeld: a message left the index out, but the reader does not
// hold the index it names (it sends no index header next time).
var errIndexNotHeld = errors.New("counters: the answer names a series index this reader does not hold")

// decodeCounters reads a version 2 message; held is the index the reader
// holds (nil: none). It returns the counters and the message's index.
func decodeCounters(msg []byte, held *countersIndex) (Counters, *countersIndex, error) {
	r := &wireReader{b: msg}
	if string(r.bytes(len(countersMagic))) != countersMagic {
		return Counters{}, nil, fmt.Errorf("counters: not a version 2 message")
	}
	var c Counters
	if boot := r.bytes(r.length()); r.err == nil {
		if err := json.Unmarshal(boot, &c.Boot); err != nil {
			return Counters{}, nil, fmt.Errorf("counters: boot: %w", err)
		}
	}
	if n := r.uvarint(); r.err == nil && n != proxy.HistogramBuckets {
		return Counters{}, nil, fmt.Errorf("counters: histograms of %d buckets; this reader's have %d (upgrade the older of gantry server and gantry proxy)", n, proxy.HistogramBuckets)
	}
	var id [16]byte
	copy(id[:], r.bytes(16))
	idx := held
	switch r.byte() {
	case 0:
		if held == nil || held.id != id {
			return Counters{}, nil, errIndexNotHeld
		}
	case 1:
		ir := &wireReader{b: r.bytes(r.length())}
		idx = ir.index()
		if ir.err == nil && len(ir.b) != 0 {
			ir.err = fmt.Errorf("%d bytes after the index", len(ir.b))
		}
		if ir.err != nil {
			return Counters{}, nil, fmt.Errorf("counters: index: %w", ir.err)
		}
		idx.id = id
	default:
		r.fail("index flag")
	}
	if r.err != nil {
		return Counters{}, nil, fmt.Errorf("counters: %w", r.err)
	}
	c.Environments = make([]EnvCounters, len(idx.envs))
	for i, ie := range idx.envs {
		e := &c.Environments[i]
		e.App, e.Env = ie.app, ie.env
		e.Epoch, e.DroppedRouteLabels = r.uvarint(), r.uvarint()
		e.Revisions = make([]proxy.RevisionStats, len(ie.revisions))
		for j := range e.Revisions {
			s := &e.Revisions[j]
			s.Revision, s.Group, s.Version = ie.revisions[j].Revision, ie.revisions[j].Group, ie.revisions[j].Version
			for _, p := range [...]*uint64{&s.Requests, &s.Status2xx, &s.Status3xx, &s.Status4xx, &s.Status5xx, &s.ClientClosed, &s.ProxyErrors} {
				*p = r.uvarint()
			}
			s.InFlight = r.varint()
			r.histogram(&s.Latency)
		}
		e.Rejections = make([]proxy.Rejection, len(ie.reasons))
		for j := range e.Rejections {
			e.Rejections[j] = proxy.Rejection{Reason: ie.reasons[j], Count: r.uvarint()}
		}
		if len(ie.routes) > 0 {
			e.Routes = make([]proxy.RouteStats, len(ie.routes))
		}
		for j := range e.Routes {
			s := &e.Routes[j]
			s.Revision, s.Group, s.Version, s.Route = ie.routes[j].Revision, ie.routes[j].Group, ie.routes[j].Version, ie.routes[j].Route
			for _, p := range [...]*uint64{&s.Requests, &s.Status2xx, &s.Status3xx, &s.Status4xx, &s.Status5xx, &s.ClientClosed} {
				*p = r.uvarint()
			}
			r.histogram(&s.Latency)
		}
		if n := r.count(); n > 0 {
			e.Users = make([]proxy.UserStats, n)
		}
		for j := range e.Users {
			u := &e.Users[j]
			u.Revision, u.Group, u.Version = int(r.varint()), r.str(), r.str()
			u.Window = time.Duration(r.varint())
			u.Users = r.sketch()
		}
		if r.err != nil {
			break
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d bytes after the values", len(r.b))
	}
	if r.err != nil {
		return Counters{}, nil, fmt.Errorf("counters: values: %w", r.err)
	}
	return c, idx, nil
}

// wireReader reads a message; the first error sticks and later reads
// return zero values.
type wireReader struct {
	b   []byte
	err error
}

func (r *wireReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("truncated or malformed %s", what)
	}
	r.b = nil
}

func (r *wireReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("number")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// varint reads a zigzag-encoded number (binary.AppendVarint's).
func (r *wireReader) varint() int64 {
	u := r.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (r *wireReader) byte() byte {
	if len(r.b) == 0 {
		r.fail("byte")
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *wireReader) bytes(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.fail("bytes")
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// length reads a length that must fit in the rest of the message.
func (r *wireReader) length() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail("length")
		return 0
	}
	return int(n)
}

// count reads a number of entries, each at least one byte long.
func (r *wireReader) count() int { return r.length() }

func (r *wireReader) str() string { return string(r.bytes(r.length())) }

func (r *wireReader) index() *countersIndex {
	x := &countersIndex{envs: make([]indexEnv, r.count())}
	for i := range x.envs {
		e := &x.envs[i]
		e.app, e.env = r.str(), r.str()
		e.revisions = make([]proxy.RevisionStats, r.count())
		for j := range e.revisions {
			e.revisions[j] = proxy.RevisionStats{Revision: int(r.varint()), Group: r.str(), Version: r.str()}
		}
		e.reasons = make([]proxy.Reason, r.count())
		for j := range e.reasons {
			e.reasons[j] = proxy.Reason(r.byte())
		}
		e.routes = make([]proxy.RouteStats, r.count())
		for j := range e.routes {
			e.routes[j] = proxy.RouteStats{Revision: int(r.varint()), Group: r.str(), Version: r.str(), Route: r.str()}
		}
		if r.err != nil {
			return x
		}
	}
	return x
}

func (r *wireReader) histogram(h *proxy.Histogram) {
	h.Sum = time.Duration(r.varint())
	switch r.byte() {
	case 1:
		for i := range h.Counts {
			h.Counts[i] = r.uvarint()
		}
	case 0:
		n := r.uvarint()
		i := -1
		for k := uint64(0); k < n && r.err == nil; k++ {
			gap := r.uvarint()
			if gap >= uint64(len(h.Counts)-i-1) {
				r.fail("histogram bucket")
				return
			}
			i += int(gap) + 1
			h.Counts[i] = r.uvarint()
		}
	default:
		r.fail("histogram")
	}
}

func (r *wireReader) sketch() activeusers.Sketch {
	n := r.uvarint()
	if n == 0 || r.err != nil {
		return nil
	}
	if n != activeusers.Registers {
		r.fail(fmt.Sprintf("sketch of %d registers", n))
		return nil
	}
	s := make(activeusers.Sketch, n)
	switch r.byte() {
	case 1:
		copy(s, r.bytes(int(n)))
	case 0:
		k := r.uvarint()
		i := -1
		for j := uint64(0); j < k && r.err == nil; j++ {
			gap := r.uvarint()
			if gap >= uint64(len(s)-i-1) {
				r.fail("sketch register")
				return nil
			}
			i += int(gap) + 1
			s[i] = r.byte()
		}
	default:
		r.fail("sketch")
	}
	if err := s.Validate(); err != nil && r.err == nil {
		r.err = err
	}
	return s
}

// maxIndexes bounds the series indexes a Client keeps (one per read: all
// environments, or one of them).
const maxIndexes = 64
