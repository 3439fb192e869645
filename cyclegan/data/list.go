package data

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ListImages returns the image files in dir or below it, sorted by path,
// as Open lists a domain's folder (the same extensions; hidden files
// skipped). It fails, naming the folder, when it is missing or holds no
// image. The test command's single-generator mode reads a folder of images
// with it, as the reference's --dataset_mode single does.
func ListImages(dir string) ([]string, error) { return listImages(dir, 0) }

// ListImagesIn returns the image files directly in dir (not in its
// subfolders), sorted, as pytorch-fid lists a folder: so that a data set's
// root, whose images are in trainA, trainB, …, is not taken for one set of
// images. It fails, naming the folder, when it is missing or holds no
// image.
func ListImagesIn(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("data: image folder: %w", err)
	}
	var paths []string
	for _, e := range entries {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") && isImageFile(e.Name()) {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("data: %s holds no images directly (%s; subfolders are not read)", dir, strings.Join(imageExtensions, ", "))
	}
	slices.Sort(paths)
	return paths, nil
}
