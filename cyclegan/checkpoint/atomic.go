package checkpoint

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes the file at path with write, so that the file is
// either the old one or the complete new one, never a part: write fills a
// temporary file in the same folder, which is flushed to disk (fsync) and
// then renamed over path. If write or any step returns an error (or write
// panics), the temporary file is removed and the old file, if any, is left
// intact. The new file keeps the old one's permissions, or gets 0644.
//
// write receives a buffered writer; it need not flush it.
func WriteFileAtomic(path string, write func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		if !st.Mode().IsRegular() {
			return fmt.Errorf("checkpoint: writing %s: not a regular file", path)
		}
		mode = st.Mode().Perm()
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("checkpoint: writing %s: %w", path, err)
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done { // an error or a panic: drop the temporary file
			f.Close()
			os.Remove(tmp)
		}
	}()

	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		return fmt.Errorf("checkpoint: writing %s: %w", path, err)
	}
	for _, step := range []func() error{
		bw.Flush,
		f.Sync, // the data is on disk before the rename makes it visible
		f.Close,
		func() error { return os.Chmod(tmp, mode) },
		func() error { return os.Rename(tmp, path) },
	} {
		if err := step(); err != nil {
			return fmt.Errorf("checkpoint: writing %s: %w", path, err)
		}
	}
	done = true
	syncDir(dir)
	return nil
}

// syncDir flushes a folder's entries to disk, so that a completed rename
// survives a crash. It is best effort: some systems cannot sync a folder.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
