// Package admin implements AdminService: accounts, supplier profiles and API keys (operators), the caller's
// own account, and the development clock.
package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	"github.com/tradeassure/tradeassure/ent/account"
	adminv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/admin/v1/adminv1connect"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/clock"
	"github.com/tradeassure/tradeassure/server/deadline"
	"github.com/tradeassure/tradeassure/server/email"
	"github.com/tradeassure/tradeassure/server/idempotency"
	"github.com/tradeassure/tradeassure/server/money"
	"github.com/tradeassure/tradeassure/server/pagination"
	"github.com/tradeassure/tradeassure/server/resource"
	"github.com/tradeassure/tradeassure/server/storage"
)

var _ adminv1connect.AdminServiceHandler = (*Service)(nil)

// Service implements AdminService.
type Service struct {
	store  *storage.Store
	clock  clock.Clock
	dev    *clock.Adjustable // nil unless development mode
	engine *deadline.Engine
	pager  *pagination.Pager
}

// New returns the admin service; dev is the adjustable clock of development mode, or nil.
func New(store *storage.Store, clk clock.Clock, dev *clock.Adjustable, engine *deadline.Engine, pager *pagination.Pager) *Service {
	return &Service{store: store, clock: clk, dev: dev, engine: engine, pager: pager}
}

var roleNames = map[commonv1.Role]account.Role{
	commonv1.Role_ROLE_BUYER:     account.RoleBuyer,
	commonv1.Role_ROLE_SUPPLIER:  account.RoleSupplier,
	commonv1.Role_ROLE_ARBITER:   account.RoleArbiter,
	commonv1.Role_ROLE_WAREHOUSE: account.RoleWarehouse,
	commonv1.Role_ROLE_OPERATOR:  account.RoleOperator,
}

// NewAccount is what CreateAccount stores.
type NewAccount struct {
	Role     commonv1.Role
	Name     string
	Email    string
	Country  string
	Supplier *adminv1.SupplierProfile
}

// CreateAccount stores an account within tx; the admin RPC, the admin command and the dev seed share it.
func CreateAccount(ctx context.Context, tx *ent.Tx, a NewAccount, now time.Time) (*ent.Account, error) {
	role, ok := roleNames[a.Role]
	if !ok {
		return nil, apierr.Invalid("role", "must be a buyer, supplier, arbiter, warehouse or operator")
	}
	address := email.Normalize(a.Email)
	taken, err := tx.Account.Query().Where(account.Email(address)).Exist(ctx)
	if err != nil {
		return nil, fmt.Errorf("create account: %w", err)
	}
	if taken {
		return nil, apierr.New(connect.CodeAlreadyExists, commonv1.ErrorReason_ERROR_REASON_EMAIL_TAKEN,
			"an account with email %q already exists", address)
	}
	if role == account.RoleSupplier && a.Supplier != nil {
		if err := checkProfile(a.Supplier); err != nil {
			return nil, err
		}
	}
	c := tx.Account.Create().SetID("acc_" + uuid.Must(uuid.NewV7()).String()).SetRole(role).SetName(a.Name).
		SetEmail(address).SetCountry(a.Country).SetCreateTime(now).SetUpdateTime(now)
	if role == account.RoleSupplier && a.Supplier != nil {
		setProfile(c.Mutation(), a.Supplier)
	}
	acct, err := c.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create account: %w", err)
	}
	return acct, nil
}

// checkProfile refuses a supplier profile an operator cannot mean: a trade-assurance limit below zero (no
// order could be covered, and the limit checks would compare against a negative number) or beyond the
// largest amount the platform handles.
func checkProfile(p *adminv1.SupplierProfile) error {
	const field = "supplier.trade_assurance_limit_usd_minor"
	switch limit := p.GetTradeAssuranceLimitUsdMinor(); {
	case limit < 0:
		return apierr.Invalid(field, "the trade-assurance limit must not be negative (0 means no order can be covered); got %d", limit)
	case limit > money.Max:
		return money.TooLarge(field, "a trade-assurance limit of %d USD minor units is too large", limit)
	}
	return nil
}

