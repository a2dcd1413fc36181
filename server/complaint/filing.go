package complaint

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	entcomplaint "github.com/tradeassure/tradeassure/ent/complaint"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	complaintv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/complaint/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/order"
	"github.com/tradeassure/tradeassure/server/resource"
)

// requiredEvidence is the evidence each complaint type needs (docs/rules.md, Complaints).
var requiredEvidence = map[entcomplaint.Type][]commonv1.EvidenceKind{
	entcomplaint.TypeFalseTransaction: {commonv1.EvidenceKind_EVIDENCE_KIND_ORDER_RECORD, commonv1.EvidenceKind_EVIDENCE_KIND_CHAT_LOG},
	entcomplaint.TypeProductQuality: {commonv1.EvidenceKind_EVIDENCE_KIND_PRODUCT_PHOTO, commonv1.EvidenceKind_EVIDENCE_KIND_LOGISTICS_RECORD,
		commonv1.EvidenceKind_EVIDENCE_KIND_RETURN_RECORD},
	entcomplaint.TypeServiceFailure:   {commonv1.EvidenceKind_EVIDENCE_KIND_ORDER_RECORD, commonv1.EvidenceKind_EVIDENCE_KIND_LOGISTICS_RECORD},
	entcomplaint.TypeTransactionFraud: {commonv1.EvidenceKind_EVIDENCE_KIND_IDENTITY_DOCUMENT, commonv1.EvidenceKind_EVIDENCE_KIND_TRANSACTION_RECORD},
}

// maxEvidence is the most evidence (and the most statements) one complaint holds, so a complaint stays a
// size that is read whole on every call.
const maxEvidence = 200

// filers are the sides that may file each type: a false transaction is the supplier's complaint about a
// buyer, product quality and service failure are the buyer's about a supplier, and fraud is either's.
var filers = map[entcomplaint.Type][]commonv1.Role{
	entcomplaint.TypeFalseTransaction: {commonv1.Role_ROLE_SUPPLIER},
	entcomplaint.TypeProductQuality:   {commonv1.Role_ROLE_BUYER},
	entcomplaint.TypeServiceFailure:   {commonv1.Role_ROLE_BUYER},
	entcomplaint.TypeTransactionFraud: {commonv1.Role_ROLE_BUYER, commonv1.Role_ROLE_SUPPLIER},
}

// typeName is a complaint type as a person would say it.
func typeName(t entcomplaint.Type) string { return strings.ReplaceAll(string(t), "_", " ") }

// checkEvidence refuses evidence that lacks a kind the type requires, naming every missing kind.
func checkEvidence(t entcomplaint.Type, evidence []*commonv1.Evidence) error {
	var missing []string
	for _, k := range requiredEvidence[t] {
		if !slices.ContainsFunc(evidence, func(e *commonv1.Evidence) bool { return e.GetKind() == k }) {
			missing = append(missing, k.String())
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_EVIDENCE_REQUIRED, "evidence",
		"a %s complaint needs evidence of kind %s; missing: %s", typeName(t),
		kindList(requiredEvidence[t]), strings.Join(missing, ", ")).
		With("missing_evidence_kinds", strings.Join(missing, ",")).
		With("required_evidence_kinds", kindList(requiredEvidence[t]))
}

func kindList(kinds []commonv1.EvidenceKind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.String()
	}
	return strings.Join(names, ",")
}

// stamp copies evidence supplied by p, recording who attached it and when.
func stamp(in []*commonv1.Evidence, p auth.Principal, now time.Time) []*commonv1.Evidence {
	out := make([]*commonv1.Evidence, len(in))
	for i, e := range in {
		c := proto.Clone(e).(*commonv1.Evidence)
		c.AddedBy, c.AddTime = p.Party(), timestamppb.New(now)
		out[i] = c
	}
	return out
}

