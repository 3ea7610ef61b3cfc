// Package auth owns who may do what in gantry: API tokens, roles granted
// per environment, and the four-eyes rule for approvals.
//
// A token is a random secret of 256 bits shown once when it is issued;
// gantry stores only its SHA-256. A slow password hash (bcrypt, scrypt,
// argon2) exists to make guessing a low-entropy human password expensive;
// a 256-bit random secret cannot be guessed whatever the hash costs, so a
// fast hash loses nothing and keeps every authenticated request one
// indexed lookup.
//
// A token carries grants: a role (viewer < deployer < approver < admin) on
// an environment, or on "*" for every environment. The API asks a
// Principal whether it holds a role on an environment and answers 403 with
// the Denied error's message when it does not.
//
// Tokens live in a TokenStore, declared here and implemented by
// store/sqlite and store/postgres.
package auth
