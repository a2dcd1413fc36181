// Package idempotency makes mutating requests safe to retry. A request that carries a request id runs its
// effect and stores its response under (principal, procedure, request id) in the same transaction, so a
// retry, even after a crash between commit and reply, returns the first response and never applies the
// effect twice; the same id with a different request is refused.
//
// The transaction claims the key (inserts its row) before it runs the effect. A retry racing its
// original therefore waits on that row — on Postgres the unique index makes the second insert wait for
// the first transaction, on SQLite the write lock does — and then finds the first response, rather than
// running the effect beside it and failing on the state the original changed.
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"entgo.io/ent/dialect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/idempotencykey"
	"github.com/tradeassure/tradeassure/ent/orderrevision"
	"github.com/tradeassure/tradeassure/ent/predicate"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/clock"
	"github.com/tradeassure/tradeassure/server/storage"
)

// Key names one request.
type Key struct {
	PrincipalID string
	Procedure   string
	RequestID   string
}

// Run runs fn in a transaction. With a request id, it first looks for a stored response: when found for
// the same request it is returned and fn does not run; when found for another request the call fails with
// REQUEST_ID_REUSED. Otherwise fn's response is stored with its effect. now stamps the stored key.
func Run[Resp proto.Message](ctx context.Context, store *storage.Store, key Key, req proto.Message, now time.Time,
	fn func(tx *ent.Tx) (Resp, error),
) (Resp, error) {
	var zero Resp
	if key.RequestID == "" {
		var out Resp
		err := store.WithTx(ctx, func(tx *ent.Tx) error {
			var err error
			out, err = fn(tx)
			return err
		})
		if err != nil {
			return zero, err
		}
		return out, nil
	}
	hash, err := digest(req)
	if err != nil {
		return zero, err
	}
	for attempt := 0; ; attempt++ {
		var out Resp
		held := attempt == 0 && store.Dialect == dialect.Postgres && marked(ctx)
		err := store.WithTx(ctx, func(tx *ent.Tx) error {
			claimed := true // a held claim is the transaction's own until COMMIT, or fails it
			claimPending := false
			var err error
			if held {
				err = claimLater(storage.LaterPending(ctx, &claimPending), tx, key, hash, now)
			} else {
				claimed, err = claim(ctx, tx, key, hash, now)
			}
			if err != nil {
				return err
			}
			if !claimed {
				prior, err := tx.IdempotencyKey.Query().Where(byKey(key)).Only(ctx)
				if err != nil {
					return fmt.Errorf("look up request id: %w", err)
				}
				if !bytes.Equal(prior.RequestHash, hash) {
					return apierr.New(connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_REQUEST_ID_REUSED,
						"request id %q was already used for a different request; use a new request id", key.RequestID).
						With("request_id", key.RequestID)
				}
				out = newOf(zero)
				if prior.ResponseRef != "" {
					return rebuild(ctx, tx, prior.ResponseRef, out)
				}
				return proto.Unmarshal(prior.Response, out)
			}
			copies.Store(tx, &stored{})
			defer copies.Delete(tx)
			out, err = fn(tx)
			if err != nil {
				return err
			}
			body, ref, err := compact(tx, out)
			if err != nil {
				return fmt.Errorf("store response: %w", err)
			}
			// A statement of its own, not ent's update, which reads how many rows it changed: nothing reads
			// the result, so on Postgres it is held back and goes with COMMIT's flush of the held writes, or
			// with the outbox rows of the effect's event, in one round trip (storage.Later).
			// Unless the claim is still held back (the effect sent no statement): beside it in one statement
			// the update would not see the claimed row, so it follows it instead.
			rctx := storage.Later(ctx)
			if claimPending {
				rctx = ctx
			}
			if _, err := tx.ExecContext(rctx, storeResponse, body, ref, key.PrincipalID, key.Procedure, key.RequestID); err != nil {
				return fmt.Errorf("store response: %w", err)
			}
			return nil
		})
		if err != nil {
			// The claim lost to a concurrent request with the key, which has committed by now: the next
			// attempt finds its response. A call whose claim was held back and failed runs again with the
			// usual claim, whatever the error: the key may have been stored already (the first statement
			// then failed on it) or the effect may have failed before any statement carried the claim, and
			// a retry of a stored request must get its stored response, not the error.
			if (ent.IsConstraintError(err) || held) && attempt < 3 {
				continue
			}
			return zero, err
		}
		return out, nil
	}
}

// A response is usually one resource as its transaction has just stored it, in a revision snapshot: the
// order after CreateOrder or a transition. Storing it again with the request id would keep a third copy
// of every order (beside the snapshot and the event), so the key stores a reference to the snapshot
// instead, and a retry rebuilds the response from it. The reference is made only when the bytes are the
// very bytes the snapshot holds, so the rebuilt response is the first one, byte for byte.

