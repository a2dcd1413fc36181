package deadline

import (
	"context"
	"fmt"

	"github.com/tradeassure/tradeassure/ent"
)

// Loader reads, within tx, the subjects of one subject type with the given ids, for the deadlines of a
// batch: each subject found, by id (a missing one is left out, and its handler reads it itself).
type Loader func(ctx context.Context, tx *ent.Tx, ids []string) (map[string]any, error)

// Preload registers the loader of a subject type: the sweep's whole-batch attempt reads that type's
// subjects in one query before it runs the handlers, instead of each handler reading its own.
func (e *Engine) Preload(subjectType string, l Loader) { e.loaders[subjectType] = l }

// preloadedKey is the context key of a batch's preloaded subjects.
type preloadedKey struct{}

// preloaded is the subjects read ahead for one attempt at a batch, by subject type and id. Each is taken
// at most once, by the one deadline of the batch on its subject.
type preloaded map[string]map[string]any

// Preloaded returns the subject id of subjectType that the batch being applied read ahead, and removes
// it; ok is false when there is none, and the handler reads the subject itself.
//
// A preloaded subject is as it was when the batch began: a handler earlier in the batch may have
// changed it since (a dispute's end closing its order). A handler using it must therefore write the
// subject back only conditionally on its revision and fail when it has moved on (as every change of an
// order does: apierr.EtagMismatch); that failure rolls the batch's attempt back and the sweep applies
// the batch again one deadline at a time, reading every subject anew.
func Preloaded[R any](ctx context.Context, subjectType, id string) (r R, ok bool) {
	p, _ := ctx.Value(preloadedKey{}).(preloaded)
	v, found := p[subjectType][id]
	if !found {
		return r, false
	}
	delete(p[subjectType], id)
	r, ok = v.(R)
	return r, ok
}

// preload reads ahead, with the registered loaders, the subjects of the claimed deadlines that have a
// handler, leaving out any subject more than one of them concerns (the second would see the first's
// change only by reading it anew).
func (e *Engine) preload(ctx context.Context, tx *ent.Tx, claimed []*ent.Deadline) (preloaded, error) {
	if len(e.loaders) == 0 {
		return nil, nil
	}
	var handled []*ent.Deadline
	count := map[[2]string]int{}
	for _, d := range claimed {
		if _, ok := e.handlers[d.Kind]; ok {
			handled = append(handled, d)
			count[[2]string{d.SubjectType, d.SubjectID}]++
		}
	}
	ids := map[string][]string{}
	for _, d := range handled {
		if _, ok := e.loaders[d.SubjectType]; ok && count[[2]string{d.SubjectType, d.SubjectID}] == 1 {
			ids[d.SubjectType] = append(ids[d.SubjectType], d.SubjectID)
		}
	}
	p := preloaded{}
	for typ, list := range ids {
		found, err := e.loaders[typ](ctx, tx, list)
		if err != nil {
			return nil, fmt.Errorf("preload %d %s subjects: %w", len(list), typ, err)
		}
		p[typ] = found
	}
	return p, nil
}
