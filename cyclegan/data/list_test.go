package data

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestListImagesIn lists the images directly in a folder, as pytorch-fid
// does: not those of its subfolders, nor hidden files or other files.
func TestListImagesIn(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"b.png", "a.JPG", "c.txt", ".hidden.png", "sub/d.png"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ListImagesIn(dir)
	want := []string{filepath.Join(dir, "a.JPG"), filepath.Join(dir, "b.png")}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("ListImagesIn = %v, %v; want %v", got, err, want)
	}
	all, _ := ListImages(dir)
	if len(all) != 3 {
		t.Errorf("ListImages = %v: want the subfolder's image too", all)
	}
	for _, d := range []string{filepath.Join(dir, "sub", "none"), filepath.Join(dir, "empty")} {
		os.MkdirAll(filepath.Join(dir, "empty", "deeper"), 0o755)
		os.WriteFile(filepath.Join(dir, "empty", "deeper", "x.png"), nil, 0o644)
		if _, err := ListImagesIn(d); err == nil || !strings.Contains(err.Error(), d) {
			t.Errorf("ListImagesIn(%s): error %v, want one naming the folder", d, err)
		}
	}
}
