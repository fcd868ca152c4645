package suite

import (
	"path"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Files returns a suite's name and the files it consists of: the config
// (configPath, slash-separated, relative to the repository root) and every
// file it names — the dataset, prompt files, cassettes (of targets and of
// judges), JSON schema and rubric files, and a command's program when it is
// a path — each relative to the repository root. Files outside the
// repository (absolute, or above its root) are left out.
//
// raw is decoded as Load decodes it, but the files are neither read nor
// required to exist: the GitHub Action decides from this list whether a pull
// request touched the suite, and fetches the base revision's files with it
// before that revision can be loaded.
func Files(configPath string, raw []byte) (name string, files []string, err error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return "", nil, ConfigErrors{{File: configPath, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	if len(doc.Content) == 0 {
		return "", nil, ConfigErrors{{File: configPath, Msg: "the file is empty; start it with 'version: 1'"}}
	}
	d := newDecoder(configPath, &doc)
	var cfg Config
	d.decode(doc.Content[0], reflect.ValueOf(&cfg).Elem(), "")
	if len(d.errs) > 0 {
		d.errs.sort()
		return "", nil, d.errs
	}
	dir := path.Dir(configPath)
	files = []string{configPath}
	add := func(p string) {
		if p == "" || path.IsAbs(p) {
			return
		}
		f := path.Join(dir, strings.ReplaceAll(p, `\`, "/"))
		if f != ".." && !strings.HasPrefix(f, "../") && !slices.Contains(files, f) {
			files = append(files, f)
		}
	}
	for _, f := range configFiles(&cfg) {
		if f.use != output {
			add(f.path)
		}
	}
	slices.Sort(files[1:])
	return cfg.Name, files, nil
}