// copies holds, for each transaction inside Run with a request id, the snapshots it stored (Stored).
var copies sync.Map // *ent.Tx → *stored

type stored struct {
	mu   sync.Mutex
	list []storedCopy
}

type storedCopy struct {
	ref  string // table/subject/revision
	body []byte
}

// StoredOrderRevision tells Run that tx stored snapshot as the revision of an order, so that a response made
// of that very order can be kept as a reference to it. It does nothing outside a Run with a request id.
func StoredOrderRevision(tx *ent.Tx, orderID string, revision int64, snapshot []byte) {
	v, ok := copies.Load(tx)
	if !ok {
		return
	}
	s := v.(*stored)
	s.mu.Lock()
	s.list = append(s.list, storedCopy{ref: "order_revisions/" + orderID + "/" + strconv.FormatInt(revision, 10), body: snapshot})
	s.mu.Unlock()
}

// compact returns what to store for out: no bytes and a reference (field number/copy) when out holds one
// message field and nothing else, and that message's bytes are a copy tx stored; otherwise its bytes. Out
// is marshalled whole only when no reference will do.
func compact(tx *ent.Tx, out proto.Message) ([]byte, string, error) {
	if ref, err := reference(tx, out); ref != "" || err != nil {
		return []byte{}, ref, err
	}
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(out)
	return body, "", err
}

// reference is the reference compact stores for out, or "" when there is none.
func reference(tx *ent.Tx, out proto.Message) (string, error) {
	v, ok := copies.Load(tx)
	if !ok {
		return "", nil
	}
	m := out.ProtoReflect()
	var only protoreflect.FieldDescriptor
	n := 0
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		only, n = fd, n+1
		return n < 2
	})
	if n != 1 || only.Kind() != protoreflect.MessageKind || only.Cardinality() == protoreflect.Repeated || len(m.GetUnknown()) > 0 {
		return "", nil
	}
	inner, err := proto.MarshalOptions{Deterministic: true}.Marshal(m.Get(only).Message().Interface())
	if err != nil {
		return "", err
	}
	s := v.(*stored)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.list {
		if bytes.Equal(c.body, inner) {
			return strconv.Itoa(int(only.Number())) + "/" + c.ref, nil
		}
	}
	return "", nil
}

// rebuild fills out from the copy ref names (see compact).
func rebuild(ctx context.Context, tx *ent.Tx, ref string, out proto.Message) error {
	parts := strings.Split(ref, "/")
	if len(parts) != 4 || parts[1] != "order_revisions" {
		return fmt.Errorf("rebuild stored response: unknown reference %q", ref)
	}
	field, err1 := strconv.Atoi(parts[0])
	revision, err2 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("rebuild stored response: bad reference %q", ref)
	}
	rev, err := tx.OrderRevision.Query().Where(orderrevision.OrderID(parts[2]), orderrevision.Revision(revision)).Only(ctx)
	if err != nil {
		return fmt.Errorf("rebuild stored response %q: %w", ref, err)
	}
	m := out.ProtoReflect()
	fd := m.Descriptor().Fields().ByNumber(protoreflect.FieldNumber(field))
	if fd == nil || fd.Kind() != protoreflect.MessageKind {
		return fmt.Errorf("rebuild stored response: %q names no message field of %s", ref, m.Descriptor().FullName())
	}
	v := m.NewField(fd)
	if err := proto.Unmarshal(rev.Snapshot, v.Message().Interface()); err != nil {
		return fmt.Errorf("rebuild stored response %q: %w", ref, err)
	}
	m.Set(fd, v)
	return nil
}

// claim inserts the key's row with an empty response, unless a row for the key exists: one statement for
// the usual new request, where a look-up followed by an insert took two. On Postgres a concurrent
// transaction that inserted the key first makes this one wait for it: when it commits, nothing is inserted
// and the caller reads its response; when it rolls back, the row is inserted here.
func claim(ctx context.Context, tx *ent.Tx, key Key, hash []byte, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, claimIfNew, key.PrincipalID, key.Procedure, key.RequestID, hash, []byte{}, now)
	if err != nil {
		return false, fmt.Errorf("claim request id: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim request id: %w", err)
	}
	return n == 1, nil
}

// ClaimWithFirstStatement marks a call whose effect (fn of Run) begins with a statement of the database
// and calls nothing outside it before that: on Postgres its key is then claimed by a plain INSERT held
// back (storage.Later) and carried by that first statement when it is marked storage.Absorbing, which
// saves the claim its own round trip. A key already stored fails that first statement (a unique
// violation) before the effect has done anything; the transaction is rolled back and the call runs
// again with the usual claim, which finds the stored response. The call runs again on any other error
// too, since an effect that fails before its first statement has not tried the claim. So a retry, or a
// refused call, costs one more short transaction, and a first request one round trip less.
func ClaimWithFirstStatement(ctx context.Context) context.Context {
	return context.WithValue(ctx, firstStatementKey{}, true)
}

