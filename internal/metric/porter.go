package metric

import "strings"

// PorterStem stems a lowercase word with the Porter algorithm exactly as
// nltk's PorterStemmer() does in its default NLTK_EXTENSIONS mode
// (nltk/stem/porter.py, nltk 3.8): the published algorithm plus nltk's
// irregular forms, its 'ies'/'ied' and 'y' rules, the 'alli', 'fulli' and
// 'logi' rules, and no stemming of words of one or two letters. rouge-score
// uses this stemmer, so ROUGE with stemmer: true matches it word for word.
func PorterStem(word string) string {
	if s, ok := porterIrregular[word]; ok {
		return s
	}
	if len(word) <= 2 {
		return word
	}
	w := porterStep1a(word)
	w = porterStep1b(w)
	w = porterStep1c(w)
	w = porterStep2(w)
	w = porterStep3(w)
	w = porterStep4(w)
	w = porterStep5a(w)
	return porterStep5b(w)
}

// porterIrregular is nltk's table of irregular forms, which bypass the rules.
var porterIrregular = map[string]string{
	"sky": "sky", "skies": "sky",
	"dying": "die", "lying": "lie", "tying": "tie",
	"news":    "news",
	"innings": "inning", "inning": "inning",
	"outings": "outing", "outing": "outing",
	"cannings": "canning", "canning": "canning",
	"howe":    "howe",
	"proceed": "proceed", "exceed": "exceed", "succeed": "succeed",
}

// porterCons reports whether w[i] is a consonant: not a vowel, and 'y' only
// when it follows a vowel or starts the word.
func porterCons(w string, i int) bool {
	switch w[i] {
	case 'a', 'e', 'i', 'o', 'u':
		return false
	case 'y':
		return i == 0 || !porterCons(w, i-1)
	}
	return true
}

// porterMeasure is m in [C](VC){m}[V]: the number of vowel-consonant pairs.
func porterMeasure(stem string) int {
	m := 0
	for i := 1; i < len(stem); i++ {
		if !porterCons(stem, i-1) && porterCons(stem, i) {
			m++
		}
	}
	return m
}

func porterContainsVowel(stem string) bool {
	for i := range len(stem) {
		if !porterCons(stem, i) {
			return true
		}
	}
	return false
}

func porterEndsDoubleCons(w string) bool {
	n := len(w)
	return n >= 2 && w[n-1] == w[n-2] && porterCons(w, n-1)
}

// porterEndsCVC is condition *o, with nltk's extension to two-letter stems
// that are vowel-consonant.
func porterEndsCVC(w string) bool {
	n := len(w)
	if n >= 3 && porterCons(w, n-3) && !porterCons(w, n-2) && porterCons(w, n-1) &&
		w[n-1] != 'w' && w[n-1] != 'x' && w[n-1] != 'y' {
		return true
	}
	return n == 2 && !porterCons(w, 0) && porterCons(w, 1)
}

// porterRule is (suffix, replacement, condition on the stem); the suffix
// "*d" stands for a double consonant, as in nltk.
type porterRule struct {
	suffix, repl string
	cond         func(stem string) bool
}

// porterApply applies the first rule whose suffix matches. As in nltk, a
// matching suffix whose condition fails ends the step without trying later
// rules.
func porterApply(w string, rules []porterRule) string {
	for _, r := range rules {
		if r.suffix == "*d" {
			if porterEndsDoubleCons(w) {
				stem := w[:len(w)-2]
				if r.cond == nil || r.cond(stem) {
					return stem + r.repl
				}
				return w
			}
			continue
		}
		if strings.HasSuffix(w, r.suffix) {
			stem := w[:len(w)-len(r.suffix)]
			if r.cond == nil || r.cond(stem) {
				return stem + r.repl
			}
			return w
		}
	}
	return w
}

func porterPositive(stem string) bool { return porterMeasure(stem) > 0 }

func porterStep1a(w string) string {
	if strings.HasSuffix(w, "ies") && len(w) == 4 {
		return w[:len(w)-3] + "ie"
	}
	return porterApply(w, []porterRule{
		{"sses", "ss", nil},
		{"ies", "i", nil},
		{"ss", "ss", nil},
		{"s", "", nil},
	})
}

