package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/internal/receivertest"
	"github.com/oarepo/heartbeat/receivers/postgres"
)

// TestNewSQLIsTheSQLReceiver: NewSQL is receivers/sql's receiver under this
// package's name and options, with its pool statistics in database/sql's
// terms.
func TestNewSQLIsTheSQLReceiver(t *testing.T) {
	db, err := sql.Open("pgx", serverURL(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	db.SetMaxOpenConns(3)

	reply, _ := receivertest.Probe(postgres.NewSQL(db), 2*time.Second)
	require.True(t, reply.Status, "%v", reply.Data)
	assert.Equal(t, "postgres", reply.Name)
	assert.Greater(t, reply.Data["time"], 0.0)
	pool, ok := reply.Data["pool"].(map[string]any)
	require.True(t, ok, "%v", reply.Data)
	assert.Equal(t, 3, pool["max_open"])
	for _, k := range []string{"open", "in_use", "idle", "wait_count"} {
		assert.Contains(t, pool, k)
	}

	reply, _ = receivertest.Probe(postgres.NewSQL(db, postgres.WithName("catalog"),
		postgres.WithQuery("select 1 from heartbeat_no_such_table")), 2*time.Second)
	assert.False(t, reply.Status)
	assert.Equal(t, "catalog", reply.Name)
	assert.Contains(t, reply.Data["error"], `relation "heartbeat_no_such_table" does not exist (SQLSTATE 42P01)`)
}

// TestNewSQLMasksSecrets: WithSecrets reaches the shared receiver.
func TestNewSQLMasksSecrets(t *testing.T) {
	const pw = "pl41n-S3cr3t"
	echo := sqlPingFunc(func(context.Context) error { return errors.New("driver said " + pw) })
	reply, _ := receivertest.Probe(postgres.NewSQL(echo, postgres.WithSecrets(pw)), time.Second)
	assert.False(t, reply.Status)
	assert.Equal(t, "driver said xxxxx", reply.Data["error"])
	receivertest.AssertNoSecret(t, reply, pw)
}

type sqlPingFunc func(context.Context) error

func (f sqlPingFunc) PingContext(ctx context.Context) error { return f(ctx) }
