// Package storetest is the conformance suite every rollout.Store passes.
//
// A store's test calls Run with a function that opens a fresh, empty store:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) rollout.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "gantry.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Besides what rollout.Store's doc comments say, the suite holds stores to
// these rules, which callers may rely on:
//
//   - Times are kept to the microsecond (PostgreSQL's precision): finer
//     parts are truncated, and times come back in UTC. A zero time stays
//     zero. Stores never fill in times; callers set them.
//   - Spec snapshots (Revision.Spec, AppRecord.Spec) are stored as their
//     JSON encoding, so they come back as a JSON round trip leaves them:
//     fields tagged json:"-", such as spec.ResourceList's parsed
//     MemoryBytes and CPUMillis, are not kept (parse again after reading),
//     and empty slices and maps under omitempty come back nil.
//   - ListApps returns apps ordered by name.
//   - Revision numbers start at 1 for each app and environment and are
//     never reused, not even after DeleteRevision removed the newest.
//     DeleteRevision and UpdateRollout return ErrNotFound for what does not
//     exist.
//   - CreateRollout and AppendEvent ignore the ID (and Generation) they are
//     given; IDs increase from 1 across the whole store.
//   - UpdateRollout writes every field but ID; App and Env should not change.
//   - A canceled context makes a method return an error that wraps
//     context.Canceled, and nothing is written.
//   - Writers racing each other never see an error that is not part of
//     the contract (such as "database is locked").
package storetest
