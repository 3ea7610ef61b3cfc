package dashboard

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/auth"
)

// Session is what GET /dashboard/session answers: who the browser is
// signed in as, what it may do, and the CSRF token its changes carry.
type Session struct {
	// Name is the token's name; TokenID its public ID.
	Name    string       `json:"name"`
	TokenID string       `json:"tokenId"`
	Grants  []auth.Grant `json:"grants"`
	// CSRF goes in the X-CSRF-Token header of every request that changes anything.
	CSRF string `json:"csrf"`
	// Approval lists the environments whose promotions need a second person.
	Approval []string `json:"approval"`
}

// Link is what POST /dashboard/links answers: a one-time sign-in link.
type Link struct {
	// Path is the link's path and query, to append to the server's URL.
	Path string `json:"path"`
	// ExpiresInSeconds is how long it works, once.
	ExpiresInSeconds int `json:"expiresInSeconds"`
}

// login signs in with a token posted from the form (field "token"): the
// answer sets the session cookie and carries the Session.
func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		writeError(w, http.StatusForbidden, "forbidden", "sign-in from another site is refused: open the dashboard at this server's address")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "read the sign-in form: "+err.Error())
		return
	}
	secret := strings.TrimSpace(r.PostForm.Get("token"))
	if secret == "" {
		writeError(w, http.StatusBadRequest, "bad_request", "give an API token (gantry token create prints one)")
		return
	}
	h.signIn(w, r, secret, func(sess Session) { writeJSON(w, http.StatusOK, sess) })
}

// signIn checks secret, sets the session cookie and calls done; a token
// the API refuses gets the API's answer.
func (h *handler) signIn(w http.ResponseWriter, r *http.Request, secret string, done func(Session)) {
	if !h.checkToken(w, r, secret) {
		return
	}
	p, err := auth.Authenticate(r.Context(), h.d.opts.Tokens, secret, h.d.opts.Now())
	if err != nil {
		writeError(w, http.StatusUnauthorized, "unauthenticated", err.Error())
		return
	}
	sess := session{Secret: secret, Expires: h.d.opts.Now().Add(h.d.opts.SessionTTL).Unix(), ID: randomID()}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: h.d.sealer.seal(sess), Path: "/",
		MaxAge: int(h.d.opts.SessionTTL.Seconds()), HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil,
	})
	done(h.d.describe(p, sess))
}

func (d *Dashboard) describe(p auth.Principal, sess session) Session {
	s := Session{Name: p.Name, TokenID: p.TokenID, Grants: p.Grants, CSRF: d.sealer.csrf(sess), Approval: []string{}}
	for env, need := range d.opts.Policy.RequireApproval {
		if need {
			s.Approval = append(s.Approval, env)
		}
	}
	if s.Grants == nil {
		s.Grants = []auth.Grant{}
	}
	return s
}

// sameOrigin reports whether a browser's request comes from a page of this
// server: its Origin (when sent) names r's host.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return r.Header.Get("Sec-Fetch-Site") == "" || r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

func (h *handler) logout(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		writeError(w, http.StatusForbidden, "forbidden", "sign-out from another site is refused")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

// session answers who the browser is signed in as (401 when it is not).
func (h *handler) session(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.d.cookieSession(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "unauthenticated", "not signed in")
		return
	}
	p, _, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, h.d.describe(p, sess))
}

// createLink makes a one-time sign-in link for the request's bearer
// token (gantry dashboard).
func (h *handler) createLink(w http.ResponseWriter, r *http.Request) {
	if auth.BearerToken(r.Header.Get("Authorization")) == "" {
		writeError(w, http.StatusUnauthorized, "unauthenticated", "a sign-in link is made for an API token: send it as Authorization: Bearer")
		return
	}
	_, secret, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	code := randomID()
	now := h.d.opts.Now()
	h.d.mu.Lock()
	for c, l := range h.d.links {
		if !now.Before(l.expires) {
			delete(h.d.links, c)
		}
	}
	h.d.links[code] = link{secret: secret, expires: now.Add(h.d.opts.LinkTTL)}
	h.d.mu.Unlock()
	writeJSON(w, http.StatusCreated, Link{Path: "/dashboard/login?code=" + code, ExpiresInSeconds: int(h.d.opts.LinkTTL.Seconds())})
}

// linkLogin signs in with a one-time link's code, then sends the browser
// to the page, so the address bar never keeps the code.
func (h *handler) linkLogin(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("code")
	h.d.mu.Lock()
	l, found := h.d.links[code]
	delete(h.d.links, code)
	h.d.mu.Unlock()
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	if !found || !h.d.opts.Now().Before(l.expires) {
		http.Redirect(w, r, "/#/signin/link-expired", http.StatusSeeOther)
		return
	}
	h.signIn(w, r, l.secret, func(Session) { http.Redirect(w, r, "/", http.StatusSeeOther) })
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with the API's error body.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, api.ErrorBody{Error: api.Error{Code: code, Message: msg}})
}
