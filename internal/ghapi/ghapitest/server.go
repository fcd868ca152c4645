// Package ghapitest is a fake GitHub REST API for tests: the endpoints
// evalgate calls, with state (comments, issues, runs, artifacts, files),
// pagination, a base URL under a path prefix (so a hard-coded absolute URL
// fails), and switches for the failures a real run meets: a read-only token,
// and rate limits.
package ghapitest

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Prefix is the path under which the fake serves the API, as GitHub
// Enterprise Server serves it under /api/v3.
const Prefix = "/ghe/api/v3"

// Server is the fake. Set its fields before the code under test runs; read
// them (under Lock) after.
type Server struct {
	*httptest.Server
	// Owner and Repo are the repository served.
	Owner, Repo string
	// Token, when set, is the bearer token every API call must carry.
	Token string

	mu sync.Mutex
	// ReadOnly answers 403 "Resource not accessible by integration" to
	// every write, as GitHub answers a fork's pull-request token.
	ReadOnly bool
	// RateLimited counts the next requests answered with a rate-limit
	// refusal (403 with x-ratelimit-remaining: 0, or 429 with retry-after
	// when Use429); each refusal decrements it.
	RateLimited int
	Use429      bool
	// Comments by issue number; Issues by number.
	Comments map[int][]*Comment
	Issues   map[int]*Issue
	// Files a pull request changed, by number.
	PRFiles map[int][]string
	// Contents by ref, then path.
	Contents map[string]map[string]string
	// Runs of workflows, newest first; Artifacts by run id.
	Runs      []Run
	Artifacts map[int64][]Artifact
	// Calls counts requests by "METHOD route" (route with ids as {n}).
	Calls map[string]int
	// Downloads counts artifact zip downloads.
	Downloads int

	nextID int64
}

// Comment is an issue comment.
type Comment struct {
	ID   int64  `json:"id"`
	Body string `json:"body"`
	URL  string `json:"html_url"`
}

// Issue is an issue.
type Issue struct {
	Number int      `json:"number"`
	Title  string   `json:"title"`
	Body   string   `json:"body"`
	State  string   `json:"state"`
	Labels []string `json:"-"`
	URL    string   `json:"html_url"`
}

// Run is a workflow run.
type Run struct {
	ID       int64
	Workflow string // file name, e.g. evalgate.yml
	Branch   string
	Status   string // conclusion: success, failure
	HeadSHA  string
}

// Artifact is an artifact of a run, with its zip.
type Artifact struct {
	ID      int64
	Name    string
	Expired bool
	Zip     []byte
}

