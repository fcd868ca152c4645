// Command fakegithub serves the fake GitHub REST API of evalgate's tests
// (internal/ghapi/ghapitest) on a loopback address, so that
// scripts/docker-selftest.sh can run the Action's container against it.
//
//	go run ./scripts/fakegithub -addr 127.0.0.1:0 -pr-files examples/support/prompts/answer.txt
//
// It prints the API URL on its first line, serves until stdin closes or it
// is interrupted, then prints the comments and issues it holds as JSON.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/evalgate/evalgate/internal/ghapi/ghapitest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on")
	repo := flag.String("repo", "nimbus-drive/support-bot", "owner/repo served")
	token := flag.String("token", "", "bearer token every API call must carry (empty: any)")
	pr := flag.Int("pr", 42, "pull request number")
	files := flag.String("pr-files", "", "comma-separated files the pull request changed")
	flag.Parse()
	owner, name, ok := strings.Cut(*repo, "/")
	if !ok {
		fmt.Fprintln(os.Stderr, "fakegithub: -repo must be owner/repo")
		os.Exit(2)
	}
	listen := func(h http.Handler) *httptest.Server {
		l, err := net.Listen("tcp", *addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fakegithub:", err)
			os.Exit(1)
		}
		srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
		srv.Start()
		return srv
	}
	s := ghapitest.Start(owner, name, listen)
	defer s.Close()
	s.Token = *token
	if *files != "" {
		s.PRFiles[*pr] = strings.Split(*files, ",")
	}
	fmt.Println(s.APIURL())

	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case <-done:
	case <-sig:
	}
	s.Lock()
	defer s.Unlock()
	json.NewEncoder(os.Stdout).Encode(map[string]any{"comments": s.Comments, "issues": s.Issues, "calls": s.Calls})
}
