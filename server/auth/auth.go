// Package auth authenticates every call by its API key ("Authorization: Bearer <secret>") and carries
// the calling principal in the context. Keys are stored as SHA-256 hashes; the secret is shown once.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/apikey"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
)

// Principal is who makes a call.
type Principal struct {
	AccountID string
	Role      commonv1.Role
	// Account is the account as loaded when the call began.
	Account *ent.Account
}

// System is the principal of the platform's automatic rules (deadlines).
var System = Principal{Role: commonv1.Role_ROLE_SYSTEM}

// Party is the principal as an API Party.
func (p Principal) Party() *commonv1.Party {
	return &commonv1.Party{Role: p.Role, AccountId: p.AccountID}
}

// Is reports whether the principal has one of the roles.
func (p Principal) Is(roles ...commonv1.Role) bool {
	for _, r := range roles {
		if p.Role == r {
			return true
		}
	}
	return false
}

// RequireRole fails with PERMISSION_DENIED unless the principal has one of the roles.
func (p Principal) RequireRole(action string, roles ...commonv1.Role) error {
	if p.Is(roles...) {
		return nil
	}
	return apierr.RoleNotAllowed(action, p.Role)
}

// RequireAfterSales fails unless the account may use its after-sales rights on orders it already has
// (disputes, returns, complaints, receipt confirmation): only a ban takes them away. A restricted account
// keeps them (docs/rules.md, Complaints: it "keeps its after-sales rights … on orders it already has"), so a
// restriction can never make a buyer lose a return or dispute window on an order it paid for.
func (p Principal) RequireAfterSales(action string) error {
	if a := p.Account; a != nil && a.Standing == "banned" {
		return apierr.New(connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_BANNED,
			"your account is banned and can only read its own data; it cannot %s", action)
	}
	return nil
}

// RequireTrading fails unless the account may trade now (create, accept or pay orders): not banned, not
// restricted, not frozen.
func (p Principal) RequireTrading(action string, now time.Time) error {
	a := p.Account
	if a == nil {
		return nil
	}
	switch {
	case a.Standing == "banned":
		return apierr.New(connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_BANNED,
			"your account is banned and can only read its own data; it cannot %s", action)
	case a.Standing == "restricted" && a.RestrictedUntil != nil && now.Before(*a.RestrictedUntil):
		return apierr.New(connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_RESTRICTED,
			"your account is restricted from trading until %s; it cannot %s", a.RestrictedUntil.UTC().Format(time.RFC3339), action).
			With("restricted_until", a.RestrictedUntil.UTC().Format(time.RFC3339))
	case a.Frozen:
		return apierr.New(connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_FROZEN,
			"your account is frozen; it cannot %s", action)
	}
	return nil
}

type ctxKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

type recheckKey struct{}

// WithRecheck returns a context whose call can authenticate its credentials again with check: a long call
// (a stream) asks with Recheck whether its key still works.
func WithRecheck(ctx context.Context, check func(context.Context) (Principal, error)) context.Context {
	return context.WithValue(ctx, recheckKey{}, check)
}

// Recheck authenticates the call's credentials again (from the key cache, so a revocation, ban, freeze
// or restriction committed by any process is seen within the authenticator's bound) and returns the
// principal as it is now. A call without credentials to recheck keeps the principal it began with.
func Recheck(ctx context.Context) (Principal, error) {
	check, ok := ctx.Value(recheckKey{}).(func(context.Context) (Principal, error))
	if !ok {
		return FromContext(ctx), nil
	}
	return check(ctx)
}

// FromContext returns the principal of the call.
func FromContext(ctx context.Context) Principal {
	p, _ := ctx.Value(ctxKey{}).(Principal)
	return p
}

// NewSecret returns a new API key secret and its prefix.
func NewSecret() (secret, prefix string) {
	b := make([]byte, 25)
	_, _ = rand.Read(b)
	secret = "ta_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	return secret, secret[:10]
}