// checkNoOther refuses a second complaint of the same type about the same order by the same complainant
// while one is filed, or once one was decided (a dismissed one is refiled instead).
func checkNoOther(ctx context.Context, tx *ent.Tx, orderID, complainantID string, t entcomplaint.Type, except string) error {
	others, err := tx.Complaint.Query().Where(entcomplaint.OrderID(orderID), entcomplaint.ComplainantID(complainantID),
		entcomplaint.TypeEQ(t), entcomplaint.StateIn(entcomplaint.StateFiled, entcomplaint.StateUpheld, entcomplaint.StateDismissed),
		entcomplaint.IDNEQ(except)).All(ctx)
	if err != nil {
		return fmt.Errorf("look up other complaints: %w", err)
	}
	for _, c := range others {
		if c.State == entcomplaint.StateFiled {
			return apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_ALREADY_OPEN,
				"you already have a filed %s complaint about order %s (%s); add evidence to it instead", typeName(t), orderID, c.ID).
				With("complaint_id", c.ID)
		}
	}
	for _, c := range others {
		msg := "your %s complaint about order %s (%s) was already %s"
		if c.State == entcomplaint.StateDismissed && c.RefiledAs == nil && c.RefiledFrom == nil {
			msg += "; refile it once with new evidence (RefileComplaint) instead"
		}
		return apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_COMPLAINT_ALREADY_DECIDED, msg, typeName(t), orderID, c.ID, c.State).
			With("complaint_id", c.ID)
	}
	return nil
}

// FileComplaint files a complaint against the other party of an order.
func (s *Service) FileComplaint(ctx context.Context, req *connect.Request[complaintv1.FileComplaintRequest]) (*connect.Response[complaintv1.FileComplaintResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*complaintv1.FileComplaintResponse, error) {
		if err := p.RequireRole("file complaints (the order's buyer or supplier files them)", commonv1.Role_ROLE_BUYER, commonv1.Role_ROLE_SUPPLIER); err != nil {
			return nil, err
		}
		m := req.Msg
		o, err := s.orders.Facts(ctx, tx, m.GetOrderId())
		if ent.IsNotFound(err) || (err == nil && !isParty(p, o)) {
			return nil, apierr.NotFound("order", m.GetOrderId())
		}
		if err != nil {
			return nil, fmt.Errorf("load order %s: %w", m.GetOrderId(), err)
		}
		if o.Drafted() {
			return nil, apierr.IllegalState("order", o.ID, "file a complaint about (the buyer has not accepted it, so there is no transaction yet)", o.State)
		}
		t := typeFromProto[m.GetType()]
		if !slices.Contains(filers[t], p.Role) {
			return nil, apierr.New(connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_COMPLAINT_TYPE_NOT_ALLOWED,
				"a %s cannot file a %s complaint; it is filed by the %s", auth.RoleName(p.Role), typeName(t),
				auth.RoleName(filers[t][0])).With("type", m.GetType().String())
		}
		pol := o.Policy
		end := o.End
		if end != nil {
			closes := end.Add(pol.ComplaintWindow)
			if now.After(closes) {
				return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_WINDOW_CLOSED,
					"the complaint window of order %s closed at %s, %d days after it ended at %s", o.ID,
					closes.UTC().Format(time.RFC3339), int(pol.ComplaintWindow/(24*time.Hour)), end.UTC().Format(time.RFC3339)).
					With("window_end", closes.UTC().Format(time.RFC3339))
			}
		}
		if err := checkEvidence(t, m.GetEvidence()); err != nil {
			return nil, err
		}
		if err := checkNoOther(ctx, tx, o.ID, p.AccountID, t, ""); err != nil {
			return nil, err
		}
		respondent := o.BuyerID
		if p.Role == commonv1.Role_ROLE_BUYER {
			respondent = o.SupplierID
		}
		c, err := s.create(ctx, tx, p, now, o, newComplaint{
			typ: t, respondent: respondent, description: m.GetDescription(), evidence: stamp(m.GetEvidence(), p, now), end: end,
		})
		if err != nil {
			return nil, err
		}
		return &complaintv1.FileComplaintResponse{Complaint: c}, nil
	})
}

// newComplaint is what a filing or a refiling stores.
type newComplaint struct {
	typ         entcomplaint.Type
	respondent  string
	description string
	evidence    []*commonv1.Evidence
	end         *time.Time
	refiledFrom string
}

