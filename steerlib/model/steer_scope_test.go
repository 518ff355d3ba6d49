package model

import (
	"encoding/json"
	"testing"
)

// TestSteerScopeText: scopes read and write their names in JSON; unknown
// names and values are errors.
func TestSteerScopeText(t *testing.T) {
	for _, c := range []struct {
		scope SteerScope
		json  string
	}{{SteerAll, `"all"`}, {SteerPrompt, `"prompt"`}, {SteerGenerated, `"generated"`}} {
		b, err := json.Marshal(c.scope)
		if err != nil || string(b) != c.json {
			t.Errorf("Marshal(%v) = %s, %v; want %s", c.scope, b, err, c.json)
		}
		var back SteerScope = -1
		if err := json.Unmarshal([]byte(c.json), &back); err != nil || back != c.scope {
			t.Errorf("Unmarshal(%s) = %v, %v", c.json, back, err)
		}
	}
	var s SteerScope
	if err := json.Unmarshal([]byte(`"prefix"`), &s); err == nil {
		t.Error(`Unmarshal("prefix"): no error`)
	}
	if _, err := json.Marshal(SteerScope(7)); err == nil {
		t.Error("Marshal(SteerScope(7)): no error")
	}
}