type firstStatementKey struct{}

func marked(ctx context.Context) bool { v, _ := ctx.Value(firstStatementKey{}).(bool); return v }

// claimLater holds back the insert of key's row until the transaction's next statement (ctx is Later's).
func claimLater(ctx context.Context, tx *ent.Tx, key Key, hash []byte, now time.Time) error {
	if _, err := tx.ExecContext(ctx, insertKey, key.PrincipalID, key.Procedure, key.RequestID, hash, []byte{}, now); err != nil {
		return fmt.Errorf("claim request id: %w", err)
	}
	return nil
}

// storeResponse stores a claimed key's response; it runs unchanged on SQLite (see storage.SelectBy).
const storeResponse = `UPDATE "idempotency_keys" SET "response" = $1, "response_ref" = $2 ` +
	`WHERE "principal_id" = $3 AND "procedure" = $4 AND "request_id" = $5`

// insertKey inserts a claimed key's row; claimIfNew does unless the key has one already. Both run
// unchanged on SQLite, as storeResponse does.
const (
	insertKey = `INSERT INTO "idempotency_keys" ("principal_id", "procedure", "request_id", "request_hash", "response", "create_time") ` +
		`VALUES ($1, $2, $3, $4, $5, $6)`
	claimIfNew = insertKey + ` ON CONFLICT ("principal_id", "procedure", "request_id") DO NOTHING`
)

func byKey(key Key) predicate.IdempotencyKey {
	return idempotencykey.And(idempotencykey.PrincipalID(key.PrincipalID), idempotencykey.Procedure(key.Procedure),
		idempotencykey.RequestID(key.RequestID))
}

// Retention is how long a stored response answers retries of its request id: at least 30 days (Stripe
// keeps keys 24 hours). Sweep deletes older keys; after that, the request id is new again.
const Retention = 30 * 24 * time.Hour

// sweepBatch is how many keys one sweep statement deletes, so a sweep never holds locks for long.
const sweepBatch = 1000

// Sweep deletes the keys stored more than Retention before now, sweepBatch at a time, and returns how
// many it deleted.
func Sweep(ctx context.Context, store *storage.Store, now time.Time) (int, error) {
	cutoff := now.Add(-Retention)
	total := 0
	for {
		ids, err := store.Client.IdempotencyKey.Query().Where(idempotencykey.CreateTimeLT(cutoff)).Limit(sweepBatch).IDs(ctx)
		if err != nil {
			return total, fmt.Errorf("sweep request ids: %w", err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		n, err := store.Client.IdempotencyKey.Delete().Where(idempotencykey.IDIn(ids...)).Exec(ctx)
		if err != nil {
			return total, fmt.Errorf("sweep request ids: %w", err)
		}
		total += n
	}
}

// RunSweep sweeps expired keys every interval until ctx ends; failures are logged and retried next time.
func RunSweep(ctx context.Context, store *storage.Store, clk clock.Clock, log *slog.Logger, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := Sweep(ctx, store, clk.Now()); err != nil && ctx.Err() == nil {
			log.ErrorContext(ctx, "sweep expired request ids", "error", err)
		} else if n > 0 {
			log.InfoContext(ctx, "swept expired request ids", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func newOf[Resp proto.Message](zero Resp) Resp {
	return zero.ProtoReflect().Type().New().Interface().(Resp)
}

func digest(req proto.Message) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("hash request: %w", err)
	}
	h := sha256.Sum256(b)
	return h[:], nil
}

// Request is a generated mutating request message.
type Request[T any] interface {
	*T
	proto.Message
	GetRequestId() string
}

// Response is a generated response message.
type Response[T any] interface {
	*T
	proto.Message
}

// Handle runs a Connect mutation in a transaction, once per (caller, procedure, request id), passing the
// caller and the time the call is made.
func Handle[Req any, Resp any, PReq Request[Req], PResp Response[Resp]](ctx context.Context, store *storage.Store,
	clk clock.Clock, req *connect.Request[Req], fn func(tx *ent.Tx, p auth.Principal, now time.Time) (PResp, error),
) (*connect.Response[Resp], error) {
	p := auth.FromContext(ctx)
	now := clk.Now()
	msg := PReq(req.Msg)
	key := Key{PrincipalID: p.AccountID, Procedure: req.Spec().Procedure, RequestID: msg.GetRequestId()}
	out, err := Run(ctx, store, key, msg, now, func(tx *ent.Tx) (PResp, error) { return fn(tx, p, now) })
	if err != nil {
		return nil, err
	}
	return connect.NewResponse((*Resp)(out)), nil
}