// New starts a fake for owner/repo, stopped at the end of the test.
func New(t testing.TB, owner, repo string) *Server {
	s := Start(owner, repo, httptest.NewServer)
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake for owner/repo outside a test (scripts/fakegithub);
// listen is httptest.NewServer or a variant listening elsewhere. Close it.
func Start(owner, repo string, listen func(http.Handler) *httptest.Server) *Server {
	s := &Server{
		Owner: owner, Repo: repo,
		Comments: map[int][]*Comment{}, Issues: map[int]*Issue{}, PRFiles: map[int][]string{},
		Contents: map[string]map[string]string{}, Artifacts: map[int64][]Artifact{},
		Calls: map[string]int{}, nextID: 1000,
	}
	s.Server = listen(http.HandlerFunc(s.serve))
	return s
}

// APIURL is the base URL to give the client (GITHUB_API_URL).
func (s *Server) APIURL() string { return s.URL + Prefix }

// Lock and Unlock guard the fields while the code under test runs.
func (s *Server) Lock()   { s.mu.Lock() }
func (s *Server) Unlock() { s.mu.Unlock() }

// Zip builds an artifact zip holding files (name → content).
func Zip(t testing.TB, files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[n]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (s *Server) id() int64 { s.nextID++; return s.nextID }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/blob/") {
		s.blob(w, r)
		return
	}
	p, ok := strings.CutPrefix(r.URL.Path, Prefix+"/repos/"+s.Owner+"/"+s.Repo+"/")
	if !ok {
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	parts := strings.Split(p, "/")
	route := make([]string, len(parts))
	for i, part := range parts {
		if _, err := strconv.Atoi(part); err == nil {
			route[i] = "{n}"
		} else {
			route[i] = part
		}
	}
	key := r.Method + " " + strings.Join(route, "/")
	if strings.HasPrefix(p, "contents/") {
		key = r.Method + " contents"
	}
	s.Calls[key]++
	if s.Token != "" && r.Header.Get("Authorization") != "Bearer "+s.Token {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return
	}
	if s.RateLimited > 0 {
		s.RateLimited--
		w.Header().Set("X-Ratelimit-Limit", "1000")
		w.Header().Set("X-Ratelimit-Used", "1000")
		if s.Use429 {
			w.Header().Set("Retry-After", "0")
			writeJSON(w, http.StatusTooManyRequests, map[string]string{"message": "You have exceeded a secondary rate limit."})
			return
		}
		w.Header().Set("X-Ratelimit-Remaining", "0")
		w.Header().Set("X-Ratelimit-Reset", strconv.FormatInt(time.Now().Unix(), 10))
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "API rate limit exceeded for installation ID 1."})
		return
	}
	w.Header().Set("X-Ratelimit-Remaining", "4999")
	if s.ReadOnly && r.Method != http.MethodGet {
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "Resource not accessible by integration"})
		return
	}
	switch key {
	case "GET issues/{n}/comments":
		n, _ := strconv.Atoi(parts[1])
		page(w, r, s.Comments[n])
	case "POST issues/{n}/comments":
		n, _ := strconv.Atoi(parts[1])
		var c Comment
		json.NewDecoder(r.Body).Decode(&c)
		c.ID = s.id()
		c.URL = fmt.Sprintf("https://github.com/%s/%s/pull/%d#issuecomment-%d", s.Owner, s.Repo, n, c.ID)
		s.Comments[n] = append(s.Comments[n], &c)
		writeJSON(w, http.StatusCreated, c)
	case "PATCH issues/comments/{n}":
		id, _ := strconv.ParseInt(parts[2], 10, 64)
		for _, cs := range s.Comments {
			for _, c := range cs {
				if c.ID == id {
					var in Comment
					json.NewDecoder(r.Body).Decode(&in)
					c.Body = in.Body
					writeJSON(w, http.StatusOK, c)
					return
				}
			}
		}
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	case "GET issues":
		var open []*Issue
		for _, n := range sortedKeys(s.Issues) {
			if is := s.Issues[n]; is.State == "open" {
				open = append(open, is)
			}
		}
		page(w, r, open)
	case "POST issues":
		var in struct {
			Title  string   `json:"title"`
			Body   string   `json:"body"`
			Labels []string `json:"labels"`
		}
		json.NewDecoder(r.Body).Decode(&in)
		n := len(s.Issues) + 100
		is := &Issue{Number: n, Title: in.Title, Body: in.Body, Labels: in.Labels, State: "open",
			URL: fmt.Sprintf("https://github.com/%s/%s/issues/%d", s.Owner, s.Repo, n)}
		s.Issues[n] = is
		writeJSON(w, http.StatusCreated, is)
	case "PATCH issues/{n}":
		n, _ := strconv.Atoi(parts[1])
		is, ok := s.Issues[n]
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
			return
		}
		var in map[string]string
		json.NewDecoder(r.Body).Decode(&in)
		if v, ok := in["title"]; ok {
			is.Title = v
		}
		if v, ok := in["body"]; ok {
			is.Body = v
		}
		if v, ok := in["state"]; ok {
			is.State = v
		}
		writeJSON(w, http.StatusOK, is)
	case "GET pulls/{n}/files":
		n, _ := strconv.Atoi(parts[1])
		var files []map[string]string
		for _, f := range s.PRFiles[n] {
			if old, nw, ok := strings.Cut(f, " -> "); ok {
				files = append(files, map[string]string{"filename": nw, "previous_filename": old, "status": "renamed"})
			} else {
				files = append(files, map[string]string{"filename": f, "status": "modified"})
			}
		}
		page(w, r, files)
	case "GET contents":
		s.contents(w, r, strings.TrimPrefix(p, "contents/"))
	case "GET actions/workflows/" + route[len(route)-2] + "/runs", "GET actions/runs":
		wf := ""
		if len(parts) == 4 {
			wf = parts[2]
		}
		var runs []map[string]any
		for _, run := range s.Runs {
			q := r.URL.Query()
			if (wf != "" && run.Workflow != wf) || (q.Get("branch") != "" && run.Branch != q.Get("branch")) ||
				(q.Get("status") != "" && run.Status != q.Get("status")) {
				continue
			}
			runs = append(runs, map[string]any{"id": run.ID, "head_branch": run.Branch, "head_sha": run.HeadSHA,
				"conclusion": run.Status, "status": "completed",
				"html_url": fmt.Sprintf("https://github.com/%s/%s/actions/runs/%d", s.Owner, s.Repo, run.ID)})
		}
		items, next := paginate(r, runs)
		setLink(w, r, next)
		writeJSON(w, http.StatusOK, map[string]any{"total_count": len(runs), "workflow_runs": items})
	case "GET actions/runs/{n}/artifacts":
		id, _ := strconv.ParseInt(parts[2], 10, 64)
		var arts []map[string]any
		for _, a := range s.Artifacts[id] {
			arts = append(arts, map[string]any{"id": a.ID, "name": a.Name, "expired": a.Expired, "size_in_bytes": len(a.Zip),
				"created_at": "2026-01-14T03:20:00Z"})
		}
		items, next := paginate(r, arts)
		setLink(w, r, next)
		writeJSON(w, http.StatusOK, map[string]any{"total_count": len(arts), "artifacts": items})
	case "GET actions/artifacts/{n}/zip":
		id, _ := strconv.ParseInt(parts[2], 10, 64)
		if a := s.artifact(id); a != nil && !a.Expired {
			w.Header().Set("Location", fmt.Sprintf("%s/blob/%d.zip?sig=signed", s.URL, id))
			w.WriteHeader(http.StatusFound)
			return
		}
		writeJSON(w, http.StatusGone, map[string]string{"message": "Artifact has expired"})
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found: " + key})
	}
}

