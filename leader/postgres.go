package leader

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gantry-dev/gantry/internal/outage"
)

// lockKey is the advisory lock the leader holds ("gantlead" in ASCII). In
// pg_locks it shows as classid lockKey>>32, objid lockKey&0xffffffff,
// objsubid 1.
const lockKey int64 = 0x67616e746c656164

// tableLockKey serializes creating the gantry_leader table.
const tableLockKey int64 = lockKey + 1

// KeepaliveWindow is about how long PostgreSQL takes to notice that a
// leader's host vanished without closing its connection (TCP keepalives:
// 5 s idle, then 3 probes 2 s apart), after which it frees the lock.
const KeepaliveWindow = 11 * time.Second

// PostgresOptions configure a Postgres elector.
type PostgresOptions struct {
	// URL is the database: a postgres:// URL or a libpq key=value string;
	// a password may come from it, PGPASSWORD or a passfile. Required.
	URL string
	// Self identifies this server to the others. Required: ID and APIURL.
	Self Info
	// Poll is how often a follower tries to take the lead; 0: 500ms.
	Poll time.Duration
	// LostAfter is how long a leader tolerates its lock connection not
	// answering before it gives leadership up; 0: 3s. It is checked every
	// second.
	LostAfter time.Duration
	// Logf receives diagnostics; nil: silent. A database that stays down
	// is logged when Lead first fails to reach it, as reminders with a
	// count, and when it answers again, not on every poll.
	Logf func(format string, args ...any)
	// Now is the clock of those reports; nil: time.Now.
	Now func() time.Time
}

// Postgres is an Elector over a PostgreSQL session-level advisory lock
// held on a dedicated connection. See the package documentation.
type Postgres struct {
	opts PostgresOptions

	// connMu serializes use of conn, which can take seconds (a dial, a
	// ping that times out); mu guards the fields after conn, briefly, so
	// Role and Leader never wait for the database.
	connMu  sync.Mutex
	conn    *pgx.Conn
	mu      sync.Mutex
	role    Role
	self    Info // Since and Term set once leading
	seen    Info // the leader as last read; zero: none
	lostErr bool // leadership was held and lost

	polls *outage.Log // Lead's failed polls

	lost     chan struct{}
	lostOnce sync.Once
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

var _ Elector = (*Postgres)(nil)

// NewPostgres connects to the database and creates the gantry_leader table
// when missing. It does not campaign: call TryLead or Lead.
func NewPostgres(ctx context.Context, opts PostgresOptions) (*Postgres, error) {
	if opts.URL == "" || opts.Self.ID == "" || opts.Self.APIURL == "" {
		return nil, errors.New("leader: PostgresOptions needs URL, Self.ID and Self.APIURL")
	}
	if opts.Poll <= 0 {
		opts.Poll = 500 * time.Millisecond
	}
	if opts.LostAfter <= 0 {
		opts.LostAfter = 3 * time.Second
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	p := &Postgres{opts: opts, role: Follower, self: opts.Self, lost: make(chan struct{}), stop: make(chan struct{}),
		polls: outage.New(outage.Options{What: "campaign for leadership", Logf: opts.Logf, Now: opts.Now})}
	p.connMu.Lock()
	defer p.connMu.Unlock()
	if err := p.connectLocked(ctx); err != nil {
		return nil, err
	}
	if err := p.createTableLocked(ctx); err != nil {
		p.conn.Close(ctx)
		return nil, err
	}
	return p, nil
}

func (p *Postgres) connectLocked(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(p.opts.URL)
	if err != nil {
		return fmt.Errorf("leader election: parse database URL: %w", err)
	}
	cfg.RuntimeParams["application_name"] = "gantry-leader " + p.opts.Self.ID
	// Let the server notice a vanished peer quickly, and so free the lock.
	cfg.RuntimeParams["tcp_keepalives_idle"] = "5"
	cfg.RuntimeParams["tcp_keepalives_interval"] = "2"
	cfg.RuntimeParams["tcp_keepalives_count"] = "3"
	cfg.DialFunc = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 5 * time.Second}).DialContext
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("leader election: connect: %w", err)
	}
	p.conn = conn
	return nil
}

func (p *Postgres) createTableLocked(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, p.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", tableLockKey); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS gantry_leader (
	id      smallint    PRIMARY KEY CHECK (id = 1),
	holder  text        NOT NULL,
	api_url text        NOT NULL,
	since   timestamptz NOT NULL,
	term    bigint      NOT NULL
)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("leader election: create table gantry_leader: %w", err)
	}
	return nil
}

