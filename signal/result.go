package signal

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Result is one receiver's part in one publish: its reply, the reply encoded
// as JSON, and how the reply came about. The encoding is made once, when the
// run that produced the reply finishes, so every publish that reuses the
// reply reuses its encoding too.
type Result struct {
	// Reply is the receiver's reply, or the failed reply that replaced it
	// (see Fault). Its Name is the name the check is reported under.
	Reply Reply
	// JSON is the reply as one JSON object: "status" first, then the data's
	// keys in sorted order. A "status" key in the data is left out: the
	// reply's Status always wins.
	JSON []byte
	// Fields are the data's keys and encoded values, sorted by key, without
	// "status".
	Fields []Field
	// Fault is non-nil when the bus replaced the receiver's reply: it timed
	// out (ErrTimeout), panicked (ErrPanic), returned data that cannot be
	// encoded (ErrEncoding), or the publish was canceled (ErrCanceled).
	Fault error
	// Reused is true when the reply came from an earlier run, still within
	// its cache period.
	Reused bool
}

// Field is one key of a reply's data with its value encoded as JSON.
type Field struct {
	Key   string
	Value json.RawMessage
}

// encodeFields encodes each value of data on its own, so that a reply can be
// written as a check object and merged key by key into the environ answer.
// A value whose MarshalJSON panics is reported as an error like any other.
func encodeFields(data map[string]any) (fields []Field, err error) {
	if len(data) == 0 {
		return nil, nil
	}
	defer func() {
		if v := recover(); v != nil {
			fields, err = nil, fmt.Errorf("encoding panicked: %v", v)
		}
	}()
	fields = make([]Field, 0, len(data))
	buf := make([]byte, 0, 24*len(data)) // the values of simple types, sliced into fields
	for k, v := range data {
		if k == "status" {
			continue
		}
		start := len(buf)
		var simple bool
		buf, simple, err = appendSimple(buf, v)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		if simple {
			fields = append(fields, Field{Key: k, Value: buf[start:len(buf):len(buf)]})
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		fields = append(fields, Field{Key: k, Value: b})
	}
	if len(fields) > 1 {
		slices.SortFunc(fields, func(a, b Field) int { return strings.Compare(a.Key, b.Key) })
	}
	return fields, nil
}

// appendSimple appends v's JSON encoding to b when v is of a type receivers
// return all the time (a string, a number, a bool, nil), exactly as
// encoding/json would encode it but without its reflection and buffers; it
// reports false, leaving b as it was, for any other type. A value json
// cannot encode (NaN, ±Inf) is the same error json gives.
func appendSimple(b []byte, v any) ([]byte, bool, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), true, nil
	case string:
		return AppendString(b, x), true, nil
	case bool:
		return strconv.AppendBool(b, x), true, nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), true, nil
	case int64:
		return strconv.AppendInt(b, x, 10), true, nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), true, nil
	case uint64:
		return strconv.AppendUint(b, x, 10), true, nil
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), true, nil
	case uint:
		return strconv.AppendUint(b, uint64(x), 10), true, nil
	case float64:
		return appendFloat(b, x, 64)
	case float32:
		return appendFloat(b, float64(x), 32)
	}
	return b, false, nil
}

// appendFloat encodes f as encoding/json does: the shortest representation,
// in exponent form only below 1e-6 or from 1e21, with a one-digit negative
// exponent written e-7, not e-07.
func appendFloat(b []byte, f float64, bits int) ([]byte, bool, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, true, &json.UnsupportedValueError{
			Value: reflect.ValueOf(f),
			Str:   strconv.FormatFloat(f, 'g', -1, bits),
		}
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true, nil
}

// The check objects of replies without data, shared by every such reply.
var (
	passedJSON = []byte(`{"status":true}`)
	failedJSON = []byte(`{"status":false}`)
)

// checkJSON returns the check object of a reply: shared bytes when the reply
// has no data, which callers only ever read.
func checkJSON(status bool, fields []Field) []byte {
	if len(fields) == 0 {
		if status {
			return passedJSON
		}
		return failedJSON
	}
	return appendCheck(nil, status, fields)
}

// appendCheck appends the check object {"status":…,"k":v,…} to b.
func appendCheck(b []byte, status bool, fields []Field) []byte {
	if b == nil {
		n := len(`{"status":false}`)
		for _, f := range fields {
			n += len(f.Key) + len(f.Value) + 4 // quotes, colon, comma
		}
		b = make([]byte, 0, n)
	}
	b = append(b, `{"status":`...)
	b = strconv.AppendBool(b, status)
	for _, f := range fields {
		b = append(b, ',')
		b = AppendString(b, f.Key)
		b = append(b, ':')
		b = append(b, f.Value...)
	}
	return append(b, '}')
}

// AppendString appends s to b as a JSON string, escaped as encoding/json
// escapes it.
func AppendString(b []byte, s string) []byte {
	if plain(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	enc, _ := json.Marshal(s) // a string always encodes
	return append(b, enc...)
}

// plain reports whether s needs no escaping in JSON.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// distinct reports whether no two results have the same name.
func distinct(results []Result) bool {
	for i := 1; i < len(results); i++ {
		for j := range i {
			if results[i].Reply.Name == results[j].Reply.Name {
				return false
			}
		}
	}
	return true
}

// uniqueNames renames replies whose name an earlier reply already has, to
// "name#2", "name#3", …, so that no check hides another in the JSON object.
func uniqueNames(results []Result) {
	if len(results) < 2 {
		return
	}
	if len(results) <= 16 && distinct(results) {
		return // the usual case, found without a map
	}
	seen := make(map[string]struct{}, len(results))
	for i := range results {
		name := results[i].Reply.Name
		if _, dup := seen[name]; dup {
			for n := 2; ; n++ {
				alt := name + "#" + strconv.Itoa(n)
				if _, taken := seen[alt]; !taken {
					name = alt
					break
				}
			}
			results[i].Reply.Name = name
		}
		seen[name] = struct{}{}
	}
}
