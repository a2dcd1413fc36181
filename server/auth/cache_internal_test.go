package auth

import (
	"context"
	"testing"
	"time"

	"github.com/tradeassure/tradeassure/ent/account"
	"github.com/tradeassure/tradeassure/server/storage"
)

// TestCacheServesWithinTheBound shows a verified key costs no database read while the bound lasts: a
// revocation written behind the cache's back (no hook, no version change) is not seen; once the version
// changes and the bound has passed (a bound of 1ns: every call reads it), it is.
func TestCacheServesWithinTheBound(t *testing.T) {
	ctx := context.Background()
	store, err := storage.Open(ctx, "sqlite://:memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Now()
	acct, err := store.Client.Account.Create().SetID("acc_1").SetRole(account.RoleBuyer).SetName("B").SetEmail("b@test.example").
		SetCountry("US").SetCreateTime(now).SetUpdateTime(now).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secret, prefix := NewSecret()
	key, err := store.Client.APIKey.Create().SetID("key_1").SetAccountID(acct.ID).SetPrefix(prefix).SetSecretHash(Hash(secret)).
		SetCreateTime(now).SetUpdateTime(now).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := &Authenticator{Client: store.Client, Bound: time.Hour}
	if _, err := a.Authenticate(ctx, "Bearer "+secret); err != nil {
		t.Fatal(err)
	}
	// Behind the cache's back: this client has no hook.
	if _, err := store.DB.ExecContext(ctx, `UPDATE api_keys SET revoke_time = ? WHERE id = ?`, now, key.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, "Bearer "+secret); err != nil {
		t.Fatalf("within the bound, unchanged version: %v, want the kept key", err)
	}
	a.Bound = time.Nanosecond
	if _, err := a.Authenticate(ctx, "Bearer "+secret); err != nil {
		t.Fatalf("version unchanged: %v, want the kept key", err)
	}
	if err := bumpVersion(ctx, store.Client); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, "Bearer "+secret); err == nil {
		t.Fatal("the version changed and the bound passed, yet the revoked key still works")
	}
}
