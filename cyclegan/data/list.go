package data

// ListImages returns the image files in dir or below it, sorted by path,
// as Open lists a domain's folder (the same extensions; hidden files
// skipped). It fails, naming the folder, when it is missing or holds no
// image. The test command's single-generator mode reads a folder of images
// with it, as the reference's --dataset_mode single does.
func ListImages(dir string) ([]string, error) { return listImages(dir, 0) }