// TryLead implements Elector: one pg_try_advisory_lock and, when it is
// granted, the leader row written in the same statement.
func (p *Postgres) TryLead(ctx context.Context) (bool, error) {
	p.connMu.Lock()
	defer p.connMu.Unlock()
	p.mu.Lock()
	role, lost := p.role, p.lostErr
	p.mu.Unlock()
	switch {
	case role == Leader:
		return true, nil
	case lost:
		return false, errors.New("leader election: this server lost leadership; restart it to campaign again")
	}
	if p.conn == nil || p.conn.IsClosed() {
		if err := p.connectLocked(ctx); err != nil {
			return false, err
		}
	}
	var since time.Time
	var term int64
	err := p.conn.QueryRow(ctx, `WITH l AS (SELECT pg_try_advisory_lock($1) AS ok)
INSERT INTO gantry_leader (id, holder, api_url, since, term)
SELECT 1, $2, $3, now(), 1 FROM l WHERE l.ok
ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, api_url = excluded.api_url,
	since = excluded.since, term = gantry_leader.term + 1
RETURNING since, term`, lockKey, p.self.ID, p.self.APIURL).Scan(&since, &term)
	if errors.Is(err, pgx.ErrNoRows) {
		seen, err := p.readLeaderLocked(ctx)
		if err != nil && !errors.Is(err, ErrNoLeader) {
			return false, err
		}
		p.mu.Lock()
		p.seen = seen
		p.mu.Unlock()
		return false, nil
	}
	if err != nil {
		p.closeConnLocked()
		return false, fmt.Errorf("leader election: try the lock: %w", err)
	}
	p.mu.Lock()
	p.role = Leader
	p.self.Since, p.self.Term = since, term
	p.seen = p.self
	p.mu.Unlock()
	p.wg.Add(1)
	go p.keep()
	return true, nil
}

// readLeaderLocked reads the leader row, counting it only while its lock
// is held.
func (p *Postgres) readLeaderLocked(ctx context.Context) (Info, error) {
	var in Info
	err := p.conn.QueryRow(ctx, `SELECT holder, api_url, since, term FROM gantry_leader
WHERE id = 1 AND EXISTS (
	SELECT 1 FROM pg_locks
	WHERE locktype = 'advisory' AND granted AND objsubid = 1
	  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
	  AND classid::bigint = $1 AND objid::bigint = $2)`,
		lockKey>>32, lockKey&0xffffffff).Scan(&in.ID, &in.APIURL, &in.Since, &in.Term)
	if errors.Is(err, pgx.ErrNoRows) {
		return Info{}, ErrNoLeader
	}
	if err != nil {
		p.closeConnLocked()
		return Info{}, fmt.Errorf("leader election: read the leader: %w", err)
	}
	return in, nil
}

// Lead implements Elector.
func (p *Postgres) Lead(ctx context.Context) error {
	for {
		ok, err := p.TryLead(ctx)
		if err == nil {
			p.polls.Succeeded()
		}
		if ok {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p.polls.Failed(err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(p.opts.Poll):
		}
	}
}

// keep checks the lock connection every second while leading and gives
// leadership up when it has not answered for LostAfter.
func (p *Postgres) keep() {
	defer p.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		p.connMu.Lock()
		ctx, cancel := context.WithTimeout(context.Background(), p.opts.LostAfter)
		err := p.conn.Ping(ctx)
		cancel()
		if err != nil {
			p.opts.Logf("leader election: lock connection lost (%v): giving leadership up", err)
			p.closeConnLocked()
			p.mu.Lock()
			p.role, p.lostErr, p.seen = Follower, true, Info{}
			p.mu.Unlock()
			p.lostOnce.Do(func() { close(p.lost) })
			p.connMu.Unlock()
			return
		}
		p.connMu.Unlock()
	}
}

func (p *Postgres) closeConnLocked() {
	if p.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = p.conn.Close(ctx)
	p.conn = nil
}

// Leader implements Elector: this server when it leads, else the leader
// row as read at the last try (at most Poll old while Lead runs).
func (p *Postgres) Leader(ctx context.Context) (Info, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen.ID == "" {
		return Info{}, ErrNoLeader
	}
	return p.seen, nil
}

// Role implements Elector.
func (p *Postgres) Role() Role {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.role
}

// Lost implements Elector.
func (p *Postgres) Lost() <-chan struct{} { return p.lost }

// Close implements Elector: closing the lock connection frees the lock.
func (p *Postgres) Close() error {
	p.stopOnce.Do(func() { close(p.stop) })
	p.wg.Wait()
	p.connMu.Lock()
	defer p.connMu.Unlock()
	p.closeConnLocked()
	p.mu.Lock()
	p.role = Follower
	p.mu.Unlock()
	return nil
}