func porterStep1b(w string) string {
	if strings.HasSuffix(w, "ied") {
		if len(w) == 4 {
			return w[:len(w)-3] + "ie"
		}
		return w[:len(w)-3] + "i"
	}
	if strings.HasSuffix(w, "eed") {
		stem := w[:len(w)-3]
		if porterMeasure(stem) > 0 {
			return stem + "ee"
		}
		return w
	}
	var stem string
	ok := false
	for _, suf := range []string{"ed", "ing"} {
		if strings.HasSuffix(w, suf) {
			s := w[:len(w)-len(suf)]
			if porterContainsVowel(s) {
				stem, ok = s, true
				break
			}
		}
	}
	if !ok {
		return w
	}
	last := stem[len(stem)-1:]
	return porterApply(stem, []porterRule{
		{"at", "ate", nil},
		{"bl", "ble", nil},
		{"iz", "ize", nil},
		{"*d", last, func(string) bool { return last != "l" && last != "s" && last != "z" }},
		{"", "e", func(s string) bool { return porterMeasure(s) == 1 && porterEndsCVC(s) }},
	})
}

func porterStep1c(w string) string {
	return porterApply(w, []porterRule{
		{"y", "i", func(s string) bool { return len(s) > 1 && porterCons(s, len(s)-1) }},
	})
}

func porterStep2(w string) string {
	// nltk applies ALLI -> AL first and runs step 2 again on the result.
	if strings.HasSuffix(w, "alli") && porterPositive(w[:len(w)-4]) {
		return porterStep2(w[:len(w)-4] + "al")
	}
	return porterApply(w, []porterRule{
		{"ational", "ate", porterPositive},
		{"tional", "tion", porterPositive},
		{"enci", "ence", porterPositive},
		{"anci", "ance", porterPositive},
		{"izer", "ize", porterPositive},
		{"bli", "ble", porterPositive},
		{"alli", "al", porterPositive},
		{"entli", "ent", porterPositive},
		{"eli", "e", porterPositive},
		{"ousli", "ous", porterPositive},
		{"ization", "ize", porterPositive},
		{"ation", "ate", porterPositive},
		{"ator", "ate", porterPositive},
		{"alism", "al", porterPositive},
		{"iveness", "ive", porterPositive},
		{"fulness", "ful", porterPositive},
		{"ousness", "ous", porterPositive},
		{"aliti", "al", porterPositive},
		{"iviti", "ive", porterPositive},
		{"biliti", "ble", porterPositive},
		{"fulli", "ful", porterPositive},
		// The 'l' of 'logi' stays with the stem, so the measure is of the
		// word minus "ogi" (nltk, after Barry Wilkins).
		{"logi", "log", func(string) bool { return porterPositive(w[:len(w)-3]) }},
	})
}

func porterStep3(w string) string {
	return porterApply(w, []porterRule{
		{"icate", "ic", porterPositive},
		{"ative", "", porterPositive},
		{"alize", "al", porterPositive},
		{"iciti", "ic", porterPositive},
		{"ical", "ic", porterPositive},
		{"ful", "", porterPositive},
		{"ness", "", porterPositive},
	})
}

func porterStep4(w string) string {
	gt1 := func(s string) bool { return porterMeasure(s) > 1 }
	return porterApply(w, []porterRule{
		{"al", "", gt1},
		{"ance", "", gt1},
		{"ence", "", gt1},
		{"er", "", gt1},
		{"ic", "", gt1},
		{"able", "", gt1},
		{"ible", "", gt1},
		{"ant", "", gt1},
		{"ement", "", gt1},
		{"ment", "", gt1},
		{"ent", "", gt1},
		{"ion", "", func(s string) bool {
			return porterMeasure(s) > 1 && (s[len(s)-1] == 's' || s[len(s)-1] == 't')
		}},
		{"ou", "", gt1},
		{"ism", "", gt1},
		{"ate", "", gt1},
		{"iti", "", gt1},
		{"ous", "", gt1},
		{"ive", "", gt1},
		{"ize", "", gt1},
	})
}

func porterStep5a(w string) string {
	if strings.HasSuffix(w, "e") {
		stem := w[:len(w)-1]
		m := porterMeasure(stem)
		if m > 1 || (m == 1 && !porterEndsCVC(stem)) {
			return stem
		}
	}
	return w
}

func porterStep5b(w string) string {
	return porterApply(w, []porterRule{
		{"ll", "l", func(string) bool { return porterMeasure(w[:len(w)-1]) > 1 }},
	})
}
