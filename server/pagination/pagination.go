// Package pagination implements list pages: a page size with a default and a cap, and opaque keyset page
// tokens that are signed (tamper-proof) and bound to the filter they were issued for.
package pagination

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"connectrpc.com/connect"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
)

// Pager issues and checks page tokens with a server secret.
type Pager struct {
	secret []byte
}

// New returns a pager signing with secret; every server process on one database must share it.
func New(secret []byte) *Pager { return &Pager{secret: secret} }

// Size returns the page size to use: def for 0, at most max; a negative size is refused.
func Size(requested int32, def, max int) (int, error) {
	switch {
	case requested < 0:
		return 0, apierr.Invalid("page_size", "must not be negative")
	case requested == 0:
		return def, nil
	case int(requested) > max:
		return max, nil
	}
	return int(requested), nil
}

type token struct {
	Key    string `json:"k"`
	Filter string `json:"f"`
}

// Token returns the token of the page that starts after key, for the query described by filter.
func (p *Pager) Token(key, filter string) string {
	body, _ := json.Marshal(token{Key: key, Filter: filter})
	mac := p.mac(body)
	return base64.RawURLEncoding.EncodeToString(body) + "." + base64.RawURLEncoding.EncodeToString(mac)
}

// After returns the key a token resumes after ("" for an empty token). A token that was altered, or that
// was issued for another filter, is refused.
func (p *Pager) After(tok, filter string) (string, error) {
	if tok == "" {
		return "", nil
	}
	bad := apierr.New(connect.CodeInvalidArgument, commonv1.ErrorReason_ERROR_REASON_INVALID_PAGE_TOKEN,
		"page_token is not valid for this query; start again without a page token")
	bodyPart, macPart, ok := strings.Cut(tok, ".")
	if !ok {
		return "", bad
	}
	body, err1 := base64.RawURLEncoding.DecodeString(bodyPart)
	mac, err2 := base64.RawURLEncoding.DecodeString(macPart)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, p.mac(body)) {
		return "", bad
	}
	var t token
	if err := json.Unmarshal(body, &t); err != nil || t.Filter != filter {
		return "", bad
	}
	return t.Key, nil
}

func (p *Pager) mac(body []byte) []byte {
	m := hmac.New(sha256.New, p.secret)
	m.Write(body)
	return m.Sum(nil)
}

// Filter describes a query for binding tokens to it. Parts are joined with a separator no id or filter
// value contains, so different queries never describe themselves alike.
func Filter(parts ...any) string {
	out := make([]string, len(parts))
	for i, part := range parts {
		out[i] = fmt.Sprint(part)
	}
	return strings.Join(out, "\x1f")
}

// Request is a list request's paging fields.
type Request interface {
	GetPageSize() int32
	GetPageToken() string
}

// Start checks a list request's paging: the page size to use (def for 0, at most max, negative refused)
// and the key the page resumes after ("" for the first page), refusing a token of another query.
func (p *Pager) Start(req Request, def, max int, filter string) (size int, after string, err error) {
	if size, err = Size(req.GetPageSize(), def, max); err != nil {
		return 0, "", err
	}
	if after, err = p.After(req.GetPageToken(), filter); err != nil {
		return 0, "", err
	}
	return size, after, nil
}

// Page trims rows fetched with a limit of size+1 to one page and returns the token of the next page ("" at
// the end), keyed by the last row's key.
func Page[T any](p *Pager, rows []T, size int, filter string, key func(T) string) ([]T, string) {
	if len(rows) <= size {
		return rows, ""
	}
	rows = rows[:size]
	return rows, p.Token(key(rows[size-1]), filter)
}