// Hash is the stored form of a secret.
func Hash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// RoleFromName maps a stored role to the API role.
func RoleFromName(s string) commonv1.Role {
	switch s {
	case "buyer":
		return commonv1.Role_ROLE_BUYER
	case "supplier":
		return commonv1.Role_ROLE_SUPPLIER
	case "arbiter":
		return commonv1.Role_ROLE_ARBITER
	case "warehouse":
		return commonv1.Role_ROLE_WAREHOUSE
	case "operator":
		return commonv1.Role_ROLE_OPERATOR
	case "system":
		return commonv1.Role_ROLE_SYSTEM
	}
	return commonv1.Role_ROLE_UNSPECIFIED
}

// Authenticator checks API keys. A verified key is kept in memory (see keyCache), so a call costs no
// database round trip to authenticate; a change to the key or its account is seen within Bound by every
// server process on the database (register Hook on the client to record changes).
type Authenticator struct {
	Client *ent.Client
	// Bound is how soon a change committed by any process takes effect here; 0 means DefaultBound.
	Bound time.Duration
	keys  keyCache
}

// NewAuthenticator returns an authenticator over client with its change hook registered on the client;
// bound 0 means DefaultBound.
func NewAuthenticator(client *ent.Client, bound time.Duration) *Authenticator {
	a := &Authenticator{Client: client, Bound: bound}
	a.use(client)
	return a
}

var errUnauthenticated = errors.New("missing or invalid API key: send \"Authorization: Bearer <key>\"")

// bearerSecret returns the credentials of an "Authorization: Bearer <secret>" header. The scheme is
// matched in any case (RFC 9110, section 11.1: schemes are case-insensitive).
func bearerSecret(header string) (string, bool) {
	scheme, secret, ok := strings.Cut(strings.TrimSpace(header), " ")
	secret = strings.TrimSpace(secret)
	return secret, ok && strings.EqualFold(scheme, "Bearer") && secret != ""
}

// Authenticate resolves the principal of a bearer header.
func (a *Authenticator) Authenticate(ctx context.Context, header string) (Principal, error) {
	secret, ok := bearerSecret(header)
	if !ok {
		return Principal{}, connect.NewError(connect.CodeUnauthenticated, errUnauthenticated)
	}
	hash := Hash(secret)
	bound := a.Bound
	if bound <= 0 {
		bound = DefaultBound
	}
	version, err := a.keys.currentVersion(ctx, a.Client, bound)
	if err != nil {
		return Principal{}, err
	}
	if p, ok := a.keys.get(hash, version); ok {
		return p, nil
	}
	at := time.Now()
	key, err := a.Client.APIKey.Query().Where(apikey.SecretHash(hash), apikey.RevokeTimeIsNil()).Only(ctx)
	if ent.IsNotFound(err) {
		return Principal{}, connect.NewError(connect.CodeUnauthenticated, errUnauthenticated)
	}
	if err != nil {
		return Principal{}, err
	}
	acct, err := a.Client.Account.Get(ctx, key.AccountID)
	if err != nil {
		return Principal{}, err
	}
	p := Principal{AccountID: acct.ID, Role: RoleFromName(acct.Role.String()), Account: acct}
	a.keys.put(hash, version, at, p)
	return p, nil
}

// Interceptor refuses writes by banned accounts. Authentication itself is done once per request, before
// the body is read, by the HTTP gate in front of every service (transport.Gate), which puts the principal
// in the context; a call that reaches a handler without one (a handler mounted outside the gate) is
// refused, never authenticated a second time here.
func (a *Authenticator) Interceptor() connect.Interceptor { return interceptor{} }

type interceptor struct{}

func (interceptor) check(ctx context.Context, spec connect.Spec) error {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	if !ok {
		return connect.NewError(connect.CodeUnauthenticated, errUnauthenticated)
	}
	if p.Account != nil && p.Account.Standing == "banned" && spec.IdempotencyLevel != connect.IdempotencyNoSideEffects {
		return apierr.New(connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ACCOUNT_BANNED,
			"your account is banned and can only read its own data")
	}
	return nil
}

func (i interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if err := i.check(ctx, req.Spec()); err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		if err := i.check(ctx, conn.Spec()); err != nil {
			return err
		}
		return next(ctx, conn)
	}
}
