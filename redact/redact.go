// Package redact scrubs secrets out of text before it reaches a probe reply
// or a log line.
//
// Client libraries put secrets into their error strings more often than one
// would hope: go-redis's ParseURL quotes the whole URL with its password,
// url.Parse errors do the same, and a DSN echoed back by a driver can carry
// password=… in clear. A health endpoint is usually reachable by far more
// people than the database, so every error a receiver reports goes through
// String or Error first.
//
// The scrubbing is textual and deliberately errs on the side of hiding too
// much: a masked host name is a small price for never showing a password.
// It recognises
//
//   - the password of userinfo in URLs: from the first ':' after scheme://
//     to the last '@' of the URL, so a user name or password holding '@',
//     quotes or backslashes is masked whole, raw or percent-encoded;
//   - password=, pwd=, passwd=, secret=, token=, api_key=, apikey=,
//     access_token= and similar keys in DSNs (key=value, quoted values with
//     spaces) and in query strings (?password=…&);
//   - Authorization header values (Basic, Bearer, ApiKey, …), also as JSON
//     fields, and bare "Bearer <token>" credentials;
//   - the piece of a URL that a net/url error quotes back (the bad escape
//     of "invalid URL escape", the port of "invalid port", the host of
//     ParseAddr) when the scrubbed message no longer shows it: it was then
//     cut out of a masked password;
//   - every literal secret passed by the caller, also in its percent-encoded,
//     Go-quoted and JSON-quoted spellings.
//
// A double-quoted string (Go's %q, JSON, a *url.Error) is unquoted, scrubbed
// by the same rules and quoted again, so a URL or DSN inside quotes, up to four
// quotes deep, is scrubbed as if it stood alone; inside quotes a URL may hold
// spaces. In running text a URL ends at whitespace: a raw space in a URL's
// user name or password there cannot be told from the end of the URL, so
// pass such a password as a secret.
//
// The functions are pure: the same input always gives the same output, and
// nothing is kept between calls.
package redact

import (
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Mask replaces every secret. It is the same mask pgx uses in its own
// messages, so a reader sees one convention.
const Mask = "xxxxx"

// MinSecretLen is the shortest literal secret String replaces. Replacing a
// one- to three-character string everywhere would mangle the message (every
// "a" or "pw" in it) while protecting almost nothing; such passwords are
// still hidden wherever they appear in a URL or a key=value pair.
const MinSecretLen = 4

var (
	// scheme:// of a URL; what follows it up to the URL's last '@' is
	// userinfo.
	scheme = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.\-]*://`)

	// A double-quoted string with backslash escapes: Go's %q, JSON.
	quoted = regexp.MustCompile(`"(?:\\.|[^"\\])*"`)

	// Keys whose value is a secret. The optional prefix catches
	// sslpassword, client_secret, x-api-key, auth_token and the like.
	secretKey = `(?i:[a-z0-9_.\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key))`

	// key=value in a query string: the value ends at '&' or '#', the only
	// delimiters a URL query has.
	queryParam = regexp.MustCompile(`([?&;]` + secretKey + `=)[^&#\s"` + "`" + `]*`)

	// key=value in a DSN or free text: the value is single-quoted with
	// backslash escapes (libpq), double-quoted, or runs to whitespace; a
	// quoted value runs on to whitespace too, so 'a'b is masked whole.
	keyValue = regexp.MustCompile(`((?:^|[\s,;(\[{` + "`" + `])` + secretKey + `\s*=\s*)` +
		`('(?:\\.|[^'\\])*'?\S*|"(?:\\.|[^"\\])*"?\S*|\S*)`)

	// "password": "value" in JSON or a printed map, and an Authorization
	// header as JSON ("Authorization": ["Basic …"]).
	jsonField = regexp.MustCompile(`("(?:` + secretKey + `|(?i:authorization))"\s*:\s*\[?\s*)"(?:\\.|[^"\\])*"`)

	// An Authorization header, with or without a scheme word before the
	// credentials, also as a printed http.Header (Authorization:[Basic …]).
	authHeader = regexp.MustCompile(`(?i)(authorization\s*[:=]\s*[\["]?(?:(?:basic|bearer|apikey|token|digest|negotiate)\s+)?)[^\s"',;\]]+`)

	// The piece of a URL that net/url (and net/netip, for a bracketed
	// host) quotes back in its errors.
	urlEcho = regexp.MustCompile(`(invalid URL escape |invalid port |invalid character |ParseAddr\(|\(at )"((?:\\.|[^"\\])*)"`)

	// A bare bearer token. Eight characters at least, so that the
	// WWW-Authenticate challenge `Bearer realm="security"` stays readable.
	bearer = regexp.MustCompile(`(?i)(\bbearer\s+)[a-z0-9._~+/\-]{8,}=*`)
)

// maxDepth bounds how many quotes deep String looks: %q of a JSON body that
// holds a URL is three.
const maxDepth = 4

