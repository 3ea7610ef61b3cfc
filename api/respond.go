package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"

	"github.com/gantry-dev/gantry/rollout"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, e Error) {
	writeJSON(w, status, ErrorBody{Error: e})
}

func internalError(w http.ResponseWriter, err error) {
	log.Printf("api: %v", err)
	writeError(w, http.StatusInternalServerError, Error{Code: CodeInternal, Message: "internal error: " + err.Error()})
}

// engineError maps the engine's errors to HTTP: the caller's mistakes are
// 400/404/409, everything else 500.
func engineError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, rollout.ErrInvalid):
		writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: strings.TrimPrefix(err.Error(), rollout.ErrInvalid.Error()+": ")})
	case errors.Is(err, rollout.ErrNotFound):
		writeError(w, http.StatusNotFound, Error{Code: CodeNotFound, Message: err.Error()})
	case errors.Is(err, rollout.ErrConflict):
		writeError(w, http.StatusConflict, Error{Code: CodeConflict, Message: err.Error() + ": try again"})
	default:
		internalError(w, err)
	}
}

// decode reads a JSON body into v strictly: at most MaxBodyBytes, no
// unknown fields, exactly one value. It answers 400/413 itself and
// reports whether the caller may go on.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.More() {
			err = errors.New("more than one JSON value")
		} else if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("trailing data after the JSON value")
		}
	}
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, Error{Code: CodeTooLarge,
			Message: fmt.Sprintf("request body is over %d bytes", MaxBodyBytes)})
	case errors.Is(err, io.ErrUnexpectedEOF):
		writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: "malformed JSON: the body ends in the middle of a value; send one complete JSON object"})
	case errors.Is(err, io.EOF):
		writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: "request body is empty: send a JSON object"})
	case errors.As(err, &syntax):
		writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest,
			Message: fmt.Sprintf("malformed JSON at byte %d: %v", syntax.Offset, err)})
	case errors.As(err, &typ):
		writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest,
			Message: fmt.Sprintf("field %q must be a %s, not a JSON %s", typ.Field, typ.Type, typ.Value)})
	default:
		// DisallowUnknownFields reports `json: unknown field "x"`.
		writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: strings.TrimPrefix(err.Error(), "json: ")})
	}
	return false
}
