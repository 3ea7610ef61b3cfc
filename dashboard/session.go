package dashboard

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// CookieName is the session cookie's name.
const CookieName = "gantry_session"

// DefaultSessionTTL is how long a session lasts after sign-in.
const DefaultSessionTTL = 12 * time.Hour

// session is what the cookie holds, sealed: the token's secret, when the
// session ends, and its ID, from which its CSRF token is derived.
type session struct {
	Secret  string `json:"s"`
	Expires int64  `json:"e"` // Unix seconds
	ID      string `json:"i"`
}

// errBadSession is any cookie that does not open: forged, from another
// key, expired or malformed.
var errBadSession = errors.New("the session is not valid or has ended: sign in again")

// sealer seals sessions into cookie values and derives CSRF tokens, with
// keys derived from one secret key.
type sealer struct {
	aead    cipher.AEAD
	csrfKey []byte
}

func newSealer(key []byte) (*sealer, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("dashboard key has %d bytes, want at least 32", len(key))
	}
	block, err := aes.NewCipher(derive(key, "gantry dashboard cookie"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead, csrfKey: derive(key, "gantry dashboard csrf")}, nil
}

// derive returns a 32-byte key for purpose.
func derive(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

func (s *sealer) seal(sess session) string {
	plain, _ := json.Marshal(sess) // a struct of strings and an int always marshals
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(CookieName)))
}

// open returns the session a cookie value holds, errBadSession when it
// does not open or has ended at now.
func (s *sealer) open(value string, now time.Time) (session, error) {
	var sess session
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return sess, errBadSession
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(CookieName))
	if err != nil || json.Unmarshal(plain, &sess) != nil || sess.Secret == "" {
		return sess, errBadSession
	}
	if now.Unix() >= sess.Expires {
		return sess, errBadSession
	}
	return sess, nil
}

// csrf returns the CSRF token of a session.
func (s *sealer) csrf(sess session) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(sess.ID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfOK reports whether token is sess's CSRF token.
func (s *sealer) csrfOK(sess session, token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf(sess))) == 1
}

// randomID returns 256 random bits in base64url.
func randomID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// LoadKey returns the dashboard's secret key from path, creating it
// (32 random bytes, mode 0600) when it does not exist. Servers that share
// the file accept each other's sessions.
func LoadKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) < 32 {
			return nil, fmt.Errorf("dashboard key %s has %d bytes, want 32: delete it and gantry makes a new one (everyone signs in again)", path, len(key))
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read dashboard key: %w", err)
	}
	key = make([]byte, 32)
	rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadKey(path) // another server made it first
	}
	if err != nil {
		return nil, fmt.Errorf("create dashboard key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("write dashboard key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write dashboard key: %w", err)
	}
	return key, nil
}
