package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Hash is the canonical hash of what decides a model's answer: model, system,
// the full messages, params and the repeat index. Credentials, the sample's
// fields and whether the call streams are not part of it. Cassettes are keyed
// by it; the response cache adds the provider's name.
func Hash(req Request) string {
	// A struct (not a map) fixes the field order, so equal requests hash
	// equally on every machine.
	canon := struct {
		Model    string    `json:"model"`
		System   string    `json:"system"`
		Messages []Message `json:"messages"`
		Params   Params    `json:"params"`
		Repeat   int       `json:"repeat"`
	}{req.Model, req.System, req.Messages, req.Params, req.Repeat}
	b, err := json.Marshal(canon)
	if err != nil {
		// Strings, numbers and slices of them only: Marshal cannot fail.
		panic(fmt.Sprintf("provider: marshal request hash: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
