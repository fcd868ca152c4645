// Package batchfake is a fake of what a Bedrock batch job touches, for
// tests: an S3 bucket store speaking S3's REST-XML wire format (path-style
// HeadBucket, PutObject, GetObject, ListObjectsV2) and the Bedrock control
// plane's model invocation job API in its REST-JSON wire format
// (CreateModelInvocationJob, GetModelInvocationJob, StopModelInvocationJob).
// A created job reads its input from the fake bucket and, once polled to its
// end, writes <input>.jsonl.out and manifest.json.out into it as the service
// does.
package batchfake

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Record is one line of a job's input as the fake read it.
type Record struct {
	RecordID   string          `json:"recordId"`
	ModelInput json.RawMessage `json:"modelInput"`
}

// Outcome is what the model made of one record: a Converse response body,
// or an error code and message.
type Outcome struct {
	Output    any
	ErrorCode int
	ErrorMsg  string
}

// Reply is a Converse response body with text and token counts.
func Reply(text string, in, out int) Outcome {
	return Outcome{Output: map[string]any{
		"output":     map[string]any{"message": map[string]any{"role": "assistant", "content": []any{map[string]any{"text": text}}}},
		"stopReason": "end_turn",
		"usage":      map[string]any{"inputTokens": in, "outputTokens": out, "totalTokens": in + out},
		"metrics":    map[string]any{"latencyMs": 800},
	}}
}

// Options shape a fake's behaviour.
type Options struct {
	// Region is the bucket's region (HeadBucket's x-amz-bucket-region).
	Region string
	// States are the job's status at each GetModelInvocationJob, the last
	// one repeated; default Submitted, InProgress, Completed.
	States []string
	// Message is the job's message (a failed job's reason).
	Message string
	// Answer decides each record's outcome; default a short reply.
	Answer func(r Record) Outcome
	// Drop leaves records out of the output (a job that stopped part way).
	Drop func(r Record) bool
	// PageSize is ListObjectsV2's page size (default 1000).
	PageSize int
	// CreateError, when set, is the error code CreateModelInvocationJob
	// answers with (a 400 with that X-Amzn-ErrorType).
	CreateError string
}

// Server is both fakes; S3 and Bedrock are its two endpoints, each under a
// path prefix so that a client ignoring the configured endpoint fails.
type Server struct {
	S3, Bedrock *httptest.Server
	opts        Options

	mu      sync.Mutex
	objects map[string][]byte // bucket + "/" + key
	jobs    map[string]*job   // by ARN
	// Created are the CreateModelInvocationJob bodies; Polls counts
	// GetModelInvocationJob calls; Stopped lists the jobs stopped.
	Created []map[string]any
	Polls   int
	Stopped []string
	// Input is the records of the last job created.
	Input []Record
}

type job struct {
	arn, id, input, output string
	polls                  int
	state                  string
}

// The path prefixes of the two endpoints.
const (
	S3Prefix      = "/s3fake"
	BedrockPrefix = "/bedrockfake"
)

// NewServer starts both fakes; Close it when done.
func NewServer(opts Options) *Server {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if len(opts.States) == 0 {
		opts.States = []string{"Submitted", "InProgress", "Completed"}
	}
	if opts.Answer == nil {
		opts.Answer = func(Record) Outcome { return Reply("ok", 10, 2) }
	}
	if opts.PageSize == 0 {
		opts.PageSize = 1000
	}
	s := &Server{opts: opts, objects: map[string][]byte{}, jobs: map[string]*job{}}
	s.S3 = httptest.NewServer(http.StripPrefix(S3Prefix, http.HandlerFunc(s.serveS3)))
	s.Bedrock = httptest.NewServer(http.StripPrefix(BedrockPrefix, http.HandlerFunc(s.serveBedrock)))
	return s
}

// S3URL is the S3 endpoint to give the SDK's s3 client (path-style).
func (s *Server) S3URL() string { return s.S3.URL + S3Prefix }

// BedrockURL is the endpoint to give the SDK's bedrock client.
func (s *Server) BedrockURL() string { return s.Bedrock.URL + BedrockPrefix }

// Close stops both fakes.
func (s *Server) Close() { s.S3.Close(); s.Bedrock.Close() }

// Object returns a stored object's bytes.
func (s *Server) Object(bucket, key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objects[bucket+"/"+key]
	return b, ok
}

// Keys lists the stored objects as bucket/key, sorted.
func (s *Server) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.objects {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}