func setProfile(m *ent.AccountMutation, p *adminv1.SupplierProfile) {
	m.SetTradeAssuranceLimitUsdMinor(p.GetTradeAssuranceLimitUsdMinor())
	m.SetOneTouchExport(p.GetOneTouchExport())
	m.SetBankAccount(p.GetBankAccount())
	m.SetBankAccountVerified(p.GetBankAccountVerified())
	m.SetFreeReturnProgramme(p.GetFreeReturnProgramme())
	m.SetFrozen(p.GetFrozen())
	if p.GetReturnAddress() != nil {
		b, _ := proto.Marshal(p.GetReturnAddress())
		m.SetReturnAddress(b)
	}
}

// IssueKey stores a new API key for an account within tx and returns it with its secret.
func IssueKey(ctx context.Context, tx *ent.Tx, accountID, name string, now time.Time) (*ent.APIKey, string, error) {
	if _, err := tx.Account.Get(ctx, accountID); ent.IsNotFound(err) {
		return nil, "", apierr.NotFound("account", accountID)
	} else if err != nil {
		return nil, "", err
	}
	secret, prefix := auth.NewSecret()
	k, err := tx.APIKey.Create().SetID("key_" + uuid.Must(uuid.NewV7()).String()).SetAccountID(accountID).SetName(name).
		SetPrefix(prefix).SetSecretHash(auth.Hash(secret)).SetCreateTime(now).SetUpdateTime(now).Save(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("issue key: %w", err)
	}
	return k, secret, nil
}

// AccountToProto converts a stored account.
func AccountToProto(a *ent.Account) *adminv1.Account {
	out := &adminv1.Account{
		Id: a.ID, Role: auth.RoleFromName(a.Role.String()), Name: a.Name, Email: a.Email, Country: a.Country,
		CreditScore: int32(a.CreditScore), CreateTime: timestamppb.New(a.CreateTime),
	}
	switch a.Standing {
	case account.StandingActive:
		out.Standing = adminv1.Account_STANDING_ACTIVE
	case account.StandingRestricted:
		out.Standing = adminv1.Account_STANDING_RESTRICTED
	case account.StandingBanned:
		out.Standing = adminv1.Account_STANDING_BANNED
	}
	if a.RestrictedUntil != nil {
		out.RestrictedUntil = timestamppb.New(*a.RestrictedUntil)
	}
	if a.Role == account.RoleSupplier {
		out.Supplier = &adminv1.SupplierProfile{
			TradeAssuranceLimitUsdMinor: a.TradeAssuranceLimitUsdMinor, OneTouchExport: a.OneTouchExport,
			BankAccount: resource.MaskAccount(a.BankAccount), BankAccountVerified: a.BankAccountVerified,
			FreeReturnProgramme: a.FreeReturnProgramme, Frozen: a.Frozen, SoldNotShippedCount: int32(a.SoldNotShippedCount),
		}
		if len(a.ReturnAddress) > 0 {
			out.Supplier.ReturnAddress = &commonv1.Address{}
			_ = proto.Unmarshal(a.ReturnAddress, out.Supplier.ReturnAddress)
		}
	}
	return out
}

func keyToProto(k *ent.APIKey) *adminv1.ApiKey {
	out := &adminv1.ApiKey{Id: k.ID, AccountId: k.AccountID, Name: k.Name, Prefix: k.Prefix, CreateTime: timestamppb.New(k.CreateTime)}
	if k.RevokeTime != nil {
		out.RevokeTime = timestamppb.New(*k.RevokeTime)
	}
	return out
}

func run[Req any, Resp any, PReq idempotency.Request[Req], PResp idempotency.Response[Resp]](ctx context.Context, s *Service,
	req *connect.Request[Req], fn func(tx *ent.Tx, p auth.Principal, now time.Time) (PResp, error),
) (*connect.Response[Resp], error) {
	return idempotency.Handle[Req, Resp, PReq, PResp](ctx, s.store, s.clock, req, fn)
}

