// Package resource holds the small conventions every stored API resource shares: ids, etags, money and
// timestamps in their API form, and the deterministic encoding of sub-records stored as protobuf bytes.
package resource

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
)

// ID returns a new id: a type prefix ("ord_", "dsp_") and a time-ordered UUID, so ids sort by creation and
// serve as keyset pagination keys.
func ID(prefix string) string { return prefix + uuid.Must(uuid.NewV7()).String() }

// Etag names one revision of a resource.
func Etag(id string, revision int64) string {
	h := sha256.Sum256([]byte(id + "/" + strconv.FormatInt(revision, 10)))
	return hex.EncodeToString(h[:8])
}

// Money is an amount in its API form.
func Money(minor int64, currency string) *commonv1.Money {
	return &commonv1.Money{AmountMinor: minor, Currency: currency}
}

// Timestamp is an optional time in its API form (nil stays nil).
func Timestamp(t *time.Time) *timestamppb.Timestamp {
	if t == nil {
		return nil
	}
	return timestamppb.New(*t)
}

// Marshal encodes a message deterministically, for storage. Messages built by the service always encode.
func Marshal(m proto.Message) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("marshal %T: %v", m, err))
	}
	return b
}

// Invert returns the inverse of a one-to-one map, such as API enum ↔ stored value.
func Invert[K, V comparable](m map[K]V) map[V]K {
	out := make(map[V]K, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

// MaskAccount shows a bank account number with every character but the last four replaced by "*". It
// counts characters (runes), never bytes, so a multi-byte character is masked or shown whole and never cut
// apart; bytes that are not UTF-8 (written by another tool) count as one character each and show as
// U+FFFD. The result is always valid UTF-8, which every API response must be.
func MaskAccount(s string) string {
	r := []rune(s) // each byte that is not UTF-8 becomes one utf8.RuneError
	if len(r) <= 4 {
		return string(r)
	}
	return strings.Repeat("*", len(r)-4) + string(r[len(r)-4:])
}

// AccountLast4 is the last four characters (runes) of a bank account number, spaces removed, as
// MaskAccount shows them.
func AccountLast4(s string) string {
	r := []rune(strings.ReplaceAll(s, " ", ""))
	return string(r[max(0, len(r)-4):])
}