func (s *Server) serveS3(w http.ResponseWriter, r *http.Request) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodHead && key == "":
		w.Header().Set("x-amz-bucket-region", s.opts.Region)
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodPut && key != "":
		body, err := readPayload(r)
		if err != nil {
			s3Error(w, http.StatusBadRequest, "IncompleteBody", err.Error())
			return
		}
		s.mu.Lock()
		s.objects[bucket+"/"+key] = body
		s.mu.Unlock()
		w.Header().Set("ETag", `"fake"`)
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodGet && key == "" && r.URL.Query().Get("list-type") == "2":
		s.list(w, r, bucket)
	case r.Method == http.MethodGet && key != "":
		b, ok := s.Object(bucket, key)
		if !ok {
			s3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	default:
		s3Error(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" "+r.URL.Path)
	}
}

// readPayload reads a PutObject body, decoding the aws-chunked encoding
// (chunks, then trailing checksum headers) the SDK uses for checksums.
func readPayload(r *http.Request) ([]byte, error) {
	if !strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") &&
		!strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
		return io.ReadAll(r.Body)
	}
	br := bufio.NewReader(r.Body)
	var out bytes.Buffer
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("aws-chunked: %w", err)
		}
		sizeHex, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		n, err := strconv.ParseInt(sizeHex, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("aws-chunked size %q: %w", line, err)
		}
		if n == 0 {
			return out.Bytes(), nil // the trailer follows
		}
		if _, err := io.CopyN(&out, br, n); err != nil {
			return nil, fmt.Errorf("aws-chunked: %w", err)
		}
		if _, err := br.ReadString('\n'); err != nil {
			return nil, fmt.Errorf("aws-chunked: %w", err)
		}
	}
}

type listResult struct {
	XMLName               xml.Name   `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string     `xml:"Name"`
	Prefix                string     `xml:"Prefix"`
	KeyCount              int        `xml:"KeyCount"`
	MaxKeys               int        `xml:"MaxKeys"`
	IsTruncated           bool       `xml:"IsTruncated"`
	ContinuationToken     string     `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string     `xml:"NextContinuationToken,omitempty"`
	Contents              []listItem `xml:"Contents"`
}

