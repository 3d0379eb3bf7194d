package redact_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/oarepo/heartbeat/redact"
)

// shape is one way a user name and password reach a message. text builds
// the message and says how the password is spelled in it (form); ok says
// whether the pair can take this shape at all (nil: always).
type shape struct {
	name string
	text func(user, pw string) (text, form string)
	ok   func(user, pw string) bool
}

// escapedURL is a URL as url.URL prints it: user and password
// percent-encoded where they must be.
func escapedURL(user, pw string) (string, string) {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, pw), Host: "db.internal:5432", Path: "/app", RawQuery: "sslmode=disable"}
	return u.String(), strings.TrimPrefix(url.UserPassword("", pw).String(), ":")
}

// rawURL is a URL as a person types it into a setting, nothing escaped.
func rawURL(user, pw string) string { return "redis://" + user + ":" + pw + "@cache.internal:6379/0" }

// goQuoted is s as %q spells it, without the quotes.
func goQuoted(s string) string { return strings.Trim(strconv.Quote(s), `"`) }

// jsonQuoted is s as JSON spells it, without the quotes.
func jsonQuoted(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// libpqQuote quotes a DSN value as libpq reads it: 'it\'s'.
func libpqQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// dsnValue is s as a DSN value: bare when it can be, quoted otherwise.
func dsnValue(s string) string {
	if s == "" || s[0] == '\'' || strings.IndexFunc(s, unicode.IsSpace) >= 0 || strings.ContainsAny(s, `\`) {
		return libpqQuote(s)
	}
	return s
}

// plain reports whether s reads as one word of running text: printable,
// no spaces. A raw space ends a URL there (see the package documentation).
func plain(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) || unicode.IsSpace(r) }) >= 0 {
			return false
		}
	}
	return true
}

// token68 maps pw onto the characters of an HTTP token (RFC 7235), the way
// a bearer token looks.
func token68(pw string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"
	b := make([]byte, len(pw))
	for i := range len(pw) {
		b[i] = alphabet[int(pw[i])%len(alphabet)]
	}
	return string(b)
}

func dsn(user, pw string) string {
	return "host=db.internal port=5432 user=" + dsnValue(user) + " password=" + dsnValue(pw) + " dbname=app"
}

var shapes = []shape{
	{"url", func(user, pw string) (string, string) {
		u, form := escapedURL(user, pw)
		return "dial " + u + ": connection refused", form
	}, nil},
	{"url-raw", func(user, pw string) (string, string) {
		return "redis: dial " + rawURL(user, pw) + " failed", pw
	}, func(user, pw string) bool { return plain(user, pw) }},
	{"url-%q", func(user, pw string) (string, string) {
		return fmt.Sprintf("parse %q: invalid port \":x\" after host", rawURL(user, pw)), goQuoted(pw)
	}, nil},
	{"url-%q-escaped", func(user, pw string) (string, string) {
		u, form := escapedURL(user, pw)
		return fmt.Sprintf("open %q: refused", u), goQuoted(form)
	}, nil},
	{"url.Error", func(user, pw string) (string, string) {
		err := &url.Error{Op: "Get", URL: rawURL(user, pw), Err: errors.New("EOF")}
		return err.Error(), goQuoted(pw)
	}, nil},
	{"url.Parse", func(user, pw string) (string, string) {
		// The standard library's own message, for whatever it rejects.
		_, err := url.Parse("postgres://" + user + ":" + pw + "@db.internal:notaport/app")
		if err == nil {
			return "", ""
		}
		return "config: " + err.Error(), goQuoted(pw)
	}, nil},
	{"url-json", func(user, pw string) (string, string) {
		b, _ := json.Marshal(map[string]string{"url": rawURL(user, pw)})
		return "settings " + string(b), jsonQuoted(pw)
	}, nil},
	{"url-json-escaped", func(user, pw string) (string, string) {
		u, form := escapedURL(user, pw)
		b, _ := json.Marshal(map[string]string{"dsn": u})
		return "settings " + string(b), jsonQuoted(form)
	}, nil},
	{"dsn", func(user, pw string) (string, string) {
		v := dsnValue(pw)
		return "cannot parse `" + dsn(user, pw) + "`: failed to parse as DSN", strings.Trim(v, "'")
	}, nil},
	{"dsn-quoted", func(user, pw string) (string, string) {
		v := libpqQuote(pw)
		return "connect: host=db user=" + dsnValue(user) + " password=" + v + " dbname=test", strings.Trim(v, "'")
	}, nil},
	{"dsn-%q", func(user, pw string) (string, string) {
		return fmt.Sprintf("open %q: bad", dsn(user, pw)), goQuoted(strings.Trim(dsnValue(pw), "'"))
	}, nil},
	{"dsn-json", func(user, pw string) (string, string) {
		b, _ := json.Marshal(map[string]string{"dsn": dsn(user, pw)})
		return string(b), jsonQuoted(strings.Trim(dsnValue(pw), "'"))
	}, nil},
	{"query", func(user, pw string) (string, string) {
		return "GET https://es.internal:9200/_cluster/health?user=" + url.QueryEscape(user) +
			"&password=" + url.QueryEscape(pw) + ": 401", url.QueryEscape(pw)
	}, nil},
	{"basic", func(user, pw string) (string, string) {
		form := base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))
		return "request: Authorization: Basic " + form + ", Accept: */*", form
	}, nil},
	{"basic-header", func(user, pw string) (string, string) {
		form := base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))
		return fmt.Sprint("headers ", http.Header{"Authorization": {"Basic " + form}, "Accept": {"*/*"}}), form
	}, nil},
	{"basic-json", func(user, pw string) (string, string) {
		form := base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))
		b, _ := json.Marshal(http.Header{"Authorization": {"Basic " + form}})
		return "headers " + string(b), form
	}, nil},
	{"apikey", func(user, pw string) (string, string) {
		form := base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))
		return fmt.Sprintf("request %q", "Authorization: ApiKey "+form), form
	}, nil},
	{"bearer", func(_, pw string) (string, string) {
		form := token68(pw)
		return "upstream said 401 to Authorization: Bearer " + form, form
	}, func(_, pw string) bool { return len(pw) >= 8 }},
	{"bare-bearer", func(_, pw string) (string, string) {
		form := token68(pw)
		return "token rejected: Bearer " + form + " is expired", form
	}, func(_, pw string) bool { return len(pw) >= 8 }},
	{"json", func(user, pw string) (string, string) {
		b, _ := json.Marshal(map[string]string{"user": user, "password": pw, "host": "db"})
		return "config " + string(b), jsonQuoted(pw)
	}, nil},
	{"json-%q", func(user, pw string) (string, string) {
		b, _ := json.Marshal(map[string]string{"user": user, "password": pw})
		return fmt.Sprintf("body %q rejected", b), goQuoted(jsonQuoted(pw))
	}, nil},
}

// spelledWithout reports whether the shape's message spells form even when
// the password is replaced by a stand-in of n bytes.
func spelledWithout(s shape, user string, n int, form string) bool {
	for _, stand := range []string{"\x01", "z"} {
		if without, _ := s.text(user, strings.Repeat(stand, n)); strings.Contains(without, form) {
			return true
		}
	}
	return false
}

// sentinel stands for the mask when the scrubbed text is searched for the
// password, so that "xx" is not found in "xxxxx" nor "x@h" across its end.
const sentinel = "\x00"

// FuzzStringHidesPasswords draws a user name and a password from any bytes
// (printable ASCII, Unicode, quotes, '@', spaces, backslashes), builds every
// shape a message can give them, and checks that String leaves no trace of
// the password in the spelling it was written in, and that passed as a
// literal secret it goes from every shape.
//
//	go test -run '^$' -fuzz '^FuzzStringHidesPasswords$' -fuzztime 30s ./redact
func FuzzStringHidesPasswords(f *testing.F) {
	users := []string{"app", "me@example.org", `o'brien`, `"quoted"`, "john smith", `dom\user`, "ユーザー", ""}
	passwords := []string{
		"hunter22", "s3cr3t!", "p@ss:word/x", "with space", `it's "quoted"`, `back\slash`, "pässwörd",
		"a&b=c#d?e", "%41%zz", "x@y@z", "tab\there", "nl\nhere", "emoji🔑key", "ends=", "'opens", `"opens`,
		"`tick`", "Bearer abc", "a b@c", "<&>", "\\'", "pw'", "é\u200bx", "a,b;c)d",
	}
	for i, pw := range passwords {
		f.Add(users[i%len(users)], pw)
	}
	f.Fuzz(func(t *testing.T, user, pw string) {
		if pw == "" || strings.Contains(user+pw, redact.Mask) || strings.Contains(user+pw, sentinel) {
			t.Skip("no password, or one that spells the mask")
		}
		for _, s := range shapes {
			if s.ok != nil && !s.ok(user, pw) {
				continue
			}
			text, form := s.text(user, pw)
			if text == "" {
				continue
			}
			// A form that the message spells without the password ("ost" is
			// in "host", or in the user name) is no leak, nor is one
			// character, which the quotes the mask keeps may spell. Two
			// stand-ins, since a message may change with the password: url.Parse
			// rejects "\x01" for its control character but "z" for the port, and
			// " a" is in the latter's " after host".
			if spelledWithout(s, user, len(pw), form) || utf8.RuneCountInString(form) < 2 {
				continue
			}
			out := strings.ReplaceAll(redact.String(text), redact.Mask, sentinel)
			assert.NotContains(t, out, form, "%s: %q\nscrubbed: %q", s.name, text, out)

			// Passed as a literal secret it goes in every spelling.
			if len(pw) >= redact.MinSecretLen {
				out := strings.ReplaceAll(redact.String(text, pw), redact.Mask, sentinel)
				assert.NotContains(t, out, form, "%s, pw as a secret: %q\nscrubbed: %q", s.name, text, out)
			}
		}
	})
}