// create stores a FILED complaint, schedules its decision deadline and appends "complaint.filed".
func (s *Service) create(ctx context.Context, tx *ent.Tx, p auth.Principal, now time.Time, o order.Facts, n newComplaint) (*complaintv1.Complaint, error) {
	id := resource.ID("cmp_")
	role := entcomplaint.ComplainantRoleBuyer
	if p.Role == commonv1.Role_ROLE_SUPPLIER {
		role = entcomplaint.ComplainantRoleSupplier
	}
	q := tx.Complaint.Create().SetID(id).SetOrderID(o.ID).SetPolicy(policyFromProto[o.PolicyName]).SetPolicyVersion(o.PolicyVersion).
		SetComplainantID(p.AccountID).SetComplainantRole(role).SetRespondentID(n.respondent).SetType(n.typ).
		SetStatement(n.description).SetEvidence(marshalList(n.evidence)).SetNillableOrderEndTime(n.end).
		SetState(file.To).
		SetRevision(1).SetEtag(resource.Etag(id, 1)).SetCreateTime(now).SetUpdateTime(now)
	if n.refiledFrom != "" {
		q.SetRefiledFrom(n.refiledFrom)
	}
	if err := file.Start(ctx, tx, nil, id, o.Policy, q.Mutation(), now); err != nil {
		return nil, err
	}
	c, err := q.Save(ctx)
	if ent.IsConstraintError(err) && n.refiledFrom != "" {
		return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_ALREADY_REFILED,
			"complaint %s has already been refiled; a dismissed complaint is refiled once", n.refiledFrom)
	}
	if err != nil {
		return nil, fmt.Errorf("file complaint: %w", err)
	}
	return s.record(ctx, tx, c, change{event: "filed", actor: p, now: now})
}

// isParty reports whether p is the order's buyer or supplier.
func isParty(p auth.Principal, o order.Facts) bool {
	return (p.Role == commonv1.Role_ROLE_BUYER && o.BuyerID == p.AccountID) ||
		(p.Role == commonv1.Role_ROLE_SUPPLIER && o.SupplierID == p.AccountID)
}

// AddComplaintEvidence attaches evidence, and optionally a statement, to a filed complaint.
func (s *Service) AddComplaintEvidence(ctx context.Context, req *connect.Request[complaintv1.AddComplaintEvidenceRequest]) (*connect.Response[complaintv1.AddComplaintEvidenceResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*complaintv1.AddComplaintEvidenceResponse, error) {
		m := req.Msg
		c, err := load(ctx, tx, p, m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		if !p.Is(commonv1.Role_ROLE_BUYER, commonv1.Role_ROLE_SUPPLIER) {
			return nil, apierr.RoleNotAllowed("add evidence to a complaint (only its complainant and respondent do)", p.Role)
		}
		if err := addEvidence.CheckAt(c, now); err != nil {
			return nil, err
		}
		pb, err := toProto(c)
		if err != nil {
			return nil, err
		}
		if n := len(pb.GetEvidence()) + len(m.GetEvidence()); n > maxEvidence {
			return nil, apierr.Invalid("evidence", "complaint %s holds %d pieces of evidence and may hold at most %d; %d more is too many",
				c.ID, len(pb.GetEvidence()), maxEvidence, len(m.GetEvidence()))
		}
		if m.GetStatement() != "" && len(pb.GetStatements()) >= maxEvidence {
			return nil, apierr.Invalid("statement", "complaint %s already holds the most statements, %d", c.ID, maxEvidence)
		}
		evidence := append(slices.Clip(c.Evidence), marshalList(stamp(m.GetEvidence(), p, now))...)
		statements := slices.Clip(c.Statements)
		if text := m.GetStatement(); text != "" {
			statements = append(statements, marshalList([]*complaintv1.Statement{{
				Author: p.Party(), Text: text, CreateTime: timestamppb.New(now),
			}})...)
		}
		pb, err = s.commit(ctx, tx, c, addEvidence, change{event: "evidence_added", actor: p, now: now, set: func(u *ent.ComplaintUpdateOne) {
			u.SetEvidence(evidence).SetStatements(statements)
		}})
		if err != nil {
			return nil, err
		}
		return &complaintv1.AddComplaintEvidenceResponse{Complaint: pb}, nil
	})
}

