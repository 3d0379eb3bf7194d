package httpapi_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oarepo/heartbeat/httpapi"
	"github.com/oarepo/heartbeat/internal/wire"
	"github.com/oarepo/heartbeat/signal"
)

// FuzzReplyData sends arbitrary reply data through the whole chain, from a
// receiver's Reply to the HTTP answer: whatever the data, the body is valid
// JSON, and the probe answers 200 with status true only when the check
// passed and its data could be encoded.
//
//	go test -run '^$' -fuzz '^FuzzReplyData$' -fuzztime 30s ./httpapi
func FuzzReplyData(f *testing.F) {
	f.Add([]byte{}, true)
	f.Add([]byte("\x01time\x02\x00\x00\x00\x00\x00\x00\xf0\x3f"), true)            // {"time": 1.0}
	f.Add([]byte("\x01time\x02\x00\x00\x00\x00\x00\x00\xf8\x7f"), true)            // {"time": NaN}
	f.Add([]byte("\x01error\x03connection refused\x00"), false)                    // {"error": "…"}
	f.Add([]byte("\x01status\x04\x00"), true)                                      // {"status": false}
	f.Add([]byte("\x01c\x05\x00"), true)                                           // a channel
	f.Add([]byte("\x01m\x06\x01k\x03\xff\xfe<&>\"\\\x00\x00"), true)               // nested, odd string
	f.Add([]byte("\x01cycle\x07\x00"), true)                                       // a map holding itself
	f.Add([]byte("\x01raw\x08{\x00\x01p\x09\x00\x01x\x0a\x00"), true)              // bad RawMessage, panic, invalid JSON
	f.Add([]byte("\x01\xff\xfe\x03v\x00\x01\x02\x01\x01a\x0b\x02\x03x\x00"), true) // odd key, list
	f.Fuzz(func(t *testing.T, program []byte, status bool) {
		data := decodeData(program)
		bus := signal.NewBus(signal.WithCacheTTL(0))
		bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
			return signal.Reply{Name: "fuzzed", Status: status, Data: data}
		}, signal.Named("fuzzed"))
		bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
			return signal.Reply{Name: "steady", Status: true}
		}, signal.Named("steady"))

		rec := httptest.NewRecorder()
		httpapi.Router(bus).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, httpapi.DefaultPrefix+"/readiness", nil))
		body := rec.Body.Bytes()
		require.True(t, json.Valid(body), "invalid JSON: %q", body)

		var answer struct {
			Status *bool                     `json:"status"`
			Checks map[string]map[string]any `json:"checks"`
		}
		require.NoError(t, json.Unmarshal(body, &answer))
		require.NotNil(t, answer.Status, "no status in %s", body)
		check, ok := answer.Checks["fuzzed"]
		require.True(t, ok, "no check named fuzzed in %s", body)
		assert.Contains(t, answer.Checks, "steady")

		encodable := encodes(data)
		if status && encodable {
			assert.Equal(t, http.StatusOK, rec.Code, "%s", body)
			assert.True(t, *answer.Status)
			assert.Equal(t, true, check["status"])
			want := roundTrip(t, data)
			want["status"] = true
			assert.Equal(t, want, check, "the check carries the data's keys, status wins")
			return
		}
		assert.Equal(t, http.StatusInternalServerError, rec.Code, "%s", body)
		assert.False(t, *answer.Status, "a failed or unencodable check fails the probe")
		assert.Equal(t, false, check["status"])
		if !encodable {
			assert.Contains(t, check["error"], "cannot be encoded", "the answer says why")
		}
	})
}

