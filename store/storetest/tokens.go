package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/auth"
)

// OpenTokensFunc opens a new, empty token store for one test; it closes
// the store in t.Cleanup.
type OpenTokensFunc func(t *testing.T) auth.TokenStore

// RunTokens runs the conformance suite of auth.TokenStore against stores
// that open makes, each subtest with a store of its own.
func RunTokens(t *testing.T, open OpenTokensFunc) {
	for _, tc := range tokenTests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

var tokenTests = []struct {
	name string
	run  func(t *testing.T, s auth.TokenStore)
}{
	{"CreateRoundTrip", func(t *testing.T, s auth.TokenStore) {
		in := newToken("tok_1", "ci", at(0))
		in.ExpiresAt = at(3600).Add(123456789 * time.Nanosecond) // truncated to the microsecond
		must(t, "CreateToken", s.CreateToken(ctx(t), in))
		got, err := s.TokenByHash(ctx(t), in.Hash)
		must(t, "TokenByHash", err)
		want := in
		want.CreatedAt, want.ExpiresAt = in.CreatedAt.Truncate(Precision).UTC(), in.ExpiresAt.Truncate(Precision).UTC()
		sameToken(t, "TokenByHash", got, want)
	}},
	{"UnknownHash", func(t *testing.T, s auth.TokenStore) {
		must(t, "CreateToken", s.CreateToken(ctx(t), newToken("tok_1", "ci", at(0))))
		_, err := s.TokenByHash(ctx(t), auth.HashSecret("nope"))
		if !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("TokenByHash of an unknown hash: error = %v, want auth.ErrNotFound", err)
		}
	}},
	{"Duplicates", func(t *testing.T, s auth.TokenStore) {
		a := newToken("tok_1", "ci", at(0))
		must(t, "CreateToken", s.CreateToken(ctx(t), a))
		sameID := newToken("tok_1", "other", at(1))
		if err := s.CreateToken(ctx(t), sameID); !errors.Is(err, auth.ErrConflict) {
			t.Errorf("CreateToken with a used ID: error = %v, want auth.ErrConflict", err)
		}
		sameHash := newToken("tok_2", "other", at(1))
		sameHash.Hash = a.Hash
		if err := s.CreateToken(ctx(t), sameHash); !errors.Is(err, auth.ErrConflict) {
			t.Errorf("CreateToken with a used hash: error = %v, want auth.ErrConflict", err)
		}
	}},
	{"ListOldestFirst", func(t *testing.T, s auth.TokenStore) {
		for i, id := range []string{"tok_c", "tok_a", "tok_b"} {
			must(t, "CreateToken", s.CreateToken(ctx(t), newToken(id, id, at(i))))
		}
		_, err := s.RevokeToken(ctx(t), "tok_a", at(10))
		must(t, "RevokeToken", err)
		ts, err := s.ListTokens(ctx(t))
		must(t, "ListTokens", err)
		var got []string
		for _, tok := range ts {
			got = append(got, tok.ID)
		}
		if want := []string{"tok_c", "tok_a", "tok_b"}; !reflect.DeepEqual(got, want) {
			t.Errorf("ListTokens IDs = %v, want %v (oldest first, revoked ones too)", got, want)
		}
	}},
	{"Revoke", func(t *testing.T, s auth.TokenStore) {
		in := newToken("tok_1", "ci", at(0))
		must(t, "CreateToken", s.CreateToken(ctx(t), in))
		got, err := s.RevokeToken(ctx(t), "tok_1", at(60))
		must(t, "RevokeToken", err)
		want := at(60).Truncate(Precision)
		if !got.RevokedAt.Equal(want) {
			t.Errorf("RevokeToken RevokedAt = %v, want %v", got.RevokedAt, want)
		}
		again, err := s.RevokeToken(ctx(t), "tok_1", at(120))
		must(t, "RevokeToken again", err)
		if !again.RevokedAt.Equal(want) {
			t.Errorf("second RevokeToken RevokedAt = %v, want the first revocation %v", again.RevokedAt, want)
		}
		stored, err := s.TokenByHash(ctx(t), in.Hash)
		must(t, "TokenByHash", err)
		if !stored.RevokedAt.Equal(want) {
			t.Errorf("stored RevokedAt = %v, want %v", stored.RevokedAt, want)
		}
		if _, err := s.RevokeToken(ctx(t), "tok_missing", at(1)); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("RevokeToken of an unknown id: error = %v, want auth.ErrNotFound", err)
		}
	}},
	{"Authenticate", func(t *testing.T, s auth.TokenStore) {
		now := at(0)
		issue := func(name string, ttl time.Duration) (string, auth.Token) {
			secret, tok, err := auth.Issue(ctx(t), s, auth.IssueRequest{
				Name: name, Grants: auth.Grants(auth.Deployer, "staging", "production"), TTL: ttl, Now: now,
			})
			must(t, "Issue "+name, err)
			return secret, tok
		}
		good, goodTok := issue("ci", time.Hour)
		expired, _ := issue("old", time.Minute)
		revoked, revokedTok := issue("gone", 0)
		_, err := s.RevokeToken(ctx(t), revokedTok.ID, now)
		must(t, "RevokeToken", err)
		later := now.Add(30 * time.Minute)

		p, err := auth.Authenticate(ctx(t), s, good, later)
		must(t, "Authenticate a good token", err)
		if p.TokenID != goodTok.ID || p.Name != "ci" || p.Role("production") != auth.Deployer {
			t.Errorf("Authenticate = %+v, want token %s named ci, deployer on production", p, goodTok.ID)
		}
		for _, tc := range []struct {
			name, secret string
			want         error
		}{
			{"missing", "", auth.ErrNoToken},
			{"invalid", good + "x", auth.ErrInvalidToken},
			{"expired", expired, auth.ErrExpired},
			{"revoked", revoked, auth.ErrRevoked},
		} {
			_, err := auth.Authenticate(ctx(t), s, tc.secret, later)
			if !errors.Is(err, tc.want) || !errors.Is(err, auth.ErrUnauthenticated) {
				t.Errorf("Authenticate %s token: error = %v, want %v", tc.name, err, tc.want)
			}
		}
	}},
}

func newToken(id, name string, created time.Time) auth.Token {
	return auth.Token{
		ID: id, Name: name, Hash: auth.HashSecret("secret-" + id), CreatedAt: created, CreatedBy: "admin",
		Grants: []auth.Grant{{Env: "staging", Role: auth.Deployer}, {Env: "*", Role: auth.Viewer}},
	}
}

func sameToken(t *testing.T, what string, got, want auth.Token) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}