// CreateAccount creates an account.
func (s *Service) CreateAccount(ctx context.Context, req *connect.Request[adminv1.CreateAccountRequest]) (*connect.Response[adminv1.CreateAccountResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*adminv1.CreateAccountResponse, error) {
		if err := p.RequireRole("create accounts", commonv1.Role_ROLE_OPERATOR); err != nil {
			return nil, err
		}
		a, err := CreateAccount(ctx, tx, NewAccount{
			Role: req.Msg.GetRole(), Name: req.Msg.GetName(), Email: req.Msg.GetEmail(), Country: req.Msg.GetCountry(),
			Supplier: req.Msg.GetSupplier(),
		}, now)
		if err != nil {
			return nil, err
		}
		return &adminv1.CreateAccountResponse{Account: AccountToProto(a)}, nil
	})
}

// GetAccount returns the caller's own account, or any for operators.
func (s *Service) GetAccount(ctx context.Context, req *connect.Request[adminv1.GetAccountRequest]) (*connect.Response[adminv1.GetAccountResponse], error) {
	p := auth.FromContext(ctx)
	id := req.Msg.GetAccountId()
	if id == "" {
		id = p.AccountID
	}
	if id != p.AccountID && p.Role != commonv1.Role_ROLE_OPERATOR {
		return nil, apierr.NotFound("account", id)
	}
	a, err := s.store.Client.Account.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apierr.NotFound("account", id)
	}
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&adminv1.GetAccountResponse{Account: AccountToProto(a)}), nil
}

// ListAccounts lists accounts.
func (s *Service) ListAccounts(ctx context.Context, req *connect.Request[adminv1.ListAccountsRequest]) (*connect.Response[adminv1.ListAccountsResponse], error) {
	p := auth.FromContext(ctx)
	if err := p.RequireRole("list accounts", commonv1.Role_ROLE_OPERATOR); err != nil {
		return nil, err
	}
	filter := pagination.Filter("accounts", req.Msg.GetRole())
	size, after, err := s.pager.Start(req.Msg, 50, 500, filter)
	if err != nil {
		return nil, err
	}
	q := s.store.Client.Account.Query()
	if r, ok := roleNames[req.Msg.GetRole()]; ok {
		q = q.Where(account.RoleEQ(r))
	}
	if after != "" {
		q = q.Where(account.IDGT(after))
	}
	rows, err := q.Order(ent.Asc(account.FieldID)).Limit(size + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	out := &adminv1.ListAccountsResponse{}
	rows, out.NextPageToken = pagination.Page(s.pager, rows, size, filter, func(a *ent.Account) string { return a.ID })
	for _, a := range rows {
		out.Accounts = append(out.Accounts, AccountToProto(a))
	}
	return connect.NewResponse(out), nil
}

// UpdateSupplierProfile replaces a supplier's profile.
func (s *Service) UpdateSupplierProfile(ctx context.Context, req *connect.Request[adminv1.UpdateSupplierProfileRequest]) (*connect.Response[adminv1.UpdateSupplierProfileResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*adminv1.UpdateSupplierProfileResponse, error) {
		if err := p.RequireRole("change supplier profiles", commonv1.Role_ROLE_OPERATOR); err != nil {
			return nil, err
		}
		a, err := tx.Account.Get(ctx, req.Msg.GetAccountId())
		if ent.IsNotFound(err) || (err == nil && a.Role != account.RoleSupplier) {
			return nil, apierr.NotFound("supplier", req.Msg.GetAccountId())
		}
		if err != nil {
			return nil, err
		}
		if err := checkProfile(req.Msg.GetSupplier()); err != nil {
			return nil, err
		}
		u := tx.Account.UpdateOne(a).SetUpdateTime(now)
		setProfile(u.Mutation(), req.Msg.GetSupplier())
		if a, err = u.Save(ctx); err != nil {
			return nil, fmt.Errorf("update supplier profile: %w", err)
		}
		return &adminv1.UpdateSupplierProfileResponse{Account: AccountToProto(a)}, nil
	})
}

