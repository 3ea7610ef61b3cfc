package activeusers

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/dchest/siphash"
)

// Seed is the secret key of the hash of users' identities (Seed.Hash):
// one per gantry installation, generated once (NewSeed) and kept in its
// state store, and given to every process that counts users, so that
// sketches of a data plane process and of the one that took its
// listeners over, or of a server before and after a restart, merge into
// one count. Being secret, it keeps someone who can choose many
// identities (session-cookie values) from choosing ones that inflate the
// estimate: without the key, which register an identity lands in and
// what rank it offers are unpredictable. The zero Seed is a valid,
// public key: what a process counts with before it is given one.
type Seed struct{ k0, k1 uint64 }

// NewSeed returns a random Seed from the operating system's CSPRNG.
func NewSeed() (Seed, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Seed{}, fmt.Errorf("generate the active users' hash seed: %w", err)
	}
	return seedOf(b), nil
}

func seedOf(b [16]byte) Seed {
	return Seed{binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])}
}

// Hash returns the 64-bit hash of a user's identity that Add takes:
// SipHash-2-4 keyed with s (github.com/dchest/siphash), a keyed
// pseudorandom function built against hash flooding.
func (s Seed) Hash(id []byte) uint64 { return siphash.Hash(s.k0, s.k1, id) }

// IsZero reports whether s is the zero (public) Seed.
func (s Seed) IsZero() bool { return s == Seed{} }

// MarshalText writes s as 32 hexadecimal digits.
func (s Seed) MarshalText() ([]byte, error) {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], s.k0)
	binary.LittleEndian.PutUint64(b[8:], s.k1)
	return []byte(hex.EncodeToString(b[:])), nil
}

// UnmarshalText reads what MarshalText wrote.
func (s *Seed) UnmarshalText(text []byte) error {
	var b [16]byte
	if len(text) != 2*len(b) {
		return fmt.Errorf("active users' hash seed: %d characters, want %d hexadecimal digits", len(text), 2*len(b))
	}
	if _, err := hex.Decode(b[:], text); err != nil {
		return fmt.Errorf("active users' hash seed: %w", err)
	}
	*s = seedOf(b)
	return nil
}

// String hides the key, so that logging a Seed does not disclose it.
func (s Seed) String() string {
	if s.IsZero() {
		return "activeusers.Seed(zero)"
	}
	return "activeusers.Seed(secret)"
}