func (s *Server) artifact(id int64) *Artifact {
	for _, as := range s.Artifacts {
		for i := range as {
			if as[i].ID == id {
				return &as[i]
			}
		}
	}
	return nil
}

// blob serves a signed artifact URL: it must come without the API token.
func (s *Server) blob(w http.ResponseWriter, r *http.Request) {
	s.Calls["GET blob"]++
	if r.Header.Get("Authorization") != "" {
		http.Error(w, "signed URLs take no Authorization header", http.StatusBadRequest)
		return
	}
	id, _ := strconv.ParseInt(strings.TrimSuffix(path.Base(r.URL.Path), ".zip"), 10, 64)
	a := s.artifact(id)
	if a == nil || r.URL.Query().Get("sig") != "signed" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	s.Downloads++
	w.Header().Set("Content-Type", "application/zip")
	w.Write(a.Zip)
}

// contents serves a file as JSON (base64) or, when the raw media type is
// asked for, as itself.
func (s *Server) contents(w http.ResponseWriter, r *http.Request, p string) {
	files := s.Contents[r.URL.Query().Get("ref")]
	if c, ok := files[p]; ok {
		if strings.HasPrefix(r.Header.Get("Accept"), "application/vnd.github.raw") {
			w.Header().Set("Content-Type", "application/vnd.github.raw")
			w.Write([]byte(c))
			return
		}
		if len(c) > 1<<20 {
			// GitHub's JSON form holds no content past 1 MB.
			writeJSON(w, http.StatusOK, map[string]any{"type": "file", "encoding": "none", "name": path.Base(p), "path": p,
				"size": len(c), "content": ""})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"type": "file", "encoding": "base64", "name": path.Base(p), "path": p,
			"size": len(c), "content": base64.StdEncoding.EncodeToString([]byte(c))})
		return
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

func paginate[T any](r *http.Request, all []T) ([]T, int) {
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 {
		per = 30
	}
	pg, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if pg <= 0 {
		pg = 1
	}
	lo := min((pg-1)*per, len(all))
	hi := min(lo+per, len(all))
	next := 0
	if hi < len(all) {
		next = pg + 1
	}
	return all[lo:hi], next
}

func page[T any](w http.ResponseWriter, r *http.Request, all []T) {
	items, next := paginate(r, all)
	setLink(w, r, next)
	if items == nil {
		items = []T{}
	}
	writeJSON(w, http.StatusOK, items)
}

func setLink(w http.ResponseWriter, r *http.Request, next int) {
	if next == 0 {
		return
	}
	u := *r.URL
	q := u.Query()
	q.Set("page", strconv.Itoa(next))
	u.RawQuery = q.Encode()
	w.Header().Set("Link", fmt.Sprintf(`<http://%s%s>; rel="next"`, r.Host, u.String()))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
