package events

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tradeassure/tradeassure/ent"
	entevent "github.com/tradeassure/tradeassure/ent/event"
	"github.com/tradeassure/tradeassure/ent/predicate"
	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	eventv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1"
	"github.com/tradeassure/tradeassure/gen/go/tradeassure/event/v1/eventv1connect"
	"github.com/tradeassure/tradeassure/server/apierr"
	"github.com/tradeassure/tradeassure/server/auth"
	"github.com/tradeassure/tradeassure/server/pagination"
)

var _ eventv1connect.EventServiceHandler = (*Service)(nil)

// Service implements EventService.
type Service struct {
	client *ent.Client
	feed   *Feed
	// poll is how often a watcher looks for events committed by other server processes.
	poll time.Duration
}

// NewService returns the event service.
func NewService(client *ent.Client, feed *Feed) *Service {
	return &Service{client: client, feed: feed, poll: time.Second}
}

func (s *Service) query(p auth.Principal, afterID, subjectType, subjectID string) (*ent.EventQuery, error) {
	var after int64
	if afterID != "" {
		var err error
		if after, err = strconv.ParseInt(afterID, 10, 64); err != nil {
			return nil, apierr.Invalid("after_id", "must be an event id")
		}
	}
	preds := []predicate.Event{entevent.IDGT(after), AudienceOf(p).Predicate()}
	if subjectType != "" {
		preds = append(preds, entevent.SubjectType(subjectType))
	}
	if subjectID != "" {
		preds = append(preds, entevent.SubjectID(subjectID))
	}
	return s.client.Event.Query().Where(preds...).Order(ent.Asc(entevent.FieldID)), nil
}

// ToProto converts a stored event.
func ToProto(e *ent.Event) (*eventv1.Event, error) {
	payload := &anypb.Any{}
	if err := proto.Unmarshal(e.Payload, payload); err != nil {
		return nil, fmt.Errorf("read event %d: %w", e.ID, err)
	}
	return &eventv1.Event{
		Id: strconv.FormatInt(e.ID, 10), Type: e.Type, SubjectType: e.SubjectType, SubjectId: e.SubjectID,
		Revision: e.Revision, Time: timestamppb.New(e.Time),
		Actor:   &commonv1.Party{Role: auth.RoleFromName(e.ActorRole), AccountId: e.ActorID},
		Payload: payload,
	}, nil
}

// ListEvents returns the events after a cursor, oldest first.
func (s *Service) ListEvents(ctx context.Context, req *connect.Request[eventv1.ListEventsRequest]) (*connect.Response[eventv1.ListEventsResponse], error) {
	p := auth.FromContext(ctx)
	size, err := pagination.Size(req.Msg.GetPageSize(), 100, 1000)
	if err != nil {
		return nil, err
	}
	q, err := s.query(p, req.Msg.GetAfterId(), req.Msg.GetSubjectType(), req.Msg.GetSubjectId())
	if err != nil {
		return nil, err
	}
	rows, err := q.Limit(size).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	out := &eventv1.ListEventsResponse{NextAfterId: req.Msg.GetAfterId()}
	for _, r := range rows {
		e, err := ToProto(r)
		if err != nil {
			return nil, err
		}
		out.Events = append(out.Events, e)
		out.NextAfterId = e.Id
	}
	return connect.NewResponse(out), nil
}

// WatchEvents streams the events after a cursor, then each new one, until the client goes away.
func (s *Service) WatchEvents(ctx context.Context, req *connect.Request[eventv1.WatchEventsRequest], stream *connect.ServerStream[eventv1.WatchEventsResponse]) error {
	p := auth.FromContext(ctx)
	after := req.Msg.GetAfterId()
	ticker := time.NewTicker(s.poll)
	defer ticker.Stop()
	// A heartbeat at once sends the response headers, so the client knows the watch is established before
	// any event exists, and one after each quiet minute keeps proxies from closing an idle stream.
	if err := stream.Send(&eventv1.WatchEventsResponse{}); err != nil {
		return nil
	}
	lastSend := time.Now()
	for {
		changed := s.feed.Changed()
		q, err := s.query(p, after, req.Msg.GetSubjectType(), req.Msg.GetSubjectId())
		if err != nil {
			return err
		}
		rows, err := q.Limit(500).All(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("watch events: %w", err)
		}
		for _, r := range rows {
			e, err := ToProto(r)
			if err != nil {
				return err
			}
			if err := stream.Send(&eventv1.WatchEventsResponse{Event: e}); err != nil {
				return nil
			}
			after = e.Id
			lastSend = time.Now()
		}
		if time.Since(lastSend) > time.Minute {
			if err := stream.Send(&eventv1.WatchEventsResponse{}); err != nil {
				return nil
			}
			lastSend = time.Now()
		}
		if len(rows) == 500 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-ticker.C:
		}
	}
}
