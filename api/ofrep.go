package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/featureflag"
)

// OFREPPath is where an environment's OpenFeature Remote Evaluation
// Protocol lives: an OFREP provider's base URL is
// <server>/api/v1/environments/<env>, to which it appends
// /ofrep/v1/evaluate/flags[/{key}].
const OFREPPath = "/api/v1/environments/{env}/ofrep/v1/evaluate/flags"

// ofrepRoutes registers OFREP single and bulk evaluation. Evaluating needs
// the viewer role on the environment; evaluations change nothing, so they
// are not audited (they are counted: see the metrics).
func (h *handler) ofrepRoutes(rt *router) {
	a := need(auth.Viewer, ScopeEnv, "flags.evaluate", "evaluate the flags of {env}")
	a.ReadOnly = true
	rt.handle("POST "+OFREPPath+"/{key}", a, h.ofrepSingle)
	rt.handle("POST "+OFREPPath, a, h.ofrepBulk)
}

// ofrepSuccess is OFREP's evaluationSuccess.
type ofrepSuccess struct {
	Key      string         `json:"key"`
	Value    any            `json:"value"`
	Reason   string         `json:"reason"`
	Variant  string         `json:"variant"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

// ofrepFailure is OFREP's evaluationFailure and flagNotFound; without Key,
// its bulkEvaluationFailure and generalErrorResponse.
type ofrepFailure struct {
	Key          string `json:"key,omitempty"`
	ErrorCode    string `json:"errorCode,omitempty"`
	ErrorDetails string `json:"errorDetails"`
}

// ofrepRequest reads an OFREP evaluation request: {"context": {...}}.
// A malformed body is PARSE_ERROR, a context that is not an object
// INVALID_CONTEXT. It also returns the body, for the bulk ETag.
func ofrepRequest(w http.ResponseWriter, r *http.Request) (featureflag.Context, []byte, *featureflag.EvalError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		return nil, nil, &featureflag.EvalError{Code: featureflag.CodeParseError, Message: fmt.Sprintf("read the request body: %v", err)}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return featureflag.Context{}, body, nil
	}
	var req struct {
		Context json.RawMessage `json:"context"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, nil, &featureflag.EvalError{Code: featureflag.CodeParseError, Message: fmt.Sprintf("the body is not an OFREP request {\"context\": {...}}: %v", err)}
	}
	ctx := featureflag.Context{}
	if len(req.Context) > 0 && !bytes.Equal(bytes.TrimSpace(req.Context), []byte("null")) {
		if err := json.Unmarshal(req.Context, &ctx); err != nil {
			return nil, nil, &featureflag.EvalError{Code: featureflag.CodeInvalidContext, Message: "context must be a JSON object of attributes, such as {\"targetingKey\": \"user-1\", \"email\": \"ann@example.com\"}"}
		}
	}
	return ctx, body, nil
}

func (h *handler) ofrepSingle(w http.ResponseWriter, r *http.Request) {
	c, ok := h.catalog(w)
	if !ok {
		return
	}
	env, key := r.PathValue("env"), r.PathValue("key")
	ctx, _, perr := ofrepRequest(w, r)
	if perr != nil {
		writeJSON(w, http.StatusBadRequest, ofrepFailure{Key: key, ErrorCode: string(perr.Code), ErrorDetails: perr.Message})
		return
	}
	snap, err := c.Snapshot(r.Context(), env)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, ofrepFailure{ErrorDetails: err.Error()})
		return
	}
	res, err := snap.Evaluate(key, ctx)
	h.count(c, env, res, err)
	if err != nil {
		var ee *featureflag.EvalError
		if !errors.As(err, &ee) {
			writeJSON(w, http.StatusInternalServerError, ofrepFailure{ErrorDetails: err.Error()})
			return
		}
		status := http.StatusBadRequest
		if ee.Code == featureflag.CodeFlagNotFound {
			status = http.StatusNotFound
		}
		writeJSON(w, status, ofrepFailure{Key: key, ErrorCode: string(ee.Code), ErrorDetails: ee.Message})
		return
	}
	writeJSON(w, http.StatusOK, success(res))
}

func success(res featureflag.Result) ofrepSuccess {
	s := ofrepSuccess{Key: res.Key, Value: res.Value, Reason: string(res.Reason), Variant: res.Variant}
	if res.Rule != "" {
		s.Metadata = map[string]any{"rule": res.Rule}
	}
	return s
}

// ofrepBulk evaluates every flag of the environment. Its ETag covers the
// environment's flags and the request's context, so a client polling with
// If-None-Match gets 304 until a flag changes.
func (h *handler) ofrepBulk(w http.ResponseWriter, r *http.Request) {
	c, ok := h.catalog(w)
	if !ok {
		return
	}
	env := r.PathValue("env")
	ctx, body, perr := ofrepRequest(w, r)
	if perr != nil {
		writeJSON(w, http.StatusBadRequest, ofrepFailure{ErrorCode: string(perr.Code), ErrorDetails: perr.Message})
		return
	}
	snap, err := c.Snapshot(r.Context(), env)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, ofrepFailure{ErrorDetails: err.Error()})
		return
	}
	sum := sha256.Sum256(append([]byte(snap.ETag()+"\n"), bytes.TrimSpace(body)...))
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	out := struct {
		Flags []any `json:"flags"`
	}{Flags: make([]any, 0, len(snap.Keys()))}
	for _, key := range snap.Keys() {
		res, err := snap.Evaluate(key, ctx)
		h.count(c, env, res, err)
		var ee *featureflag.EvalError
		switch {
		case err == nil:
			out.Flags = append(out.Flags, success(res))
		case errors.As(err, &ee):
			out.Flags = append(out.Flags, ofrepFailure{Key: key, ErrorCode: string(ee.Code), ErrorDetails: ee.Message})
		default:
			out.Flags = append(out.Flags, ofrepFailure{Key: key, ErrorCode: string(featureflag.CodeGeneral), ErrorDetails: err.Error()})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// count records one evaluation in the catalog's counters. Unknown flags
// are counted under flag "" so a client asking for random names cannot
// grow the metrics without bound.
func (h *handler) count(c *featureflag.Catalog, env string, res featureflag.Result, err error) {
	k := featureflag.CountKey{Env: env, Flag: res.Key, Variant: res.Variant, Reason: res.Reason}
	var ee *featureflag.EvalError
	if errors.As(err, &ee) {
		k.Error = ee.Code
		if ee.Code == featureflag.CodeFlagNotFound {
			k.Flag = ""
		}
	} else if err != nil {
		k.Error = featureflag.CodeGeneral
	}
	c.Counts.Add(k)
}