// FuzzQuery sends any query string to every probe of a healthy bus: the
// answer is always valid JSON and passes. Unknown parameters are ignored, a
// malformed pair is skipped, and excluding checks leaves the rest passing.
//
//	go test -run '^$' -fuzz '^FuzzQuery$' -fuzztime 30s ./httpapi
func FuzzQuery(f *testing.F) {
	for _, q := range []string{
		"", "exclude=db", "exclude=db&exclude=cache", "exclude=", "exclude", "&", "verbose",
		"exclude=%zz", "a=1;b=2", "exclude=db;x", "%", "=", "exclude=%E2%9C%93", "EXCLUDE=db",
		strings.Repeat("x", 200) + "=1",
	} {
		for _, p := range []uint8{0, 1, 2, 3, 4} {
			f.Add(q, p)
		}
	}
	bus := signal.NewBus()
	bus.Subscribe(signal.Readiness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "db", Status: true}
	}, signal.Named("db"))
	bus.Subscribe(signal.Liveliness, func(context.Context) signal.Reply {
		return signal.Reply{Name: "loop", Status: true}
	}, signal.Named("loop"))
	h := httpapi.Router(bus)
	paths := []string{"readiness", "liveliness", "startup", "environ", "readiness/db"}
	f.Fuzz(func(t *testing.T, rawQuery string, path uint8) {
		p := paths[int(path)%len(paths)]
		req := httptest.NewRequest(http.MethodGet, httpapi.DefaultPrefix+"/"+p, nil)
		req.URL.RawQuery = rawQuery
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body := rec.Body.Bytes()
		require.True(t, json.Valid(body), "invalid JSON for ?%q: %q", rawQuery, body)

		var answer map[string]any
		require.NoError(t, json.Unmarshal(body, &answer))
		assert.IsType(t, true, answer["status"], "%s", body)

		// Whatever the query string, a healthy probe passes: unknown
		// parameters are ignored, and excluding checks leaves the rest
		// passing.
		assert.Equal(t, http.StatusOK, rec.Code, "?%q on %s: %s", rawQuery, p, body)
		assert.Equal(t, true, answer["status"], "?%q on %s: %s", rawQuery, p, body)
	})
}

// decodeData turns fuzzer bytes into reply data: a small program of
// (key, value) pairs. Each value starts with a type byte; maps and lists
// nest. It reaches every kind of value a receiver might return, encodable or
// not.
func decodeData(program []byte) map[string]any {
	d := decoder{b: program}
	return d.object(0)
}

type decoder struct {
	b []byte
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// str reads bytes up to a zero byte: any bytes, valid UTF-8 or not.
func (d *decoder) str() string {
	i := 0
	for i < len(d.b) && d.b[i] != 0 {
		i++
	}
	s := string(d.b[:i])
	d.b = d.b[min(i+1, len(d.b)):]
	return s
}

func (d *decoder) object(depth int) map[string]any {
	m := map[string]any{}
	for len(d.b) > 0 {
		if d.byte() != 1 { // 1: another key follows; anything else ends the map
			break
		}
		m[d.str()] = d.value(depth+1, m)
	}
	return m
}

func (d *decoder) value(depth int, self map[string]any) any {
	switch d.byte() {
	case 0:
		return nil
	case 2:
		var buf [8]byte
		n := copy(buf[:], d.b)
		d.b = d.b[n:]
		return math.Float64frombits(binary.LittleEndian.Uint64(buf[:])) // NaN and ±Inf too
	case 3:
		return d.str()
	case 4:
		return d.byte()%2 == 1
	case 5:
		return make(chan int)
	case 6:
		if depth > 8 {
			return "deep"
		}
		return d.object(depth)
	case 7:
		return self // a cycle
	case 8:
		return json.RawMessage(d.str())
	case 9:
		return panicky{}
	case 10:
		return invalidJSON{}
	case 11:
		if depth > 8 {
			return "deep"
		}
		n := int(d.byte() % 4)
		list := make([]any, n)
		for i := range list {
			list[i] = d.value(depth+1, self)
		}
		return list
	case 12:
		return errors.New(d.str()) // encodes as {}
	default:
		return int64(d.byte())<<8 | int64(d.byte())
	}
}

// panicky is a value whose encoding panics.
type panicky struct{}

func (panicky) MarshalJSON() ([]byte, error) { panic("MarshalJSON panicked") }

// invalidJSON is a value that encodes itself as invalid JSON.
type invalidJSON struct{}

func (invalidJSON) MarshalJSON() ([]byte, error) { return []byte(`{"a":`), nil }

// encodes reports whether every value of data, other than "status", can be
// encoded as JSON: what the bus must find out for itself.
func encodes(data map[string]any) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	for k, v := range data {
		if k == "status" {
			continue
		}
		if _, err := json.Marshal(v); err != nil {
			return false
		}
	}
	return true
}

// roundTrip is data, without "status", as a JSON decoder sees it: keys and
// strings that are not valid UTF-8 come back with U+FFFD in them.
func roundTrip(t *testing.T, data map[string]any) map[string]any {
	t.Helper()
	// Keys that differ only in invalid UTF-8 stay apart as "k#2"; json
	// alone would fold them into one.
	rest, err := wire.Clean(data)
	require.NoError(t, err)
	if rest == nil {
		rest = map[string]any{}
	}
	b, err := json.Marshal(rest)
	require.NoError(t, err)
	m := map[string]any{}
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}