// String returns s with every secret it can recognise replaced by Mask.
// The literal secrets are replaced first, in every spelling they are likely
// to take in a message (raw, percent-encoded, Go-quoted); empty secrets and
// those shorter than MinSecretLen are ignored.
func String(s string, secrets ...string) string {
	return scrub(replaceLiterals(s, secrets), 0)
}

// scrub applies the rules to s, first inside each quoted string in it.
// Inside quotes (depth > 0) the whole string is one token for the URL rule.
func scrub(s string, depth int) string {
	if depth < maxDepth {
		s = quoted.ReplaceAllStringFunc(s, func(q string) string {
			inner, ok := unquote(q)
			if !ok {
				return q
			}
			clean := scrub(inner, depth+1)
			if clean == inner {
				return q // keep the original spelling when nothing was hidden
			}
			return strconv.Quote(clean)
		})
	}
	s = maskUserinfo(s, depth > 0)
	s = maskEchoes(s)
	s = queryParam.ReplaceAllString(s, `${1}`+Mask)
	s = keyValue.ReplaceAllStringFunc(s, maskKeyValue)
	s = jsonField.ReplaceAllString(s, `$1"`+Mask+`"`)
	s = authHeader.ReplaceAllString(s, `${1}`+Mask)
	s = bearer.ReplaceAllString(s, `${1}`+Mask)
	return s
}

// unquote reads q as a Go or a JSON string literal.
func unquote(q string) (string, bool) {
	if s, err := strconv.Unquote(q); err == nil {
		return s, true
	}
	var s string
	if err := json.Unmarshal([]byte(q), &s); err == nil {
		return s, true
	}
	return "", false
}

// maskUserinfo masks the password of every URL in s: from the first ':'
// after scheme:// to the URL's last '@'. The URL ends at whitespace, or,
// when whole, at the end of s (a quoted string). With no ':' before the
// last '@' there is no password, and the URL is left alone.
func maskUserinfo(s string, whole bool) string {
	var b strings.Builder
	for {
		loc := scheme.FindStringIndex(s)
		if loc == nil {
			break
		}
		b.WriteString(s[:loc[1]])
		s = s[loc[1]:]
		end := len(s)
		if i := strings.IndexFunc(s, unicode.IsSpace); i >= 0 && !whole {
			end = i
		}
		colon, at := strings.IndexByte(s[:end], ':'), strings.LastIndexByte(s[:end], '@')
		if colon >= 0 && at > colon {
			b.WriteString(s[:colon+1] + Mask)
			s = s[at:]
		}
	}
	b.WriteString(s)
	return b.String()
}

// maskEchoes masks each piece of a URL that a net/url error quotes back and
// that the rest of s, without such pieces, does not show: `invalid URL
// escape "%zz"` of a URL whose password was masked spells up to three bytes
// of that password. A piece the scrubbed URL still shows, such as a port,
// stays readable.
func maskEchoes(s string) string {
	rest := urlEcho.ReplaceAllString(s, "")
	return urlEcho.ReplaceAllStringFunc(s, func(m string) string {
		sub := urlEcho.FindStringSubmatch(m)
		if strings.Contains(rest, sub[2]) {
			return m
		}
		return sub[1] + `"` + Mask + `"`
	})
}

// Error is String applied to err.Error(); a nil error gives "".
func Error(err error, secrets ...string) string {
	if err == nil {
		return ""
	}
	return String(err.Error(), secrets...)
}

// maskKeyValue keeps the key, the separator, any quotes and one closing
// bracket or backtick of one keyValue match, so that password='a b' becomes
// password='xxxxx' and `… password=pw` stays in its backticks.
func maskKeyValue(m string) string {
	sub := keyValue.FindStringSubmatch(m)
	prefix, value := sub[1], sub[2]
	quote, closing := "", ""
	if value != "" && (value[0] == '\'' || value[0] == '"') {
		quote = value[:1]
	}
	if n := len(value); n > 1 && strings.IndexByte("`)]}", value[n-1]) >= 0 {
		closing = value[n-1:]
	}
	return prefix + quote + Mask + quote + closing
}

// replaceLiterals replaces each secret, longest first so that a secret that
// contains another is not left half-masked.
func replaceLiterals(s string, secrets []string) string {
	var forms []string
	for _, sec := range secrets {
		if len(sec) < MinSecretLen {
			continue
		}
		forms = append(forms, sec,
			url.QueryEscape(sec),                   // query strings, form bodies
			url.PathEscape(sec),                    // paths
			url.UserPassword("", sec).String()[1:], // userinfo, as url.URL prints it
			strings.Trim(strconv.Quote(sec), `"`),  // %q in error messages
			jsonQuote(sec),                         // JSON bodies
		)
	}
	sort.SliceStable(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	for _, f := range forms {
		if f != "" {
			s = strings.ReplaceAll(s, f, Mask)
		}
	}
	return s
}

// jsonQuote spells s as it appears inside a JSON string.
func jsonQuote(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b[1 : len(b)-1])
}