// WithdrawComplaint withdraws a filed complaint.
func (s *Service) WithdrawComplaint(ctx context.Context, req *connect.Request[complaintv1.WithdrawComplaintRequest]) (*connect.Response[complaintv1.WithdrawComplaintResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*complaintv1.WithdrawComplaintResponse, error) {
		m := req.Msg
		c, err := load(ctx, tx, p, m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		if c.ComplainantID != p.AccountID {
			return nil, apierr.New(connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED,
				"only the complainant can withdraw complaint %s", c.ID)
		}
		if err := withdraw.CheckAt(c, now); err != nil {
			return nil, err
		}
		pb, err := s.commit(ctx, tx, c, withdraw, change{event: "withdrawn", actor: p, now: now, set: func(u *ent.ComplaintUpdateOne) {
			u.SetWithdrawTime(now).SetWithdrawNote(m.GetNote()).SetCloseTime(now)
		}})
		if err != nil {
			return nil, err
		}
		return &complaintv1.WithdrawComplaintResponse{Complaint: pb}, nil
	})
}

// evidenceKey identifies a piece of evidence across filings: its file, by digest when known.
func evidenceKey(e *commonv1.Evidence) string {
	if e.GetSha256() != "" {
		return "sha256:" + e.GetSha256()
	}
	return "uri:" + e.GetUri()
}

// RefileComplaint files a dismissed complaint once more with new evidence.
func (s *Service) RefileComplaint(ctx context.Context, req *connect.Request[complaintv1.RefileComplaintRequest]) (*connect.Response[complaintv1.RefileComplaintResponse], error) {
	return run(ctx, s, req, func(tx *ent.Tx, p auth.Principal, now time.Time) (*complaintv1.RefileComplaintResponse, error) {
		m := req.Msg
		c, err := load(ctx, tx, p, m.GetId(), m.GetEtag())
		if err != nil {
			return nil, err
		}
		if c.ComplainantID != p.AccountID {
			return nil, apierr.New(connect.CodePermissionDenied, commonv1.ErrorReason_ERROR_REASON_ROLE_NOT_ALLOWED,
				"only the complainant can refile complaint %s", c.ID)
		}
		if err := refile.CheckAt(c, now); err != nil {
			return nil, err
		}
		if c.RefiledFrom != nil {
			return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_ALREADY_REFILED,
				"complaint %s is itself the refiling of %s; a dismissed complaint is refiled only once", c.ID, *c.RefiledFrom).
				With("refiled_from", *c.RefiledFrom)
		}
		if c.RefiledAs != nil {
			return nil, apierr.Precondition(commonv1.ErrorReason_ERROR_REASON_ALREADY_REFILED,
				"complaint %s was already refiled as %s; a dismissed complaint is refiled only once", c.ID, *c.RefiledAs).
				With("refiled_as", *c.RefiledAs)
		}
		old, err := unmarshalList(c.Evidence, func() *commonv1.Evidence { return &commonv1.Evidence{} })
		if err != nil {
			return nil, fmt.Errorf("read evidence of complaint %s: %w", c.ID, err)
		}
		seen := map[string]bool{}
		for _, e := range old {
			seen[evidenceKey(e)] = true
		}
		if !slices.ContainsFunc(m.GetEvidence(), func(e *commonv1.Evidence) bool { return !seen[evidenceKey(e)] }) {
			return nil, apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_EVIDENCE_REQUIRED, "evidence",
				"a refiled complaint needs new evidence: every piece sent is already attached to complaint %s", c.ID).
				With("new_evidence_required", "true")
		}
		added := stamp(m.GetEvidence(), p, now)
		all := append(slices.Clip(old), added...)
		if err := checkEvidence(c.Type, all); err != nil {
			return nil, err
		}
		if err := checkNoOther(ctx, tx, c.OrderID, c.ComplainantID, c.Type, c.ID); err != nil {
			return nil, err
		}
		o, err := s.orders.Facts(ctx, tx, c.OrderID)
		if err != nil {
			return nil, err
		}
		// The original was filed in time, so the window is not checked again.
		refiled, err := s.create(ctx, tx, p, now, o, newComplaint{
			typ: c.Type, respondent: c.RespondentID, description: m.GetDescription(), evidence: all,
			end: c.OrderEndTime, refiledFrom: c.ID,
		})
		if err != nil {
			return nil, err
		}
		if _, err := s.commit(ctx, tx, c, refile, change{event: "refiled", actor: p, now: now, set: func(u *ent.ComplaintUpdateOne) {
			u.SetRefiledAs(refiled.GetId())
		}}); err != nil {
			return nil, err
		}
		return &complaintv1.RefileComplaintResponse{Complaint: refiled}, nil
	})
}
