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
//   - the password of userinfo in URLs, anywhere in the text, also inside a
//     quoted URL such as parse "redis://:pw@host:x/0": …;
//   - password=, pwd=, passwd=, secret=, token=, api_key=, apikey=,
//     access_token= and similar keys in DSNs (key=value, quoted values with
//     spaces) and in query strings (?password=…&);
//   - Authorization header values (Basic, Bearer, ApiKey, …) and bare
//     "Bearer <token>" credentials;
//   - every literal secret passed by the caller, also in its percent-encoded
//     and Go-quoted spellings.
//
// A raw space in a URL password (invalid, but typed by people) is caught
// inside quotes, as url.Parse errors print it, but not in running text, where
// nothing marks where the URL ends: pass such a password as a secret.
//
// The functions are pure: the same input always gives the same output, and
// nothing is kept between calls.
package redact

import (
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Mask replaces every secret. It is the same mask pgx uses in its own
// messages, so a reader sees one convention.
const Mask = "xxxxx"

// MinSecretLen is the shortest literal secret String replaces. Replacing a
// one- to three-character string everywhere would mangle the message (every
// "a" or "pw" in it) while protecting almost nothing; such passwords are
// still hidden wherever they appear in a URL or a key=value pair.
const MinSecretLen = 4

// scheme:// followed by user:password@ — the pattern shared by the URL rules.
const urlPrefix = `([a-zA-Z][a-zA-Z0-9+.\-]*://[^\s/"'@:]*):`

var (
	// A URL inside double quotes, as printed by %q in url.Parse and
	// redis.ParseURL errors. Inside quotes the password may contain spaces
	// and '@', so it runs to the last '@' before the closing quote, which is
	// where url.Parse itself ends the userinfo; %q escapes a '"' or '\' in
	// it with a backslash, which must not end the match.
	quotedURL = regexp.MustCompile(`"` + urlPrefix + `(?:\\.|[^"\\])*@`)

	// A URL in running text: the password runs to the last '@' of the
	// whitespace-delimited token. A later '@' in the path or query makes the
	// mask swallow the host too, which is the safe way to be wrong.
	bareURL = regexp.MustCompile(urlPrefix + `[^\s"'<>` + "`" + `]*@`)

	// Keys whose value is a secret. The optional prefix catches
	// sslpassword, client_secret, x-api-key, auth_token and the like.
	secretKey = `(?i:[a-z0-9_.\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key))`

	// key=value in a query string: the value ends at '&' or '#', the only
	// delimiters a URL query has.
	queryParam = regexp.MustCompile(`([?&;]` + secretKey + `=)[^&#\s"'` + "`" + `]*`)

	// key=value in a DSN or free text: the value is single-quoted with
	// backslash escapes (libpq), double-quoted, or runs to whitespace.
	keyValue = regexp.MustCompile(`((?:^|[\s,;(\[{` + "`" + `])` + secretKey + `\s*=\s*)` +
		`('(?:\\.|[^'\\])*'?|"(?:\\.|[^"\\])*"?|[^\s"'` + "`" + `]*)`)

	// "password": "value" in JSON or a printed map.
	jsonField = regexp.MustCompile(`("` + secretKey + `"\s*:\s*)"(?:\\.|[^"\\])*"`)

	// An Authorization header, with or without a scheme word before the
	// credentials, also as a printed http.Header (Authorization:[Basic …]).
	authHeader = regexp.MustCompile(`(?i)(authorization\s*[:=]\s*[\["]?(?:(?:basic|bearer|apikey|token|digest|negotiate)\s+)?)[^\s"',;\]]+`)

	// A bare bearer token. Eight characters at least, so that the
	// WWW-Authenticate challenge `Bearer realm="security"` stays readable.
	bearer = regexp.MustCompile(`(?i)(\bbearer\s+)[a-z0-9._~+/\-]{8,}=*`)
)

// String returns s with every secret it can recognise replaced by Mask.
// The literal secrets are replaced first, in every spelling they are likely
// to take in a message (raw, percent-encoded, Go-quoted); empty secrets and
// those shorter than MinSecretLen are ignored.
func String(s string, secrets ...string) string {
	s = replaceLiterals(s, secrets)
	s = quotedURL.ReplaceAllString(s, `"$1:`+Mask+`@`)
	s = bareURL.ReplaceAllString(s, `$1:`+Mask+`@`)
	s = queryParam.ReplaceAllString(s, `${1}`+Mask)
	s = keyValue.ReplaceAllStringFunc(s, maskKeyValue)
	s = jsonField.ReplaceAllString(s, `$1"`+Mask+`"`)
	s = authHeader.ReplaceAllString(s, `${1}`+Mask)
	s = bearer.ReplaceAllString(s, `${1}`+Mask)
	return s
}

// Error is String applied to err.Error(); a nil error gives "".
func Error(err error, secrets ...string) string {
	if err == nil {
		return ""
	}
	return String(err.Error(), secrets...)
}

// maskKeyValue keeps the key, the separator and any quotes of one keyValue
// match, so that password='a b' becomes password='xxxxx'.
func maskKeyValue(m string) string {
	sub := keyValue.FindStringSubmatch(m)
	prefix, value := sub[1], sub[2]
	quote := ""
	if value != "" && (value[0] == '\'' || value[0] == '"') {
		quote = value[:1]
	}
	return prefix + quote + Mask + quote
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
