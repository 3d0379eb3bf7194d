package signal

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
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
	for k, v := range data {
		if k == "status" {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		fields = append(fields, Field{Key: k, Value: b})
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i].Key < fields[j].Key })
	return fields, nil
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