type listItem struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int    `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
}

// list answers ListObjectsV2 a page at a time; the continuation token is
// the index of the next key.
func (s *Server) list(w http.ResponseWriter, r *http.Request, bucket string) {
	q := r.URL.Query()
	prefix := q.Get("prefix")
	var keys []string
	s.mu.Lock()
	for k, b := range s.objects {
		if rest, ok := strings.CutPrefix(k, bucket+"/"); ok && strings.HasPrefix(rest, prefix) {
			keys = append(keys, rest+"\x00"+strconv.Itoa(len(b)))
		}
	}
	s.mu.Unlock()
	slices.Sort(keys)
	start, _ := strconv.Atoi(q.Get("continuation-token"))
	end := min(start+s.opts.PageSize, len(keys))
	res := listResult{Name: bucket, Prefix: prefix, MaxKeys: s.opts.PageSize, ContinuationToken: q.Get("continuation-token")}
	for _, k := range keys[min(start, len(keys)):end] {
		key, size, _ := strings.Cut(k, "\x00")
		n, _ := strconv.Atoi(size)
		res.Contents = append(res.Contents, listItem{Key: key, LastModified: "2026-11-30T00:00:00.000Z", ETag: `"fake"`, Size: n, StorageClass: "STANDARD"})
	}
	res.KeyCount = len(res.Contents)
	if end < len(keys) {
		res.IsTruncated, res.NextContinuationToken = true, strconv.Itoa(end)
	}
	w.Header().Set("Content-Type", "application/xml")
	io.WriteString(w, xml.Header)
	xml.NewEncoder(w).Encode(res)
}

func bedrockError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func (s *Server) serveBedrock(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/model-invocation-job")
	switch {
	case !ok:
		bedrockError(w, http.StatusNotFound, "UnknownOperationException", r.URL.Path)
	case r.Method == http.MethodPost && rest == "":
		s.create(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(rest, "/"):
		id, _ := url.PathUnescape(strings.TrimPrefix(rest, "/"))
		s.get(w, id)
	case r.Method == http.MethodPost && strings.HasSuffix(rest, "/stop"):
		id, _ := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(rest, "/"), "/stop"))
		s.mu.Lock()
		s.Stopped = append(s.Stopped, id)
		if j := s.jobs[id]; j != nil {
			j.state = "Stopped"
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{}")
	default:
		bedrockError(w, http.StatusNotFound, "UnknownOperationException", r.Method+" "+r.URL.Path)
	}
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		bedrockError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	s.mu.Lock()
	s.Created = append(s.Created, body)
	s.mu.Unlock()
	if s.opts.CreateError != "" {
		bedrockError(w, http.StatusBadRequest, s.opts.CreateError, "the fake refuses the job")
		return
	}
	in, _ := body["inputDataConfig"].(map[string]any)["s3InputDataConfig"].(map[string]any)["s3Uri"].(string)
	out, _ := body["outputDataConfig"].(map[string]any)["s3OutputDataConfig"].(map[string]any)["s3Uri"].(string)
	s.mu.Lock()
	id := fmt.Sprintf("job%04d", len(s.jobs)+1)
	arn := "arn:aws:bedrock:" + s.opts.Region + ":123456789012:model-invocation-job/" + id
	s.jobs[arn] = &job{arn: arn, id: id, input: in, output: out}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	json.NewEncoder(w).Encode(map[string]string{"jobArn": arn})
}

func (s *Server) get(w http.ResponseWriter, id string) {
	s.mu.Lock()
	s.Polls++
	j := s.jobs[id]
	if j == nil {
		s.mu.Unlock()
		bedrockError(w, http.StatusNotFound, "ResourceNotFoundException", "no job "+id)
		return
	}
	if j.state != "Stopped" {
		j.state = s.opts.States[min(j.polls, len(s.opts.States)-1)]
	}
	j.polls++
	state := j.state
	s.mu.Unlock()
	total, done := 0, 0
	if state == "Completed" || state == "PartiallyCompleted" || state == "Stopped" || state == "Expired" {
		var err error
		total, done, err = s.finish(j)
		if err != nil {
			bedrockError(w, http.StatusInternalServerError, "InternalServerException", err.Error())
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"jobArn": j.arn, "jobName": "job", "modelId": "m", "roleArn": "arn:aws:iam::123456789012:role/r",
		"status": state, "message": s.opts.Message,
		"submitTime":           time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC).Format(time.RFC3339),
		"totalRecordCount":     total,
		"processedRecordCount": done,
		"inputDataConfig":      map[string]any{"s3InputDataConfig": map[string]any{"s3Uri": j.input}},
		"outputDataConfig":     map[string]any{"s3OutputDataConfig": map[string]any{"s3Uri": j.output}},
	})
}

// finish writes the job's output once, as the service lays it out:
// <output>/<job id>/<input file>.out and manifest.json.out.
func (s *Server) finish(j *job) (total, done int, err error) {
	inBucket, inKey := splitURI(j.input)
	outBucket, outKey := splitURI(j.output)
	outFile := path.Join(outKey, j.id, path.Base(inKey)+".out")
	if _, ok := s.Object(outBucket, outFile); ok {
		return 0, 0, nil
	}
	in, ok := s.Object(inBucket, inKey)
	if !ok {
		return 0, 0, fmt.Errorf("no input at %s", j.input)
	}
	var records []Record
	var out bytes.Buffer
	for _, line := range bytes.Split(bytes.TrimSpace(in), []byte("\n")) {
		var rec Record
		if err := json.Unmarshal(line, &rec); err != nil {
			return 0, 0, fmt.Errorf("input line: %w", err)
		}
		records = append(records, rec)
		if s.opts.Drop != nil && s.opts.Drop(rec) {
			continue
		}
		o := s.opts.Answer(rec)
		line := map[string]any{"recordId": rec.RecordID, "modelInput": rec.ModelInput}
		if o.ErrorCode != 0 {
			line["error"] = map[string]any{"errorCode": o.ErrorCode, "errorMessage": o.ErrorMsg}
		} else {
			line["modelOutput"] = o.Output
		}
		b, _ := json.Marshal(line)
		out.Write(append(b, '\n'))
		done++
	}
	manifest, _ := json.Marshal(map[string]int{"totalRecordCount": len(records), "processedRecordCount": done})
	s.mu.Lock()
	s.Input = records
	s.objects[outBucket+"/"+outFile] = out.Bytes()
	s.objects[outBucket+"/"+path.Join(outKey, j.id, "manifest.json.out")] = manifest
	s.mu.Unlock()
	return len(records), done, nil
}

func splitURI(uri string) (bucket, key string) {
	bucket, key, _ = strings.Cut(strings.TrimPrefix(uri, "s3://"), "/")
	return bucket, key
}
