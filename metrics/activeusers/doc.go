// Package activeusers estimates how many distinct users a revision served
// over a sliding window, with a HyperLogLog sketch instead of a set: a
// fixed 4 KiB of registers per window slot, whatever the number of users,
// updated on the proxy's request path without locks or allocations.
//
// A user is an identity the caller hashes with Seed.Hash (the proxy hashes the
// client's address, or a session cookie). Sketch is the mergeable form
// (one byte per register, merged by taking each register's maximum), the
// one that travels from the data plane to gantry server; its Estimate uses
// Ertl's improved raw estimator ("New cardinality estimation algorithms
// for HyperLogLog sketches", 2017), which needs no empirical bias tables
// and stays within about 1.04/sqrt(4096) = 1.6% (standard error) from a
// handful of users to billions. Window is the live, windowed form.
//
// The hash is SipHash keyed with a Seed that is secret and one per
// installation: every gantry process of it hashes a user alike, so
// sketches from a data plane process and from the one that took its
// listeners over merge into one count, while someone who can choose many
// identities cannot choose ones that inflate the estimate.
package activeusers
