package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	commonv1 "github.com/tradeassure/tradeassure/gen/go/tradeassure/common/v1"
	"github.com/tradeassure/tradeassure/server/apierr"
)

// Resolver looks up the addresses of a host name; net.DefaultResolver is one. Tests substitute their own
// to act out DNS rebinding.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// nonPublic are the address ranges the server never calls outside development mode, beyond what
// netip.Addr's predicates cover (loopback, private, link-local, unspecified, multicast).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT, often internal
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking networks
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and the broadcast address
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64: reaches IPv4 addresses through a gateway
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("2002::/16"),      // 6to4: embeds an IPv4 address
	netip.MustParsePrefix("fec0::/10"),      // deprecated site-local
	netip.MustParsePrefix("100::/64"),       // discard-only
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("2001::/32"),      // Teredo: embeds an IPv4 address
	netip.MustParsePrefix("::/128"),         // unspecified
	netip.MustParsePrefix("::1/128"),        // loopback
	netip.MustParsePrefix("fc00::/7"),       // unique local
	netip.MustParsePrefix("169.254.0.0/16"), // link-local, cloud metadata services
	netip.MustParsePrefix("255.255.255.255/32"),
}

// Public reports whether the server may call ip outside development mode: not loopback, private,
// link-local, unspecified, multicast or otherwise reserved for local use.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// errNotPublic is a connection refused by the dial-time check.
type errNotPublic struct{ addr string }

func (e *errNotPublic) Error() string {
	return "the host resolved to a non-public address (" + e.addr + ")"
}

// guard applies the URL rules: the scheme and address checks when an endpoint is saved, and the same
// address check again on every connection (so a host that later resolves to a private address, DNS
// rebinding, is refused at delivery time).
type guard struct {
	dev      bool
	resolver Resolver
}

func urlError(format string, args ...any) error {
	return apierr.InvalidWith(commonv1.ErrorReason_ERROR_REASON_WEBHOOK_URL_NOT_ALLOWED, "url", format, args...)
}

// check validates an endpoint URL and returns it normalized.
func (g guard) check(ctx context.Context, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", urlError("must be an absolute URL such as https://erp.example.com/webhooks")
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme == "https":
	case scheme == "http" && g.dev:
	case scheme == "http":
		return "", urlError("must use https:// (http:// is allowed only in development mode)")
	default:
		return "", urlError("must use https://, not %s://", u.Scheme)
	}
	if u.User != nil {
		return "", urlError("must not carry a user name or password; deliveries are authenticated by their signature")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "", urlError("must not have a #fragment")
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		return "", urlError("must not contain spaces or control characters")
	}
	host := u.Hostname()
	if host == "" {
		return "", urlError("must name a host")
	}
	if p := u.Port(); p != "" {
		var n int
		if _, err := fmt.Sscanf(p, "%d", &n); err != nil || n < 1 || n > 65535 {
			return "", urlError("has an invalid port %q", p)
		}
	}
	u.Scheme = scheme
	u.Host = strings.ToLower(u.Host)
	if g.dev {
		return u.String(), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		addrs = []netip.Addr{ip}
	} else if addrs, err = g.resolver.LookupNetIP(ctx, "ip", host); err != nil || len(addrs) == 0 {
		return "", urlError("host %q could not be resolved", host)
	}
	for _, a := range addrs {
		if !Public(a) {
			return "", urlError("host %q resolves to %s, a loopback, private, link-local or unspecified address, which is refused outside development mode", host, a.Unmap())
		}
	}
	return u.String(), nil
}

// control is the dialer's check of every address it connects to.
func (g guard) control(_, address string, _ syscall.RawConn) error {
	if g.dev {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &errNotPublic{addr: address}
	}
	if !Public(ap.Addr()) {
		return &errNotPublic{addr: ap.Addr().Unmap().String()}
	}
	return nil
}

// dial resolves the host with the guard's resolver and connects to its addresses in turn, each checked by
// control.
func (g guard) dial(dialer *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		var ips []netip.Addr
		if ip, err := netip.ParseAddr(host); err == nil {
			ips = []netip.Addr{ip}
		} else if ips, err = g.resolver.LookupNetIP(ctx, "ip", host); err != nil {
			return nil, err
		}
		var first error
		for _, ip := range ips {
			c, err := dialer.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
			if err == nil {
				return c, nil
			}
			if first == nil {
				first = err
			}
		}
		if first == nil {
			first = &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
		return nil, first
	}
}

// notPublic reports whether err is a connection the dial-time check refused, and its message.
func notPublic(err error) (string, bool) {
	var e *errNotPublic
	if errors.As(err, &e) {
		return e.Error(), true
	}
	return "", false
}
