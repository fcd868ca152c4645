package report

import (
	"strings"
	"unicode"

	"github.com/evalgate/evalgate/internal/excerpt"
)

// Model output is untrusted: a regressed answer may contain Markdown, HTML,
// "@someone" or links. Everything from a results file goes through one of
// these two functions before it reaches the comment, so it can neither break
// the layout nor ping people, load images or add links.

// zwsp is a zero-width space: put after "@" it stops GitHub from reading a
// mention, and inside "://" or "www." it stops the autolinker, while the text
// reads the same.
const zwsp = "\u200b"

// defang breaks mentions and autolinks.
func defang(s string) string {
	s = strings.ReplaceAll(s, "@", "@"+zwsp)
	s = strings.ReplaceAll(s, "://", ":"+zwsp+"//")
	s = strings.ReplaceAll(s, "www.", "www"+zwsp+".")
	return s
}

// dropControls removes control characters other than tab and newline (a
// terminal escape or a NUL has no place in a comment) and bidirectional
// controls.
func dropControls(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' {
			return r
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || IsBidiControl(r) {
			return -1
		}
		return r
	}, s)
}

// IsBidiControl reports whether r is a bidirectional control: the embeddings,
// overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the marks (U+200E,
// U+200F, U+061C). In untrusted text they reorder what a reader sees (the
// "Trojan Source" trick: a failing answer displayed as a passing one, a
// sample id that reads as another), so nothing evalgate renders keeps them.
func IsBidiControl(r rune) bool { return unicode.Is(unicode.Bidi_Control, r) }

// DropBidi removes the bidirectional controls from s: for text shown as it
// is, on a terminal or in a log.
func DropBidi(s string) string {
	if !strings.ContainsFunc(s, IsBidiControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if IsBidiControl(r) {
			return -1
		}
		return r
	}, s)
}

// inlineEscaper escapes Markdown and HTML for one table cell or line: every
// punctuation mark Markdown gives a meaning is backslash-escaped, and the
// HTML-significant ones become entities.
var inlineEscaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;",
	`\`, `\\`, "|", `\|`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"(", `\(`, ")", `\)`, "!", `\!`, "#", `\#`, "~", `\~`, "$", `\$`, ":", `\:`,
	"\t", " ", "\n", " ",
)

// Inline escapes s for a Markdown table cell, a heading or a summary line:
// one line, no Markdown or HTML meaning, no mentions or links.
func Inline(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return inlineEscaper.Replace(defang(dropControls(s)))
}

// blockEscaper escapes text for the inside of an HTML <pre>. Newlines become
// character references so that the whole block is one source line: a blank
// line would end GitHub's HTML block and let the rest be read as Markdown.
var blockEscaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;",
	"\n", "&#10;",
)

// Block escapes s for the inside of a <pre> element in an HTML block.
func Block(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return blockEscaper.Replace(defang(dropControls(s)))
}

// clip keeps the first n runes of s, marking the cut.
func clip(s string, n int) string {
	if c, cut := excerpt.Cut(s, n); cut {
		return c + " …[shortened]"
	}
	return s
}