// CreateApiKey issues an API key.
func (s *Service) CreateApiKey(ctx context.Context, req *connect.Request[adminv1.CreateApiKeyRequest]) (*connect.Response[adminv1.CreateApiKeyResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*adminv1.CreateApiKeyResponse, error) {
		if err := p.RequireRole("issue API keys", commonv1.Role_ROLE_OPERATOR); err != nil {
			return nil, err
		}
		k, secret, err := IssueKey(ctx, tx, req.Msg.GetAccountId(), req.Msg.GetName(), now)
		if err != nil {
			return nil, err
		}
		return &adminv1.CreateApiKeyResponse{ApiKey: keyToProto(k), Secret: secret}, nil
	})
}

// RevokeApiKey revokes a key.
func (s *Service) RevokeApiKey(ctx context.Context, req *connect.Request[adminv1.RevokeApiKeyRequest]) (*connect.Response[adminv1.RevokeApiKeyResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*adminv1.RevokeApiKeyResponse, error) {
		if err := p.RequireRole("revoke API keys", commonv1.Role_ROLE_OPERATOR); err != nil {
			return nil, err
		}
		k, err := RevokeKey(ctx, tx, req.Msg.GetApiKeyId(), now)
		if err != nil {
			return nil, err
		}
		return &adminv1.RevokeApiKeyResponse{ApiKey: keyToProto(k)}, nil
	})
}

// RevokeKey revokes an API key within tx (a key already revoked keeps its revocation time) and returns it.
func RevokeKey(ctx context.Context, tx *ent.Tx, id string, now time.Time) (*ent.APIKey, error) {
	k, err := tx.APIKey.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apierr.NotFound("API key", id)
	}
	if err != nil {
		return nil, err
	}
	if k.RevokeTime == nil {
		if k, err = tx.APIKey.UpdateOne(k).SetRevokeTime(now).SetUpdateTime(now).Save(ctx); err != nil {
			return nil, fmt.Errorf("revoke key: %w", err)
		}
	}
	return k, nil
}

// GetClock returns the server's time.
func (s *Service) GetClock(ctx context.Context, _ *connect.Request[adminv1.GetClockRequest]) (*connect.Response[adminv1.GetClockResponse], error) {
	return connect.NewResponse(&adminv1.GetClockResponse{Now: timestamppb.New(s.clock.Now()), Adjustable: s.dev != nil}), nil
}

// AdvanceClock moves the development clock forward and fires the deadlines that became due.
func (s *Service) AdvanceClock(ctx context.Context, req *connect.Request[adminv1.AdvanceClockRequest]) (*connect.Response[adminv1.AdvanceClockResponse], error) {
	p := auth.FromContext(ctx)
	if err := p.RequireRole("move the clock", commonv1.Role_ROLE_OPERATOR); err != nil {
		return nil, err
	}
	if s.dev == nil {
		return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_DEV_MODE_REQUIRED,
			"the clock can only be moved when the server runs with --dev")
	}
	now, err := s.dev.Advance(ctx, time.Duration(req.Msg.GetSeconds())*time.Second)
	if errors.Is(err, clock.ErrTooFar) {
		return nil, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_TIME_OUT_OF_RANGE, "seconds",
			"the development clock may move at most %d days ahead of the real time in all; it is at %s",
			int(clock.MaxOffset/(24*time.Hour)), s.clock.Now().Format(time.RFC3339)).
			With("latest", s.dev.Latest().Format(time.RFC3339))
	}
	if err != nil {
		return nil, err
	}
	n, err := s.engine.RunDue(ctx)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&adminv1.AdvanceClockResponse{Now: timestamppb.New(now), FiredDeadlines: int32(n)}), nil
}
